"""An invoice stored with some of its items (a store synced before c440920, when a page of items
served empty or cut short ended the list) is noticed and healed by the next sync, against the
simulator: its stored items do not add up to the invoice's total, so they are read again, and
replaced when the list read adds up or leaves out none of them; one worse than the stored is
not applied. A store whose items add up reads none of them again. And an invoice's items
answered without the page block every paged list of Pax8's has are refused, not stored as
their first page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from test_sync import TODAY, clients
from test_sync_faults import BIG_INVOICE, Rewrite
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from trueup.core.sync.run import sync_sources

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"
ITEMS = f"/invoices/{BIG_INVOICE}/items"


@pytest.fixture(scope="module")
def demo():
    return json.loads(DEMO.read_text())


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


async def sync(store, data, wrap_pax8=None):
    pax8, halo = clients(data, wrap_pax8=wrap_pax8)
    async with pax8, halo:
        results = await sync_sources(store, pax8=pax8, halo=halo, today=TODAY)
    return {r.source: r for r in results}


def stored_items(store, invoice_id=BIG_INVOICE):
    table = m.table_of(m.Pax8InvoiceItem)
    with store.read() as conn:
        query = select(table.c.id).where(table.c.invoice_id == invoice_id).order_by(table.c.id)
        return list(conn.execute(query).scalars())


def cost(store, invoice_id=BIG_INVOICE):
    table = m.table_of(m.Pax8InvoiceItem)
    with store.read() as conn:
        costs = conn.execute(select(table.c.cost_total).where(table.c.invoice_id == invoice_id))
        return sum(costs.scalars())


def keep_only(store, ids):
    """The store as a sync before c440920 left it: the big invoice with these items alone."""
    table = m.table_of(m.Pax8InvoiceItem)
    with store.write() as conn:
        conn.execute(delete(table).where(table.c.invoice_id == BIG_INVOICE, table.c.id.not_in(ids)))


async def synced_short(store, demo, kept):
    """The demo synced whole, then its big invoice cut to `kept` of its 927 items."""
    assert (await sync(store, demo))["pax8"].status == "ok"
    whole = stored_items(store)
    assert len(whole) == 927
    keep_only(store, whole[:kept])
    return whole


class Counted(Rewrite):
    """Pax8 as the simulator serves it (rewritten by `change`), counting the item requests."""

    def __init__(self, inner, change=lambda request, body: None):
        super().__init__(inner, change)
        self.items: list[str] = []

    async def handle_async_request(self, request):
        if request.url.path.endswith("/items"):
            self.items.append(request.url.path)
        return await super().handle_async_request(request)


def warnings(store, words):
    return [e for e in read_log(store, level="WARNING", limit=200) if words in e["event"]]


@pytest.mark.parametrize("kept", [400, 926])
async def test_an_invoice_stored_with_some_of_its_items_is_read_again_and_healed(store, demo, kept):
    """From a fault review: a store synced before c440920 can hold the demo's November invoice
    with 400 of its 927 items, and as an invoice's items were never read again once some were
    stored, every later sync kept the month's cost from the items that came."""
    whole = await synced_short(store, demo, kept)
    counted: list[Counted] = []

    def wrap(inner):
        counted.append(Counted(inner))
        return counted[-1]

    result = (await sync(store, demo, wrap_pax8=wrap))["pax8"]
    assert result.status == "ok"
    assert stored_items(store) == whole
    assert counted[0].items == [f"/v1{ITEMS}"] * 5  # that invoice's five pages, no other invoice's
    (said,) = warnings(store, "do not add up to their invoice")
    assert said["source"] == "pax8"
    assert f"{BIG_INVOICE} ({kept} items adding up to" in said["details"]["invoices"]
    assert "against its total 138102.28" in said["details"]["invoices"]
    assert str(cost(store)) == "138102.28"
    # Whole again: the next sync reads no item again, and says nothing.
    assert (await sync(store, demo, wrap_pax8=wrap))["pax8"].status == "ok"
    assert counted[1].items == []
    assert len(warnings(store, "do not add up to their invoice")) == 1


async def test_a_store_whose_items_add_up_reads_none_of_them_again(store, demo):
    """The check costs no request while the stored items add up (the demo's nine invoices,
    billed to the partner at their items' costTotal and on behalf of a client at their total)."""
    assert (await sync(store, demo))["pax8"].status == "ok"
    counted: list[Counted] = []

    def wrap(inner):
        counted.append(Counted(inner))
        return counted[-1]

    assert (await sync(store, demo, wrap_pax8=wrap))["pax8"].status == "ok"
    assert counted[0].items == []
    assert warnings(store, "invoice items") == []


def first_pages_only(pages, count, served):
    """The big invoice's items answered as a list of its first `pages` pages, counted so; the
    ids served are added to `served`."""

    def change(request, body):
        if not request.url.path.endswith(ITEMS):
            return None
        if int(request.url.params.get("page", 0)) >= pages:
            return {**body, "content": []}
        served.update(item["id"] for item in body["content"])
        return {**body, "page": {**body["page"], "totalElements": count, "totalPages": pages}}

    return change


async def test_an_invoice_read_again_worse_than_stored_keeps_the_stored_items(store, demo):
    """Never worse data for better: the invoice's 900 stored items do not add up, and Pax8
    answers again with a list of 400 (counted 400, so whole as a list) that adds up no better
    and leaves out 500 of them. The stored ones stay, the sync says so, and reads it again."""
    await synced_short(store, demo, 900)
    before = stored_items(store)
    served: set[str] = set()

    def wrap(inner):
        return Rewrite(inner, first_pages_only(2, 400, served))

    result = (await sync(store, demo, wrap_pax8=wrap))["pax8"]
    assert result.status == "ok"
    assert stored_items(store) == before
    (kept,) = warnings(store, f"{BIG_INVOICE} read again, the stored ones kept")
    left_out = len(set(before) - served)
    assert left_out >= 500
    assert kept["details"]["reason"] == (
        "the 400 items Pax8 listed do not add up to the invoice's total 138102.28 and leave "
        f"out {left_out} of the 900 stored; read again next sync"
    )
    assert (await sync(store, demo))["pax8"].status == "ok"
    assert len(stored_items(store)) == 927


async def test_an_invoice_read_again_that_holds_every_stored_item_replaces_them(store, demo):
    """A list that adds up to no figure of the invoice's total (here: one item fewer than Pax8
    holds, counted so) but holds every stored item is no worse: it is applied."""
    whole = await synced_short(store, demo, 400)
    missing = whole[-1]  # not among the 400 stored

    def change(request, body):
        if not request.url.path.endswith(ITEMS):
            return None
        content = [item for item in body["content"] if item["id"] != missing]
        return {**body, "content": content, "page": {**body["page"], "totalElements": 926}}

    result = (await sync(store, demo, wrap_pax8=lambda inner: Rewrite(inner, change)))["pax8"]
    assert result.status == "ok"
    assert stored_items(store) == whole[:-1]
    assert warnings(store, "the stored ones kept") == []


async def test_an_invoices_items_answered_without_a_page_block_fail_pax8(store, demo):
    """From a paging review: the big invoice's first page of items with no page block was
    taken as the whole list, and its 200 items stored of 927, the sync saying ok."""

    def change(request, body):
        if request.url.path.endswith(ITEMS) and request.url.params.get("page") == "0":
            return {"content": body["content"]}
        return None

    result = (await sync(store, demo, wrap_pax8=lambda inner: Rewrite(inner, change)))["pax8"]
    assert result.status == "failed"
    assert result.error == (
        f"Pax8 answered {ITEMS} with no page block, so how long the list is is unknown: the "
        "answer is malformed; nothing was saved, sync again"
    )
    assert stored_items(store) == []
    assert (await sync(store, demo))["pax8"].status == "ok"
    assert len(stored_items(store)) == 927
