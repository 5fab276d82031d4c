"""The workbench's service on one store: the stage services the screens call, on one clock and
one `Changes`, so a write through any of them (or a sync) makes the kept seat diffs stale.

The CLI's commands build the same stage services on their own (`Mappings(db, ...)`), so a
command and its key in the workbench run the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from trueup.core.errors import SyncUnavailableError
from trueup.core.mapping.engine import MATCH_THRESHOLD
from trueup.core.service.batches import Batches
from trueup.core.service.books import BOOKS, Accounting
from trueup.core.service.changes import Changes
from trueup.core.service.imports import Imports
from trueup.core.service.ledger import Ledger
from trueup.core.service.logs import Logs
from trueup.core.service.mappings import HaloFactory, Mappings
from trueup.core.service.posting import Posting, SinkFactory
from trueup.core.service.reports import Reports
from trueup.core.service.rules import RuleBook
from trueup.core.service.seats import SeatDiffs
from trueup.core.service.syncing import SyncClients, Syncing
from trueup.core.settings.config import BillingSettings, SyncSettings
from trueup.core.settings.connections import CheckResult, Connections, ConnectionState
from trueup.core.store.database import Database
from trueup.core.store.watch import StoreWatcher
from trueup.core.values.months import Month


class Workbench:
    def __init__(
        self,
        db: Database,
        *,
        today: date,
        threshold: int = MATCH_THRESHOLD,
        sync_clients: SyncClients | None = None,
        clock: Callable[[], datetime] | None = None,
        connections: Connections | None = None,
        sinks: SinkFactory | None = None,
        close_day: int | None = None,
        halo: HaloFactory | None = None,
    ) -> None:
        """`connections`: the configured ones (None: opened on the sandbox, nothing to
        configure); `sinks`: None when there is nowhere to post; `close_day`: the config's
        [billing] close_day (None: the connections' config's, or the built-in default);
        `halo`: where a product's missing item is created (None: the sync's Halo)."""
        self.db = db
        self.today = today
        self._connections = connections
        clock = clock or (lambda: datetime.now(UTC))
        changes = self._changes = Changes()
        settings = connections.settings if connections else None
        if close_day is None:
            close_day = (settings.billing if settings else BillingSettings()).close_day
        self.close_day = close_day
        if halo is None and sync_clients is not None:
            halo = _sync_halo(sync_clients)
        self.mappings = Mappings(db, threshold=threshold, changes=changes, halo=halo)
        self.seats = SeatDiffs(db, today=today, changes=changes)
        self.rules = RuleBook(db, changes=changes)
        self.batches = Batches(db, today=today, close_day=close_day)
        self.posting = Posting(
            db,
            today=today,
            sinks=sinks,
            xero=settings.xero if settings else None,
            qbo_realm=settings.qbo.realm_id if settings else None,
            backups_kept=settings.backup.keep if settings else None,
        )
        self.syncing = Syncing(
            db,
            today=today,
            clients=sync_clients,
            log_retention_days=settings.log.retention_days if settings else None,
            max_shrink_percent=(settings.sync if settings else SyncSettings()).max_shrink_percent,
            clock=clock,
            changes=changes,
        )
        self.imports = Imports(
            db, columns=settings.import_columns if settings else None, changes=changes
        )
        self.logs = Logs(db, clock=clock)
        self.ledger = Ledger(db, today=today, close_day=close_day)
        self.reports = Reports(db, today=today, close_day=close_day)
        self.books = {name: Accounting(db, b, threshold=threshold) for name, b in BOOKS.items()}
        self._watcher: StoreWatcher | None = None  # while the workbench is on screen

    def months(self) -> list[str]:
        """The months the store can reconcile, oldest first: last month and this one (the
        sync fetches Pax8 history for exactly these)."""
        this = Month.of(self.today)
        return [this.shifted(-1), this]

    def default_month(self) -> Month:
        """The month being closed: the one the workbench opens on, as the CLI's default."""
        return Month.being_closed(self.today, self.close_day)

    def close(self) -> None:
        self.stop_watching()

    def start_watching(self) -> None:
        """From now on, store_changed() says whether anything was committed to the store."""
        if self._watcher is None:
            self._watcher = StoreWatcher(self.db)

    def stop_watching(self) -> None:
        """Close the watcher's connection: left open, it keeps the WAL from being checkpointed."""
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def store_changed(self) -> bool:
        """Whether anything committed to the store (another `trueup`, a timer's sync) since
        the last reload: the screens then read it again."""
        if self._watcher is None or not self._watcher.changed():
            return False
        self._changes.forget()  # the seat diffs kept were read before it
        return True

    def store_seen(self) -> None:
        """The screens are about to read the store as it is now."""
        if self._watcher is not None:
            self._watcher.seen()

    # --- connections (the Settings screen) -----------------------------------------------------

    @property
    def has_connections(self) -> bool:
        return self._connections is not None

    def connection_states(self) -> list[ConnectionState]:
        """Each configured connection and where its secret lives (never the secret)."""
        return self._connections.states() if self._connections else []

    async def check_connection(self, source: str) -> CheckResult:
        """A fresh token and one small read: "connection works", or exactly why not."""
        if self._connections is None:
            raise SyncUnavailableError("this workbench has no connections to test")
        return await self._connections.check(source)

    async def refresh_books(self, name: str) -> dict[str, int]:
        """Read QuickBooks' (`qbo`) or Xero's (`xero`) lists on the configured connection."""
        if self._connections is None:
            raise SyncUnavailableError(
                "this workbench has no connections: the demo reads the sandbox's books when it "
                "starts"
            )
        return await self.books[name].refresh_with(self._connections.client(name))

    def sync_min_interval(self) -> int | None:
        """The configured minimum minutes between syncs (0: none), or None without a config."""
        return self._connections.settings.sync.min_interval_minutes if self._connections else None


def _sync_halo(clients: SyncClients) -> HaloFactory:
    """The sync's Halo client; its Pax8 client is made too, but never opens a connection."""
    return lambda: clients()[1]
