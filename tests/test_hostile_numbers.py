"""Out-of-range numbers never reach the store (issue 23, item 1): a record holding one is
refused with its field named, the stored rows of its kind are kept, and the month still bills.
The corpus is tests/hostile/numbers.json; hypothesis fuzzes the readers beyond it."""

import asyncio
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.build import build_batch
from trueup.core.billing.rules import RulesError
from trueup.core.diff.seats import seat_diff
from trueup.core.rules.text import parse_rules
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from trueup.core.sync.records import (
    INT64,
    MONEY_LIMIT,
    QUANTITY_LIMIT,
    OutOfRange,
    RecordError,
    halo_item,
    halo_recurring_invoice_line,
    pax8_invoice_item,
    pax8_snapshot,
    pax8_subscription,
    pax8_usage_summary,
)
from unchecked_world import sync_unchecked
from world import SUB_ACME, world

CORPUS = json.loads((Path(__file__).parent / "hostile" / "numbers.json").read_text())
# As the sync reads a page: Decimal numbers, exactly as sent.
BAD = [simplejson.loads(v["json"], use_decimal=True) for v in CORPUS["values"][:-1]]
TINY = simplejson.loads(CORPUS["values"][-1]["json"], use_decimal=True)
TODAY = date(2026, 11, 21)
SUBSCRIPTIONS = m.table_of(m.Pax8Subscription)

READERS = [
    (pax8_subscription, {"id": "s1"}, ("quantity", "price", "partnerCost")),
    (halo_item, {"id": 7}, ("recurringprice", "recurringcost")),
    (halo_recurring_invoice_line, {"id": 3, "ihid": 9}, ("qty_order", "unit_price")),
]


@pytest.mark.parametrize("value", BAD, ids=[v["why"] for v in CORPUS["values"][:-1]])
@pytest.mark.parametrize(
    ("reader", "base", "fields"), READERS, ids=lambda r: getattr(r, "__name__", "")
)
def test_a_number_out_of_range_refuses_the_record_naming_the_field(reader, base, fields, value):
    for field in fields:
        with pytest.raises(OutOfRange, match=f"'{field}'"):
            reader({**base, field: value}, {})


@pytest.mark.parametrize(
    ("reader", "extra"),
    [(pax8_subscription, {}), (pax8_snapshot, {"subscription_id": "s1", "position": 0})],
)
def test_a_negative_seat_count_refuses_the_subscription_or_its_version(reader, extra):
    """From a boundary review: stored, -5 seats billed the client a credit of 5 seats."""
    with pytest.raises(OutOfRange, match="'quantity' -5 is below 0"):
        reader({"id": "s1", "quantity": -5}, extra)
    assert reader({"id": "s1", "quantity": 0}, extra)["quantity"] == 0


PAX8_NUMBERS = [
    (pax8_invoice_item, {"invoice_id": "v1"}, ("quantity", "price", "cost", "costTotal", "total")),
    (pax8_usage_summary, {"month": "2025-06"}, ("currentCharges", "partnerTotal")),
    (pax8_subscription, {}, ("quantity", "price", "partnerCost")),
]


@pytest.mark.parametrize("value", ["12,50", "abc", "", [12.5], {"amount": 12.5}, True], ids=repr)
@pytest.mark.parametrize(
    ("reader", "extra", "fields"), PAX8_NUMBERS, ids=lambda r: getattr(r, "__name__", "")
)
def test_a_pax8_number_that_is_no_number_refuses_the_record_naming_the_field(
    reader, extra, fields, value
):
    """From review: a usage summary's or an arrears item's "12,50" was stored as NULL and billed
    as 0.00, a seat item's left out of the month's cost, without a word. Pax8 sends numbers."""
    for field in fields:
        with pytest.raises(OutOfRange, match=f"'{field}' .* is not a number"):
            reader({"id": "r1", field: value}, extra)
        assert reader({"id": "r1", field: "12.50"}, extra) is not None
        assert reader({"id": "r1", field: None}, extra) is not None  # absent: not sent


def test_a_tiny_number_is_a_number():
    assert pax8_subscription({"id": "s1", "quantity": TINY}, {})["quantity"] == TINY


def test_an_id_past_sqlites_integer_is_refused():
    with pytest.raises(OutOfRange, match="'id'"):
        halo_item({"id": 2**63}, {})
    assert halo_item({"id": INT64}, {})["id"] == INT64


@pytest.mark.parametrize(
    "identifier", ["s" * 101, "\x1b[2Js1", "s\u202e1", "s 1", "s\t1", ["s1"], {"id": "s1"}, 1.5]
)
def test_a_text_id_no_store_key_should_be_is_refused(identifier):
    """Left by the boundary review: a Pax8 id was stored as str() of whatever came (a list, a
    dict, 5,000 characters, escape sequences printed raw wherever ids are shown)."""
    with pytest.raises(OutOfRange, match=r"'id' .* is not an id"):
        pax8_subscription({"id": identifier}, {})
    assert pax8_subscription({"id": "s" * 100}, {})["id"] == "s" * 100
    assert pax8_subscription({"id": 42}, {})["id"] == "42"


def resynced(db, field, value):
    """The stored subscriptions before and after a sync in which Acme's holds `value` in
    `field`, and why the sync skipped the records it skipped."""
    asyncio.run(sync_unchecked(db, world()))
    with db.read() as conn:
        before = conn.execute(select(SUBSCRIPTIONS)).all()
    hostile = world()
    sub = next(s for s in hostile["pax8"]["subscriptions"] if s["id"] == SUB_ACME)
    sub[field] = value
    assert asyncio.run(sync_unchecked(db, hostile))["pax8"].status == "ok"
    with db.read() as conn:
        after = conn.execute(select(SUBSCRIPTIONS)).all()
    skipped = [e for e in read_log(db, limit=200) if e["event"].endswith("record skipped")]
    return before, after, [e["details"]["reason"] for e in skipped]


def test_a_sync_with_a_malformed_id_keeps_the_last_good_data(tmp_path):
    db = open_database(tmp_path / "trueup.sqlite")
    try:
        before, after, skipped = resynced(db, "id", "\x1b[2J" + "9" * 5000)
        # The renamed one neither stored nor its last good row deleted.
        assert sorted(r.id for r in after) == sorted(r.id for r in before)
        assert any("is not an id" in reason for reason in skipped)
    finally:
        db.dispose()


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.text(max_size=50),
        st.lists(st.integers(), max_size=3),
    )
)
def test_whatever_a_number_field_holds_the_reader_stores_a_sane_number_or_refuses(value):
    try:
        row = pax8_subscription({"id": "s1", "quantity": value, "price": value}, {})
    except RecordError:
        return
    for number, limit in ((row["quantity"], QUANTITY_LIMIT), (row["price"], MONEY_LIMIT)):
        assert number is None or (number.is_finite() and abs(number) <= limit)


def test_a_sync_refuses_the_record_keeps_the_last_good_data_and_the_month_bills(tmp_path):
    db = open_database(tmp_path / "trueup.sqlite")
    try:
        before, after, skipped = resynced(db, "quantity", 10**30)
        assert {r.id: r.quantity for r in after} == {r.id: r.quantity for r in before}
        assert all(abs(r.quantity or 0) <= QUANTITY_LIMIT for r in after)
        assert any("'quantity'" in reason for reason in skipped)
        seat_diff(db, "2026-11", today=TODAY)  # no InvalidOperation, for any client
        totals = build_batch(db, "2026-11", today=TODAY).body["invoices"]
        assert all(Decimal(i["total"]).is_finite() for i in totals)
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("markup_percent = 1e400", "markup_percent: 1E+400 is out of range"),
        ('markup_percent = "1234567890123456789012345678901234567890"', "1.235E+39 is out of"),
        ('fixed_price = "1e12"', "is not a decimal"),
        ('fixed_price = "1000000000000"', "at most 1,000,000,000 in size"),
        ('min_margin_percent = "-500"', "at most 100 in size"),
        ('qty_swing_percent = "99999"', "at most 10,000 in size"),
    ],
)
def test_a_rules_value_out_of_range_is_refused_naming_line_and_key(line, message):
    with pytest.raises(RulesError) as refused:
        parse_rules(f"[defaults]\n{line}\n")
    assert refused.value.problems[0].startswith("line 2: [defaults] ")
    assert message in refused.value.problems[0]


@pytest.mark.parametrize(
    ("quantity", "price", "said"),
    [
        (5_000_000, "3.00", "5000000 seats or units (over 100,000)"),
        (10, "250000.00", "a unit price of 250000.00 USD (over 100,000)"),
        (9_000, "150.00", "1350000.00 USD (over 1,000,000)"),
    ],
)
def test_a_valid_but_absurd_figure_holds_the_invoice(quantity, price, said):
    """Inside the boundary's bounds but past any client's month: an error on the line, naming
    the figure, so the invoice cannot be approved unless someone overrides it with a reason."""
    from billing_builders import bill, client, codes, only_line, snap, sub

    invoice = bill(client(sub(snap("2024-01-01", quantity, price, "1.00"))), "2026-11")
    line = only_line(invoice)
    [absurd] = [a for a in line.anomalies if a.code == "IMPLAUSIBLE_FIGURE"]
    assert absurd.severity == "error" and said in absurd.message
    normal = bill(client(sub(snap("2024-01-01", 9_000, "15.00", "1.00"))), "2026-11")
    assert "IMPLAUSIBLE_FIGURE" not in codes(only_line(normal))


def test_a_full_disk_is_one_line_that_says_so_and_the_store_keeps_what_it_had(db):
    """Issue 23: SQLite's "database or disk is full" became one line that says what to do; the
    batch that could not be stored is not half there. (The store is capped with max_page_count,
    which fails as a full disk does.)"""
    from full_disk import cap_store
    from trueup.core.store.database import StoreError

    with db.read() as conn:
        before = conn.exec_driver_sql("SELECT count(*) FROM invoice_batch").scalar()
    cap_store(db)
    with pytest.raises(StoreError) as failed:
        build_batch(db, "2026-11", today=date(2026, 11, 21))
    assert "the disk is full" in str(failed.value) and "free some space" in str(failed.value)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM invoice_batch").scalar() == before
