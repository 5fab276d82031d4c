"""What every workbench screen shares: the service, reloading when the data or month change,
and turning a failed worker into a message instead of a crash."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from trueup.core.workbench import Workbench

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
            error = event.worker.error
            self.notify(
                str(error) or type(error).__name__,
                title="That did not work",
                severity="error",
                timeout=10,
            )
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[object]) -> None:
        """Undo what a screen shows while a worker runs (a loading table, say)."""
