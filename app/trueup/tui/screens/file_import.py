"""Importing a distributor's billing file from the workbench (`i` on the Overview), as `trueup
import` does: whose file (a picker), then its path (one line to type; `~` is the home folder).
The Overview runs the import in a thread and says what came of it."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import App

from trueup.core.service.imports import FILES, MAX_LISTED, NAMES, FileRefused
from trueup.tui.screens.picker import Choice, PickerScreen
from trueup.tui.screens.reason import ReasonScreen

SHOWN_PROBLEMS = 5  # a refusal's problems named in its notification


def ask_import(app: App[object], run: Callable[[str, Path], object]) -> None:
    """Ask whose file and where it is, then `run(source, path)`; nothing when cancelled."""
    choices = [Choice(source, NAMES[source], what) for source, what in FILES.items()]

    def matching(query: str) -> Sequence[Choice]:
        wanted = query.strip().casefold()
        return [c for c in choices if wanted in f"{c.label} {c.detail}".casefold()]

    def chosen(source: int | str | None) -> None:
        if source is None:
            return
        about = Text(f"{NAMES[str(source)]}: {FILES[str(source)]}, as downloaded.")

        def given(typed: str | None) -> None:
            if typed:
                run(str(source), Path(typed).expanduser())

        app.push_screen(
            ReasonScreen(
                "Import a file",
                about,
                ask="The file's path, like ~/Downloads/recon.csv",
                enter="import",
                required="Type the file's path, or esc to cancel.",
            ),
            given,
        )

    app.push_screen(PickerScreen("Import whose billing file?", matching), chosen)


def refusal_text(refused: FileRefused, source: str, path: Path, store: Path) -> str:
    """The refusal and its first problems (each by row and column), and the command that lists
    more (as many as the CLI lists: MAX_LISTED)."""
    lines = [str(refused), *refused.problems[:SHOWN_PROBLEMS]]
    if refused.total > SHOWN_PROBLEMS:
        command = (
            f"trueup --db {shlex.quote(str(store))} import {shlex.quote(str(path))} "
            f"--source {source}"
        )
        listed = "them all" if refused.total <= MAX_LISTED else f"the first {MAX_LISTED}"
        lines.append(f"and {refused.total - SHOWN_PROBLEMS} more: `{command}` lists {listed}")
    return "\n".join(lines)
