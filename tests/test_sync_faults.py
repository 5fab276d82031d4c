"""Pax8 answering part of what it holds, or failing on the way, against the simulator: a list
of invoice items served short, a subscription's history answered with fewer versions than the
store holds or not at all, the invoices list failing once, and an invoice credited between two
syncs. Whatever collapses, the last good data stays and the sync says why; what is retried
lands whole; a month is never settled on an invoice Pax8 has since credited."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from case_scenarios import BP, invoice, invoice_item, scenario, sid, subscription
from test_billing_store_cases import batch, client_invoice, codes, load, only, sub_lines
from test_sync import TODAY, clients
from trueup.core.batch.body import StoredInvoice
from trueup.core.batch.settled import unsettled
from trueup.core.sources.http import RetryPolicy
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import sync_sources
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"
# The demo's November invoice: 927 items, five pages of 200.
BIG_INVOICE = "3ff5c8b6-6794-4c42-9939-0617b8e61121"
LATER = "2026-11-20T10:00:00.000-0600"  # after the stored histories' newest version


@pytest.fixture(scope="module")
def demo():
    return json.loads(DEMO.read_text())


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


async def sync(store, data, wrap_pax8=None, **options):
    pax8, halo = clients(data, wrap_pax8=wrap_pax8)
    async with pax8, halo:
        results = await sync_sources(store, pax8=pax8, halo=halo, today=TODAY, **options)
    return {r.source: r for r in results}


def count(store, model):
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(m.table_of(model))).scalar_one()


class Rewrite(httpx.AsyncBaseTransport):
    """Pax8 as the simulator serves it, with the JSON body of the requests `change` picks
    rewritten: `change(request, body)` returns the new body, or None to leave it."""

    def __init__(self, inner, change):
        self.inner, self.change = inner, change

    async def handle_async_request(self, request):
        response = await self.inner.handle_async_request(request)
        if response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        changed = self.change(request, body)
        return response if changed is None else httpx.Response(200, json=changed)


def items_page_two(keep):
    """The big invoice's items with page 2 holding only its first `keep` rows."""

    def change(request, body):
        path, page = request.url.path, request.url.params.get("page")
        if path.endswith(f"/invoices/{BIG_INVOICE}/items") and page == "2":
            return {**body, "content": body["content"][:keep]}
        return None

    return change


@pytest.mark.parametrize(("keep", "listed"), [(0, 400), (20, 747)])
async def test_an_invoices_items_served_short_fail_pax8_and_none_of_them_are_stored(
    store, demo, keep, listed
):
    """From a fault review: a page of an invoice's items that came back empty or cut short
    ended the list or was taken as all of its page, the sync said ok, and the invoice was
    stored with 1,441 or 1,788 of the demo's 1,968 items. Its items are never read again once
    some are stored, so every later sync kept the month's cost from the items that came."""
    results = await sync(store, demo, wrap_pax8=lambda inner: Rewrite(inner, items_page_two(keep)))
    assert results["pax8"].status == "failed"
    assert (
        f"Pax8 listed {listed} of the 927 rows it counted at /invoices/{BIG_INVOICE}/items"
        in results["pax8"].error
    )
    assert "nothing was saved, sync again" in results["pax8"].error
    assert (count(store, m.Pax8InvoiceItem), count(store, m.Pax8Invoice)) == (0, 0)
    assert (await sync(store, demo))["pax8"].status == "ok"
    assert count(store, m.Pax8InvoiceItem) == 1968


def snapshots(store, sub_id):
    table = m.table_of(m.Pax8SubscriptionSnapshot)
    with store.read() as conn:
        query = select(table.c.quantity).where(table.c.subscription_id == sub_id)
        return [int(q) for q in conn.execute(query.order_by(table.c.position)).scalars()]


def quantity(store, sub_id):
    table = m.table_of(m.Pax8Subscription)
    with store.read() as conn:
        found = conn.execute(select(table.c.quantity).where(table.c.id == sub_id)).scalar_one()
    return int(found)


def a_stored_history(store):
    """A subscription with three stored versions, and their quantities, newest first."""
    table = m.table_of(m.Pax8SubscriptionSnapshot)
    with store.read() as conn:
        sub_id = conn.execute(
            select(table.c.subscription_id)
            .group_by(table.c.subscription_id)
            .having(func.count() == 3)
            .order_by(table.c.subscription_id)
            .limit(1)
        ).scalar_one()
    return sub_id, snapshots(store, sub_id)


def changed_to_99(sub_id, *, history_kept):
    """The subscription changed to 99 seats since the last sync; its history answered with
    the new version on top of those Pax8 held (`history_kept`), or alone."""

    def change(request, body):
        path = request.url.path
        if path.endswith("/subscriptions"):
            for sub in body["content"]:
                if sub["id"] == sub_id:
                    sub.update(quantity=99, updatedDate=LATER)
            return body
        if path.endswith(f"/subscriptions/{sub_id}/history"):
            held = body["content"]
            newest = {**held[0], "quantity": 99, "updatedDate": LATER}
            return {"content": [newest, *held] if history_kept else [newest]}
        return None

    return change


async def test_a_history_answered_with_fewer_versions_than_stored_fails_pax8_and_keeps_them(
    store, demo
):
    """From a fault review: a history answered with its newest version alone replaced the three
    stored, the month's seat changes with them, and the sync said ok: the batch billed the
    newest quantity for the whole month. A history only grows; a shorter one fails Pax8, the
    stored versions and the subscription stay, unless the operator accepts the shrink."""
    await sync(store, demo)
    sub_id, stored = a_stored_history(store)
    seats = quantity(store, sub_id)
    alone = changed_to_99(sub_id, history_kept=False)
    results = await sync(store, demo, wrap_pax8=lambda inner: Rewrite(inner, alone))
    assert results["pax8"].status == "failed"
    assert results["halo"].status == "ok"
    said = results["pax8"].error
    assert said.startswith(
        "history snapshots: a subscription answered with fewer versions than stored, though a "
        f"history only grows: {sub_id} (1 fetched against 3 stored): the last good data is kept"
    )
    assert "`trueup sync --accept-shrink` applies it" in said
    assert (snapshots(store, sub_id), quantity(store, sub_id)) == (stored, seats)

    accepted = await sync(
        store, demo, wrap_pax8=lambda inner: Rewrite(inner, alone), max_shrink_percent=None
    )
    assert accepted["pax8"].status == "ok"
    assert (snapshots(store, sub_id), quantity(store, sub_id)) == ([99], 99)


async def test_a_history_grown_by_a_version_is_applied(store, demo):
    """The usual change: a new version on top of the stored ones."""
    await sync(store, demo)
    sub_id, stored = a_stored_history(store)
    grown = changed_to_99(sub_id, history_kept=True)
    results = await sync(store, demo, wrap_pax8=lambda inner: Rewrite(inner, grown))
    assert results["pax8"].status == "ok"
    assert (snapshots(store, sub_id), quantity(store, sub_id)) == ([99, *stored], 99)


class FailingHistory(httpx.AsyncBaseTransport):
    """Pax8 as the simulator serves it, but one subscription's history answers `status`."""

    def __init__(self, inner, sub_id, status):
        self.inner, self.sub_id, self.status = inner, sub_id, status

    async def handle_async_request(self, request):
        if request.url.path.endswith(f"/subscriptions/{self.sub_id}/history"):
            return httpx.Response(self.status, json={"type": "ERROR", "message": "it failed"})
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize(("status", "said"), [(500, "kept failing on GET"), (404, "has no")])
async def test_one_history_failing_fails_pax8_and_keeps_that_subscriptions_history(
    store, demo, status, said
):
    """A history that cannot be read is not a history without versions: Pax8 fails in one
    line naming it, and the subscription keeps its stored versions and quantity (not billed
    at the new quantity for the whole month without them)."""
    await sync(store, demo)
    sub_id, stored = a_stored_history(store)
    seats = quantity(store, sub_id)

    def wrap(inner):
        return FailingHistory(
            Rewrite(inner, changed_to_99(sub_id, history_kept=True)), sub_id, status
        )

    results = await sync(store, demo, wrap_pax8=wrap)
    assert results["pax8"].status == "failed"
    assert f"{said} /v1/subscriptions/{sub_id}/history" in results["pax8"].error
    assert (snapshots(store, sub_id), quantity(store, sub_id)) == (stored, seats)


class FailsOnce(httpx.AsyncBaseTransport):
    """Pax8 as the simulator serves it, but the first request for `path` answers 500 with a
    Retry-After of 2 seconds."""

    def __init__(self, inner, path):
        self.inner, self.path, self.failed = inner, path, 0

    async def handle_async_request(self, request):
        if request.url.path.endswith(self.path) and not self.failed:
            self.failed += 1
            return httpx.Response(
                500, json={"type": "INTERNAL_SERVER_ERROR"}, headers={"Retry-After": "2"}
            )
        return await self.inner.handle_async_request(request)


async def test_the_invoices_list_failing_once_is_retried_after_retry_after_and_lands_whole(
    store, demo
):
    transports = in_process_transports(build_simulators(parse_scenario(demo)))
    flaky = FailsOnce(transports["pax8"], "/v1/invoices")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    retry = RetryPolicy(max_attempts=4, backoff_base=0.001, backoff_cap=0.01)
    pax8 = Pax8Client(
        "http://pax8.test/v1", "sandbox", "sandbox", transport=flaky, retry=retry, sleep=sleep
    )
    async with pax8:
        (result,) = await sync_sources(store, pax8=pax8, halo=None, today=TODAY)
    assert (result.status, result.retries, flaky.failed) == ("ok", 1, 1)
    assert max(waits) == 2  # Retry-After, not the backoff's few milliseconds
    assert (count(store, m.Pax8Invoice), count(store, m.Pax8InvoiceItem)) == (9, 1968)


JUNE_TODAY = date(2025, 7, 6)
SUB = subscription(sid(1), 10, "2025-01-01")


def june_world(status: str) -> dict[str, Any]:
    june = invoice_item("ii-a", SUB, 198.00, "2025-06-01", "2025-06-30")
    bill = invoice("A", "2025-06-01", [june], status=status)
    return scenario("2025-07-06", [SUB], halo_lines={BP: 10}, invoices=[bill])


async def test_an_invoice_credited_since_the_last_sync_unsettles_the_month(store):
    """June is settled on Pax8 invoice A while it is Paid. A is credited in Pax8 (its items do
    not change, so they are not read again): the next sync stores the status, and the month's
    batch estimates the cost again and is not settled until the re-issue is synced."""
    await load(store, june_world("Paid"), JUNE_TODAY)
    paid = client_invoice(batch(store, "2025-06", JUNE_TODAY))
    assert "COST_ESTIMATED" not in codes(paid) and unsettled(StoredInvoice.of(paid)) == []

    await load(store, copy.deepcopy(june_world("Credited")), JUNE_TODAY)
    credited = client_invoice(batch(store, "2025-06", JUNE_TODAY))
    line = only(sub_lines({"invoices": [credited]}))
    assert "COST_ESTIMATED" in codes(line)
    assert unsettled(StoredInvoice.of(credited)) == [
        "cost estimated (no distributor invoice item for the month yet)"
    ]
