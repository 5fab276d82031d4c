"""Issue 18: a client's 12 months on its invoice, and the leakage each month recovered in the
summary, as Sparklines with their words, on the demo with August's and October's batches stored
beside November's."""

from decimal import Decimal

import pytest
from textual.widgets import Sparkline

from tools.demo_workbench import wait_until_idle
from trueup.core.values.months import Month
from trueup.tui.formatting import money
from trueup.tui.screens.batch_invoice import BatchInvoiceScreen
from trueup.tui.screens.summary import SummaryScreen

EARLIER = ("2026-08", "2026-10")


@pytest.fixture
def earlier(workbench):
    for month in EARLIER:
        workbench.batches.current_id(month)


def invoice_totals(workbench, client_id):
    """The client's total and margin % in each stored month's batch."""
    found = {}
    for month in (*EARLIER, "2026-11"):
        batch = workbench.batches.overview(workbench.batches.current_id(month))
        row = next(r for r in batch.invoices if r.client_id == client_id)
        found[month] = workbench.batches.invoice(batch.batch_id, row)
    return found


async def settle(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)
    await pilot.app.workers.wait_for_complete()
    await wait_until_idle(pilot)


async def test_the_invoice_charts_the_client_s_months_and_says_them(app, workbench, earlier):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, "6", "enter")
        screen = app.screen
        assert isinstance(screen, BatchInvoiceScreen) and screen.row.currency == "USD"
        months = invoice_totals(workbench, screen.row.client_id)
        total = screen.query_one("#trend-total Sparkline", Sparkline)
        margin = screen.query_one("#trend-margin Sparkline", Sparkline)
        assert total.data == [float(i.total) for i in months.values()]
        percents = [(i.margin * 100 / i.subtotal).quantize(Decimal("0.1")) for i in months.values()]
        assert margin.data == [float(p) for p in percents]
        assert total.size.width == 3  # a bar a month that has an invoice
        first, last = months["2026-08"], months["2026-11"]
        caption = str(screen.query_one("#invoice-history-caption").content)
        assert caption == (
            f"12 months: {money(first.total, 'USD')} → {money(last.total, 'USD')}; "
            f"margin {percents[0]}% → {percents[-1]}%; "
            "no USD invoice in Dec 2025–Jul 2026, Sep 2026"
        )


async def test_the_summary_charts_the_leakage_recovered_each_month(app, workbench, earlier):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, "6", "S")
        screen = app.screen
        assert isinstance(screen, SummaryScreen)
        history = workbench.reports.summary(Month("2026-11")).by_month
        rows = list(screen.query(".leakage"))
        assert [str(r.query_one(".trend-label").content) for r in rows] == history.currencies()
        usd = rows[history.currencies().index("USD")]
        recovered = [f["USD"].recovered for m, f in history.figures.items()]
        assert usd.query_one(Sparkline).data == [float(r) for r in recovered]
        words = str(usd.query_one(".words").content)
        assert words == (
            f"{money(recovered[0], 'USD')} → {money(recovered[-1], 'USD')}; "
            "no USD figure in Dec 2025–Jul 2026, Sep 2026"
        )
