"""Logs & Monitoring: the last 30 days at a glance (entries, errors, warnings, how old the newest
entry is) over the log itself, newest first, one page at a time and by level; `enter` shows an
entry whole. Only the page in view is ever read from the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from trueup.core.service.types import (
    PAGE_SIZES,
    LogRow,
    LogTiles,
    local_zone,
    page_count,
    zone_label,
)
from trueup.tui.formatting import plain
from trueup.tui.screens.base import WorkbenchScreen
from trueup.tui.widgets.row_table import Column, RowTable

LEVEL_TITLES: dict[str | None, str] = {
    None: "all levels",
    "info": "info only",
    "warning": "warnings only",
    "error": "errors only",
}
LEVEL_FILTERS = tuple(LEVEL_TITLES)  # in the order `l` cycles through them
LEVEL_STYLES = {"info": "cyan", "warning": "bold dark_orange", "error": "bold red"}
COLUMNS = [
    Column("Level", 7),
    Column("Time", 16),
    Column("Summary", 20, flex=True),
]
PAGES = Binding.Group("Page", compact=True)


def level_badge(level: str) -> Text:
    """The level in words (readable without colour), coloured by severity."""
    return plain(level.upper(), LEVEL_STYLES.get(level, ""))


def local_time(when: datetime, zone: tzinfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class LogsData:
    tiles: LogTiles
    rows: list[LogRow]
    total: int  # entries at the chosen level
    level: str | None
    page: int
    page_size: int
    zone: tzinfo

    @property
    def place(self) -> tuple[str | None, int, int]:
        return self.level, self.page, self.page_size


class LogsScreen(WorkbenchScreen):
    TITLE_TEXT = "Logs & Monitoring"
    AUTO_FOCUS = "#logs-table"
    HELP = "logs.md"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Details", id="logs.open", tooltip="Show the whole entry"),
        Binding(
            "l",
            "cycle_level",
            "Level",
            id="logs.level",
            tooltip="Show every level, or only info, warnings or errors",
        ),
        Binding(
            "left_square_bracket,left",
            "page(-1)",
            "Prev",
            key_display="[",
            id="logs.page_back",
            tooltip="Show the previous page",
            group=PAGES,
        ),
        Binding(
            "right_square_bracket,right",
            "page(1)",
            "Next",
            key_display="]",
            id="logs.page_on",
            tooltip="Show the next page",
            group=PAGES,
        ),
        Binding(
            "p",
            "cycle_page_size",
            "Per page",
            show=False,
            id="logs.page_size",
            tooltip="Show 10, 20, 50 or 100 entries a page",
        ),
        Binding(
            "r", "refresh", "Refresh", show=False, id="logs.refresh", tooltip="Read the log again"
        ),
    ]

    level: reactive[str | None] = reactive(None, init=False)
    page_size: reactive[int] = reactive(20, init=False)

    class Loaded(Message):
        def __init__(self, data: LogsData) -> None:
            super().__init__()
            self.data = data

    def __init__(self) -> None:
        super().__init__()
        self.page = 1  # the page asked for; the one shown once it is read
        self.shown: LogsData | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="log-tiles"):
            for tile_id, title in (
                ("tile-total", "Total logs"),
                ("tile-errors", "Errors"),
                ("tile-warnings", "Warnings"),
                ("tile-updated", "Last update"),
            ):
                tile = Static(id=tile_id, classes="tile")
                tile.border_title = title
                yield tile
        yield Static(id="log-filter")
        yield RowTable(COLUMNS, self._cells, empty="No log entries.", id="logs-table")
        yield Static(id="log-pages")
        yield Footer()

    @property
    def table(self) -> RowTable[LogRow]:
        return self.query_one("#logs-table", RowTable)

    def reload(self) -> None:
        self.load(self.level, self.page, self.page_size)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, level: str | None, page: int, page_size: int) -> None:
        workbench = self.workbench
        tiles = workbench.logs.tiles()
        rows, total = workbench.logs.page(level, page, page_size)
        last = page_count(total, page_size)
        if page > last:  # the log shrank, or the level has fewer entries
            page = last
            rows, total = workbench.logs.page(level, page, page_size)
        data = LogsData(tiles, rows, total, level, page, page_size, local_zone())
        if not get_current_worker().is_cancelled:  # another page is on its way
            self.post_message(self.Loaded(data))

    def on_logs_screen_loaded(self, message: Loaded) -> None:
        data, before = message.data, self.shown
        self.shown, self.page = data, data.page
        self._show_tiles(data.tiles, data.zone)
        self.query_one("#log-filter", Static).update(_filter_bar(data.level))
        self.table.set_rows(data.rows, key=lambda row: row.id)
        if before is None or before.place != data.place:
            self.table.action_first()  # another page starts at its top
        self.table.border_title = f"Log · {LEVEL_TITLES[data.level]}"
        self.query_one("#log-pages", Static).update(_pages_bar(data))
        self.refresh_bindings()

    def _show_tiles(self, tiles: LogTiles, zone: tzinfo) -> None:
        for tile_id, count, style in (
            ("#tile-total", tiles.total, "bold"),
            ("#tile-errors", tiles.errors, "bold red"),
            ("#tile-warnings", tiles.warnings, "bold dark_orange"),
        ):
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{count:,}", style=style if count else "bold")
            text.append("\nlast 30 days", style="dim")
            self.query_one(tile_id, Static).update(text)
        updated = Text(no_wrap=True, overflow="ellipsis")
        updated.append(tiles.age, style="bold")
        updated.append(f"\n{zone_label(zone, tiles.now)}", style="dim")
        self.query_one("#tile-updated", Static).update(updated)

    def _cells(self, row: LogRow) -> Sequence[Text]:
        assert self.shown is not None  # rows only ever come with the data that shows them
        return (
            level_badge(row.level),
            plain(local_time(row.at, self.shown.zone)),
            plain(row.summary),
        )

    # --- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page" and self.shown is not None:
            target = self.page + int(str(parameters[0]))
            # Dimmed in the footer at either end rather than gone: the keys stay where they are.
            return 1 <= target <= page_count(self.shown.total, self.shown.page_size) or None
        if action == "open":
            return self.table.current is not None or None
        return super().check_action(action, parameters)

    def action_cycle_level(self) -> None:
        self.level = LEVEL_FILTERS[(LEVEL_FILTERS.index(self.level) + 1) % len(LEVEL_FILTERS)]

    def watch_level(self) -> None:
        self.page = 1
        self.reload()

    def action_page(self, step: int) -> None:
        self.page += step
        self.refresh_bindings()
        self.reload()

    def action_cycle_page_size(self) -> None:
        self.page_size = PAGE_SIZES[(PAGE_SIZES.index(self.page_size) + 1) % len(PAGE_SIZES)]

    def watch_page_size(self, old: int, new: int) -> None:
        # Keep the first entry in view on the page that now holds it.
        self.page = (self.page - 1) * old // new + 1
        self.reload()

    def action_refresh(self) -> None:
        self.reload()

    def action_open(self) -> None:
        row = self.table.current
        if row is not None and self.shown is not None:
            self.app.push_screen(LogEntryScreen(row, self.shown.zone))


class LogEntryScreen(ModalScreen[None]):
    """One entry whole: its level, time, summary and every detail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss", "Close", id="entry.close", tooltip="Close the entry"),
    ]

    def __init__(self, row: LogRow, zone: tzinfo) -> None:
        super().__init__()
        self.row = row
        self.zone = zone

    def compose(self) -> ComposeResult:
        row = self.row
        with Vertical(id="log-entry", classes="dialog") as dialog:
            dialog.border_title = f"{row.level.upper()} · {local_time(row.at, self.zone)}"
            dialog.border_subtitle = f"{zone_label(self.zone, row.at)} · escape to close"
            heading = Text()
            heading.append_text(level_badge(row.level))
            heading.append(f"  {row.summary}", style="bold")
            yield Static(heading, id="log-entry-summary")
            with VerticalScroll(id="log-entry-details"):
                yield Static(Text(row.details))

    def on_mount(self) -> None:
        self.query_one("#log-entry-details").focus()


def _filter_bar(level: str | None) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Level ", style="bold")
    for choice in LEVEL_FILTERS:
        name = "All" if choice is None else choice.capitalize()
        text.append(f" {name} ", style="bold reverse" if choice == level else "dim")
    text.append("   l to change", style="dim")
    return text


def _pages_bar(data: LogsData) -> Text:
    first = (data.page - 1) * data.page_size + 1 if data.total else 0
    last = min(data.page * data.page_size, data.total)
    pages = page_count(data.total, data.page_size)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{data.total:,} entries", style="bold")
    text.append(f" · {first:,}–{last:,} of {data.total:,} · ")
    text.append(f"Page {data.page:,} of {pages:,}", style="bold")
    text.append(f" · {data.page_size} per page")
    text.append("   [ ] page · p per page", style="dim")
    return text
