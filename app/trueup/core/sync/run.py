"""`trueup sync`: pull Pax8 and Halo into the store, both at once, each applied atomically."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from trueup.core.errors import TrueupError
from trueup.core.settings.config import DEFAULT_MAX_SHRINK, MIN_LOG_RETENTION_DAYS
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiClient, ApiError
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import tables as m
from trueup.core.store.backup import restore_hint
from trueup.core.store.database import Database, StoreError
from trueup.core.store.json_text import dump_json
from trueup.core.store.logbook import log_event, read_log
from trueup.core.sync.lock import LockHeld, exclusive, lock_path
from trueup.core.sync.pax8_again import (
    HistoryWanted,
    Short,
    adds_up,
    items_needed,
    usage_needed,
)
from trueup.core.sync.shrink import ShrinkRefused, check_shrink
from trueup.core.sync.staging import (
    EntityCounts,
    Stager,
    apply_run,
    fail_run,
    recover_stale_runs,
    start_run,
)
from trueup.core.values.money import money_prose
from trueup.core.values.parsing import month_start
from trueup.core.values.text import some

logger = logging.getLogger("trueup.sync")

# (source, what, done, total or None)
Report = Callable[[str, str, int, int | None], None]

DEFAULT_LOG_RETENTION_DAYS = 90
SOURCES = ("pax8", "halo")


class SyncBusyError(TrueupError):
    """Another trueup process is syncing into the same file."""


@dataclass
class SourceResult:
    source: str
    status: str  # ok | failed | interrupted
    run_id: int
    seconds: float
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    error: str | None = None
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    warnings: list[SyncWarning] = field(default_factory=list)  # what this run logged so


@dataclass(frozen=True)
class SyncWarning:
    """A warning a source's sync logged during this run (the log keeps it whole): `trueup sync`
    and the workbench show its `line`, as the operator would otherwise never read the log."""

    id: int  # the log entry's
    at: str
    event: str
    details: dict[str, Any]

    @property
    def line(self) -> str:
        """One line: the event, then the invoices it names (an invoice read again) or why."""
        said = self.details.get("invoices") or self.details.get("reason")
        text = f"{self.event}{' — ' if ':' in self.event else ': '}{said}" if said else self.event
        return " ".join(str(text).split())


# A run's warnings are read back from the log, newest first, up to this many: a run logs a
# handful (each kind's first few records skipped, the invoices read again).
_WARNINGS_READ = 1000


async def sync_sources(
    db: Database,
    *,
    pax8: Pax8Client | None,
    halo: HaloClient | None,
    today: date,
    report: Report | None = None,
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
    max_shrink_percent: int | None = DEFAULT_MAX_SHRINK,
) -> list[SourceResult]:
    """Sync every given source concurrently; each one commits all of its data or none of it.

    Only one sync runs per store at a time: a second one raises SyncBusyError and does nothing.
    A source whose answer holds far fewer records than the store fails (sync/shrink.py) unless
    `max_shrink_percent` is None (the operator accepted the shrink). At the end, log entries
    older than `log_retention_days` are deleted.
    """
    with ExitStack() as held:
        try:
            held.enter_context(exclusive(lock_path(db.path)))
        except LockHeld as holder:
            raise _refused(db, str(holder)) from None
        await _refuse_damaged(db)
        claim_sync(db)
        logged_before = _newest_log_id(db)
        jobs: list[Awaitable[SourceResult]] = []
        if pax8 is not None:
            fetch = _Pax8Fetch(pax8, db, today, report).run
            jobs.append(_run_source(db, "pax8", pax8, fetch, max_shrink_percent))
        if halo is not None:
            fetch = _HaloFetch(halo, report).run
            jobs.append(_run_source(db, "halo", halo, fetch, max_shrink_percent))
        results = list(await asyncio.gather(*jobs))
        _add_warnings(db, results, logged_before)
        prune_log(db, log_retention_days)
        return results


def _newest_log_id(db: Database) -> int:
    newest = read_log(db, limit=1)
    return int(newest[0]["id"]) if newest else 0


def _add_warnings(db: Database, results: list[SourceResult], after: int) -> None:
    """Each result's warnings: those its source logged since log entry `after` (under the sync
    lock no other sync logs meanwhile), oldest first."""
    entries = [
        entry
        for entry in read_log(db, level="WARNING", limit=_WARNINGS_READ)
        if entry["id"] > after
    ]
    for result in results:
        result.warnings = [
            SyncWarning(entry["id"], entry["at"], entry["event"], entry["details"])
            for entry in reversed(entries)
            if entry["source"] == result.source
        ]


def _refused(db: Database, pid: str) -> SyncBusyError:
    """Log the skipped sync (the monitoring screen shows overlapping schedules) and say why."""
    who = f" (pid {pid})" if pid.isdigit() else ""
    try:
        with db.write() as conn:
            log_event(conn, "WARNING", "sync skipped", reason=f"another sync{who} is in progress")
    except StoreError:
        pass  # the other sync holds the write lock too long: the refusal is still said
    return SyncBusyError(
        f"sync in progress: another trueup{who} is syncing into {db.path}; "
        "this one did nothing — wait for it to finish"
    )


async def _refuse_damaged(db: Database) -> None:
    """StoreError before anything is written into a file SQLite finds damaged: a sync would
    only add to it. Checked in a thread, so the workbench's progress keeps drawing."""
    problem = await asyncio.to_thread(db.damage)
    if problem is not None:
        raise StoreError(
            f"{db.path} is damaged (SQLite found: {problem}), so nothing was synced into it: "
            f"`trueup doctor` examines it; {restore_hint(db.path)}"
        )


def prune_log(db: Database, retention_days: int, *, now: datetime | None = None) -> int:
    """Delete log entries older than the retention (never less than 30 days); how many went."""
    days = max(retention_days, MIN_LOG_RETENTION_DAYS)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    table = m.table_of(m.LogEvent)
    with db.write() as conn:
        gone = conn.execute(delete(table).where(table.c.at < cutoff))
    return int(gone.rowcount)


def claim_sync(db: Database) -> None:
    """Refuse to start while another live process syncs; clear runs a dead process left.

    Under the lock no other trueup of this version syncs; this also catches one on a store
    shared with an older trueup that took no lock.
    """
    runs = m.table_of(m.SyncRun)
    with db.read() as conn:
        running = conn.execute(
            select(runs.c.id, runs.c.pid, runs.c.host).where(runs.c.status == "running")
        ).all()
    for run in running:
        # This process's own run is one a failure could not close (a full disk): under the
        # sync lock no other sync of this process runs.
        mine = run.pid == os.getpid()
        if run.host == socket.gethostname() and run.pid and not mine and _alive(run.pid):
            raise SyncBusyError(
                f"sync in progress: another trueup (pid {run.pid}) is syncing into {db.path}; "
                "wait for it to finish"
            )
    recover_stale_runs(db)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _run_source(
    db: Database,
    source: str,
    client: ApiClient,
    fetch: Callable[[Stager], Awaitable[None]],
    max_shrink_percent: int | None,
) -> SourceResult:
    started = time.monotonic()
    run_id = start_run(db, source, pid=os.getpid(), host=socket.gethostname())
    stager = Stager(db, run_id)
    result = SourceResult(source, "ok", run_id, 0.0)
    try:
        await fetch(stager)
        if max_shrink_percent is not None:
            check_shrink(db, source, stager.fetched, max_shrink_percent, stager.in_scope)
        result.counts = apply_run(db, run_id, source, stager, stats=_stats(client))
    except (ApiError, ShrinkRefused, StoreError) as exc:  # each says what to do: no traceback
        result.status, result.error = "failed", str(exc)
    except Exception as exc:  # a bug or data we did not foresee: record it, never half-apply
        logger.exception("%s sync failed", source)
        result.status, result.error = "failed", f"unexpected error: {type(exc).__name__}: {exc}"
    except (asyncio.CancelledError, KeyboardInterrupt):
        fail_run(db, run_id, source, "interrupted", "interrupted by the user", _stats(client))
        raise
    finally:
        stats = _stats(client)
        result.requests = stats["requests"]
        result.retries = stats["retries"]
        result.rate_limited = stats["rate_limited"]
        result.seconds = time.monotonic() - started
    if result.status != "ok":
        fail_run(db, run_id, source, result.status, result.error or "", _stats(client))
    return result


def _stats(client: ApiClient) -> dict[str, int]:
    return {
        "requests": client.stats.requests,
        "retries": client.stats.retries,
        "rate_limited": client.stats.rate_limited,
    }


async def _all(*jobs: Coroutine[Any, Any, None]) -> None:
    """Run jobs concurrently; the first failure cancels the rest and is raised as itself."""
    async with _together() as group:
        for job in jobs:
            group.create_task(job)


@asynccontextmanager
async def _together() -> AsyncIterator[asyncio.TaskGroup]:
    """A task group whose first failure cancels the rest and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as group_error:
        raise group_error.exceptions[0] from None


# Of the Pax8 client's 8 request slots, the subscriptions' pages take at most this many: the
# others are free for the history requests of the pages already in.
_PAGES_AT_ONCE = 4


@dataclass
class _Progress:
    """A count told to the report as it moves; its total is None until known."""

    tell_report: Callable[[str, int, int | None], None]
    what: str
    done: int = 0
    total: int | None = None

    def tell(self) -> None:
        self.tell_report(self.what, self.done, self.total)


class _Pax8Fetch:
    def __init__(
        self, client: Pax8Client, db: Database, today: date, report: Report | None
    ) -> None:
        self.client = client
        self.db = db
        self.today = today
        self.report = report
        self.window_start = month_start(today, 1)  # the months being reconciled: last and this
        self.invoices_since = month_start(today, 2)  # invoices of the last three months
        self.subscriptions: list[dict[str, Any]] = []
        self.arrears_subscriptions: set[str] = set()

    def _tell(self, what: str, done: int, total: int | None) -> None:
        if self.report:
            self.report("pax8", what, done, total)

    async def run(self, stager: Stager) -> None:
        """The lists first; each subscription's history asked for as soon as its page is in,
        while the list is still paged. In a rolling window every later window repeats the
        pace of the first, and cheap history requests fill it faster than the list's pages
        (bench/README.md). The invoices' items and the products once the lists are whole;
        usage last, as it needs the items (the subscriptions Pax8 bills in arrears)."""
        invoices: list[dict[str, Any]] = []
        wanted = HistoryWanted(self.db, self.window_start)
        history = _Progress(self._tell, "subscription history")
        async with _together() as group:

            def more_history(subscriptions: list[dict[str, Any]]) -> None:
                for sub_id in wanted.of(subscriptions):
                    job = self._history(stager, sub_id, history)
                    try:
                        group.create_task(job)
                    except RuntimeError:  # the group is shutting down: a request failed
                        job.close()  # never started, so never awaited: nothing to warn of
                        return

            history.tell()
            await _all(
                self._listing(stager, "/companies", "pax8_company", "companies"),
                self._listing(
                    stager,
                    "/subscriptions",
                    "pax8_subscription",
                    "subscriptions",
                    keep=self.subscriptions.extend,
                    staged=more_history,
                    at_once=_PAGES_AT_ONCE,
                ),
                self._listing(
                    stager,
                    "/invoices",
                    "pax8_invoice",
                    "invoices",
                    params={"invoiceDateRangeStart": self.invoices_since.isoformat()},
                    keep=invoices.extend,
                ),
            )
            history.total = wanted.count
            history.tell()
            group.create_task(self._products(stager))
            group.create_task(self._invoice_items(stager, invoices))
        await self._usage(stager)

    async def _listing(
        self,
        stager: Stager,
        path: str,
        entity: str,
        label: str,
        *,
        params: dict[str, str] | None = None,
        keep: Callable[[list[dict[str, Any]]], None] | None = None,
        staged: Callable[[list[dict[str, Any]]], None] | None = None,
        at_once: int | None = None,
    ) -> None:
        """A complete paged list: page 0 says how many pages, the rest come concurrently, at
        most `at_once` at a time (the client's other slots are left to what `staged` asks for:
        it is told each page once staged). Each page is staged as soon as those before it are:
        parsed while the next ones are fetched, not all at the end, when parsing 41,000
        subscriptions would hold back the requests that follow them, and in a rolling window
        every later window with them (bench/README.md).
        In page order, whatever order the pages came in: of an id listed twice, the first copy
        is the one kept (sync/staging.py), the same one every sync."""
        first, info = await self.client.get_page(path, 0, params)
        pages: dict[int, list[dict[str, Any]]] = {}
        done = fetched = 0  # the pages staged (from the first), the rows fetched

        def arrived(number: int, rows: list[dict[str, Any]]) -> None:
            nonlocal done, fetched
            pages[number] = rows
            while done in pages:
                stager.add(entity, pages[done])
                if staged:
                    staged(pages[done])
                done += 1
            fetched += len(rows)
            self._tell(label, fetched, info.total_elements)

        arrived(0, first)
        slots = asyncio.Semaphore(at_once or max(1, info.total_pages))

        async def one(number: int) -> None:
            async with slots:
                rows, _ = await self.client.get_page(path, number, params)
            arrived(number, rows)

        await _all(*(one(n) for n in range(1, info.total_pages)))
        in_order = [pages[number] for number in sorted(pages)]
        _check_complete(in_order, info.total_elements, label, path)
        if keep:
            keep([row for page in in_order for row in page])

    async def _products(self, stager: Stager) -> None:
        wanted = {str(s["productId"]) for s in self.subscriptions if s.get("productId")}
        first, info = await self.client.get_page("/products", 0)
        found = [p for p in first if str(p.get("id")) in wanted]
        missing = wanted - {str(p.get("id")) for p in found}
        # Paging the catalogue beats one GET per product only when the catalogue is small.
        if missing and info.total_pages - 1 <= len(missing):
            for number in range(1, info.total_pages):
                rows, _ = await self.client.get_page("/products", number)
                found.extend(p for p in rows if str(p.get("id")) in missing)
        else:

            async def one(product_id: str) -> None:
                try:
                    found.append(await self.client.product(product_id))
                except ApiError as exc:
                    if exc.kind != "not_found":
                        raise

            await _all(*(one(pid) for pid in sorted(missing)))
        stager.add("pax8_product", found)
        self._tell("products", len(found), len(wanted))

    async def _history(self, stager: Stager, sub_id: str, progress: _Progress) -> None:
        snapshots = await self.client.subscription_history(sub_id)
        stager.add(
            "pax8_subscription_snapshot",
            snapshots,
            scope=sub_id,
            extra=lambda i: {"subscription_id": sub_id, "position": i},
        )
        progress.done += 1
        progress.tell()

    async def _invoice_items(self, stager: Stager, invoices: list[dict[str, Any]]) -> None:
        """The items of the invoices items_needed names, each invoice's staged as they come;
        of one read again because its stored items do not add up to its total, once all came,
        and only if they add up or leave out none of the stored ones (else the stored stay)."""
        wanted = items_needed(self.db, invoices)
        if wanted.short:
            self._said_short(wanted.short)
        done = 0

        def stage(invoice_id: str, page: list[dict[str, Any]]) -> None:
            stager.add(
                "pax8_invoice_item", page, scope=invoice_id, extra={"invoice_id": invoice_id}
            )
            self.arrears_subscriptions.update(
                str(i["subscriptionId"])
                for i in page
                if i.get("term") == "Arrears" and i.get("subscriptionId")
            )

        async def one(invoice_id: str) -> None:
            nonlocal done
            short = wanted.short.get(invoice_id)
            came: list[dict[str, Any]] = []
            async for page in self.client.invoice_items(invoice_id):
                if short is None:
                    stage(invoice_id, page)
                else:
                    came.extend(page)
                done += len(page)
                self._tell("invoice items", done, None)
            if short is not None:
                if adds_up(short.total, came) or short.stored <= {str(i.get("id")) for i in came}:
                    stage(invoice_id, came)
                else:
                    self._kept_short(invoice_id, short, came)

        await _all(*(one(i) for i in wanted.ids))
        if wanted.ids:
            self._tell("invoice items", done, done)  # the count is known only at the end
        items = m.table_of(m.Pax8InvoiceItem)
        with self.db.read() as conn:
            self.arrears_subscriptions.update(
                conn.execute(
                    select(items.c.subscription_id)
                    .where(items.c.term == "Arrears", items.c.subscription_id.is_not(None))
                    .group_by(items.c.subscription_id)
                ).scalars()
            )

    def _said_short(self, short: dict[str, Short]) -> None:
        """Log the invoices whose stored items do not add up to their totals (read again)."""
        said = [
            f"{invoice_id} ({len(s.stored)} items adding up to {money_prose(s.sums[0])} cost, "
            f"{money_prose(s.sums[1])} total, against its total {money_prose(s.total)})"
            for invoice_id, s in sorted(short.items())
        ]
        with self.db.write() as conn:
            log_event(
                conn,
                "WARNING",
                "invoice items: stored ones do not add up to their invoice's total, read again",
                source="pax8",
                invoices=some(said, 5),
                count=len(short),
                reason="some of an invoice's items were never stored (a page served empty or "
                "cut short was taken as the end before c440920), or Pax8 adds its total up "
                "another way; its items are read again every sync until they add up",
            )

    def _kept_short(self, invoice_id: str, short: Short, came: list[dict[str, Any]]) -> None:
        """Log an invoice whose items, read again, were not applied: worse than the stored."""
        left_out = len(short.stored - {str(i.get("id")) for i in came})
        with self.db.write() as conn:
            log_event(
                conn,
                "WARNING",
                f"invoice items: {invoice_id} read again, the stored ones kept",
                source="pax8",
                id=invoice_id,
                reason=f"the {len(came)} items Pax8 listed do not add up to the invoice's total "
                f"{money_prose(short.total)} and leave out {left_out} of the {len(short.stored)} "
                "stored; read again next sync",
            )

    async def _usage(self, stager: Stager) -> None:
        month = self.today.strftime("%Y-%m")
        usage = usage_needed(self.subscriptions, self.arrears_subscriptions, self.window_start)
        done = 0

        async def one(sub_id: str) -> None:
            nonlocal done
            async for page in self.client.usage_summaries(sub_id):
                stager.add(
                    "pax8_usage_summary",
                    page,
                    extra={"month": month, "subscription_id": sub_id},
                )
            done += 1
            self._tell("usage summaries", done, len(usage))

        await _all(*(one(s) for s in usage))


def _check_complete(pages: list[list[dict[str, Any]]], total: int, label: str, path: str) -> None:
    """Refuse a listing with fewer distinct ids than Pax8 counts: rows shifted between pages
    while they were fetched, and one may be missing. An id twice on one page is Pax8's own
    data, not paging: it is let through (its first copy is kept, and the log says so)."""
    seen: Counter[str] = Counter()
    same_page = 0
    for page in pages:
        ids = Counter(str(row.get("id")) for row in page)
        same_page += sum(n - 1 for key, n in ids.items() if key != "None")
        seen.update(ids)
    if len(seen) + same_page >= total:
        return
    twice = sorted(key for key, n in seen.items() if n > 1 and key != "None")
    named = f"; listed twice: {some(twice, 5)}" if twice else ""
    raise ApiError(
        "Pax8",
        "bad_response",
        None,
        f"Pax8 listed {len(seen)} of {total} {label} at {path} (the list changed while "
        f"paging?{named}); nothing was saved, sync again",
    )


class _HaloFetch:
    LISTS = (
        ("clients", "halo_client", "clients"),
        ("sites", "halo_site", "sites"),
        ("items", "halo_item", "items"),
        ("licences", "halo_licence", "licences"),
        ("external_links", "halo_external_link", "external links"),
    )

    def __init__(self, client: HaloClient, report: Report | None) -> None:
        self.client = client
        self.report = report

    async def run(self, stager: Stager) -> None:
        await _all(
            *(self._list(stager, method, entity, label) for method, entity, label in self.LISTS),
            self._recurring_invoices(stager),
        )

    def _tell(self, what: str, done: int, total: int | None) -> None:
        if self.report:
            self.report("halo", what, done, total)

    async def _list(self, stager: Stager, method: str, entity: str, label: str) -> None:
        done = 0
        async for page in getattr(self.client, method)():
            stager.add(entity, page)
            done += len(page)
            self._tell(label, done, None)
        self._tell(label, done, done)  # Halo lists say their length only page by page

    async def _recurring_invoices(self, stager: Stager) -> None:
        done = 0
        async for page in self.client.recurring_invoices():
            stager.add(
                "halo_recurring_invoice",
                [{k: v for k, v in ri.items() if k != "lines"} for ri in page],
            )
            for ri in page:
                lines = ri.get("lines")
                # Asked with includelines: null or no key is not "no lines" (it would delete
                # the stored ones); an invoice with none answers []. A line that is no object
                # is no line either.
                if not isinstance(lines, list) or not all(isinstance(ln, dict) for ln in lines):
                    said = f"lines {dump_json(lines)[:40]}" if "lines" in ri else "no lines key"
                    what = "list of objects" if isinstance(lines, list) else "list"
                    raise ApiError(
                        "HaloPSA",
                        "bad_response",
                        None,
                        f"HaloPSA answered recurring invoice {ri.get('id')!r} with {said}, not a "
                        f"{what}: nothing was applied",
                    )
                # Lines name their header in "ihid"; the extra covers a line that does not.
                stager.add("halo_recurring_invoice_line", lines, extra={"ihid": ri.get("id")})
            done += len(page)
            self._tell("recurring invoices", done, None)
        self._tell("recurring invoices", done, done)


def last_good_sync(db: Database) -> datetime | None:
    """When every source had last synced successfully (the older of their latest good runs);
    None while a source has never synced successfully."""
    times = last_sync_times(db)
    ended = [times.get(source) for source in SOURCES]
    if any(moment is None for moment in ended):
        return None
    return min(_utc(moment) for moment in ended if moment is not None)


def sync_too_soon(db: Database, min_interval_minutes: int, now: datetime) -> datetime | None:
    """The last good sync, when it is younger than the minimum interval (a sync would be
    skipped); None when a sync is due or no interval is set."""
    if min_interval_minutes <= 0:
        return None
    last = last_good_sync(db)
    if last is None or now - last >= timedelta(minutes=min_interval_minutes):
        return None
    return last


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def last_sync_times(db: Database) -> dict[str, datetime | None]:
    runs = m.table_of(m.SyncRun)
    with db.read() as conn:
        rows = conn.execute(
            select(runs.c.source, func.max(runs.c.ended_at))
            .where(runs.c.status == "ok")
            .group_by(runs.c.source)
        ).all()
    return {source: ended for source, ended in rows}
