"""Importing a distributor's billing file from the workbench (`i` on the Overview), as `trueup
import` does: whose file (a picker), then its path (one line to type; `~` is the home folder).
The Overview runs the import in a thread and says what came of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import App

from trueup.core.service.imports import FILES, NAMES, FileRefused
from trueup.tui.screens.batch_invoice import ReasonScreen
from trueup.tui.screens.picker import Choice, PickerScreen

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


def refusal_text(refused: FileRefused, source: str, path: Path) -> str:
    """The refusal and its first problems (each by row and column), and where to see all."""
    problems = [str(problem) for problem in refused.problems]
    lines = [str(refused), *problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        more = len(problems) - SHOWN_PROBLEMS
        lines.append(f"and {more} more: `trueup import {path} --source {source}` lists them all")
    return "\n".join(lines)
