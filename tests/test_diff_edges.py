"""The seat diff on Halo data a real tenant has: lines that ended, invoices in another currency."""

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import update

from test_diff import Fill, by_subscription, diff
from trueup.core.diff.reading import load_diff_store
from trueup.core.diff.seats import summarise
from trueup.core.store import tables as m
from trueup.core.store.database import open_database

LINES = m.table_of(m.HaloRecurringInvoiceLine)
INVOICES = m.table_of(m.HaloRecurringInvoice)


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def test_a_line_that_ended_before_the_month_bills_no_seats(store):
    """Halo stops billing a line at its end date: 5 seats on a line that ended in June are not
    November's, so the subscription is missing in Halo (the leak counted), not a match; a
    line ending within the month still counts, and an item whose lines all ended is no row."""
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme Dental")
        f.company("acme", 1)
        f.product("m365", 10)
        f.product("exo", 11)
        f.product("teams", 12)
        f.subscription("s-ended", "acme", "m365", 5)
        f.subscription("s-ending", "acme", "exo", 3)
        f.recurring(-1, 1, (10, 5), (11, 3), (12, 2))
        for line_id, ends in (
            (1, date(2026, 6, 30)),
            (2, date(2026, 11, 1)),
            (3, date(2026, 10, 31)),
        ):
            conn.execute(update(LINES).where(LINES.c.id == line_id).values(ends=ends))
    rows = diff(store)
    found = by_subscription(rows)
    ended = found["s-ended"]
    assert (ended.status, ended.halo_qty, ended.halo_lines) == ("missing_in_halo", 0, ())
    assert ended.monthly_impact == Decimal("-62.50")
    assert (found["s-ending"].status, found["s-ending"].halo_qty) == ("match", 3)
    assert len(rows) == 2  # teams' line ended in October: Halo bills it no more, nor Pax8


def test_a_row_of_halo_lines_alone_is_in_their_invoices_currency(store):
    """A Halo line with no billable subscription is priced by Halo: its impact is in the
    recurring invoice's currency (£ here), never added to the Pax8 subscriptions' dollars."""
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme Dental")
        f.company("acme", 1)
        f.product("m365", 10)
        f.product("exo", 11)
        f.subscription("s-m365", "acme", "m365", 4)
        f.subscription("s-exo", "acme", "exo", 0, status="Cancelled")
        f.recurring(-1, 1, (10, 5))
        f.recurring(-2, 1, (11, 3, "9.00"))
        conn.execute(update(INVOICES).where(INVOICES.c.id == -2).values(currency="£"))
    rows = by_subscription(diff(store))
    assert (rows["s-exo"].status, rows["s-exo"].monthly_impact) == ("missing_in_pax8", 27)
    assert rows["s-exo"].currency == "GBP"
    assert rows["s-m365"].currency == "USD"
    summary = summarise(list(rows.values()))
    assert summary.by_currency == {
        "USD": (Decimal(0), Decimal("12.50")),
        "GBP": (Decimal(0), Decimal("27.00")),
    }


def test_a_recurring_invoice_whose_schedule_ended_bills_no_seats(store):
    """Halo creates no invoice past the schedule's end date: an invoice whose schedule ended in
    June bills November nothing (its seats are missing in Halo, its line without an item is
    no manual line of the month's), while one running to Halo's 2099 and one with the "unset"
    sentinel bill as before."""
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme Dental")
        f.company("acme", 1)
        f.product("m365", 10)
        f.product("exo", 11)
        f.product("teams", 12)
        f.subscription("s-ended", "acme", "m365", 5)
        f.subscription("s-running", "acme", "exo", 3)
        f.subscription("s-unset", "acme", "teams", 2)
        f.recurring(-1, 1, (10, 5), (None, 1, "99.00"))
        f.recurring(-2, 1, (11, 3))
        f.recurring(-3, 1, (12, 2))
        for invoice_id, end in (
            (-1, "2026-06-30T00:00:00"),
            (-2, "2099-12-31T00:00:00"),
            (-3, "1899-12-30T00:00:00"),
        ):
            raw = json.dumps({"id": invoice_id, "schedule": {"end_date": end}})
            conn.execute(update(INVOICES).where(INVOICES.c.id == invoice_id).values(raw=raw))
    found = by_subscription(diff(store))
    assert (found["s-ended"].status, found["s-ended"].halo_qty) == ("missing_in_halo", 0)
    assert (found["s-running"].status, found["s-running"].halo_qty) == ("match", 3)
    assert (found["s-unset"].status, found["s-unset"].halo_qty) == ("match", 2)
    with store.read() as conn:
        lines = load_diff_store(conn).client_lines[1]
    assert {line.line.line_id: line.ends for line in lines} == {
        1: date(2026, 6, 30),
        2: date(2026, 6, 30),  # billing leaves a manual line ended before the month out
        3: date(2099, 12, 31),
        4: None,
    }
