"""Figures at 80x24: however long a client's name and however wide a total (a currency with no
symbol, a client billing millions), every figure on screen is whole and in its column."""

from decimal import Decimal

from sqlalchemy import select, update

from tools.demo_workbench import wait_until_idle
from trueup.core.store import tables as m
from trueup.tui.formatting import money
from trueup.tui.screens.batch import BatchScreen
from trueup.tui.screens.seat_diff import SeatDiffScreen
from trueup.tui.widgets.row_table import Heading

LONG = "Faraday & Haverford Architects and Engineers, a Professional Corporation (Denver)"


def line(table, y):
    return "".join(segment.text for segment in table.render_line(y))


def bill_one_client_in_kronor(store):
    """A company's subscriptions at 123,456.78 SEK a seat: its invoice totals millions."""
    subscriptions = m.table_of(m.Pax8Subscription)
    with store.write() as conn:
        company = conn.execute(select(subscriptions.c.company_id).limit(1)).scalar_one()
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.company_id == company)
            .values(price=Decimal("123456.78"), currency="SEK")
        )
        conn.execute(update(m.table_of(m.Pax8SubscriptionSnapshot)).values(price=None))
        conn.execute(update(m.table_of(m.HaloClient)).values(name=LONG))


async def test_totals_in_millions_and_long_names_leave_every_figure_whole(app, store):
    bill_one_client_in_kronor(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await pilot.press("6")
        await wait_until_idle(pilot)
        screen = app.screen
        assert isinstance(screen, BatchScreen)
        table = screen.table
        shown = [(y, row) for y, row in enumerate(table.rows[: table.size.height - 2], 1)]
        totals = [money(row.total, row.currency) for _, row in shown]
        assert any(len(total) > 12 for total in totals)  # wider than the Total column
        for (y, row), total in zip(shown, totals, strict=True):
            assert total in line(table, y), (row.client_name, line(table, y))
        await pilot.press("4")
        await wait_until_idle(pilot)
        assert isinstance(app.screen, SeatDiffScreen)
        table = app.screen.table
        heading = table.rows[0]
        assert isinstance(heading, Heading)
        # The client's name is cut; its mismatches and money a month are not.
        assert line(table, 1).rstrip().endswith(heading.tail().plain)
