"""Live progress of a sync: one line per source, fed by sync_sources' `report` callback."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar

from trueup.core.service.types import SOURCE_NAMES, SourceResult


class SyncProgress(Vertical):
    DEFAULT_CSS = """
    SyncProgress { height: auto; display: none; }
    SyncProgress.-shown { display: block; }
    SyncProgress > Horizontal { height: 1; }
    SyncProgress .source { width: 9; text-style: bold; }
    SyncProgress .what { width: 1fr; min-width: 20; }
    SyncProgress ProgressBar { width: 36; }
    SyncProgress ProgressBar Bar { width: 24; }
    """

    def on_mount(self) -> None:
        self.border_title = "Sync"

    def compose(self) -> ComposeResult:
        for source, name in SOURCE_NAMES.items():
            with Horizontal(id=f"progress-{source}"):
                yield Label(name, classes="source")
                yield Label("", id=f"what-{source}", classes="what")
                yield ProgressBar(show_eta=False, id=f"bar-{source}")

    def start(self) -> None:
        self.add_class("-shown")
        for source in SOURCE_NAMES:
            self._what(source).update("connecting…")
            self._bar(source).update(total=None, progress=0)

    def report(self, source: str, what: str, done: int, total: int | None) -> None:
        counted = f"{done:,}/{total:,}" if total is not None else f"{done:,}"
        self._what(source).update(Text(f"{what} {counted}"))
        self._bar(source).update(total=total, progress=done)

    def finish(self, results: list[SourceResult]) -> None:
        for result in results:
            if result.status == "ok":
                line = Text(f"done in {result.seconds:.1f} s, {result.requests:,} requests")
                if result.warnings:
                    count = len(result.warnings)
                    line.append(
                        f", {count} warning{'' if count == 1 else 's'} (Logs, 8)", style="yellow"
                    )
            else:
                line = Text(f"{result.status}: {result.error or ''}", style="bold red")
            self._what(result.source).update(line)
            self._bar(result.source).update(total=1, progress=1 if result.status == "ok" else 0)

    def stopped(self, why: str) -> None:
        """The sync ended before any source finished (cancelled, or could not start)."""
        for source in SOURCE_NAMES:
            self._what(source).update(Text(why, style="yellow"))

    def _what(self, source: str) -> Label:
        return self.query_one(f"#what-{source}", Label)

    def _bar(self, source: str) -> ProgressBar:
        return self.query_one(f"#bar-{source}", ProgressBar)
