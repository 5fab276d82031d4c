"""Posting approved invoices and voiding posted ones, exactly once: `trueup post`, `trueup void`,
`trueup journal` and the posting screens."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import date

from trueup.core.errors import SyncUnavailableError
from trueup.core.posting import plan as planning
from trueup.core.posting.adjustment_plan import check_current, plan_adjustments
from trueup.core.posting.configured import open_sink
from trueup.core.posting.plan import EntryView as EntryView
from trueup.core.posting.plan import PostingError as PostingError
from trueup.core.posting.plan import PostingPlan as PostingPlan
from trueup.core.posting.run import PostingBusyError as PostingBusyError
from trueup.core.posting.run import Progress, posting_lock, run_posting
from trueup.core.posting.run import RunReport as RunReport
from trueup.core.posting.sandbox import SandboxSinks as SandboxSinks
from trueup.core.posting.sink import Sink as Sink
from trueup.core.settings.config import Settings, XeroSettings
from trueup.core.store.backup import DEFAULT_KEEP
from trueup.core.store.database import Database
from trueup.core.store.postings import live_postings, month_entries

SinkFactory = Callable[[str], AbstractAsyncContextManager[Sink]]  # destination -> open sink


def configured_sinks(settings: Settings) -> SinkFactory:
    """Sinks on the configured connections (the environment's TRUEUP_*_URL included)."""
    return lambda destination: open_sink(destination, settings)


def check_destination(destination: str) -> str:
    """The destination if trueup posts there; else PostingError naming the ones it knows."""
    return planning.check_destination(destination)


class Posting:
    """The posting journal of one store as of `today`; `sinks` opens a destination for a run
    (None: nowhere to post, the store can still be read)."""

    def __init__(
        self,
        db: Database,
        *,
        today: date,
        sinks: SinkFactory | None = None,
        xero: XeroSettings | None = None,
        qbo_realm: str | None = None,
        backups_kept: int | None = None,
    ) -> None:
        self.db = db
        self.today = today
        self._sinks = sinks
        self._xero = xero  # how Xero documents are made (status, default account, due days)
        self._realm = qbo_realm or None  # the QuickBooks company a post reaches
        self._kept = backups_kept  # [backup] keep: the copies of the store a run leaves

    @property
    def can_post(self) -> bool:
        return self._sinks is not None

    def exclusive(self) -> AbstractContextManager[None]:
        """This store's posting to this process alone, from the plan to the run's end: another
        `trueup post` is refused (PostingBusyError) before it writes to the journal."""
        return posting_lock(self.db)

    def plan(
        self, batch_id: str, destination: str, clients: Sequence[int] | None = None
    ) -> PostingPlan:
        """What posting would do: ready, already posted, and what cannot post and why."""
        return planning.plan_posting(
            self.db,
            batch_id,
            destination,
            today=self.today,
            clients=clients,
            xero=self._xero,
            qbo_realm=self._realm,
        )

    def plan_adjustments(
        self, batch_id: str, destination: str, clients: Sequence[int] | None = None
    ) -> PostingPlan:
        """For each client whose month is posted at `destination`: the adjustment that brings
        what was posted to what the batch bills now (ready), none needed (done), or why not.
        PostingError when the batch is not what its month bills now (an older one)."""
        check_current(self.db, batch_id, destination, today=self.today)
        return plan_adjustments(
            self.db, batch_id, destination, clients=clients, xero=self._xero, qbo_realm=self._realm
        )

    def queue(self, plan: PostingPlan) -> list[EntryView]:
        """Journal the plan's documents; the batch's create entries at its destination after."""
        planning.queue_posting(self.db, plan)
        return self.entries(plan.batch_id, plan.destination, "create")

    def queue_void(
        self, batch_id: str, destination: str, clients: Sequence[int] | None = None
    ) -> list[EntryView]:
        """Journal the void of what the batch posted there (of `clients`, else all); its void
        entries after."""
        planning.queue_void(self.db, batch_id, destination, clients)
        return self.entries(batch_id, destination, "void")

    def posted_batches(
        self, month: str, destination: str, clients: Sequence[int] | None = None
    ) -> dict[str, list[int]]:
        """The batches that posted the month at `destination` (for `clients`, else all),
        each with the clients it posted there and not voided since."""
        wanted = None if clients is None else set(clients)
        found: dict[str, list[int]] = {}
        with self.db.read() as conn:
            for client_id, sent in live_postings(conn, month).items():
                if wanted is not None and client_id not in wanted:
                    continue
                for entry in sent:
                    if entry.destination == destination and entry.state == "POSTED":
                        found.setdefault(entry.batch_id, []).append(client_id)
        return found

    def on_the_way(self, month: str, destination: str, clients: Collection[int]) -> list[EntryView]:
        """The documents of `clients` still on their way to `destination` (pending, sending,
        unknown: an adjustment killed mid-way, a run stopped): a void must wait for them, or
        the client keeps one that gets there after, though its month reads voided."""
        return [
            e
            for e in self.month_entries(month, destination)
            if e.action == "create"
            and e.state in ("PENDING", "SENDING", "UNKNOWN")
            and e.client_id in clients
        ]

    def void_targets(
        self, batch_id: str, destination: str, clients: Sequence[int] | None = None
    ) -> dict[str, list[int] | None]:
        """What `trueup void BATCH` voids: the batch's documents at `destination` (of
        `clients`, else all) and, since voiding a client voids its adjustments too, the live
        adjustments of those documents another batch posted there; each batch with the clients
        to void there (None: all of the batch's)."""
        targets: dict[str, list[int] | None] = {batch_id: list(clients) if clients else None}
        with self.db.read() as conn:
            sent = [e for e in month_entries(conn, batch_id[:7]) if e.destination == destination]
        # Its documents voided or still to void (a void cut short finishes their adjustments').
        chain = {
            e.reference
            for e in sent
            if e.batch_id == batch_id
            and not e.adjustment
            and e.state in ("POSTED", "VOIDED")
            and (not clients or e.client_id in clients)
        }
        for e in sent:
            if e.batch_id != batch_id and e.state == "POSTED" and chain.intersection(e.adjusts):
                whose = targets.setdefault(e.batch_id, [])
                if whose is not None and e.client_id not in whose:
                    whose.append(e.client_id)
        return targets

    def entries(
        self, batch_id: str, destination: str | None = None, action: str | None = None
    ) -> list[EntryView]:
        return planning.posting_entries(self.db, batch_id, destination, action)

    def month_entries(self, month: str, destination: str | None = None) -> list[EntryView]:
        """The month's journal, whichever batch wrote each entry."""
        return planning.posting_entries(self.db, None, destination, month=month)

    async def run(
        self,
        batch_id: str,
        destination: str,
        *,
        action: str,
        progress: Progress,
        stop: threading.Event | None = None,
    ) -> RunReport:
        """Send the journal's unfinished entries on a sink opened for this run; once `stop` is
        set, none after the request in flight (run_posting)."""
        if self._sinks is None:
            raise SyncUnavailableError("this workbench has no destinations to post to")
        async with self._sinks(destination) as sink:
            return await run_posting(
                self.db,
                sink,
                batch_id,
                action=action,
                progress=progress,
                backups_kept=DEFAULT_KEEP if self._kept is None else self._kept,
                stop=stop,
            )
