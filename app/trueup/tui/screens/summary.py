"""The month for a manager (`S` on the Batch screen): totals and margin per currency, posted,
held and still to do, the leakage found, the clients that moved most, the overrides, the 12
months to this one; the same tables as `trueup summary`, and below them the seat mismatches
corrected each month as a chart per currency."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar, cast

from rich.console import RenderableType
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from trueup.core.service.reports import summary_renderables
from trueup.core.service.types import History
from trueup.core.values.months import Month
from trueup.tui.formatting import error_text, is_refusal, money, month_name
from trueup.tui.widgets.trend import Trend, absent, first_to_last

if TYPE_CHECKING:
    from trueup.tui.app import TrueupApp


def leakage_rows(history: History) -> list[Horizontal]:
    """Per currency: the seat mismatches corrected each month (now billed and removed), and in
    words."""
    rows = []
    for currency in history.currencies():
        values = history.series(currency, lambda f: f.recovered)
        said = first_to_last(values, partial(money, currency=currency))
        missing = absent(currency, history.months, values, "figure")
        words = Static(f"{said}{missing}", markup=False, classes="words")
        rows.append(Horizontal(Trend(currency, values), words, classes="leakage"))
    return rows


class SummaryScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    SummaryScreen .leakage { height: auto; }
    SummaryScreen .leakage Trend { margin-right: 1; }
    SummaryScreen .leakage .words { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,S", "close", "Close", id="summary.close", tooltip="Back to the batch"),
    ]

    def __init__(self, month: str) -> None:
        super().__init__()
        self.month = month

    def compose(self) -> ComposeResult:
        with Vertical(id="summary", classes="dialog") as dialog:
            dialog.border_title = f"Summary · {month_name(self.month)}"
            dialog.border_subtitle = "↑↓ scroll · esc close"
            yield VerticalScroll(id="summary-body")

    def on_mount(self) -> None:
        self.query_one("#summary-body").loading = True
        self.read()

    @work(thread=True, exit_on_error=False)
    def read(self) -> None:
        workbench = cast("TrueupApp", self.app).workbench
        summary = workbench.reports.summary(Month(self.month))
        self.app.call_from_thread(self.show, summary_renderables(summary), summary.by_month)

    def show(self, parts: list[RenderableType], history: History) -> None:
        body = self.query_one("#summary-body", VerticalScroll)
        body.loading = False
        body.mount_all(Static(part) for part in parts)
        body.mount(
            Static(
                "Seat mismatches corrected, a bar a month (under-billing now billed plus "
                "over-billing removed):"
            )
        )
        body.mount_all(leakage_rows(history))
        body.focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.query_one("#summary-body").loading = False
            refused = is_refusal(event.worker.error)  # a month with nothing in it, say
            self.notify(
                error_text(event.worker.error),
                title="Not done" if refused else "That did not work",
                severity="warning" if refused else "error",
                timeout=10,
                markup=False,
            )
            if refused:  # nothing to show: back to the screen it was asked from
                self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
