"""What every workbench screen shares: the service, reloading when the data or month change,
and turning a failed worker into a message instead of a crash."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from trueup.core.service.workbench import Workbench
from trueup.tui.formatting import error_text, is_refusal
from trueup.tui.widgets.row_table import RowTable
from trueup.tui.widgets.search_bar import SearchBar

if TYPE_CHECKING:
    from trueup.tui.app import TrueupApp


class WorkbenchScreen(Screen[None]):
    TITLE_TEXT: ClassVar[str] = ""
    HELP: ClassVar[str] = ""  # a Markdown file in trueup/tui/help

    def __init__(self) -> None:
        super().__init__()
        self._stale = True

    @property
    def trueup(self) -> TrueupApp:
        return cast("TrueupApp", self.app)

    @property
    def workbench(self) -> Workbench:
        return self.trueup.workbench

    def on_mount(self) -> None:
        self.sub_title = self.TITLE_TEXT
        self.watch(self.app, "data_version", self._data_changed, init=False)
        self.watch(self.app, "month", self._data_changed, init=False)
        self._data_changed()

    def _data_changed(self) -> None:
        # Only the screen in view reloads now; the others when they come back into view.
        self.refresh_bindings()
        self._stale = True
        if self.is_current:
            self._stale = False
            self.reload()

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def reload(self) -> None:
        """Start reading this screen's data (in a worker)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            refused = is_refusal(event.worker.error)
            self.notify(
                error_text(event.worker.error),
                title="Not done" if refused else "That did not work",
                severity="warning" if refused else "error",
                timeout=10,
            )
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[object]) -> None:
        """Undo what a screen shows while a worker runs (a loading table, say)."""


class SearchableTableScreen(WorkbenchScreen):
    """A screen showing one table that `/` filters as the operator types."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "clear_search",
            "Clear search",
            show=False,
            id="table.clear_search",
            tooltip="Clear the search and show every row again",
        ),
    ]

    @property
    def table(self) -> RowTable[Any]:
        raise NotImplementedError

    def show_rows(self) -> None:
        """Put the rows that pass the current search and filters in the table."""
        raise NotImplementedError

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.show_rows()

    @on(SearchBar.Done)
    def _search_done(self) -> None:
        self.table.focus()

    def action_search(self) -> None:
        self.query_one(SearchBar).open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":  # offered only while a search filters the table
            return bool(self.query(SearchBar) and self.query_one(SearchBar).value)
        return super().check_action(action, parameters)

    def action_clear_search(self) -> None:
        """Escape with the table focused: the search the bar still holds is cleared too."""
        self.query_one(SearchBar).action_close()
