"""One seat-diff row opened: the month's Pax8 quantity timeline (what changed, when) beside the
Halo line(s) that bill it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from trueup.core.service.types import (
    DiffDetail,
    DiffRow,
    HaloLine,
    Snapshot,
    TimelineEntry,
    day_text,
)
from trueup.tui.formatting import (
    DIFF_STATUS_LONG,
    delta_text,
    impact_text,
    money,
    month_name,
    plain,
    quantity,
)
from trueup.tui.widgets.row_table import Column, RowTable

if TYPE_CHECKING:
    from trueup.tui.app import TrueupApp

TIMELINE = [
    Column("Days", 15),
    Column("Seats", 5, "right"),
    Column("Status", 10),
    Column("Price", 9, "right"),
    Column("What changed", 12, flex=True),
]
HISTORY = [
    Column("Changed", 17),
    Column("From", 11),
    Column("Seats", 5, "right"),
    Column("Status", 10, flex=True),
    Column("Price", 9, "right"),
]
LINES = [
    Column("Line", 7, "right"),
    Column("Invoice", 8, "right"),
    Column("Description", 12, flex=True),
    Column("Qty", 5, "right"),
    Column("Unit", 9, "right"),
]


def _price(value: Decimal | None, currency: str) -> str:
    return "-" if value is None else money(value, currency)


class DiffDetailScreen(Screen[None]):
    TITLE_TEXT = "Seat diff detail"
    HELP = "diff_detail.md"
    # Side by side only where both fit whole: the timeline needs ~70 columns ("+3 seats (7) on
    # 17 Nov"), the Halo lines ~55; narrower, they stack at full width.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (130, "-wide")]  # noqa: RUF012  (Textual reads it)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,backspace", "back", "Back", id="detail.back", tooltip="Back to the seat diff"
        ),
    ]

    class Loaded(Message):
        def __init__(self, detail: DiffDetail) -> None:
            super().__init__()
            self.detail = detail

    def __init__(self, row: DiffRow, month: str) -> None:
        super().__init__()
        self.row = row
        self.month = month

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._summary(), id="detail-summary")
        with Container(id="detail-panes"):
            with Vertical(id="detail-pax8"):
                yield RowTable(
                    TIMELINE,
                    self._timeline_cells,
                    empty=f"No {self.row.distributor} subscription behind this row.",
                    id="detail-timeline",
                )
                yield RowTable(
                    HISTORY, self._history_cells, empty="No history.", id="detail-history"
                )
            yield RowTable(
                LINES, self._line_cells, empty="No Halo line bills this.", id="detail-lines"
            )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.TITLE_TEXT
        for table_id, title in (
            ("#detail-timeline", f"{self.row.distributor} timeline · {month_name(self.month)}"),
            ("#detail-history", f"{self.row.distributor} history"),
            ("#detail-lines", "Halo lines"),
        ):
            table = self.query_one(table_id, RowTable)
            table.border_title = title
            table.loading = True
        self.query_one("#detail-lines", RowTable).set_rows(list(self.row.halo_lines))
        self.query_one("#detail-lines", RowTable).loading = False
        self.query_one("#detail-timeline", RowTable).focus()
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        workbench = cast("TrueupApp", self.app).workbench
        self.post_message(self.Loaded(workbench.seats.detail(self.row, self.month)))

    def on_diff_detail_screen_loaded(self, message: Loaded) -> None:
        timeline = self.query_one("#detail-timeline", RowTable)
        history = self.query_one("#detail-history", RowTable)
        timeline.set_rows(message.detail.timeline)
        history.set_rows(list(reversed(message.detail.history)))  # newest first, as Pax8 lists
        timeline.loading = history.loading = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(str(event.worker.error), severity="error", timeout=10)
            for table in self.query(RowTable):
                table.loading = False

    def action_back(self) -> None:
        self.dismiss()

    def _summary(self) -> Text:
        row = self.row
        text = Text(no_wrap=False)
        text.append(row.client_name, style="bold")
        text.append("  ·  ")
        text.append(row.product_name, style="bold")
        if row.sku:
            text.append(f"  ({row.sku})", style="dim")
        text.append(f"\n{row.distributor} ")
        text.append(quantity(row.pax8_qty), style="bold")
        text.append("  Halo ")
        text.append(quantity(row.halo_qty), style="bold")
        text.append("  Δ ")
        text.append_text(delta_text(row.delta))
        text.append(f"  × {money(row.unit_price, row.currency)} = ")
        text.append_text(impact_text(row.monthly_impact, row.currency))
        text.append(f" a month · {DIFF_STATUS_LONG.get(row.status, row.status)}", style="dim")
        return text

    def _timeline_cells(self, entry: TimelineEntry) -> Sequence[Text]:
        days = day_text(entry.start)
        if entry.end != entry.start:
            days = f"{days} – {day_text(entry.end)}"
        return (
            plain(days),
            plain(quantity(entry.quantity)),
            plain(entry.status or "not started", "" if entry.status else "dim"),
            plain(_price(entry.price, self.row.currency)),
            plain(entry.note),
        )

    def _history_cells(self, snapshot: Snapshot) -> Sequence[Text]:
        changed = snapshot.changed_at.strftime("%Y-%m-%d %H:%M") if snapshot.changed_at else "-"
        return (
            plain(changed),
            plain(day_text(snapshot.effective, year=True)),
            plain(quantity(snapshot.quantity)),
            plain(snapshot.status),
            plain(_price(snapshot.price, self.row.currency)),
        )

    def _line_cells(self, line: HaloLine) -> Sequence[Text]:
        return (
            plain(line.line_id),
            plain(line.invoice_id),
            plain(line.description or ""),
            plain(quantity(line.quantity)),
            plain(_price(line.unit_price, self.row.currency)),
        )
