"""A subscription's end date bounds every day billed (billing-rules §2), whichever snapshot is in
effect that day: the newest snapshot's `endDate` stops the snapshots before it too.

A cancellation is stamped when it is made: a US evening is already the next UTC day, and a
backdated one comes days after its end date. The Active snapshot before it must not bill those
days. Defaults: 10 seats at 22.00 (cost 19.80), November 2026 (30 days).
"""

from datetime import date
from decimal import Decimal
from typing import Any

from billing_builders import bill, client, codes, only_line, snap, sub
from trueup.core.billing.timeline import month_timeline, quantity_on, snapshots_from

D = Decimal


def pax8(quantity: int, updated: str, **more: Any) -> dict[str, Any]:
    """A Pax8 subscription object as the API sends it, billing since 1 Jan 2026."""
    return {
        "quantity": quantity,
        "updatedDate": updated,
        "status": "Active",
        "price": 22.0,
        "partnerCost": 19.8,
        "billingStart": "2026-01-01",
        **more,
    }


def cancelled(stamped: str, end: str, **more: Any) -> Any:
    """The snapshots of 10 seats cancelled at `stamped`, ending on `end`."""
    newest = pax8(10, stamped, status="Cancelled", endDate=end, **more)
    return snapshots_from(newest, [newest, pax8(10, "2026-01-01T09:00:00Z")])


def test_a_us_evening_cancellation_bills_up_to_not_including_its_end_date():
    # 19:30 in Chicago on the 19th is 01:30 UTC on the 20th: the Active snapshot is in effect
    # on the 19th, the end date stops it. 10 × 22 × 18 / 30 = 132.00 (was 19 days: 139.33).
    snapshots = cancelled("2026-11-19T19:30:00.000-0600", "2026-11-19")
    line = only_line(bill(client(sub(*snapshots)), "2026-11"))
    assert line.amount == D("132.00")
    assert "10 seats × 22.00 for 18 days, ÷ 30 days = 132.00" in line.explanation
    assert [quantity_on(snapshots, date(2026, 11, d)) for d in (18, 19, 20)] == [10, 0, 0]


def test_a_backdated_cancellation_bills_nothing_from_its_end_date():
    # Made on the 24th, ending on the 19th: 18 days, not 23 (168.67).
    snapshots = cancelled("2026-11-24T10:00:00Z", "2026-11-19T00:00:00Z")
    assert only_line(bill(client(sub(*snapshots)), "2026-11")).amount == D("132.00")
    timeline = month_timeline(snapshots, "2026-11")
    assert [(e.start.day, e.end.day, e.quantity, e.status) for e in timeline] == [
        (1, 18, 10, "Active"),
        (19, 23, 0, "Active"),
        (24, 30, 0, "Cancelled"),
    ]
    assert timeline[1].note == "−10 seats (0); cancelled on 19 Nov"


def test_a_cancellation_backdated_into_the_month_before_is_cancelled_still_billed():
    # Made on 3 Dec, ending on 28 Nov: November bills 27 days, December none, while Halo
    # still bills the 10 seats.
    snapshots = cancelled("2026-12-03T10:00:00Z", "2026-11-28T00:00:00Z")
    facts = client(sub(*snapshots, halo_quantity=10))
    assert only_line(bill(facts, "2026-11")).amount == D("198.00")  # 10 × 22 × 27 / 30
    december = only_line(bill(facts, "2026-12"))
    assert (december.quantity, december.amount) == (0, D("0.00"))
    assert "CANCELLED_STILL_BILLED" in codes(december)
    assert month_timeline(snapshots, "2026-12")[0].note == "ended 28 Nov 2026"


def test_the_end_date_the_newest_snapshot_knows_wins_over_an_older_cancellations():
    # Cancelled to the 25th, then reactivated: nothing ends, every day bills.
    cancelled_then = pax8(10, "2026-11-10T09:00:00Z", status="Cancelled", endDate="2026-11-25")
    reactivated = pax8(10, "2026-11-20T09:00:00Z")
    history = [reactivated, cancelled_then, pax8(10, "2026-01-01T09:00:00Z")]
    snapshots = snapshots_from(reactivated, history)
    assert only_line(bill(client(sub(*snapshots)), "2026-11")).amount == D("220.00")


def test_pending_cancel_stops_billing_at_its_end_date_inside_the_month():
    # Decision (a): 10 × 22 × 19 / 30 = 139.33 (PendingCancel used to bill the whole month).
    leaving = pax8(10, "2026-11-05T09:00:00Z", status="PendingCancel", endDate="2026-11-20")
    snapshots = snapshots_from(leaving, [leaving, pax8(10, "2026-01-01T09:00:00Z")])
    line = only_line(bill(client(sub(*snapshots)), "2026-11"))
    assert line.amount == D("139.33")
    assert [quantity_on(snapshots, date(2026, 11, d)) for d in (19, 20)] == [10, 0]


def test_pending_cancel_ending_after_the_month_bills_all_of_it():
    leaving = snap("2026-11-05", 10, status="PendingCancel", end="2026-12-15")
    facts = client(sub(snap("2026-01-01", 10), leaving))
    assert only_line(bill(facts, "2026-11")).amount == D("220.00")
    assert only_line(bill(facts, "2026-12")).amount == D("99.35")  # 10 × 22 × 14 / 31
