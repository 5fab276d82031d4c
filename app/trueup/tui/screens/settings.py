"""Settings: each connection (Pax8, HaloPSA, QuickBooks) with its state, where its secret lives
(never the secret itself), the last sync's error and the last test's answer; `t` tests the one
under the cursor. Below, the sync schedule: the configured minimum interval and how to run
`trueup sync --quiet` from a timer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Header, Static

from trueup.core.service.types import (
    SERVICE_NAMES,
    WORKS,
    CheckResult,
    ConnectionState,
    SecretLocation,
    SourceTile,
)
from trueup.tui.formatting import plain
from trueup.tui.screens.base import WorkbenchScreen
from trueup.tui.widgets.row_table import Column, RowTable

COLUMNS = [
    Column("Connection", 17),
    Column("State", 14),
    Column("Secret in", 15),
    Column("Last sync", 11, hide_below=72),
    Column("Test", 10, flex=True),
]
TESTING = "testing…"
SANDBOX = (
    "Opened on the sandbox simulators: there is nothing to configure. "
    "`trueup connect pax8|halo|qbo` connects the real services."
)
CRON_LINE = "30 2 * * *  trueup sync --quiet"


@dataclass(frozen=True)
class ConnectionRow:
    state: ConnectionState
    sync: SourceTile | None  # the last sync (Pax8 and HaloPSA only)
    test: CheckResult | str | None  # the last test's answer, TESTING, or never tested


@dataclass(frozen=True)
class SettingsData:
    states: list[ConnectionState]
    syncs: dict[str, SourceTile]
    min_interval: int | None  # minutes; None: no config (the sandbox)


class SettingsScreen(WorkbenchScreen):
    TITLE_TEXT = "Settings"
    HELP = "settings.md"
    AUTO_FOCUS = "#connections"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t",
            "test",
            "Test",
            id="settings.test",
            tooltip="Test the connection under the cursor: a fresh token and one small read",
        ),
        Binding(
            "a",
            "test_all",
            "Test all",
            id="settings.test_all",
            tooltip="Test every configured connection",
        ),
        Binding(
            "r", "refresh", "Refresh", show=False, id="settings.refresh", tooltip="Read it again"
        ),
    ]

    class Loaded(Message):
        def __init__(self, data: SettingsData) -> None:
            super().__init__()
            self.data = data

    class Checked(Message):
        def __init__(self, result: CheckResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self) -> None:
        super().__init__()
        self.data: SettingsData | None = None
        self.tests: dict[str, CheckResult | str] = {}  # kept for as long as the workbench runs

    def compose(self) -> ComposeResult:
        yield Header()
        yield RowTable(COLUMNS, _cells, empty=SANDBOX, id="connections")
        detail = Static(id="connection-detail")
        detail.border_title = "Connection"
        yield detail
        schedule = Static(id="schedule")
        schedule.border_title = "Schedule"
        yield schedule
        yield Footer()

    @property
    def table(self) -> RowTable[ConnectionRow]:
        return self.query_one("#connections", RowTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.table, "cursor", self._show_detail, init=False)

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        workbench = self.workbench
        data = SettingsData(
            states=workbench.connection_states(),
            syncs={tile.source: tile for tile in workbench.syncing.tiles()},
            min_interval=workbench.sync_min_interval(),
        )
        self.post_message(self.Loaded(data))

    def on_settings_screen_loaded(self, message: Loaded) -> None:
        self.data = message.data
        self._show()
        self.query_one("#schedule", Static).update(_schedule(message.data.min_interval))

    def _show(self) -> None:
        if self.data is None:
            return
        rows = [
            ConnectionRow(state, self.data.syncs.get(state.source), self.tests.get(state.source))
            for state in self.data.states
        ]
        self.table.set_rows(rows, key=lambda row: row.state.source)
        self.table.border_title = "Connections"
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#connection-detail", Static)
        row = self.table.current
        detail.display = row is not None
        if row is not None:
            detail.border_title = row.state.name
            detail.update(_detail(row))
        self.refresh_bindings()  # `t` is dimmed on a connection with nothing to test

    # --- testing -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "test":  # dimmed while one runs, or with nothing configured to test
            row = self.table.current
            if row is None:
                return False
            return (row.state.configured and self.tests.get(row.state.source) != TESTING) or None
        if action == "test_all":
            return self.workbench.has_connections
        return True

    def action_test(self) -> None:
        row = self.table.current
        if row is not None:
            self._start_test(row.state.source)

    def action_test_all(self) -> None:
        for state in self.data.states if self.data else []:
            if state.configured:
                self._start_test(state.source)

    def action_refresh(self) -> None:
        self.reload()

    def _start_test(self, source: str) -> None:
        if self.tests.get(source) == TESTING:
            return
        self.tests[source] = TESTING
        self._show()
        self.run_test(source)

    @work(thread=True, group="test", exit_on_error=False)
    def run_test(self, source: str) -> None:
        # A thread: reading the keyring or deriving a file key must never hold up the screen.
        self.post_message(self.Checked(asyncio.run(self.workbench.check_connection(source))))

    def on_settings_screen_checked(self, message: Checked) -> None:
        result = message.result
        self.tests[result.source] = result
        self._show()
        name = SERVICE_NAMES[result.source]
        if result.ok:
            account = f": {result.account}" if result.account else ""
            self.notify(f"{name}: {WORKS}{account}.", title="Tested", markup=False)
        else:
            self.notify(result.message, title=f"{name}: test failed", severity="error", timeout=10)


def _cells(row: ConnectionRow) -> Sequence[Text]:
    state = row.state
    if not state.configured:
        state_cell = plain("not configured", "dim")
    elif state.problem:
        state_cell = plain("needs a secret", "bold red")
    else:
        state_cell = plain("configured", "green")
    secret = state.secret.where.split(" (")[0] if state.secret else "—"
    return (
        plain(state.name, "bold"),
        state_cell,
        plain(secret, "" if state.secret and state.secret.found else "dim"),
        _sync_cell(row.sync),
        _test_cell(row.test),
    )


def _sync_cell(tile: SourceTile | None) -> Text:
    if tile is None:
        return plain("—", "dim")
    if tile.last_status not in (None, "ok"):
        return plain(tile.last_status, "bold red")
    return plain(tile.age if tile.last_sync else "never", "" if tile.last_sync else "dim")


def _test_cell(test: CheckResult | str | None) -> Text:
    if test is None:
        return plain("not tested", "dim")
    if isinstance(test, str):
        return plain(test, "yellow")
    return plain("works", "green") if test.ok else plain("failed", "bold red")


def _detail(row: ConnectionRow) -> Table:
    state = row.state
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    if not state.configured:
        grid.add_row("State", Text(state.problem, style="bold"))
        grid.add_row("URL", Text(state.url or "—"))
        return grid
    grid.add_row("URL", Text(state.url))
    grid.add_row("Account", Text(state.account))
    grid.add_row("Secret", _location(state.secret))
    if state.token is not None:
        grid.add_row("Token", _location(state.token))
    if row.sync is not None:
        grid.add_row("Last sync", _sync_line(row.sync))
    grid.add_row("Test", _test_line(row.test))
    return grid


def _location(location: SecretLocation | None) -> Text:
    if location is None:
        return Text("—", style="dim")
    text = Text(location.where)
    if not location.found:
        text.append(f" — {location.problem}", style="bold red")
    return text


def _sync_line(tile: SourceTile) -> Text:
    if tile.last_status in (None, "ok"):
        return Text(f"ok, {tile.age}" if tile.last_sync else "never synced")
    text = Text(f"{tile.last_status}: ", style="bold red")
    text.append(tile.error or "no reason recorded", style="")
    return text


def _test_line(test: CheckResult | str | None) -> Text:
    if test is None:
        return Text("not tested yet: press t", style="dim")
    if isinstance(test, str):
        return Text(test, style="yellow")
    return Text(test.message, style="green" if test.ok else "bold red")


def _schedule(min_interval: int | None) -> Table | Text:
    if min_interval is None:
        return Text("The sandbox syncs when asked: s on the Overview.")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    interval = Text(f"{min_interval} minutes" if min_interval else "none", style="bold")
    interval.append("  [sync] min_interval_minutes", style="dim")
    grid.add_row("Between syncs", interval)
    grid.add_row("On a timer", Text("systemd or cron (README: Scheduled sync), e.g."))
    grid.add_row("", Text(CRON_LINE, style="bold"))
    return grid
