"""What is wrong with a file, gathered whole before anything is written: every problem by row
and column, so one refusal says all a user has to fix (up to a cap, then how many more)."""

from __future__ import annotations

from collections.abc import Sequence

from trueup.core.errors import TrueupError
from trueup.core.values.text import capped

# Past this many, a refusal lists no more: a file this wrong is the wrong file or a wrong
# column mapping, and the first ones say which.
MAX_LISTED = 50


class FileRefused(TrueupError):
    """A file that was not imported: the message is the one line a front shows, `problems`
    every problem under it (none when the line says it all: an empty file, the wrong format)."""

    def __init__(
        self, message: str, problems: Sequence[str] = (), total: int | None = None
    ) -> None:
        super().__init__(message)
        self.problems = tuple(problems)
        self.total = len(self.problems) if total is None else total  # listed or not


class Problems:
    """The problems of one file, as `row N, Column: what is wrong` lines."""

    def __init__(self, cap: int = MAX_LISTED) -> None:
        self.cap = cap
        self.total = 0
        self._listed: list[str] = []

    def add(self, row: int | None, column: str | None, text: str) -> None:
        self.total += 1
        if len(self._listed) < self.cap:
            where = ", ".join(p for p in (f"row {row}" if row else None, column) if p)
            self._listed.append(f"{where}: {text}" if where else text)

    def __bool__(self) -> bool:
        return self.total > 0

    def refuse(self, name: str) -> FileRefused:
        """The refusal of file `name` that lists them all."""
        listed = capped(self._listed, self.cap, self.total)
        count = "1 problem" if self.total == 1 else f"{self.total} problems"
        return FileRefused(
            f"{name} was not imported ({count}; nothing was changed): fix the file or the "
            "column mapping, and import it again",
            listed,
            self.total,
        )
