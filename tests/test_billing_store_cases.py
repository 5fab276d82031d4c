"""The worked cases of billing-semantics §6 through the store path: a scenario served by the
in-process simulators, the real sync, the operator's mappings, the rules file and the batch.

`test_billing_cases.py` has the same cases on facts built by hand; here every figure comes out of
a batch built from what the sync stored. Defaults of §6: USD, client price 22.00, Pax8 cost
19.80, 10 seats, NCE P1Y billed monthly. Every case of the table is covered; none is skipped.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from case_scenarios import (
    AZURE,
    BP,
    CLIENT,
    COMPANY,
    EXO,
    ITEMS,
    SEATS,
    at,
    history,
    invoice,
    invoice_item,
    scenario,
    sid,
    subscription,
    usage_summary,
)
from trueup.core.batch.build import build_batch
from trueup.core.mapping.engine import map_company, map_product
from trueup.core.rules.current import import_rules
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import RetryPolicy
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store.database import open_database
from trueup.core.sync.run import sync_sources
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports

D = Decimal
POLICIES = ("start", "end", "max", "daily")
FAST = RetryPolicy(max_attempts=8, backoff_base=0.001, backoff_cap=0.01, max_retry_after=0.01)
S1, S2 = sid(1), sid(2)


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


async def load(db, data: dict[str, Any], today: date) -> None:
    """Sync the scenario into the store (the real sync), then map Contoso and its products."""
    transports = in_process_transports(build_simulators(parse_scenario(data)))
    pax8 = Pax8Client(
        "http://pax8.test/v1", "sandbox", "sandbox", transport=transports["pax8"], retry=FAST
    )
    halo = HaloClient(
        "http://halo.test",
        "http://halo.test/auth",
        "sandbox",
        "sandbox",
        transport=transports["halo"],
        retry=FAST,
    )
    async with pax8, halo:
        results = await sync_sources(db, pax8=pax8, halo=halo, today=today)
    assert {r.source: r.status for r in results} == {"pax8": "ok", "halo": "ok"}
    map_company(db, COMPANY, CLIENT)
    for product in sorted({s["productId"] for s in data["pax8"]["subscriptions"]}):
        map_product(db, product, ITEMS[product])


def batch(db, month: str, today: date, rules: str = "") -> dict[str, Any]:
    """The batch body of `month` under `rules` (a whole rules file: it replaces the last)."""
    import_rules(db, rules, allow_empty=True)  # "" puts the built-in defaults back
    return build_batch(db, month, today=today, by="test").body


def client_invoice(body: dict[str, Any]) -> dict[str, Any] | None:
    return next((i for i in body["invoices"] if i["client_id"] == CLIENT), None)


def sub_lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = client_invoice(body)
    return [li for li in (found or {}).get("lines", []) if li["kind"] == "subscription"]


def usage_lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = client_invoice(body)
    return [li for li in (found or {}).get("lines", []) if li["kind"] == "usage"]


def only(lines: list[dict[str, Any]]) -> dict[str, Any]:
    (line,) = lines
    return line


def codes(thing: dict[str, Any]) -> set[str]:
    found = {a["code"] for a in thing["anomalies"]}
    for line in thing.get("lines", []):
        found |= {a["code"] for a in line["anomalies"]}
    return found


def anomaly(thing: dict[str, Any], code: str) -> dict[str, Any]:
    (found,) = [a for a in thing["anomalies"] if a["code"] == code]
    return found


def amounts(db, month: str, today: date) -> dict[str, str]:
    """The subscription line's amount under each proration policy."""
    return {
        policy: only(sub_lines(batch(db, month, today, f'[defaults]\nproration = "{policy}"\n')))[
            "amount"
        ]
        for policy in POLICIES
    }


def expect(start: str, end: str, peak: str, daily: str) -> dict[str, str]:
    return dict(zip(POLICIES, (start, end, peak, daily), strict=True))


def changed_sub(sub_id: str, first: dict[str, Any], *changes: dict[str, Any]) -> tuple:
    """A subscription (its newest state) and its history, from its first state and changes."""
    states = history(first, *changes)
    return states[0], {sub_id: states}


# --- seats: the four proration policies (§6 cases 1-5, 21, 22, Bear Creek) -------------------


async def test_case_1_baseline_no_change_all_policies_agree_margin_22(store):
    """Case 1: July 2025, 10 seats, no change: 220.00 under every policy, cost 198.00 from the
    07-01 invoice, margin 22.00, no flags."""
    sub = subscription(S1, 10, "2025-01-01")
    item = invoice_item("ii-1", sub, 198.00, "2025-07-01", "2025-07-31")
    data = scenario(
        "2025-07-20",
        [sub],
        halo_lines={BP: 10},
        invoices=[invoice("INV-1", "2025-07-01", [item])],
    )
    today = date(2025, 7, 20)
    await load(store, data, today)
    assert amounts(store, "2025-07", today) == expect("220.00", "220.00", "220.00", "220.00")
    found = client_invoice(batch(store, "2025-07", today))
    assert (found["subtotal"], found["cost"], found["margin"]) == ("220.00", "198.00", "22.00")
    assert codes(found) == set()


async def seat_added(db, day: str, today: date) -> None:
    sub, histories = changed_sub(
        S1,
        subscription(S1, 10, "2025-01-01", commitment_end="2026-12-31"),
        {"quantity": 11, "updatedDate": at(day)},
    )
    await load(
        db, scenario(today.isoformat(), [sub], histories=histories, halo_lines={BP: 11}), today
    )


async def test_case_2_seat_added_12_june_daily_233_93(store):
    """Case 2: +1 seat effective 2025-06-12 in a 30-day month: 19 days, 220 + r(22 × 19/30)."""
    await seat_added(store, "2025-06-12", date(2025, 6, 30))
    assert amounts(store, "2025-06", date(2025, 6, 30)) == expect(
        "220.00", "242.00", "242.00", "233.93"
    )


async def test_case_3_seat_added_15_july_31_day_month_232_06(store):
    """Case 3: +1 seat effective 2025-07-15 in a 31-day month: 17 days, 220 + r(22 × 17/31)."""
    await seat_added(store, "2025-07-15", date(2025, 7, 31))
    assert amounts(store, "2025-07", date(2025, 7, 31)) == expect(
        "220.00", "242.00", "242.00", "232.06"
    )


async def test_case_4_seat_added_15_february_28_day_month_231_00(store):
    """Case 4: +1 seat effective 2026-02-15 in a 28-day month: 14 days, 220 + 11.00."""
    await seat_added(store, "2026-02-15", date(2026, 2, 28))
    assert amounts(store, "2026-02", date(2026, 2, 28)) == expect(
        "220.00", "242.00", "242.00", "231.00"
    )


async def test_case_5_add_and_remove_inside_the_7_day_window(store):
    """Case 5: +5 on 06-03 (→15), −5 effective 06-06 (inside the 7-day window): daily
    220 + r(5 × 22 × 3/30) = 231.00, MAX 330.00; the decrease is not locked."""
    sub, histories = changed_sub(
        S1,
        subscription(S1, 10, "2025-01-01"),
        {"quantity": 15, "updatedDate": at("2025-06-03")},
        {"quantity": 10, "updatedDate": at("2025-06-06", "08:00:00")},
    )
    today = date(2025, 6, 30)
    await load(
        store, scenario("2025-06-30", [sub], histories=histories, halo_lines={BP: 10}), today
    )
    assert amounts(store, "2025-06", today) == expect("220.00", "220.00", "330.00", "231.00")
    assert "NCE_DECREASE_LOCKED" not in codes(client_invoice(batch(store, "2025-06", today)))


async def test_case_21_p1m_decrease_outside_the_window_241_12(store):
    """Case 21: P1M at 26.40, −2 effective 06-18 (outside the window): 13 days at 8 seats,
    264 − r(2 × 26.40 × 13/30) = 241.12; the decrease is locked until the 07-01 renewal."""
    sub, histories = changed_sub(
        S1,
        subscription(
            S1,
            10,
            "2025-01-01",
            price=26.40,
            cost=23.76,
            commitment="Monthly",
            commitment_end="2025-06-30",
        ),
        {"quantity": 8, "updatedDate": at("2025-06-18")},
    )
    today = date(2025, 6, 30)
    await load(store, scenario("2025-06-30", [sub], histories=histories, halo_lines={BP: 8}), today)
    assert amounts(store, "2025-06", today) == expect("264.00", "211.20", "264.00", "241.12")
    assert "NCE_DECREASE_LOCKED" in codes(client_invoice(batch(store, "2025-06", today)))


async def test_case_22_non_nce_seats_in_and_out_57_50(store):
    """Case 22: a non-NCE monthly seat product at 5.00: +3 effective 06-05, −3 effective 06-20:
    45 extra seat-days, 50 + r(5 × 45/30) = 57.50, MAX 65.00; nothing is locked."""
    sub, histories = changed_sub(
        S1,
        subscription(S1, 10, "2025-01-01", product=SEATS, price=5.00, cost=3.50, commitment=None),
        {"quantity": 13, "updatedDate": at("2025-06-05")},
        {"quantity": 10, "updatedDate": at("2025-06-20")},
    )
    today = date(2025, 6, 30)
    await load(
        store, scenario("2025-06-30", [sub], histories=histories, halo_lines={SEATS: 10}), today
    )
    assert amounts(store, "2025-06", today) == expect("50.00", "50.00", "65.00", "57.50")
    assert "NCE_DECREASE_LOCKED" not in codes(client_invoice(batch(store, "2025-06", today)))


async def test_case_bear_creek_17_18_19_18_in_november_2026(store):
    """The Bear Creek case (billing-rules §11): 17 seats, 18 from 11-05, 19 from 11-12, 18 from
    11-15: 539 seat-days / 30 = 17.9667 seats, r(539 × 12.50 / 30) = 224.58; the seat removed
    on the 15th was added on the 12th, inside the window."""
    sub, histories = changed_sub(
        S1,
        subscription(
            S1,
            17,
            "2026-01-10",
            start="2026-01-10",
            price=12.50,
            cost=10.63,
            commitment_end="2027-01-09",
        ),
        {"quantity": 18, "updatedDate": at("2026-11-05")},
        {"quantity": 19, "updatedDate": at("2026-11-12")},
        {"quantity": 18, "updatedDate": at("2026-11-15")},
    )
    today = date(2026, 11, 21)
    await load(
        store, scenario("2026-11-21", [sub], histories=histories, halo_lines={BP: 18}), today
    )
    line = only(sub_lines(batch(store, "2026-11", today)))
    assert (line["quantity"], line["unit_price"], line["amount"]) == ("17.9667", "12.50", "224.58")
    assert line["explanation"].startswith(
        "17 seats × 12.50 for 4 days + 18 × 12.50 for 7 days + 19 × 12.50 for 3 days + "
        "18 × 12.50 for 16 days, ÷ 30 days = 224.58 (daily proration, Pax8 price, Pax8 history"
    )
    assert "NCE_DECREASE_LOCKED" not in codes(line)


async def test_case_14_daily_rate_is_never_rounded_2_27(store):
    """Case 14: 4.00 a month, 1 seat for 17 of 30 days: r(4 × 17/30 = 2.2667) = 2.27, the daily
    rate never rounded (0.13 × 17 would give 2.21)."""
    sub = subscription(S1, 1, "2025-06-14", start="2025-06-14", price=4.00, cost=3.40)
    today = date(2025, 6, 30)
    await load(store, scenario("2025-06-30", [sub], halo_lines={BP: 1}), today)
    assert only(sub_lines(batch(store, "2025-06", today)))["amount"] == "2.27"


# --- NCE decreases, renewals, terms (§6 cases 6-11) ------------------------------------------


def case_6(today: str, item_month: str) -> dict[str, Any]:
    sub, histories = changed_sub(
        S1,
        subscription(S1, 10, "2025-01-01"),
        {"quantity": 8, "updatedDate": at("2025-06-20")},
    )
    first, last = f"{item_month}-01", f"{item_month}-{'30' if item_month.endswith('06') else '31'}"
    item = invoice_item("ii-1", sub, 198.00, first, last, quantity=10)
    return scenario(
        today,
        [sub],
        histories=histories,
        halo_lines={BP: 8},
        invoices=[invoice("INV-1", first, [item])],
    )


async def test_case_6_decrease_after_the_window_is_locked(store):
    """Case 6: 10 → 8 effective 06-20, after the window, term to 2025-12-31: daily
    220 − r(2 × 22 × 11/30) = 203.87; NCE_DECREASE_LOCKED (warning): Pax8 keeps charging 10."""
    today = date(2025, 6, 30)
    await load(store, case_6("2025-06-30", "2025-06"), today)
    assert amounts(store, "2025-06", today) == expect("220.00", "176.00", "220.00", "203.87")
    line = only(sub_lines(batch(store, "2025-06", today)))
    locked = anomaly(line, "NCE_DECREASE_LOCKED")
    assert locked["severity"] == "warning"
    assert "−2 seats (10 → 8) on 20 Jun 2025" in locked["message"]
    assert "Pax8 keeps charging 10 until the renewal on 1 Jan 2026" in locked["message"]


async def test_case_6_july_end_policy_negative_margin_minus_22(store):
    """Case 6 in July: billed 8 × 22 = 176.00 (END) against the 198.00 Pax8 still charges:
    NEGATIVE_MARGIN (error), margin −22.00."""
    today = date(2025, 7, 31)
    await load(store, case_6("2025-07-31", "2025-07"), today)
    line = only(sub_lines(batch(store, "2025-07", today, '[defaults]\nproration = "end"\n')))
    assert (line["amount"], line["cost"]) == ("176.00", "198.00")
    negative = anomaly(line, "NEGATIVE_MARGIN")
    assert negative["severity"] == "error"
    assert "margin -22.00" in negative["message"]


async def test_case_6_halo_at_8_while_pax8_charges_10_qty_mismatch(store):
    """Case 6, the PSA side: Halo dropped to 8, Pax8 refused the decrease and still shows 10.
    With vendor sync off the line bills Halo's 8: QTY_MISMATCH (10 vs 8) and NEGATIVE_MARGIN."""
    sub = subscription(S1, 10, "2025-01-01")
    item = invoice_item("ii-1", sub, 198.00, "2025-07-01", "2025-07-31")
    data = scenario(
        "2025-07-31",
        [sub],
        halo_lines={BP: 8},
        invoices=[invoice("INV-1", "2025-07-01", [item])],
    )
    today = date(2025, 7, 31)
    await load(store, data, today)
    rules = f'[[lines]]\nclient = "{CLIENT}"\nproduct = "{BP}"\nsync = false\n'
    line = only(sub_lines(batch(store, "2025-07", today, rules)))
    assert line["amount"] == "176.00"
    assert {"QTY_MISMATCH", "NEGATIVE_MARGIN"} <= codes(line)
    assert "Halo bills 8 seats, Pax8 charges 10 seats" in anomaly(line, "QTY_MISMATCH")["message"]


async def test_case_7_decrease_scheduled_at_the_p1m_renewal_is_not_locked(store):
    """Case 7: P1M at 26.40 (= 22 × 1.20), −2 scheduled at the 07-01 renewal: June 264.00,
    July 211.20 under every policy; a decrease at the renewal is not locked."""
    sub, histories = changed_sub(
        S1,
        subscription(
            S1,
            10,
            "2025-01-01",
            price=26.40,
            cost=23.76,
            commitment="Monthly",
            commitment_end="2025-06-30",
        ),
        {"quantity": 8, "updatedDate": at("2025-07-01", "00:05:00")},
    )
    today = date(2025, 7, 31)
    await load(store, scenario("2025-07-31", [sub], histories=histories, halo_lines={BP: 8}), today)
    assert amounts(store, "2025-07", today) == expect("211.20", "211.20", "211.20", "211.20")
    assert amounts(store, "2025-06", today) == expect("264.00", "264.00", "264.00", "264.00")
    assert "NCE_DECREASE_LOCKED" not in codes(client_invoice(batch(store, "2025-07", today)))


@pytest.fixture
async def annual_case_8(store):
    """Case 8: annual prepaid 2025-01-01..12-31 at 264.00 a year (cost 237.60), +2 co-termed
    effective 04-16."""
    sub, histories = changed_sub(
        S1,
        subscription(S1, 10, "2025-01-01", price=264.00, cost=237.60, term="Annual"),
        {"quantity": 12, "updatedDate": at("2025-04-16")},
    )
    await load(
        store,
        scenario("2025-04-30", [sub], histories=histories, halo_lines={BP: 12}),
        date(2025, 4, 30),
    )
    return store


def test_case_8_annual_co_termed_add_376_11(annual_case_8):
    """Case 8: the co-termed add bills r(2 × 264 × 260/365 = 376.1096) = 376.11 in April; the
    cost is estimated, r(2 × 237.60 × 260/365 = 338.4986) = 338.50 (COST_ESTIMATED)."""
    line = only(sub_lines(batch(annual_case_8, "2025-04", date(2025, 4, 30))))
    assert (line["amount"], line["cost"], line["quantity"]) == ("376.11", "338.50", "1.4247")
    assert line["policy"] == "annual term · pax8"
    assert "+2 seats on 16 Apr × 264.00 × 260/365 days left in the term" in line["explanation"]
    assert "COST_ESTIMATED" in codes(line)


def test_case_8_annual_term_charge_in_the_month_of_the_term_start_only(annual_case_8):
    """Case 8: the annual charge falls in the term's first month (10 × 264 = 2640.00), nothing
    between renewals, and the renewal bills 12 × 264 = 3168.00."""
    today = date(2025, 4, 30)
    assert only(sub_lines(batch(annual_case_8, "2025-01", today)))["amount"] == "2640.00"
    assert sub_lines(batch(annual_case_8, "2025-05", today)) == []
    assert only(sub_lines(batch(annual_case_8, "2026-01", today)))["amount"] == "3168.00"


async def test_case_9_price_rise_at_renewal_price_changed(store):
    """Case 9: P1M renews 04-01 at 27.72 (was 26.40), cost 24.95 (was 23.76): April bills
    10 × 27.72 = 277.20 and PRICE_CHANGED against March's batch."""
    sub, histories = changed_sub(
        S1,
        subscription(
            S1,
            10,
            "2024-04-01",
            start="2024-04-01",
            price=26.40,
            cost=23.76,
            commitment="Monthly",
            commitment_end="2025-03-31",
        ),
        {
            "price": 27.72,
            "partnerCost": 24.95,
            "updatedDate": at("2025-04-01"),
            "commitmentTerm": {"id": "t1", "term": "Monthly", "endDate": "2025-04-30T23:59:59Z"},
        },
    )
    today = date(2025, 4, 30)
    await load(
        store, scenario("2025-04-30", [sub], histories=histories, halo_lines={BP: 10}), today
    )
    march = only(sub_lines(batch(store, "2025-03", today)))
    assert march["amount"] == "264.00"
    line = only(sub_lines(batch(store, "2025-04", today)))
    assert line["amount"] == "277.20"
    changed = anomaly(line, "PRICE_CHANGED")
    assert changed["message"] == "price 26.40 → 27.72; cost 23.76 → 24.95 since last month"


def exchange_case_10(today: str, halo: int | None = 5) -> dict[str, Any]:
    sub, histories = changed_sub(
        S1,
        subscription(
            S1,
            5,
            "2025-01-01",
            product=EXO,
            price=4.80,
            cost=4.32,
            commitment="Monthly",
            commitment_end="2025-06-30",
        ),
        {"status": "Cancelled", "updatedDate": at("2025-06-03"), "endDate": at("2025-06-04")},
    )
    lines = {EXO: halo} if halo is not None else {}
    return scenario(today, [sub], histories=histories, halo_lines=lines)


async def test_case_10_cancelled_on_the_4th_daily_2_40(store):
    """Case 10: Exchange Online P1, P1M, 5 seats at 4.80, renewed 06-01, cancelled effective
    06-04 (3 days used): daily r(5 × 4.80 × 3/30) = 2.40, START 24.00, END 0.00."""
    today = date(2025, 6, 30)
    await load(store, exchange_case_10("2025-06-30"), today)
    assert amounts(store, "2025-06", today) == expect("24.00", "0.00", "24.00", "2.40")
    assert "NCE_DECREASE_LOCKED" not in codes(client_invoice(batch(store, "2025-06", today)))


async def test_case_10_cancelled_still_billed_in_july(store):
    """Case 10 in July: Halo still bills the 5 seats of the cancelled subscription: a 0.00 line
    with CANCELLED_STILL_BILLED (error)."""
    today = date(2025, 7, 31)
    await load(store, exchange_case_10("2025-07-31"), today)
    line = only(sub_lines(batch(store, "2025-07", today)))
    assert (line["quantity"], line["amount"]) == ("0.0000", "0.00")
    still = anomaly(line, "CANCELLED_STILL_BILLED")
    assert still["severity"] == "error"
    assert "Halo still bills 5 seats" in still["message"] and "4 Jun 2025" in still["message"]


async def test_case_10_no_line_once_halo_stops_billing(store):
    """Case 10: once Halo stops billing the cancelled subscription, July has no line for it."""
    today = date(2025, 7, 31)
    await load(store, exchange_case_10("2025-07-31", halo=None), today)
    assert sub_lines(batch(store, "2025-07", today)) == []


async def test_a_us_evening_cancellation_bills_up_to_its_end_date(store):
    """billing-rules §2: 10 seats cancelled at 19:30 Chicago time on 19 Nov 2026 (01:30 UTC on
    the 20th) with endDate the 19th: 18 days, r(10 × 22 × 18/30) = 132.00, not 19 (139.33)."""
    sub, histories = changed_sub(
        S1,
        subscription(S1, 10, "2026-01-01", start="2026-01-01", commitment_end="2026-12-31"),
        {
            "status": "Cancelled",
            "updatedDate": "2026-11-19T19:30:00.000-0600",
            "endDate": "2026-11-19T00:00:00Z",
        },
    )
    today = date(2026, 11, 30)
    await load(store, scenario("2026-11-30", [sub], histories=histories), today)
    assert amounts(store, "2026-11", today) == expect("220.00", "0.00", "220.00", "132.00")


@pytest.fixture
async def trial_case_11(store):
    """Case 11: a 25-seat trial from 05-10 converts on 06-09 to BP P1Y; no Halo line."""
    sub, histories = changed_sub(
        S1,
        subscription(
            S1, 25, "2025-05-10", start="2025-05-10", status="Trial", commitment_end="2026-06-08"
        ),
        {"status": "Active", "updatedDate": at("2025-06-09")},
    )
    await load(store, scenario("2025-06-30", [sub], histories=histories), date(2025, 6, 30))
    return store


def test_case_11_trial_converted_daily_403_33(trial_case_11):
    """Case 11: 22 days of June at 25 seats: r(25 × 22 × 22/30) = 403.33; QTY_MISMATCH."""
    today = date(2025, 6, 30)
    assert amounts(trial_case_11, "2025-06", today) == expect("0.00", "550.00", "550.00", "403.33")
    assert "QTY_MISMATCH" in codes(client_invoice(batch(trial_case_11, "2025-06", today)))


def test_case_11_start_policy_leaves_it_unbilled(trial_case_11):
    """Case 11 under START: nothing billed while Pax8 charges 550 seat-days / 30 = 18.3333
    seats: UNBILLED_SUBSCRIPTION and QTY_MISMATCH."""
    today = date(2025, 6, 30)
    body = batch(trial_case_11, "2025-06", today, '[defaults]\nproration = "start"\n')
    line = only(sub_lines(body))
    assert {"UNBILLED_SUBSCRIPTION", "QTY_MISMATCH"} <= codes(line)
    assert "Pax8 charges for 18.3333 seats" in anomaly(line, "UNBILLED_SUBSCRIPTION")["message"]


# --- usage (§6 cases 12, 13, 23) ----------------------------------------------------------------


def azure() -> dict[str, Any]:
    return subscription(S2, 1, "2025-01-01", product=AZURE, price=0, cost=0, commitment=None)


@pytest.fixture
async def usage_case_12(store):
    """Case 12: Azure plan usage of June, synced on 06-30: RG "Contoso" cost 1234.567 (Pax8
    charge 1400.00), RG "rg-legacy-test" with no company, cost 86.456."""
    sub = azure()
    data = scenario(
        "2025-06-30",
        [sub],
        halo_lines={AZURE: 1},
        usage=[
            usage_summary("u-1", sub, "Contoso", 1234.567, 1400.00),
            usage_summary("u-2", sub, "rg-legacy-test", 86.456, 98.00, company=None),
        ],
    )
    await load(store, data, date(2025, 6, 30))
    return store


MARKUP_15 = '[defaults]\nusage_price = "markup"\nmarkup_percent = "15"\n'


def test_case_12_usage_markup_15_percent_1419_75(usage_case_12):
    """Case 12: July bills June's usage: r(1234.567 × 1.15 = 1419.75205) = 1419.75; the
    unassigned resource group (cost 86.456) is held out of every invoice: UNASSIGNED_USAGE."""
    body = batch(usage_case_12, "2025-07", date(2025, 7, 1), MARKUP_15)
    line = only(usage_lines(body))
    assert (line["amount"], line["cost"]) == ("1419.75", "1234.57")
    assert line["description"] == "Azure plan usage, June 2025"
    assert line["policy"] == "usage · markup 15%"
    assert line["explanation"].startswith("cost 1234.567 × 1.15 = 1419.75 (usage for June 2025")
    held = anomaly(body, "UNASSIGNED_USAGE")
    # Held out, it has no client and so no client price policy: its charge is Pax8's own
    # (currentCharges), not the 99.42 the client's 15% markup would make of it.
    assert (held["resource_group"], held["cost"], held["charge"]) == (
        "rg-legacy-test",
        "86.46",
        "98.00",
    )
    assert held["severity"] == "error"


def test_case_12_usage_pax8_charge_and_absorb(usage_case_12):
    """Case 12 under the other usage policies: Pax8's charge 1400.00; absorbed 0.00 at cost
    1234.57 with no NEGATIVE_MARGIN (absorbing is the policy)."""
    today = date(2025, 7, 1)
    assert only(usage_lines(batch(usage_case_12, "2025-07", today)))["amount"] == "1400.00"
    absorbed = only(
        usage_lines(batch(usage_case_12, "2025-07", today, '[defaults]\nusage_price = "absorb"\n'))
    )
    assert (absorbed["amount"], absorbed["cost"]) == ("0.00", "1234.57")
    assert "NEGATIVE_MARGIN" not in codes(absorbed)


async def test_case_13_usage_rounds_the_aggregate_not_each_post(store):
    """Case 13: three resource groups at cost 0.004 each, +15%: the aggregate
    r(0.012 × 1.15 = 0.0138) = 0.01, not 3 × r(0.0046) = 0.00."""
    sub = azure()
    data = scenario(
        "2025-06-30",
        [sub],
        halo_lines={AZURE: 1},
        usage=[usage_summary(f"u-{g}", sub, f"rg-{g}", 0.004, 0.005) for g in ("a", "b", "c")],
    )
    await load(store, data, date(2025, 6, 30))
    line = only(usage_lines(batch(store, "2025-07", date(2025, 7, 1), MARKUP_15)))
    assert line["amount"] == "0.01"
    assert "resource groups rg-a, rg-b, rg-c" in line["explanation"]


async def test_case_23_usage_bills_the_latest_posted_total_not_the_sum(store):
    """Case 23: the vendor posts running totals 100/120/150 GB on 10-29/30/31 at 0.15/GB; three
    syncs keep the latest, so November bills 150 × 0.15 = 22.50, not 370 GB → 55.50."""
    sub = azure()
    for day, charge in (("2025-10-29", 15.00), ("2025-10-30", 18.00), ("2025-10-31", 22.50)):
        summary = usage_summary("u-storage", sub, "storage", charge * 0.8, charge)
        data = scenario(day, [sub], halo_lines={AZURE: 1}, usage=[summary])
        await load(store, data, date.fromisoformat(day))
    assert only(usage_lines(batch(store, "2025-11", date(2025, 11, 3))))["amount"] == "22.50"


# --- odd subscriptions, currency, tax, cost, margin (§6 cases 15-20, 24) -----------------------


async def test_case_15_sku_renamed_keeps_one_line_by_id(store):
    """Case 15: the product is renamed between May and June (same product and subscription id):
    the line is matched by id, 10 × 6.00 = 60.00 both months, no missing or unbilled line."""
    sub = subscription(S1, 10, "2025-01-01", product=EXO, price=6.00, cost=5.40)
    may = scenario("2025-05-31", [sub], halo_lines={EXO: 10})
    await load(store, may, date(2025, 5, 31))
    before = only(sub_lines(batch(store, "2025-05", date(2025, 5, 31))))
    june = scenario("2025-06-30", [{**sub, "productName": "Entra ID P1"}], halo_lines={EXO: 10})
    june["pax8"]["products"][0]["name"] = "Entra ID P1"
    await load(store, june, date(2025, 6, 30))
    after = only(sub_lines(batch(store, "2025-06", date(2025, 6, 30))))
    assert (before["amount"], after["amount"]) == ("60.00", "60.00")
    assert before["subscription_id"] == after["subscription_id"] == S1
    assert not {"UNBILLED_SUBSCRIPTION", "POSSIBLE_DUPLICATE", "QTY_MISMATCH"} & codes(after)


async def test_case_16_active_with_zero_quantity(store):
    """Case 16: an active subscription with quantity 0: a 0.00 line at 22.00, only
    ZERO_QTY_ACTIVE (info); no unit price derived by dividing by 0."""
    sub = subscription(S1, 0, "2025-01-01")
    await load(store, scenario("2025-06-30", [sub], halo_lines={BP: 0}), date(2025, 6, 30))
    line = only(sub_lines(batch(store, "2025-06", date(2025, 6, 30))))
    assert (line["amount"], line["unit_price"]) == ("0.00", "22.00")
    assert codes(line) == {"ZERO_QTY_ACTIVE"}
    assert line["anomalies"][0]["severity"] == "info"


async def test_case_17_two_subscriptions_of_one_product_possible_duplicate(store):
    """Case 17: two P1Y BP subscriptions of 5 seats, created 06-02 and 06-04, Halo bills 5:
    110.00 each, cost 10 × 19.80 = 198.00, POSSIBLE_DUPLICATE and QTY_MISMATCH."""
    subs = [
        subscription(S1, 5, "2025-06-02", start="2025-06-02", commitment_end="2026-06-01"),
        subscription(S2, 5, "2025-06-04", start="2025-06-04", commitment_end="2026-06-03"),
    ]
    items = [
        invoice_item(f"ii-{n}", s, 99.00, "2025-07-01", "2025-07-31") for n, s in enumerate(subs, 1)
    ]
    data = scenario(
        "2025-07-31", subs, halo_lines={BP: 5}, invoices=[invoice("INV-1", "2025-07-01", items)]
    )
    today = date(2025, 7, 31)
    await load(store, data, today)
    body = batch(store, "2025-07", today)
    found, lines = client_invoice(body), sub_lines(body)
    assert [li["amount"] for li in lines] == ["110.00", "110.00"]
    assert all("POSSIBLE_DUPLICATE" in codes(li) for li in lines)
    assert any("QTY_MISMATCH" in codes(li) for li in lines)
    assert found["cost"] == "198.00"
    duplicate = next(
        a
        for a in found["anomalies"] + [a for li in lines for a in li["anomalies"]]
        if a["code"] == "POSSIBLE_DUPLICATE"
    )
    assert "2 billable subscriptions" in duplicate["message"]
    assert S1 in duplicate["message"] and S2 in duplicate["message"]


async def test_case_18_vat_19_percent_on_the_rounded_subtotal(store):
    """Case 18 (DE): a EUR Pax8 account, 10 × €20.60, VAT 19%: €206.00 + r(39.14) = €245.14."""
    sub = subscription(S1, 10, "2025-01-01", price=20.60, cost=18.00, currency="EUR")
    await load(store, scenario("2025-06-30", [sub], halo_lines={BP: 10}), date(2025, 6, 30))
    rules = f'[clients."{CLIENT}"]\ntax_percent = "19"\n'
    found = client_invoice(batch(store, "2025-06", date(2025, 6, 30), rules))
    assert (found["currency"], found["subtotal"], found["tax"], found["total"]) == (
        "EUR",
        "206.00",
        "39.14",
        "245.14",
    )


@pytest.fixture
async def usd_june(store):
    """10 seats at 22.00 USD, June's 198.00 on the 06-01 invoice (an exclusive period end)."""
    sub = subscription(S1, 10, "2025-01-01")
    item = invoice_item("ii-1", sub, 198.00, "2025-06-01", "2025-07-01")
    data = scenario(
        "2025-06-30", [sub], halo_lines={BP: 10}, invoices=[invoice("INV-1", "2025-06-01", [item])]
    )
    await load(store, data, date(2025, 6, 30))
    return store


def test_case_18_no_rate_currency_mismatch_held_out(usd_june):
    """Case 18: a EUR client billed from USD with no rate: the line stays in USD with
    CURRENCY_MISMATCH and is held out of the EUR invoice's figures."""
    rules = f'[clients."{CLIENT}"]\ncurrency = "EUR"\n'
    found = client_invoice(batch(usd_june, "2025-06", date(2025, 6, 30), rules))
    line = only(sub_lines({"invoices": [found]}))
    assert (line["currency"], line["amount"]) == ("USD", "220.00")
    assert "CURRENCY_MISMATCH" in codes(line)
    assert (found["subtotal"], found["total"], found["cost"]) == ("0.00", "0.00", "0.00")


def test_case_18_configured_rate_converts_then_rounds(usd_june):
    """Case 18 with a fixed rate: 220.00 USD × 0.92 = €202.40; cost 198.00 × 0.92 = €182.16."""
    rules = f'[clients."{CLIENT}"]\ncurrency = "EUR"\n\n[rates]\n"USD/EUR" = "0.92"\n'
    line = only(sub_lines(batch(usd_june, "2025-06", date(2025, 6, 30), rules)))
    assert (line["currency"], line["amount"], line["cost"]) == ("EUR", "202.40", "182.16")
    assert "220.00 USD × 0.92 (USD→EUR, rules) = 202.40" in line["explanation"]


def test_case_19_us_tax_shape_taxable_share(usd_june):
    """Case 19: TX, 80% taxable at 8.25% = 6.6%: 220.00 + r(14.52) = 234.52; CA: no tax."""
    today = date(2025, 6, 30)
    texas = client_invoice(
        batch(usd_june, "2025-06", today, f'[clients."{CLIENT}"]\ntax_percent = "6.6"\n')
    )
    assert (texas["tax"], texas["total"]) == ("14.52", "234.52")
    assert client_invoice(batch(usd_june, "2025-06", today))["tax"] == "0.00"


async def test_case_20_credited_and_reissued_invoice_counted_once(store):
    """Case 20: Pax8 invoice A (06-01, 1000.00) is Credited and re-issued as B (980.00): June's
    cost is 980.00, never 1980.00; INVOICE_REISSUED (info) names A and its 1000.00."""
    sub = subscription(S1, 50, "2025-01-01")
    credited = invoice(
        "A",
        "2025-06-01",
        [invoice_item("ii-a", sub, 1000.00, "2025-06-01", "2025-06-30")],
        status="Credited",
    )
    reissued = invoice(
        "B", "2025-06-03", [invoice_item("ii-b", sub, 980.00, "2025-06-01", "2025-06-30")]
    )
    data = scenario("2025-06-30", [sub], halo_lines={BP: 50}, invoices=[credited, reissued])
    today = date(2025, 6, 30)
    await load(store, data, today)
    found = client_invoice(batch(store, "2025-06", today))
    assert only(sub_lines({"invoices": [found]}))["cost"] == "980.00"
    notice = anomaly(found, "INVOICE_REISSUED")
    assert notice["severity"] == "info" and "Pax8 invoice A" in notice["message"]
    assert "1000.00" in notice["message"]


@pytest.fixture
async def one_seat(store):
    """1 seat at 22.00, cost 19.80 on June's invoice."""
    sub = subscription(S1, 1, "2025-01-01")
    item = invoice_item("ii-1", sub, 19.80, "2025-06-01", "2025-06-30")
    data = scenario(
        "2025-06-30", [sub], halo_lines={BP: 1}, invoices=[invoice("INV-1", "2025-06-01", [item])]
    )
    await load(store, data, date(2025, 6, 30))
    return store


@pytest.mark.parametrize(("floor", "flagged"), [("10", False), ("10.01", True)])
def test_case_24_margin_exactly_at_the_floor_passes(one_seat, floor, flagged):
    """Case 24: margin (22 − 19.80) / 22 = 10.00% exactly: passes a 10% floor (≥), fails
    10.01% with BELOW_MIN_MARGIN."""
    rules = f'[defaults]\nmin_margin_percent = "{floor}"\n'
    line = only(sub_lines(batch(one_seat, "2025-06", date(2025, 6, 30), rules)))
    assert ("BELOW_MIN_MARGIN" in codes(line)) is flagged


def test_case_24_markup_is_on_cost_not_margin(one_seat):
    """Case 24: markup 20% is on cost: 19.80 × 1.20 = 23.76 (a 20% margin would be 24.75)."""
    rules = '[defaults]\nprice = "markup"\nmarkup_percent = "20"\n'
    line = only(sub_lines(batch(one_seat, "2025-06", date(2025, 6, 30), rules)))
    assert (line["unit_price"], line["amount"], line["policy"]) == (
        "23.76",
        "23.76",
        "daily · markup 20%",
    )


async def test_a_halo_price_is_billed_in_its_recurring_invoices_currency(store):
    """A EUR client on price = halo: its Halo line 10 × €20.00 on a € recurring invoice is
    billed €200.00, not 20.00 read as the Pax8 subscription's USD and converted (€184.33)."""
    sub = subscription(S1, 10, "2025-01-01", price=20.00)
    data = scenario("2025-06-30", [sub], halo_lines={BP: 10})
    data["halo"]["recurring_invoices"][0]["currency"] = "€"
    await load(store, data, date(2025, 6, 30))
    rules = (
        f'[clients."{CLIENT}"]\ncurrency = "EUR"\nprice = "halo"\n\n[rates]\n"USD/EUR" = "0.92"\n'
    )
    line = only(sub_lines(batch(store, "2025-06", date(2025, 6, 30), rules)))
    assert (line["currency"], line["unit_price"], line["amount"]) == ("EUR", "20.00", "200.00")
