"""Halo answering a list that moved while it was paged, or a number of absurd size, against the
simulator: the last good data stays and the sync says why."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from test_sync import TODAY, clients
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.records import OutOfRange, halo_client, halo_recurring_invoice_line
from trueup.core.sync.run import SourceResult, sync_sources

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"


class RenamedWhilePaging(httpx.AsyncBaseTransport):
    """Halo's client list as served when a client on a later page is renamed to sort first
    once page 1 is read: page 2 starts with page 1's last client, and the renamed one is on
    no page (Halo's count unchanged)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.last_of_page_1: dict[str, Any] = {}
        self.renamed: int | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        page = request.url.params.get("page_no")
        if not request.url.path.endswith("/api/Client") or page not in ("1", "2"):
            return response
        body = json.loads(await response.aread())
        rows = body["clients"]
        if page == "1":
            self.last_of_page_1 = rows[-1]
            return httpx.Response(200, json=body)
        self.renamed = rows[-1]["id"]
        return httpx.Response(200, json={**body, "clients": [self.last_of_page_1, *rows[:-1]]})


async def sync(store: Any, wrap: Any = None) -> SourceResult:
    data = json.loads(DEMO.read_text())
    pax8, halo = clients(data, wrap_halo=wrap, page_size=20)
    async with pax8, halo:
        (result,) = await sync_sources(store, pax8=None, halo=halo, today=TODAY)
    return result


def client_ids(store: Any) -> set[int]:
    with store.read() as conn:
        return set(conn.execute(select(m.table_of(m.HaloClient).c.id)).scalars())


async def test_a_client_list_that_moved_while_paged_fails_halo_and_keeps_every_client(tmp_path):
    """From a fault review: the renamed client, listed on no page, was deleted from the store
    while Halo still had it; the sync said ok and only logged 'listed twice'."""
    store = open_database(tmp_path / "trueup.sqlite")
    try:
        assert (await sync(store)).status == "ok"
        before = client_ids(store)
        wraps: list[RenamedWhilePaging] = []

        def wrap(inner: httpx.AsyncBaseTransport) -> RenamedWhilePaging:
            wraps.append(RenamedWhilePaging(inner))
            return wraps[-1]

        result = await sync(store, wrap)
        assert wraps[0].renamed in before
        assert result.status == "failed"
        assert result.error == (
            "HaloPSA listed 58 different rows at /api/Client against the 59 it counts, 1 of "
            "them on two pages: the list changed while paging; nothing was saved, sync again"
        )
        assert client_ids(store) == before
    finally:
        store.dispose()


@pytest.mark.parametrize(
    ("parse", "raw", "said"),
    [
        # int() of it took seconds (1e1000000: half a minute), then said Python's own words:
        # "Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_..."
        (halo_client, {"id": Decimal("1E+100000")}, "'id' 1E+100000 is past the largest id"),
        (
            halo_recurring_invoice_line,
            {"id": 1, "ihid": -1, "_itemid": Decimal("-1E+100000")},
            "'_itemid' -1E+100000 is past the largest id",
        ),
        # abs() of it overflowed Decimal's context: decimal.Overflow, no record error at all.
        (
            halo_recurring_invoice_line,
            {"id": 1, "ihid": -1, "qty_order": Decimal("1E+1000000")},
            "'qty_order' 1E+1000000 is out of range (at most 1,000,000,000 in size)",
        ),
        (
            halo_recurring_invoice_line,
            {"id": 1, "ihid": -1, "unit_price": Decimal("-9E+999999999")},
            "'unit_price' -9E+999999999 is out of range",
        ),
    ],
)
def test_a_number_of_absurd_size_is_refused_as_out_of_range(parse, raw, said):
    with pytest.raises(OutOfRange) as caught:
        parse(raw, {})
    assert str(caught.value).startswith(said)


class HugeQuantity(httpx.AsyncBaseTransport):
    """The recurring invoices list with one line's qty_order 1e1000000 (as JSON text), on its
    first page."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        path, page = request.url.path, request.url.params.get("page_no")
        if not path.endswith("/api/RecurringInvoice") or page != "1":
            return response
        text = (await response.aread()).decode()
        huge = text.replace('"qty_order":18.0', '"qty_order":1e1000000', 1)
        assert huge != text
        return httpx.Response(200, content=huge, headers={"content-type": "application/json"})


def stored_lines(store: Any) -> list[Any]:
    lines = m.table_of(m.HaloRecurringInvoiceLine)
    with store.read() as conn:
        return conn.execute(select(lines).order_by(lines.c.id)).all()


async def test_a_recurring_line_of_absurd_quantity_is_skipped_and_the_stored_lines_kept(tmp_path):
    """From a fault review: the whole Halo sync failed as 'unexpected error: Overflow:
    [<class 'decimal.Overflow'>]', with a traceback in the log."""
    store = open_database(tmp_path / "trueup.sqlite")
    try:
        assert (await sync(store)).status == "ok"
        before = stored_lines(store)
        result = await sync(store, HugeQuantity)
        assert result.status == "ok", result.error
        assert [w.line for w in result.warnings] == [
            "recurring invoice lines: record skipped — 'qty_order' 1E+1000000 is out of range "
            "(at most 1,000,000,000 in size)",
            "recurring invoice lines: stored rows kept — a record was refused for an impossible "
            "number; nothing was deleted",
        ]
        assert stored_lines(store) == before
    finally:
        store.dispose()


class LineNotAnObject(httpx.AsyncBaseTransport):
    """The recurring invoices list with `line` put first among the first invoice's lines."""

    def __init__(self, inner: httpx.AsyncBaseTransport, line: Any) -> None:
        self.inner, self.line = inner, line

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        path, page = request.url.path, request.url.params.get("page_no")
        if not path.endswith("/api/RecurringInvoice") or page != "1":
            return response
        body = json.loads(await response.aread())
        first = body["invoices"][0]
        first["lines"] = [self.line, *first["lines"]]
        return httpx.Response(200, json=body)


@pytest.mark.parametrize(("line", "said"), [(None, "[null,"), ("x", '["x",'), ([], "[[],")])
async def test_a_recurring_line_that_is_no_object_fails_halo_in_words(tmp_path, line, said):
    """From a fault review: 'unexpected error: AttributeError: 'NoneType' object has no
    attribute 'get'', with a traceback in the log."""
    store = open_database(tmp_path / "trueup.sqlite")
    try:
        assert (await sync(store)).status == "ok"
        before = stored_lines(store)
        result = await sync(store, lambda inner: LineNotAnObject(inner, line))
        assert result.status == "failed"
        assert result.error is not None
        assert result.error.startswith(f"HaloPSA answered recurring invoice -91 with lines {said}")
        assert result.error.endswith(", not a list of objects: nothing was applied")
        assert stored_lines(store) == before
    finally:
        store.dispose()
