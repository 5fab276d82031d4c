"""Overview: the month, how fresh each source is, how much is mapped, and what the seat diff
costs; `s` syncs now with live progress, escape cancels it; `i` imports a distributor's file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from trueup.core.service.imports import FileRefused
from trueup.core.service.types import SOURCE_NAMES, STATUSES, DiffSummary, SourceTile
from trueup.tui.formatting import DIFF_STATUS, DIFF_STATUS_LONG, money, month_name, plain
from trueup.tui.screens.base import WorkbenchScreen
from trueup.tui.screens.file_import import ask_import, refusal_text
from trueup.tui.widgets.sync_progress import SyncProgress

MAPPING_ORDER = ("mapped", "suggested", "unmapped", "stale", "ignored")


@dataclass(frozen=True)
class OverviewData:
    month: str
    tiles: list[SourceTile]
    companies: Counter[str]
    products: Counter[str]
    diff: DiffSummary


class OverviewScreen(WorkbenchScreen):
    TITLE_TEXT = "Overview"
    HELP = "overview.md"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sync", "Sync", id="overview.sync", tooltip="Sync Pax8 and HaloPSA now"),
        Binding(
            "i",
            "import_file",
            "Import",
            id="overview.import",
            tooltip="Import a distributor's billing file (Partner Center, Ion, Ingram, Sherweb)",
        ),
        Binding(
            "escape,c", "cancel_sync", "Cancel", id="overview.cancel", tooltip="Cancel the sync"
        ),
        Binding(
            "left_square_bracket,less_than_sign",
            "month(-1)",
            "Prev month",
            key_display="[",
            id="overview.month_back",
            tooltip="Show the month before",
        ),
        Binding(
            "right_square_bracket,greater_than_sign",
            "month(1)",
            "Next month",
            key_display="]",
            id="overview.month_on",
            tooltip="Show the month after",
        ),
    ]

    syncing: reactive[bool] = reactive(False, bindings=True)

    class Loaded(Message):
        def __init__(self, data: OverviewData) -> None:
            super().__init__()
            self.data = data

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="month-bar")
        with Horizontal(id="tiles"):
            for tile_id, title in (
                ("tile-pax8", "Pax8"),
                ("tile-halo", "HaloPSA"),
                ("tile-clients", "Clients"),
                ("tile-products", "SKUs"),
            ):
                tile = Static(id=tile_id, classes="tile")
                tile.border_title = title
                yield tile
        # What the tiles leave: a seat diff in many currencies, or with the sync's panel under
        # it, is taller than 80x24 has room for; it scrolls (arrows) so the panel stays whole.
        with VerticalScroll(id="overview-body"):
            yield Static(id="diff-summary")
        yield SyncProgress()
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        if self.trueup.sync_on_start:
            self.trueup.sync_on_start = False
            self.action_sync()

    def reload(self) -> None:
        self._show_month()
        self.load(self.trueup.month)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, month: str) -> None:
        workbench = self.workbench
        data = OverviewData(
            month=month,
            tiles=workbench.syncing.tiles(),
            companies=Counter(row.status for row in workbench.mappings.company_rows()),
            products=Counter(row.status for row in workbench.mappings.product_rows()),
            diff=workbench.seats.summarise(workbench.seats.rows(month)),
        )
        if not get_current_worker().is_cancelled:  # another month is on its way
            self.post_message(self.Loaded(data))

    def on_overview_screen_loaded(self, message: Loaded) -> None:
        data = message.data
        for tile in data.tiles:
            self.query_one(f"#tile-{tile.source}", Static).update(_sync_tile(tile))
        self.query_one("#tile-clients", Static).update(_mapping_tile(data.companies))
        self.query_one("#tile-products", Static).update(_mapping_tile(data.products))
        summary = self.query_one("#diff-summary", Static)
        summary.border_title = f"Seat diff · {month_name(data.month)}"
        summary.update(_diff_table(data.diff))

    def _show_month(self) -> None:
        months = self.workbench.months()
        bar = Text()
        bar.append(month_name(self.trueup.month), style="bold")
        # Say which key reaches which month: "[ October 2026" back, "] December 2026" on.
        at = months.index(self.trueup.month) if self.trueup.month in months else -1
        if at > 0:
            bar.append(f"   [ {month_name(months[at - 1])}", style="dim")
        if 0 <= at < len(months) - 1:
            bar.append(f"   ] {month_name(months[at + 1])}", style="dim")
        self.query_one("#month-bar", Static).update(bar)

    def action_month(self, step: int) -> None:
        self.trueup.shift_month(step)

    # --- sync ----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_sync":
            return self.syncing
        if action == "sync":
            return self.workbench.syncing.can_sync and (None if self.syncing else True)
        return True

    def action_sync(self) -> None:
        self.query_one(SyncProgress).start()
        self.syncing = True
        self.run_sync()

    @work(exclusive=True, group="sync", exit_on_error=False)
    async def run_sync(self) -> None:
        progress = self.query_one(SyncProgress)
        results = await self.workbench.syncing.run(progress.report)
        progress.finish(results)
        failed = [r for r in results if r.status != "ok"]
        if failed:
            self.notify(
                "; ".join(f"{r.source}: {r.error}" for r in failed),
                title="Sync failed: the last good data is kept",
                severity="error",
                timeout=10,
            )
        warned = [(r.source, w) for r in results for w in r.warnings]
        if warned:
            shown = [f"{SOURCE_NAMES[source]}: {w.line}" for source, w in warned[:3]]
            if len(warned) > 3:
                shown.append(f"and {len(warned) - 3} more (Logs, 8)")
            self.notify(
                "\n".join(shown),
                title=f"Sync warned {len(warned)} time{'' if len(warned) == 1 else 's'}",
                severity="warning",
                timeout=10,
            )
        if not failed:
            self.notify("Pax8 and HaloPSA are up to date.", title="Synced")

    # --- a distributor's file ------------------------------------------------------------------

    def action_import_file(self) -> None:
        ask_import(self.app, self.run_import)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def run_import(self, source: str, path: Path) -> None:
        """`trueup import` in a thread; a refusal lists its first problems, nothing stored."""
        if not path.is_file():
            self.notify(f"No file at {path}.", severity="error", timeout=8, markup=False)
            return
        try:
            outcome = self.workbench.imports.run(path, source)
        except FileRefused as refused:
            said = refusal_text(refused, source, path, self.workbench.db.path)
            self.notify(said, title="Not imported", severity="error", timeout=15, markup=False)
            return
        for warning in outcome.warnings:
            self.notify(warning, severity="warning", timeout=10, markup=False)
        self.notify(outcome.headline, title="Imported", timeout=8, markup=False)
        self.app.call_from_thread(self.trueup.data_changed)

    def action_cancel_sync(self) -> None:
        self.workers.cancel_group(self, "sync")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group != "sync" or not event.worker.is_finished:
            return
        self.syncing = False
        if event.state is WorkerState.CANCELLED:
            self.query_one(SyncProgress).stopped("cancelled; store unchanged")
            self.notify("Sync cancelled: the store is as it was.", severity="warning")
        elif event.state is WorkerState.ERROR:
            self.query_one(SyncProgress).stopped("did not run; store unchanged")
        self.trueup.data_changed()


def _sync_tile(tile: SourceTile) -> Text:
    text = Text()
    text.append(tile.age, style="bold")
    text.append("\nlast sync\n", style="dim")
    if tile.last_status in (None, "ok"):
        text.append(_local_time(tile.last_sync) if tile.last_sync else "not yet")
    else:
        text.append(f"latest {tile.last_status}", style="bold red")
    return text


def _local_time(iso: str) -> str:
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def _mapping_tile(counts: Counter[str]) -> Text:
    text = Text()
    shown = [s for s in MAPPING_ORDER if counts.get(s)]
    for index, status in enumerate(shown):
        style = {"unmapped": "bold red", "suggested": "yellow", "stale": "magenta"}.get(status, "")
        text.append(f"{counts[status]:>5,} ", style=style or "bold")
        text.append(status + ("\n" if index < len(shown) - 1 else ""))
    return text or Text("nothing synced", style="dim")


def _diff_table(summary: DiffSummary) -> Table:
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(ratio=1)
    table.add_column(justify="right")
    table.add_column(justify="left")
    for status in STATUSES:
        label, style = DIFF_STATUS[status]
        table.add_row(
            plain(DIFF_STATUS_LONG[status]),
            plain(f"{summary.counts.get(status, 0):,}", style if status != "match" else ""),
            plain(label, "dim"),
        )
    # The main currency's amount, then each other currency's on a line of its own: they are
    # never added together, and the main one alone read as the whole month (as `trueup diff`).
    others = sorted(c for c in summary.by_currency if c != summary.currency)
    for side, (label, style, note) in enumerate(
        (
            ("Under-billing a month", "bold red", "not billed"),
            ("Over-billing a month", "bold yellow", "billed too much"),
        )
    ):
        main = (summary.under_billing, summary.over_billing)[side]
        table.add_row(
            plain(label, "bold"), plain(money(main, summary.currency), style), plain(note, "dim")
        )
        for currency in others:
            amount = summary.by_currency[currency][side]
            if amount:
                table.add_row(plain(""), plain(money(amount, currency), style), plain(""))
    return table
