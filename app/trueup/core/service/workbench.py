"""The one service the workbench screens call: mappings, the seat diff, sync status and sync.

Thin on purpose: each method is one call into the core, on the store this workbench was opened
on. The only state it keeps is the seat diff of a month, which several screens show and which is
the costly read; any write through this object (or a sync) forgets it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from datetime import UTC, date, datetime
from typing import Any

from trueup.core.batch import approval
from trueup.core.batch import review as batch_review
from trueup.core.batch import review_state as batch_approvals
from trueup.core.batch.body import InvoiceView
from trueup.core.batch.build import build_batch, current_batch
from trueup.core.batch.helper import BuildHelper
from trueup.core.batch.reading import BatchOverview, InvoiceRow, batch_invoice, batch_overview
from trueup.core.batch.split import is_large
from trueup.core.billing.facts import CostItem
from trueup.core.diff.seats import (
    DiffDetail,
    DiffRow,
    DiffSummary,
    diff_detail,
    seat_diff,
    summarise,
)
from trueup.core.errors import TrueupError
from trueup.core.mapping import engine as mapping
from trueup.core.mapping.engine import Candidate, CompanyRow, ItemCandidate, ProductRow
from trueup.core.mapping.match import EXACT
from trueup.core.mapping.reading import load_world
from trueup.core.posting import plan as posting
from trueup.core.posting.run import Progress, run_posting
from trueup.core.posting.sink import Sink
from trueup.core.rules import current as rules
from trueup.core.rules.current import Rules
from trueup.core.rules.rows import RuleRow, rule_rows
from trueup.core.service.types import (
    SOURCE_NAMES,
    ApprovalResult,
    BatchApprovals,
    EntryView,
    Override,
    PostingPlan,
    RunReport,
    SourceTile,
)
from trueup.core.settings.connections import CheckResult, Connections, ConnectionState
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import log_pages as logs_view
from trueup.core.store.database import Database
from trueup.core.sync.run import DEFAULT_LOG_RETENTION_DAYS, Report, SourceResult, sync_sources
from trueup.core.sync.status import store_status
from trueup.core.values.months import month_of
from trueup.core.values.parsing import month_start

SyncClients = Callable[[], tuple[Pax8Client, HaloClient]]
SinkFactory = Callable[[str], AbstractAsyncContextManager[Sink]]  # destination -> open sink


class SyncUnavailableError(TrueupError):
    """This workbench was opened without connections to sync from."""


class Workbench:
    def __init__(
        self,
        db: Database,
        *,
        today: date,
        threshold: int = mapping.MATCH_THRESHOLD,
        sync_clients: SyncClients | None = None,
        clock: Callable[[], datetime] | None = None,
        connections: Connections | None = None,
        sinks: SinkFactory | None = None,
        batch_helper: bool = False,
    ) -> None:
        """`batch_helper`: large batches are built by a helper process, in two processes as
        `trueup batch` builds them (this process's threads rule out forking it)."""
        self.db = db
        self.today = today
        self.threshold = threshold
        self._sync_clients = sync_clients
        self._connections = connections  # None: opened on the sandbox, nothing to configure
        self._sinks = sinks  # None: nowhere to post
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._generation = 0
        self._diffs: dict[str, list[DiffRow]] = {}
        self._helper = BuildHelper(db.path) if batch_helper else None

    # --- status and months -------------------------------------------------------------------

    @property
    def can_sync(self) -> bool:
        return self._sync_clients is not None

    def sync_tiles(self) -> list[SourceTile]:
        sources: dict[str, Any] = store_status(self.db, self._clock())["sources"]
        tiles = []
        for source, info in sources.items():
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

    def months(self) -> list[str]:
        """The months the store can reconcile, oldest first: last month and this one (the
        sync fetches Pax8 history for exactly these)."""
        return [month_of(month_start(self.today, 1)), month_of(self.today)]

    # --- companies -> clients -----------------------------------------------------------------

    def company_rows(self) -> list[CompanyRow]:
        return mapping.company_rows(self.db, threshold=self.threshold)

    def client_choices(self, query: str = "") -> list[Candidate]:
        return mapping.client_choices(self.db, query)

    def map_company(
        self,
        company_id: str,
        client_id: int,
        *,
        source: str = "manual",
        score: int | None = None,
        reason: str = "",
    ) -> None:
        with self._writing():
            mapping.map_company(
                self.db, company_id, client_id, source=source, score=score, reason=reason
            )

    def unmap_company(self, company_id: str) -> None:
        with self._writing():
            mapping.unmap_company(self.db, company_id)

    def ignore_company(self, company_id: str) -> None:
        with self._writing():
            mapping.ignore_company(self.db, company_id)

    def accept_company(self, row: CompanyRow) -> None:
        """Accept the row's suggestion as it stands."""
        if row.status != "suggested" or row.client_id is None:
            raise mapping.MappingError(f"{row.company_name} has no suggestion to accept")
        self.map_company(
            row.company_id,
            row.client_id,
            source=_accepted_source(row.score),
            score=row.score,
            reason=row.reason,
        )

    def accept_company_suggestions(self) -> list[CompanyRow]:
        with self._writing():
            return mapping.accept_company_suggestions(self.db, min_score=self.threshold)

    # --- products -> items -------------------------------------------------------------------

    def product_rows(self) -> list[ProductRow]:
        return mapping.product_rows(self.db, threshold=self.threshold)

    def item_choices(self, query: str = "") -> list[ItemCandidate]:
        return mapping.item_choices(self.db, query)

    def map_product(
        self,
        product_id: str,
        item_id: int,
        *,
        client_id: int | None = None,
        source: str = "manual",
        score: int | None = None,
        reason: str = "",
    ) -> None:
        with self._writing():
            mapping.map_product(
                self.db,
                product_id,
                item_id,
                client_id=client_id,
                source=source,
                score=score,
                reason=reason,
            )

    def unmap_product(self, product_id: str, *, client_id: int | None = None) -> None:
        with self._writing():
            mapping.unmap_product(self.db, product_id, client_id=client_id)

    def ignore_product(self, product_id: str) -> None:
        with self._writing():
            mapping.ignore_product(self.db, product_id)

    def accept_product(self, row: ProductRow) -> None:
        if row.status != "suggested" or row.item_id is None:
            raise mapping.MappingError(f"{row.name} has no suggestion to accept")
        self.map_product(
            row.product_id,
            row.item_id,
            source=_accepted_source(row.score),
            score=row.score,
            reason=row.reason,
        )

    def product_overrides(self, product_id: str) -> list[Override]:
        """The clients that bill this product under an item of their own."""
        with self.db.read() as conn:
            world = load_world(conn)
        found = []
        for (product, client_id), chosen in world.product_mappings.items():
            if product != product_id or client_id is None:
                continue
            client = world.clients.get(client_id)
            item = world.items.get(chosen.target) if chosen.target is not None else None
            found.append(
                Override(
                    client_id,
                    client.name if client else f"client {client_id}",
                    chosen.target,
                    item.name if item else "(ignored)" if chosen.target is None else "(gone)",
                )
            )
        return sorted(found, key=lambda o: o.client_name.casefold())

    def accept_product_suggestions(self) -> list[ProductRow]:
        with self._writing():
            return mapping.accept_product_suggestions(self.db, min_score=self.threshold)

    def undo_last(self) -> str | None:
        """Undo the latest mapping change; what was undone, in words, or None if nothing."""
        with self._writing():
            return mapping.undo_last(self.db)

    # --- the seat diff -------------------------------------------------------------------------

    def seat_diff(self, month: str) -> list[DiffRow]:
        with self._lock:
            generation = self._generation
            if month in self._diffs:
                return self._diffs[month]
        rows = seat_diff(self.db, month, today=self.today)
        with self._lock:
            if generation == self._generation:  # nothing was written while we read
                self._diffs[month] = rows
        return rows

    def diff_detail(self, row: DiffRow, month: str) -> DiffDetail:
        return diff_detail(self.db, row, month)

    @staticmethod
    def summarise(rows: list[DiffRow]) -> DiffSummary:
        return summarise(rows)

    # --- billing rules -------------------------------------------------------------------------

    def rules(self) -> tuple[Rules, int | None]:
        """The rules in force and their RulesDocument id (None: the built-in defaults)."""
        return rules.current_rules(self.db)

    def rule_rows(self) -> tuple[list[RuleRow], int | None]:
        """Every default, override and rate as rows, and the id of the rules in force."""
        return rule_rows(self.db)

    def set_rule_default(self, key: str, value: str | None) -> None:
        with self._writing():
            rules.set_default(self.db, key, value)

    def set_client_rule(self, client_id: int, key: str, value: str | None) -> None:
        with self._writing():
            rules.set_client_override(self.db, client_id, key, value)

    def set_line_rule(self, client_id: int, product: str, key: str, value: str | None) -> None:
        with self._writing():
            rules.set_line_override(self.db, client_id, product, key, value)

    # --- the batch -----------------------------------------------------------------------------

    def batch(self, month: str) -> BatchOverview:
        """The month's batch for the store as it is: the stored one, built when inputs changed."""
        built = current_batch(self.db, month, today=self.today, build=lambda: self._build(month))
        return batch_overview(self.db, built)

    def rebuild_batch(self, month: str) -> BatchOverview:
        return batch_overview(self.db, self._build(month))

    def start_batch_helper(self) -> None:
        """Start the batch helper now if this store's batches are large, so that its start-up
        is over by the first build."""
        if self._helper is not None and is_large(self.db):
            self._helper.start()

    def close(self) -> None:
        """End the batch helper, once a build it may be running is done."""
        if self._helper is not None:
            self._helper.close()

    def _build(self, month: str) -> str:
        if self._helper is not None and is_large(self.db):
            built = self._helper.build(month, None, self.today)
            if built is not None:
                return built
        return build_batch(self.db, month, today=self.today).batch_id

    def batch_invoice(self, batch_id: str, row: InvoiceRow) -> InvoiceView:
        return batch_invoice(self.db, batch_id, row)

    def set_invoice_state(self, batch_id: str, client_id: int, state: str) -> None:
        batch_review.set_invoice_state(self.db, batch_id, client_id, state)

    def override_anomaly(
        self,
        batch_id: str,
        client_id: int,
        code: str,
        reason: str,
        subscription_id: str | None = None,
    ) -> None:
        batch_review.override_anomaly(self.db, batch_id, client_id, code, reason, subscription_id)

    def cost_evidence(self, subscription_id: str, months: list[str]) -> list[CostItem]:
        return batch_review.cost_evidence(self.db, subscription_id, months)

    # --- sync ----------------------------------------------------------------------------------

    async def sync(self, report: Report | None = None) -> list[SourceResult]:
        """Sync both sources with fresh clients; cancelling leaves the store as it was."""
        if self._sync_clients is None:
            raise SyncUnavailableError("this workbench has no connections to sync from")
        pax8, halo = self._sync_clients()
        settings = self._connections.settings if self._connections else None
        retention = settings.log.retention_days if settings else DEFAULT_LOG_RETENTION_DAYS
        try:
            async with pax8, halo:
                return await sync_sources(
                    self.db,
                    pax8=pax8,
                    halo=halo,
                    today=self.today,
                    report=report,
                    log_retention_days=retention,
                )
        finally:
            self._forget()

    # --- logs --------------------------------------------------------------------------------

    def log_tiles(self) -> logs_view.LogTiles:
        """The last 30 days of the log as of this workbench's clock."""
        return logs_view.log_tiles(self.db, self._clock())

    def log_page(
        self, level: str | None, page: int, page_size: int
    ) -> tuple[list[logs_view.LogRow], int]:
        return logs_view.log_page(self.db, level, page, page_size)

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

    def sync_min_interval(self) -> int | None:
        """The configured minimum minutes between syncs (0: none), or None without a config."""
        return self._connections.settings.sync.min_interval_minutes if self._connections else None

    # --- approval and posting ------------------------------------------------------------------

    def review_batch(self, month: str) -> BatchOverview:
        """The batch the Batch screen reviews: the month's newest with an approval (so lapsed
        approvals stay in view when the store moves on), else the month's batch as it is."""
        batch_id = batch_approvals.review_batch_id(self.db, month)
        return self.batch(month) if batch_id is None else batch_overview(self.db, batch_id)

    def batch_approvals(self, batch_id: str) -> BatchApprovals:
        return batch_approvals.batch_approvals(self.db, batch_id, today=self.today)

    def approve(self, batch_id: str, clients: Sequence[int]) -> ApprovalResult:
        return approval.approve(self.db, batch_id, clients)

    def revoke_approval(self, batch_id: str, clients: Sequence[int]) -> int:
        return approval.revoke(self.db, batch_id, clients)

    @property
    def can_post(self) -> bool:
        return self._sinks is not None

    def plan_posting(
        self, batch_id: str, destination: str, clients: Sequence[int] | None = None
    ) -> PostingPlan:
        return posting.plan_posting(
            self.db, batch_id, destination, today=self.today, clients=clients
        )

    def queue_posting(self, plan: PostingPlan) -> list[EntryView]:
        """Journal the plan's documents; the batch's create entries at its destination after."""
        posting.queue_posting(self.db, plan)
        return self.posting_entries(plan.batch_id, plan.destination, "create")

    def queue_void(self, batch_id: str, destination: str) -> list[EntryView]:
        """Journal the void of everything the batch posted there; its void entries after."""
        posting.queue_void(self.db, batch_id, destination)
        return self.posting_entries(batch_id, destination, "void")

    def posting_entries(self, batch_id: str, destination: str, action: str) -> list[EntryView]:
        return posting.posting_entries(self.db, batch_id, destination, action)

    async def run_posting(
        self, batch_id: str, destination: str, *, action: str, progress: Progress
    ) -> RunReport:
        """Send the journal's unfinished entries on a sink opened for this run."""
        if self._sinks is None:
            raise SyncUnavailableError("this workbench has no destinations to post to")
        async with self._sinks(destination) as sink:
            return await run_posting(self.db, sink, batch_id, action=action, progress=progress)

    def _forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._diffs.clear()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write: the cached seat diffs are stale afterwards, whether it succeeded or not."""
        try:
            yield
        finally:
            self._forget()


def _accepted_source(score: int | None) -> str:
    # As accepting them all does: only id links and SKUs score EXACT, a name never does.
    return "exact" if score == EXACT else "suggestion"
