"""Syncing Pax8 and Halo into the store, and what the syncs left: `trueup sync`, `trueup status`,
`trueup demo` and the Overview's tiles and `s`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from trueup.core.errors import SyncUnavailableError
from trueup.core.service.changes import Changes
from trueup.core.settings.config import DEFAULT_MAX_SHRINK
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store.database import Database
from trueup.core.sync.records import ENTITIES as ENTITIES
from trueup.core.sync.run import (
    DEFAULT_LOG_RETENTION_DAYS,
    sync_sources,
    sync_too_soon,
)
from trueup.core.sync.run import Report as Report
from trueup.core.sync.run import SourceResult as SourceResult
from trueup.core.sync.run import SyncBusyError as SyncBusyError
from trueup.core.sync.status import store_status

SyncClients = Callable[[], tuple[Pax8Client, HaloClient]]  # fresh clients for one sync
SOURCE_NAMES = {"pax8": "Pax8", "halo": "HaloPSA"}


@dataclass(frozen=True)
class SourceTile:
    """The last sync of one source, as the overview tile shows it."""

    source: str  # pax8 | halo
    name: str
    age: str  # "9h ago", "3 days ago", "never"
    last_sync: str | None  # ISO time of the last successful sync
    last_status: str | None  # of the latest run: ok | failed | interrupted | running
    error: str | None


class Syncing:
    """The syncs of one store. `clients` makes fresh clients for each sync (None: this store
    can be read but not synced); the log keeps `log_retention_days` of entries (None: the
    default)."""

    def __init__(
        self,
        db: Database,
        *,
        today: date,
        clients: SyncClients | None = None,
        log_retention_days: int | None = None,
        max_shrink_percent: int = DEFAULT_MAX_SHRINK,
        clock: Callable[[], datetime] | None = None,
        changes: Changes | None = None,
    ) -> None:
        self.db = db
        self.today = today
        self._clients = clients
        self._max_shrink = max_shrink_percent
        self._retention = (
            DEFAULT_LOG_RETENTION_DAYS if log_retention_days is None else log_retention_days
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        self._changes = changes or Changes()

    @property
    def can_sync(self) -> bool:
        return self._clients is not None

    def status(self) -> dict[str, Any]:
        """`trueup status` (contract §3): what the store holds and how fresh each source is."""
        return store_status(self.db, self._clock())

    def tiles(self) -> list[SourceTile]:
        tiles = []
        for source, info in self.status()["sources"].items():
            run = info["last_run"] or {}
            tiles.append(
                SourceTile(
                    source=source,
                    name=SOURCE_NAMES[source],
                    age=info["age"],
                    last_sync=info["last_sync"],
                    last_status=run.get("status"),
                    error=run.get("error"),
                )
            )
        return tiles

    def too_soon(self, min_interval_minutes: int) -> datetime | None:
        """The last good sync's time when it is younger than the minimum interval, else None."""
        return sync_too_soon(self.db, min_interval_minutes, self._clock())

    async def run(
        self, report: Report | None = None, *, accept_shrink: bool = False
    ) -> list[SourceResult]:
        """Sync both sources at once with fresh clients, each applied atomically; cancelling
        leaves the store as it was. SyncBusyError when another sync of this file runs. A source
        that answers with far fewer records than the store holds fails, its data kept, unless
        `accept_shrink`."""
        if self._clients is None:
            raise SyncUnavailableError("this workbench has no connections to sync from")
        pax8, halo = self._clients()
        try:
            async with pax8, halo:
                return await sync_sources(
                    self.db,
                    pax8=pax8,
                    halo=halo,
                    today=self.today,
                    report=report,
                    log_retention_days=self._retention,
                    max_shrink_percent=None if accept_shrink else self._max_shrink,
                )
        finally:
            self._changes.forget()
