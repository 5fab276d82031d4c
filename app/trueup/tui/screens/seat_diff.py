"""Seat diff: Pax8 seats against Halo seats per client and product, grouped by client with the
costliest client first; mismatches only until `m`; `enter` opens the row's detail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Header
from textual.worker import Worker, get_current_worker

from trueup.core.service.types import STATUSES, DiffRow
from trueup.tui.formatting import (
    DIFF_STATUS,
    delta_text,
    impact_text,
    money,
    month_name,
    plain,
    quantity,
    status_text,
)
from trueup.tui.screens.base import SearchableTableScreen
from trueup.tui.screens.diff_detail import DiffDetailScreen
from trueup.tui.widgets.row_table import Column, Heading, RowTable
from trueup.tui.widgets.search_bar import SearchBar

COLUMNS = [
    Column("Product", 16, flex=True, keep_end=True),  # tiers differ at the end of the name
    Column("Pax8", 6, "right"),
    Column("Halo", 6, "right"),
    Column("Δ", 6, "right"),
    Column("Unit", 10, "right"),
    Column("Monthly", 11, "right"),
    Column("Status", 8),
]
FILTERS = (None, *[s for s in STATUSES if s != "match"])  # `f` cycles through these


def _cells(row: DiffRow) -> Sequence[Text]:
    return (
        plain(row.product_name),
        plain(quantity(row.pax8_qty)),
        plain(quantity(row.halo_qty)),
        delta_text(row.delta),
        plain(money(row.unit_price, row.currency), "dim"),
        impact_text(row.monthly_impact, row.currency),
        status_text(row.status, DIFF_STATUS),
    )


def _row_key(row: DiffRow) -> tuple[int, str | None, str | None]:
    return (row.client_id, row.subscription_id, row.product_id)


@dataclass(frozen=True)
class ClientHeading(Heading):
    name: str
    mismatches: int
    total: Decimal  # the monthly impact of all its rows
    currency: str

    def lead(self) -> Text:
        return Text(self.name, no_wrap=True)

    def tail(self) -> Text:
        text = Text(no_wrap=True)
        plural = "es" if self.mismatches != 1 else ""
        text.append(f"  {self.mismatches} mismatch{plural}  ", style="dim")
        text.append_text(impact_text(self.total, self.currency))
        text.append(" a month" if self.total else "", style="dim")
        return text


@dataclass(frozen=True)
class Arranged:
    """A month's rows in display order and each client's heading, made once per load so that
    a filter only has to pick rows (40k rows: milliseconds, not hundreds of them)."""

    rows: list[DiffRow]  # clients by what their rows cost a month, largest first
    headings: dict[int, Heading]  # client -> its heading


def arrange(rows: Sequence[DiffRow]) -> Arranged:
    """`rows` come from seat_diff: by client, each client's rows by impact already."""
    blocks = []
    headings: dict[int, Heading] = {}
    for client_id, members in groupby(rows, key=lambda r: r.client_id):
        block = list(members)
        at_stake, total, mismatches = Decimal(0), Decimal(0), 0
        for row in block:
            at_stake += abs(row.monthly_impact)
            total += row.monthly_impact
            mismatches += row.status != "match"
        blocks.append((at_stake, block))
        headings[client_id] = ClientHeading(
            block[0].client_name, mismatches, total, block[0].currency
        )
    blocks.sort(key=lambda weighed: -weighed[0])
    return Arranged([row for _, block in blocks for row in block], headings)


def with_headings(rows: Sequence[DiffRow], headings: dict[int, Heading]) -> list[DiffRow | Heading]:
    view: list[DiffRow | Heading] = []
    client = None
    for row in rows:
        if row.client_id != client:
            client = row.client_id
            view.append(headings[client])
        view.append(row)
    return view


class SeatDiffScreen(SearchableTableScreen):
    TITLE_TEXT = "Seat diff"
    AUTO_FOCUS = "#diff-table"
    HELP = "seat_diff.md"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Detail", id="diff.open", tooltip="Open the row's timeline"),
        Binding(
            "m", "toggle_all", "All rows", id="diff.all", tooltip="Show all rows or only mismatches"
        ),
        Binding(
            "slash",
            "search",
            "Search",
            key_display="/",
            id="diff.search",
            tooltip="Search clients and products",
        ),
        Binding(
            "f", "cycle_status", "Status", id="diff.status", tooltip="Show one status at a time"
        ),
        Binding(
            "left_square_bracket",
            "month(-1)",
            "Prev month",
            key_display="[",
            show=False,
            id="diff.month_back",
            tooltip="Show the month before",
        ),
        Binding(
            "right_square_bracket",
            "month(1)",
            "Next month",
            key_display="]",
            show=False,
            id="diff.month_on",
            tooltip="Show the month after",
        ),
    ]

    show_all: reactive[bool] = reactive(False, init=False)
    status: reactive[str | None] = reactive(None, init=False)

    class Loaded(Message):
        def __init__(self, month: str, arranged: Arranged) -> None:
            super().__init__()
            self.month = month
            self.arranged = arranged

    def __init__(self) -> None:
        super().__init__()
        self.arranged = Arranged([], {})
        self.month = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchBar(placeholder="Search client or product…", id="search")
        yield RowTable(COLUMNS, _cells, empty="No seat differences.", id="diff-table")
        yield Footer()

    @property
    def table(self) -> RowTable[DiffRow]:
        return self.query_one("#diff-table", RowTable)

    def reload(self) -> None:
        self.table.loading = True
        self.load(self.trueup.month)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, month: str) -> None:
        arranged = arrange(self.workbench.seats.rows(month))
        if not get_current_worker().is_cancelled:  # a newer month is on its way
            self.post_message(self.Loaded(month, arranged))

    def on_seat_diff_screen_loaded(self, message: Loaded) -> None:
        self.arranged, self.month = message.arranged, message.month
        self.table.loading = False
        self.show_rows()

    def worker_failed(self, worker: Worker[object]) -> None:
        self.table.loading = False

    def visible_rows(self) -> list[DiffRow]:
        query = self.query_one(SearchBar).value.strip().casefold()
        return [
            row
            for row in self.arranged.rows
            if (self.show_all or row.status != "match")
            and (self.status is None or row.status == self.status)
            and (
                not query
                or query in row.client_name.casefold()
                or query in row.product_name.casefold()
                or query in (row.sku or "").casefold()
            )
        ]

    def show_rows(self) -> None:
        table = self.table
        table.set_rows(with_headings(self.visible_rows(), self.arranged.headings), key=_row_key)
        shown = "all rows" if self.show_all else "mismatches"
        status = f" · {DIFF_STATUS[self.status][0]} only" if self.status else ""
        table.border_title = f"{month_name(self.month)} · {shown}{status}" if self.month else ""

    def watch_show_all(self) -> None:
        self.show_rows()

    def watch_status(self) -> None:
        self.show_rows()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all

    def action_cycle_status(self) -> None:
        self.status = FILTERS[(FILTERS.index(self.status) + 1) % len(FILTERS)]

    def action_month(self, step: int) -> None:
        self.trueup.shift_month(step)

    def action_open(self) -> None:
        row = self.table.current
        if row is not None:
            self.app.push_screen(DiffDetailScreen(row, self.month))
