"""The sync and posting log: `trueup log` and the Logs & Monitoring screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from trueup.core.store import log_pages
from trueup.core.store.database import Database
from trueup.core.store.log_pages import LogRow, LogTiles
from trueup.core.store.logbook import read_log


class Logs:
    """The log of one store, as of `clock`'s now."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self._clock = clock or (lambda: datetime.now(UTC))

    def tiles(self) -> LogTiles:
        """The last 30 days of the log."""
        return log_pages.log_tiles(self.db, self._clock())

    def page(self, level: str | None, page: int, page_size: int) -> tuple[list[LogRow], int]:
        return log_pages.log_page(self.db, level, page, page_size)

    def latest(self, *, level: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest entries first, as `trueup log --json` prints them."""
        return read_log(self.db, level=level, limit=limit)
