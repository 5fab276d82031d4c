"""Pax8 invoices Credited and re-issued (billing-rules §7, billing-semantics case 20) and when a
client's month is settled (batch/settled.py), through the store path: the real sync of a
scenario, the batch, and the month ledger's settled.

Approved Pax8 invoices never change: a correction marks the invoice Credited in full and issues
a new one (pax8-api.md §6.2). Until the new one is synced, the credited one's charges are known
to be withdrawn and nothing final replaces them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from case_scenarios import BP, invoice, invoice_item, scenario, sid, subscription
from test_billing_store_cases import anomaly, batch, client_invoice, codes, load, only, sub_lines
from trueup.core.batch.body import StoredInvoice
from trueup.core.batch.settled import unsettled
from trueup.core.store.database import open_database

TODAY = date(2025, 7, 6)
SUB = subscription(sid(1), 10, "2025-01-01")


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def june(item_id: str, cost: float) -> dict[str, Any]:
    return invoice_item(item_id, SUB, cost, "2025-06-01", "2025-06-30")


def prorate(item_id: str) -> dict[str, Any]:
    """One seat added on 12 June, on July's invoice: r(19.80 × 19/30) = 12.54."""
    return {**invoice_item(item_id, SUB, 12.54, "2025-06-12", "2025-06-30"), "type": "prorate"}


async def june_billed(db, invoices: list[dict[str, Any]]) -> dict[str, Any]:
    await load(db, scenario("2025-07-06", [SUB], halo_lines={BP: 10}, invoices=invoices), TODAY)
    found = client_invoice(batch(db, "2025-06", TODAY))
    assert found is not None
    return found


CREDITED = invoice("A", "2025-06-01", [june("ii-a", 198.00)], status="Credited")
JULY = invoice("C", "2025-07-01", [prorate("ii-p")])


async def test_a_credited_invoice_not_re_issued_yet_leaves_the_month_estimated(store):
    """June's invoice A is credited and its re-issue is not in; July's invoice C holds a prorate
    item of June. The cost was C's 12.54 alone, counted as final: a margin of 207.46 on 220.00,
    the month settled and INVOICE_REISSUED saying A was re-issued. Now the cost is estimated
    from Pax8's partner cost (198.00, COST_ESTIMATED, not settled) and the notice says the
    re-issue is not in yet."""
    found = await june_billed(store, [CREDITED, JULY])
    line = only(sub_lines({"invoices": [found]}))
    assert (line["amount"], line["cost"]) == ("220.00", "198.00")
    assert "COST_ESTIMATED" in codes(line)
    notice = anomaly(found, "INVOICE_REISSUED")["message"]
    assert "Pax8 invoice A was credited, its re-issue not in yet" in notice
    assert "198.00" in notice and "re-issued:" not in notice
    assert unsettled(StoredInvoice.of(found))


async def test_once_the_re_issue_is_synced_it_counts_with_the_later_prorate(store):
    """A's re-issue B (196.00) arrives: June's cost is B's and C's, 208.54, never A's too; the
    notice says A was re-issued and the month is settled."""
    reissued = invoice("B", "2025-06-09", [june("ii-b", 196.00)])
    found = await june_billed(store, [CREDITED, reissued, JULY])
    line = only(sub_lines({"invoices": [found]}))
    assert line["cost"] == "208.54"
    assert "COST_ESTIMATED" not in codes(line)
    assert (
        "Pax8 invoice A was credited and re-issued" in anomaly(found, "INVOICE_REISSUED")["message"]
    )
    assert unsettled(StoredInvoice.of(found)) == []


async def test_a_void_invoice_is_no_re_issue(store):
    """From review: a Void invoice V billing June counted as A's re-issue (only Credited ones
    were passed over), so June's cost was C's prorate alone (12.54), final, the month settled
    and the notice saying A was re-issued. Void owes nothing, as Credited does: A still awaits
    its re-issue, the cost is estimated and the month not settled."""
    void = invoice("V", "2025-06-09", [june("ii-v", 196.00)], status="Void")
    found = await june_billed(store, [CREDITED, void, JULY])
    line = only(sub_lines({"invoices": [found]}))
    assert (line["amount"], line["cost"]) == ("220.00", "198.00")
    assert "COST_ESTIMATED" in codes(line)
    notice = anomaly(found, "INVOICE_REISSUED")["message"]
    assert "Pax8 invoice A was credited, its re-issue not in yet" in notice
    assert unsettled(StoredInvoice.of(found))
