"""Usage billed in arrears (billing-rules §6) through the store path: which Pax8 invoices a
closed month's usage is taken from, and what is shown when one of them was credited.

Month M's batch bills usage of M-1: the arrears items of a live Pax8 invoice when there are
some, else the summaries synced during M-1 (USAGE_ESTIMATED)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
import simplejson

import test_billing_store_cases as store_cases
from case_scenarios import AZURE, invoice, invoice_item, scenario, sid, subscription, usage_summary
from test_billing_store_cases import anomaly, batch, client_invoice, codes, load, usage_lines
from trueup.core.batch.body import StoredInvoice
from trueup.core.batch.settled import unsettled
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from trueup.core.sync.records import OutOfRange, pax8_usage_summary
from trueup.sandbox.scenario import Scenario

JULY = date(2025, 7, 6)  # June's usage is on Pax8's July invoice, in by the 5th


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def azure() -> dict[str, Any]:
    return subscription(sid(2), 1, "2025-01-01", product=AZURE, price=0, cost=0, commitment=None)


def arrears(item_id: str, cost: float, charge: float) -> dict[str, Any]:
    """June's usage of the Azure plan as a Pax8 invoice bills it in arrears."""
    return invoice_item(
        item_id, azure(), cost, "2025-06-01", "2025-06-30", term="Arrears", total=charge
    )


async def june_usage(db, invoices: list[dict[str, Any]], summaries=()) -> dict[str, Any]:
    """Synced on 30 June (the summaries, June's) and again on 6 July (the invoices); July's
    batch, which bills June's usage."""
    sub = azure()
    await load(
        db,
        scenario("2025-06-30", [sub], halo_lines={AZURE: 1}, usage=list(summaries)),
        date(2025, 6, 30),
    )
    await load(db, scenario("2025-07-06", [sub], halo_lines={AZURE: 1}, invoices=invoices), JULY)
    found = client_invoice(batch(db, "2025-07", JULY))
    assert found is not None
    return found


async def test_usage_on_a_void_invoice_is_not_billed_as_invoiced(store):
    """A Void Pax8 invoice is owed by nobody, as its items never count for cost (billing/cost):
    June's usage on one was billed as final (120.00, no USAGE_ESTIMATED). Now the summary
    synced in June stands until a live invoice bills it."""
    void = invoice("V", "2025-07-01", [arrears("ii-v", 100.00, 120.00)], status="Void")
    summary = usage_summary("u-1", azure(), "Contoso", 80.00, 95.00)
    found = await june_usage(store, [void], [summary])
    (line,) = usage_lines({"invoices": [found]})
    assert (line["amount"], line["cost"]) == ("95.00", "80.00")
    assert "USAGE_ESTIMATED" in codes(line)


HOSTILE = [-95, "-0.01", "NaN", "Infinity", "1e40"]


@pytest.mark.parametrize("value", HOSTILE, ids=str)
@pytest.mark.parametrize("field", ["currentCharges", "partnerTotal"])
def test_a_usage_summary_holding_no_real_total_is_refused_naming_the_field(field, value):
    """A summary is a resource group's running total of the month: below 0, not finite or past
    any bound it is no total Pax8 bills. A negative one was stored and billed the client a
    credit."""
    # As the sync reads a page: JSON numbers as Decimal.
    raw = simplejson.loads(
        json.dumps(usage_summary("u-1", azure(), "Contoso", 80, 95)), use_decimal=True
    )
    with pytest.raises(OutOfRange, match=f"'{field}'"):
        pax8_usage_summary({**raw, field: value}, {"month": "2025-06"})
    assert (
        pax8_usage_summary({**raw, field: 0}, {"month": "2025-06"})[
            "current_charges" if field == "currentCharges" else "partner_total"
        ]
        == 0
    )


async def test_a_refused_summary_keeps_the_last_good_one_and_the_month_bills_it(store):
    """June's summary synced at 95.00, then sent at -95.00 by a later June sync: the stored
    95.00 stands, and July's batch bills it (estimated)."""
    sub = azure()
    good = usage_summary("u-1", sub, "Contoso", 80.00, 95.00)
    for charge in (95.00, -95.00):
        summary = {**good, "currentCharges": charge}
        data = scenario("2025-06-30", [sub], halo_lines={AZURE: 1}, usage=[summary])
        await load(store, data, date(2025, 6, 30))
    found = client_invoice(batch(store, "2025-07", JULY))
    (line,) = usage_lines({"invoices": [found]})
    assert (line["amount"], line["cost"]) == ("95.00", "80.00")
    assert "USAGE_ESTIMATED" in codes(line)


async def test_usage_that_is_no_number_is_refused_and_the_last_good_figure_billed(
    store, monkeypatch
):
    """From review: June's summary sent as "12,50" by a later June sync, and July's invoice
    billing June's usage with a total of "abc", were stored as NULL and billed as 0.00 without
    a word. Each record is refused, naming its field; the summary's last good 95.00 is billed,
    estimated, as no live invoice item bills June yet."""
    # Served as sent: the scenario's validator refuses what the real API may still send.
    monkeypatch.setattr(
        store_cases,
        "parse_scenario",
        lambda data: Scenario(datetime.fromisoformat(data["as_of"]), data["pax8"], data["halo"]),
    )
    sub = azure()
    good = usage_summary("u-1", sub, "Contoso", 80.00, 95.00)
    for charge in (95.00, "12,50"):
        summary = {**good, "currentCharges": charge}
        data = scenario("2025-06-30", [sub], halo_lines={AZURE: 1}, usage=[summary])
        await load(store, data, date(2025, 6, 30))
    item = {**arrears("ii-a", 100.00, 120.00), "total": "abc"}
    data = scenario("2025-07-06", [sub], halo_lines={AZURE: 1}, invoices=[invoice_of(item)])
    await load(store, data, JULY)
    found = client_invoice(batch(store, "2025-07", JULY))
    (line,) = usage_lines({"invoices": [found]})
    assert (line["amount"], line["cost"]) == ("95.00", "80.00")
    assert "USAGE_ESTIMATED" in codes(line)
    reasons = [e["details"].get("reason") for e in read_log(store, limit=500)]
    assert "'currentCharges' '12,50' is not a number" in reasons
    assert "'total' 'abc' is not a number" in reasons


def invoice_of(item: dict[str, Any]) -> dict[str, Any]:
    """July's invoice holding `item` (its own total, as the item's may be no number)."""
    return {**invoice("A", "2025-07-01", [{**item, "total": 0}]), "items": [item]}


async def test_usage_credited_and_re_issued_counts_once_and_says_so(store):
    """Case 20 for usage: July's invoice A billed June's usage (cost 100.00) and was credited;
    its re-issue B bills it at 90.00. The usage line bills B's alone, as before, and now says
    so: INVOICE_REISSUED names A and its 100.00 (it said nothing: the notice looked at seat
    items only)."""
    credited = invoice("A", "2025-07-01", [arrears("ii-a", 100.00, 120.00)], status="Credited")
    reissued = invoice("B", "2025-07-03", [arrears("ii-b", 90.00, 110.00)])
    found = await june_usage(store, [credited, reissued])
    (line,) = usage_lines({"invoices": [found]})
    assert (line["amount"], line["cost"]) == ("110.00", "90.00")
    assert "USAGE_ESTIMATED" not in codes(line)
    (notice,) = [a for a in line["anomalies"] if a["code"] == "INVOICE_REISSUED"]
    assert notice["message"] == (
        "Pax8 invoice A was credited and re-issued: its usage of June 2025 (cost 100.00) is "
        "replaced by the re-issue, not added"
    )
    assert notice in found["anomalies"]


async def test_usage_credited_with_no_re_issue_yet_is_estimated_and_says_why(store):
    """A credited and not re-issued yet: June's summary estimates the usage (USAGE_ESTIMATED,
    not settled) and the notice says the re-issue is not in."""
    credited = invoice("A", "2025-07-01", [arrears("ii-a", 100.00, 120.00)], status="Credited")
    summary = usage_summary("u-1", azure(), "Contoso", 80.00, 95.00)
    found = await june_usage(store, [credited], [summary])
    (line,) = usage_lines({"invoices": [found]})
    assert (line["amount"], "USAGE_ESTIMATED" in codes(line)) == ("95.00", True)
    (notice,) = [a for a in line["anomalies"] if a["code"] == "INVOICE_REISSUED"]
    assert "Pax8 invoice A was credited, its re-issue not in yet" in notice["message"]


NOTHING_KNOWN = (
    "no usage known yet for June 2025: no live Pax8 invoice bills it and no Pax8 usage summary "
    "was synced during the month; billed as 0.00 until one is synced"
)


async def test_usage_credited_with_no_re_issue_and_no_summary_is_estimated_not_gone(store):
    """From review: A billed June's usage (120.00) and was credited, its re-issue not in, and no
    summary of June was synced: the usage line vanished (nothing billed, nothing said) and the
    month read as settled. Now the line stays, 0.00 and estimated, naming A."""
    credited = invoice("A", "2025-07-01", [arrears("ii-a", 100.00, 120.00)], status="Credited")
    found = await june_usage(store, [credited])
    (line,) = usage_lines({"invoices": [found]})
    assert (line["amount"], line["cost"]) == ("0.00", "0.00")
    assert anomaly(line, "USAGE_ESTIMATED")["message"] == NOTHING_KNOWN
    assert anomaly(line, "INVOICE_REISSUED")["message"] == (
        "Pax8 invoice A was credited, its re-issue not in yet: its usage of June 2025 (cost "
        "100.00) counts for nothing, and no usage summary of the month estimates it: 0.00 "
        "until the re-issue is synced"
    )
    assert unsettled(StoredInvoice.of(found))
    assert [u["source"] for u in batch(store, "2025-07", JULY)["usage"]] == ["none"]


async def test_usage_of_a_month_nothing_bills_yet_is_estimated_on_a_fresh_store(store):
    """From review: a store first synced on 6 July, before the invoice billing June's usage
    is in, has no June summary either: the Azure plan's usage line vanished and the month read
    as settled."""
    sub = azure()
    await load(store, scenario("2025-07-06", [sub], halo_lines={AZURE: 1}), JULY)
    found = client_invoice(batch(store, "2025-07", JULY))
    (line,) = usage_lines({"invoices": [found]})
    assert (line["amount"], anomaly(line, "USAGE_ESTIMATED")["message"]) == ("0.00", NOTHING_KNOWN)
    assert unsettled(StoredInvoice.of(found))


async def test_a_usage_subscription_the_months_invoice_does_not_bill_had_none(store):
    """July's invoice bills June's usage, of another Azure plan: this one had none, which is
    final (no line, as before), not an estimate held open until some invoice that never
    comes."""
    sub, other = azure(), {**azure(), "id": sid(3)}
    billed = invoice_item("ii-o", other, 40.00, "2025-06-01", "2025-06-30", term="Arrears")
    data = scenario(
        "2025-07-06",
        [sub, other],
        halo_lines={AZURE: 2},
        invoices=[invoice("B", "2025-07-01", [billed])],
    )
    await load(store, data, JULY)
    found = client_invoice(batch(store, "2025-07", JULY))
    assert [line["subscription_id"] for line in usage_lines({"invoices": [found]})] == [sid(3)]
    assert "USAGE_ESTIMATED" not in codes(found)
