"""The workbench App: the service, the month in view, global keys and the screens.

Features live in the screens (one module each); the App only switches between them and holds
what they share. Build it with `make_app`, as the CLI, the tests and the screenshots do.
"""

from __future__ import annotations

import os
import sys
from typing import ClassVar

from rich.text import Text
from rich.traceback import Traceback
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive

from trueup.core.service.workbench import Workbench
from trueup.core.values.text import visible
from trueup.tui.commands import WorkbenchCommands
from trueup.tui.formatting import month_name
from trueup.tui.screens.batch import BatchScreen
from trueup.tui.screens.books import BooksScreen
from trueup.tui.screens.clients import ClientsScreen
from trueup.tui.screens.help import HelpScreen
from trueup.tui.screens.logs import LogsScreen
from trueup.tui.screens.overview import OverviewScreen
from trueup.tui.screens.products import ProductsScreen
from trueup.tui.screens.rules import RulesScreen
from trueup.tui.screens.seat_diff import SeatDiffScreen
from trueup.tui.screens.settings import SettingsScreen
from trueup.tui.screens.usage import UsageScreen

STORE_CHECK_SECONDS = 2.0

SCREENS = {
    "overview": OverviewScreen,
    "clients": ClientsScreen,
    "products": ProductsScreen,
    "seat-diff": SeatDiffScreen,
    "rules": RulesScreen,
    "batch": BatchScreen,
    "usage": UsageScreen,
    "logs": LogsScreen,
    "settings": SettingsScreen,
    "books": BooksScreen,
}


def _screen_binding(keys: str, mode: str) -> Binding:
    title = SCREENS[mode].TITLE_TEXT
    return Binding(
        keys,
        f"show('{mode}')",
        title,
        show=False,
        id=f"app.show.{mode}",
        tooltip=f"Go to {title}",
    )


class TrueupApp(App[None]):
    TITLE = "trueup"
    CSS_PATH = "styles/app.tcss"
    COMMANDS: ClassVar = {WorkbenchCommands}
    MODES: ClassVar = dict(SCREENS)
    BINDINGS: ClassVar[list[BindingType]] = [
        _screen_binding("1,f2", "overview"),
        _screen_binding("2,f3", "clients"),
        _screen_binding("3,f4", "products"),
        _screen_binding("4,f5", "seat-diff"),
        _screen_binding("5,f6", "rules"),
        _screen_binding("6,f7", "batch"),
        _screen_binding("7,f8", "usage"),
        _screen_binding("8,f9", "logs"),
        _screen_binding("9,f10", "settings"),
        _screen_binding("0,f11", "books"),
        # A priority binding: a dialog (modal) cuts the app's other bindings off.
        Binding(
            "f1",
            "help",
            "Help",
            id="app.help",
            tooltip="Help and keys for this screen",
            priority=True,
        ),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit trueup"),
    ]

    month: reactive[str] = reactive("", init=False)
    data_version: reactive[int] = reactive(0, init=False)

    def __init__(self, workbench: Workbench, *, sync_on_start: bool = False) -> None:
        super().__init__()
        self.workbench = workbench
        self.sync_on_start = sync_on_start
        self.set_reactive(TrueupApp.month, workbench.default_month())

    def on_mount(self) -> None:
        self.switch_mode("overview")
        # Another `trueup` (a command, a timer's sync) may change the store meanwhile.
        self.workbench.start_watching()
        self.set_interval(STORE_CHECK_SECONDS, self._check_store)

    def on_unmount(self) -> None:
        self.workbench.stop_watching()

    def _check_store(self) -> None:
        if self.workbench.store_changed():
            self.data_changed()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Always literal: a message naming a client "refund [/] ref#12" is not markup (it
        raised MarkupError and closed the workbench)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """ctrl+c, which does not quit: Textual's own hint is markup ("Press [b]ctrl+q[/b]"),
        shown literally here since every message is."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key} to quit.", title="Do you want to quit?")
                return

    def _fatal_error(self) -> None:
        """An unforeseen error closes the workbench in one line, as the CLI's do. Textual's
        own traceback prints every frame's locals, and a frame may hold a client secret, a
        refresh token or a passphrase; TRUEUP_DEBUG=1 shows the traceback, without them."""
        self.bell()
        if os.environ.get("TRUEUP_DEBUG"):
            self.panic(Traceback(show_locals=False, width=None))
            return
        error = sys.exc_info()[1]
        said = visible(f"{type(error).__name__}: {error}")[:300]
        self.panic(Text(f"error: the workbench stopped on {said} (TRUEUP_DEBUG=1 shows where)"))

    def action_show(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        else:
            self.push_screen(HelpScreen(self.screen))

    def shift_month(self, step: int) -> None:
        """The month `step` months from the one in view, among those the store holds; at either
        end, a word that there is none (a silent key reads as a broken one)."""
        months = self.workbench.months()
        index = months.index(self.month) + step if self.month in months else len(months) - 1
        if 0 <= index < len(months):
            self.month = months[index]
        elif months:
            edge = "after" if step > 0 else "before"
            held = " and ".join(month_name(month) for month in months)
            self.notify(f"No month {edge} {month_name(self.month)}: the store holds {held}.")

    def data_changed(self) -> None:
        """A mapping changed or a sync ended: every screen's data is stale."""
        self.workbench.store_seen()
        self.data_version += 1


def make_app(workbench: Workbench, *, sync_on_start: bool = False) -> TrueupApp:
    return TrueupApp(workbench, sync_on_start=sync_on_start)
