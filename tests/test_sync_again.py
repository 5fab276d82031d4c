"""A Pax8 sync run again: what it asks for when nothing changed, and that a change still lands."""

import copy
import re
from collections import Counter
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.pax8_again import usage_needed
from trueup.core.sync.run import sync_sources
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports
from world import AZURE, world

TODAY = date(2026, 11, 21)
SUB_GONE = "s0000000-0000-4000-8000-000000000009"  # an Azure plan cancelled in August


class Counting(httpx.AsyncBaseTransport):
    """Counts requests by endpoint, ids folded: `/subscriptions/{id}/usage-summaries`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.counts: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        self.counts[re.sub(r"^/(\w[\w-]*)/[^/]+", r"/\1/{id}", path)] += 1
        return await self.inner.handle_async_request(request)


def with_gone_azure(data):
    """The world plus an Azure plan cancelled before the reconciled months, still listed."""
    data = copy.deepcopy(data)
    pax8 = data["pax8"]
    azure = next(s for s in pax8["subscriptions"] if s["productId"] == AZURE)
    gone = {**azure, "id": SUB_GONE, "status": "Cancelled", "endDate": "2026-08-31T00:00:00Z"}
    pax8["subscriptions"].append(gone)
    pax8["usage_summaries"].append(
        {**pax8["usage_summaries"][0], "id": "u-gone", "subscriptionId": SUB_GONE}
    )
    return data


async def sync(store, data, today=TODAY):
    transport = Counting(in_process_transports(build_simulators(parse_scenario(data)))["pax8"])
    async with Pax8Client("http://pax8.test/v1", "sandbox", "sandbox", transport=transport) as c:
        [result] = await sync_sources(store, pax8=c, halo=None, today=today)
    assert result.status == "ok", result.error
    return result, transport.counts


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def rows(store, model):
    with store.read() as conn:
        return conn.execute(select(m.table_of(model))).all()


PAX8_TABLES = (
    m.Pax8Company,
    m.Pax8Product,
    m.Pax8Subscription,
    m.Pax8SubscriptionSnapshot,
    m.Pax8Invoice,
    m.Pax8InvoiceItem,
    m.Pax8UsageSummary,
)


async def test_a_resync_with_nothing_changed_asks_for_the_lists_and_live_usage_only(store):
    data = with_gone_azure(world())
    _, first = await sync(store, data)
    before = {model: set(rows(store, model)) for model in PAX8_TABLES}
    result, again = await sync(store, data)
    assert dict(again) == {
        "/token": 1,
        "/companies": 1,
        "/subscriptions": 1,
        "/products": 1,
        "/invoices": 1,
        "/subscriptions/{id}/usage-summaries": 1,  # the live Azure plan; not the one gone
    }
    assert first["/subscriptions/{id}/history"] == 1 and first["/invoices/{id}/items"] == 2
    assert {model: set(rows(store, model)) for model in PAX8_TABLES} == before
    assert all(c.created == c.updated == c.deleted == 0 for c in result.counts.values())


async def test_an_ended_usage_subscription_keeps_its_stored_usage(store):
    data = with_gone_azure(world())
    live = copy.deepcopy(data)
    next(s for s in live["pax8"]["subscriptions"] if s["id"] == SUB_GONE).update(
        status="Active", endDate=None
    )
    await sync(store, live, today=date(2026, 8, 21))  # seen in August, while it ran
    _, counts = await sync(store, data)
    assert counts["/subscriptions/{id}/usage-summaries"] == 1
    usage = {(r.id, r.month) for r in rows(store, m.Pax8UsageSummary)}
    assert ("u-gone", "2026-08") in usage and ("u-gone", "2026-11") not in usage
    assert ("u-1", "2026-11") in usage


async def test_a_new_invoice_a_changed_one_and_this_months_usage_still_land(store):
    await sync(store, world())
    data = world()
    pax8 = data["pax8"]
    november = next(i for i in pax8["invoices"] if i["id"] == "inv-2026-11")
    # Pax8 corrects by a new invoice; were an invoice's content to change, it is read again.
    november["total"] = 250.00
    november["items"][0]["quantity"] = 16
    del november["items"][1]
    pax8["invoices"].append(
        {**copy.deepcopy(november), "id": "inv-2026-11b", "invoiceDate": "2026-11-05"}
    )
    pax8["invoices"][-1]["items"][0]["id"] = "ii-9"
    pax8["usage_summaries"][0]["currentCharges"] = 31.40
    result, counts = await sync(store, data)
    assert counts["/invoices/{id}/items"] == 2
    items = {r.id: (r.invoice_id, r.quantity) for r in rows(store, m.Pax8InvoiceItem)}
    assert items == {
        "ii-1": ("inv-2026-10", 17),
        "ii-2": ("inv-2026-11", 16),
        "ii-9": ("inv-2026-11b", 16),
    }
    assert result.counts["pax8_invoice_item"].deleted == 1  # ii-3, gone from its invoice
    charges = {r.id: r.current_charges for r in rows(store, m.Pax8UsageSummary)}
    assert charges["u-1"] == Decimal("31.40")


async def test_an_invoice_paid_since_is_updated_without_reading_its_items_again(store):
    await sync(store, world())
    data = world()
    november = next(i for i in data["pax8"]["invoices"] if i["id"] == "inv-2026-11")
    november.update(status="Paid", balance=0)
    _, counts = await sync(store, data)
    assert counts["/invoices/{id}/items"] == 0
    status = {r.id: r.status for r in rows(store, m.Pax8Invoice)}
    assert status["inv-2026-11"] == "Paid"
    assert len(rows(store, m.Pax8InvoiceItem)) == 3


def test_usage_is_asked_for_unless_cancelled_before_the_reconciled_months():
    def sub(sub_id, status="Active", end=None, name="Azure plan"):
        return {"id": sub_id, "status": status, "endDate": end, "productName": name}

    subscriptions = [
        sub("live"),
        sub("ended-in-window", "Cancelled", "2026-10-15T00:00:00Z"),
        sub("ended-at-window-start", "Cancelled", "2026-10-01T00:00:00Z"),
        sub("ended-west-of-utc", "Cancelled", "2026-09-30T23:00:00.000-0600"),
        sub("pending-cancel", "PendingCancel", "2026-08-01T00:00:00Z"),
        sub("cancelled-no-end", "Cancelled"),
        sub("ended-before", "Cancelled", "2026-09-30T23:59:59Z"),
        sub("arrears-ended-before", "Cancelled", "2026-07-31T00:00:00Z", name="Backup"),
        sub("arrears", name="Backup"),
        sub("seats", name="Microsoft 365"),
    ]
    arrears = {"arrears", "arrears-ended-before"}
    assert usage_needed(subscriptions, arrears, date(2026, 10, 1)) == sorted(
        [
            "live",
            "ended-in-window",
            "ended-at-window-start",
            "ended-west-of-utc",
            "pending-cancel",
            "cancelled-no-end",
            "arrears",
        ]
    )
