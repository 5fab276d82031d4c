"""The quantity timeline of a subscription (billing-rules §2), on raw Pax8 JSON."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from trueup.core.billing.timeline import (
    Snapshot,
    SnapshotState,
    TimelineEntry,
    chain_snapshots,
    month_timeline,
    quantity_on,
    snapshot_on,
    snapshots_from,
)
from trueup.core.values.months import Month, MonthError

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"


def sub(quantity, updated, status="Active", **more):
    return {
        "id": "s1",
        "quantity": quantity,
        "status": status,
        "price": Decimal("12.50"),
        "partnerCost": Decimal("10.63"),
        "startDate": "2025-03-15T00:00:00Z",
        "billingStart": "2025-03-15",
        "updatedDate": updated,
        **more,
    }


def qty(snapshots, text):
    return quantity_on(snapshots, date.fromisoformat(text))


def test_without_history_the_current_object_applies_from_billing_start():
    snapshots = snapshots_from(sub(5, "2025-06-01T10:00:00Z"), [])
    assert [(s.effective, s.quantity) for s in snapshots] == [(date(2025, 3, 15), 5)]
    assert qty(snapshots, "2025-03-14") == 0
    assert qty(snapshots, "2025-03-15") == 5
    assert qty(snapshots, "2026-11-30") == 5


def test_start_date_when_there_is_no_billing_start():
    current = sub(
        5, "2025-06-01T10:00:00Z", billingStart=None, startDate="2025-04-02T22:00:00-0600"
    )
    # 22:00 at -06:00 is already 3 April in UTC
    assert snapshots_from(current, [])[0].effective == date(2025, 4, 3)


@pytest.mark.parametrize(
    ("status", "billed"),
    [
        ("Active", 7),
        ("PendingCancel", 7),
        ("Activated", 7),
        ("Trial", 0),
        ("Converted", 0),
        ("PendingManual", 0),
        ("PendingAutomated", 0),
        ("WaitingForDetails", 0),
        ("Cancelled", 0),  # with no end date there is nothing left to bill
    ],
)
def test_every_status(status, billed):
    snapshots = snapshots_from(sub(7, "2026-11-01T00:00:00Z", status=status), [])
    assert qty(snapshots, "2026-11-10") == billed


def test_cancelled_bills_up_to_but_not_including_its_end_date():
    current = sub(4, "2026-11-10T15:00:00Z", status="Cancelled", endDate="2026-11-20T00:00:00Z")
    history = [current, sub(4, "2026-10-01T12:00:00Z")]
    snapshots = snapshots_from(current, history)
    assert [qty(snapshots, f"2026-11-{d:02d}") for d in (9, 10, 19, 20, 21)] == [4, 4, 4, 0, 0]
    timeline = month_timeline(snapshots, "2026-11")
    assert [(e.start.day, e.end.day, e.quantity, e.status) for e in timeline] == [
        (1, 9, 4, "Active"),
        (10, 19, 4, "Cancelled"),
        (20, 30, 0, "Cancelled"),
    ]
    assert timeline[1].note == "status Active → Cancelled on 10 Nov"
    assert timeline[2].note == "−4 seats (0); cancelled on 20 Nov"


def test_an_added_seat_counts_on_its_day_a_removed_one_does_not():
    history = [
        sub(10, "2026-11-20T09:00:00Z"),
        sub(11, "2026-11-05T09:00:00Z"),
        sub(10, "2026-10-01T09:00:00Z"),
    ]
    snapshots = snapshots_from(history[0], history)
    assert [qty(snapshots, f"2026-11-{d:02d}") for d in (4, 5, 19, 20)] == [10, 11, 11, 10]


def test_added_and_removed_on_the_same_day_leaves_the_later_state():
    history = [
        sub(10, "2026-11-05T17:00:00Z"),
        sub(12, "2026-11-05T09:00:00Z"),
        sub(10, "2026-10-01T09:00:00Z"),
    ]
    snapshots = snapshots_from(history[0], history)
    assert qty(snapshots, "2026-11-05") == 10
    assert [e.quantity for e in month_timeline(snapshots, "2026-11")] == [10]


def test_mixed_timestamp_formats_and_the_utc_date_rule():
    history = [
        sub(13, "2026-11-15T23:30:00.000-0700"),  # 06:30Z on the 16th
        sub(12, "2026-11-10"),  # a bare date
        sub(11, "2026-11-05T01:00:00+02:00"),  # 23:00Z on the 4th
        sub(10, "2026-10-01T09:00:00.000Z"),
    ]
    snapshots = snapshots_from(history[0], history)
    assert [s.effective.day for s in snapshots[1:]] == [4, 10, 16]
    assert qty(snapshots, "2026-11-15") == 12
    assert qty(snapshots, "2026-11-16") == 13
    assert snapshots[-1].changed_at == datetime(2026, 11, 16, 6, 30, tzinfo=UTC)


def test_a_current_object_newer_than_the_history_is_added_on_top():
    history = [sub(10, "2026-11-01T09:00:00Z")]
    snapshots = snapshots_from(sub(11, "2026-11-08T09:00:00Z"), history)
    assert qty(snapshots, "2026-11-07") == 10 and qty(snapshots, "2026-11-08") == 11


def test_floats_from_a_plain_json_load_are_read_exactly():
    current = json.loads(
        '{"quantity": 3, "status": "Active", "price": 13.75, "startDate": "2026-01-01"}'
    )
    assert snapshots_from(current, [])[0].price == Decimal("13.75")


def test_price_change_mid_month():
    history = [
        sub(5, "2026-11-10T09:00:00Z", price=Decimal("13.75")),
        sub(5, "2026-10-01T09:00:00Z"),
    ]
    timeline = month_timeline(snapshots_from(history[0], history), "2026-11")
    assert [(e.start.day, e.end.day, e.price) for e in timeline] == [
        (1, 9, Decimal("12.50")),
        (10, 30, Decimal("13.75")),
    ]
    assert timeline[1].note == "price 12.50 → 13.75 on 10 Nov"


def test_a_subscription_starting_mid_month():
    current = sub(3, "2026-11-12T09:00:00Z", billingStart="2026-11-12")
    timeline = month_timeline(snapshots_from(current, []), "2026-11")
    assert [(e.start.day, e.end.day, e.quantity, e.status, e.note) for e in timeline] == [
        (1, 11, 0, "", "not started"),
        (12, 30, 3, "Active", "started: 3 seats on 12 Nov"),
    ]


def test_no_change_takes_effect_before_the_billing_start():
    history = [
        sub(6, "2026-11-09T09:00:00Z", billingStart="2026-11-10"),
        sub(5, "2026-11-08T09:00:00Z", billingStart="2026-11-10"),
    ]
    snapshots = snapshots_from(history[0], history)
    assert [qty(snapshots, f"2026-11-{d:02d}") for d in (8, 9, 10)] == [0, 0, 6]


def test_a_trial_converting_to_paid():
    history = [
        sub(5, "2026-11-15T09:00:00Z", billingStart="2026-11-15"),
        sub(5, "2026-11-01T09:00:00Z", status="Trial", billingStart=None),
    ]
    snapshots = snapshots_from(history[0], history)
    assert qty(snapshots, "2026-11-14") == 0 and qty(snapshots, "2026-11-15") == 5


def test_bear_creek_in_november_2026():
    scenario = json.loads(DEMO.read_text(), parse_float=Decimal)
    bear = next(c for c in scenario["pax8"]["companies"] if c["name"] == "Bear Creek Winery")
    current = next(
        s
        for s in scenario["pax8"]["subscriptions"]
        if s["companyId"] == bear["id"] and s["productName"] == "Microsoft 365 Business Standard"
    )
    snapshots = snapshots_from(current, scenario["pax8"]["subscription_history"][current["id"]])
    assert qty(snapshots, "2026-11-01") == 17
    assert qty(snapshots, "2026-11-30") == 18
    assert month_timeline(snapshots, "2026-11") == [
        TimelineEntry(
            date(2026, 11, 1), date(2026, 11, 4), 17, "Active", Decimal("12.5"),
            "17 seats since 24 Aug 2026",
        ),
        TimelineEntry(
            date(2026, 11, 5), date(2026, 11, 11), 18, "Active", Decimal("12.5"),
            "+1 seat (18) on 5 Nov",
        ),
        TimelineEntry(
            date(2026, 11, 12), date(2026, 11, 14), 19, "Active", Decimal("12.5"),
            "+1 seat (19) on 12 Nov",
        ),
        TimelineEntry(
            date(2026, 11, 15), date(2026, 11, 30), 18, "Active", Decimal("12.5"),
            "−1 seat (18) on 15 Nov",
        ),
    ]  # fmt: skip


def test_chain_from_stored_columns_treats_naive_instants_as_utc():
    states = [
        SnapshotState(Decimal(2), "Active", None, None, None, datetime(2026, 11, 3, 23, 30)),
        SnapshotState(Decimal(1), "Active", None, None, None, None),
    ]
    snapshots = chain_snapshots(date(2026, 1, 1), states)
    assert [s.effective for s in snapshots] == [date(2026, 1, 1), date(2026, 11, 3)]
    assert snapshot_on(snapshots, date(2025, 12, 31)) is None
    assert snapshots[1].changed_at == datetime(2026, 11, 3, 23, 30, tzinfo=UTC)


def test_a_snapshot_without_a_change_time_replaces_the_one_before():
    states = [SnapshotState(Decimal(9), "Active", None, None, None, None)] * 2
    snapshots = chain_snapshots(None, states)
    assert snapshots[0].effective == date.min and qty(snapshots, "2026-11-01") == 9


def test_a_snapshot_is_billable_by_status_case_insensitively():
    snapshot = Snapshot(date(2026, 1, 1), Decimal(1), "pendingcancel", None, None, None, None)
    assert snapshot.billable_on(date(2026, 2, 1))


def test_months():
    assert Month("2026-02").first == date(2026, 2, 1)
    assert Month("2028-02").bounds == (date(2028, 2, 1), date(2028, 2, 29))
    assert len(Month("2026-11").days()) == 30
    assert Month.of(date(2026, 11, 21)) == "2026-11"
    assert Month(" 2026-01 ") == "2026-01" and Month("2026-01").shifted(-1) == "2025-12"
    assert Month("2026-11").shifted(14) == "2028-01" and Month("2026-11").name == "November 2026"
    month = Month("2026-11")
    assert Month(month) is month and json.dumps({"month": month}) == '{"month": "2026-11"}'
    for bad in ("2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", "November"):
        with pytest.raises(MonthError, match="not a month like 2026-11"):
            Month(bad)


def test_a_period_names_its_years_when_it_crosses_one():
    from trueup.core.billing.timeline import period_text

    assert period_text(date(2026, 11, 1), date(2026, 11, 30)) == "1 Nov – 30 Nov"
    assert period_text(date(2026, 10, 11), date(2027, 10, 10)) == "11 Oct 2026 – 10 Oct 2027"


def test_a_subscription_starting_after_its_end_date_says_so():
    # Billing start 20 Nov, end date 10 Nov: its 5 seats never bill, and the note said
    # "started: 0 seats", as if it held none.
    current = sub(5, "2026-11-20T09:00:00Z", billingStart="2026-11-20", endDate="2026-11-10")
    timeline = month_timeline(snapshots_from(current, []), "2026-11")
    assert [(e.start.day, e.end.day, e.quantity, e.note) for e in timeline] == [
        (1, 19, 0, "not started"),
        (20, 30, 0, "started past its end date (10 Nov 2026): 5 seats not billed on 20 Nov"),
    ]
