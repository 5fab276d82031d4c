"""Sending the journal's entries to a destination, exactly once.

Each entry moves PENDING -> SENDING -> POSTED | REJECTED | UNKNOWN, and every move is committed
before the network call that follows it. So after a crash at any point an entry says what may
have happened: SENDING or UNKNOWN means the document may exist, and the run settles it by
looking the document up by its reference, never by sending it blindly again. Only PENDING
entries (never sent, or proven absent) are sent.

One run at a time per store (a lock file beside the database), and the store is backed up with
SQLite's backup API before each run.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from trueup.core.posting.crashpoints import crash_point
from trueup.core.posting.plan import (
    ENTRIES,
    UNFINISHED,
    EntryView,
    PostingError,
    entry_view,
    posting_entries,
)
from trueup.core.posting.sink import Document, Posted, Refused, Sink
from trueup.core.settings.operator import current_user
from trueup.core.sources.http import ApiError
from trueup.core.store.backup import DEFAULT_KEEP, backup_database
from trueup.core.store.database import Database
from trueup.core.store.logbook import log_event

Progress = Callable[[EntryView], None]
MAX_SENDS = 3  # per entry and run: a document the destination keeps losing waits for the next run


@dataclass
class RunReport:
    backup: Path | None = None
    posted: int = 0
    found: int = 0  # settled by lookup: it was there already
    rejected: int = 0
    unknown: int = 0
    pending: int = 0
    stopped: str | None = None  # why the run stopped early (the destination is unavailable)
    interrupted: bool = False  # asked to stop (Ctrl-C): what was in flight finished, no more
    entries: list[EntryView] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.stopped is None and not (self.unknown or self.pending or self.rejected)


class PostingBusyError(PostingError):
    pass


@contextmanager
def posting_lock(db: Database) -> Iterator[None]:
    """Two posting runs on one store would both see PENDING entries and both send them. Held
    from the plan to the run's end (a run inside takes it again: this process holds it), so a
    second `trueup post` is refused before it writes anything to the journal."""
    # Beside the file itself: a store reached through a link is locked as the same store.
    real = db.path.resolve()
    path = str(real.with_name(real.name + ".post-lock"))
    with _HELD_LOCK:
        held = _HELD.get(path)
        if held is not None:
            held[1] += 1
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise PostingBusyError(
                    "another `trueup post` (or void, or a new Halo item) is running on this "
                    "store: let it finish"
                ) from None
            _HELD[path] = [fd, 1]
    try:
        yield
    finally:
        with _HELD_LOCK:
            held = _HELD[path]
            held[1] -= 1
            if held[1] == 0:
                os.close(held[0])
                del _HELD[path]


_HELD: dict[str, list[int]] = {}  # lock file -> [its descriptor, how many holds in this process]
_HELD_LOCK = threading.Lock()


async def run_posting(
    db: Database,
    sink: Sink,
    batch_id: str,
    *,
    action: str = "create",
    progress: Progress | None = None,
    backup: bool = True,
    backups_kept: int = DEFAULT_KEEP,
    stop: threading.Event | None = None,
) -> RunReport:
    """Send the batch's unfinished `action` entries for the sink's destination; the store is
    copied first (the newest `backups_kept` copies stay: `[backup] keep`). Once `stop` is set
    (Ctrl-C), the request in flight is answered and settled and no other is sent: the entries
    not sent stay PENDING for the next run (`RunReport.interrupted`)."""
    with posting_lock(db):
        run = _Run(db, sink, batch_id, action, progress, stop)
        if backup:
            reason = f"post-{sink.destination}"
            run.report.backup = backup_database(db, reason, keep=backups_kept)
        await run.go()
        return run.report


class _Run:
    def __init__(
        self,
        db: Database,
        sink: Sink,
        batch_id: str,
        action: str,
        progress: Progress | None,
        stop: threading.Event | None = None,
    ) -> None:
        self.db = db
        self.sink = sink
        self.batch_id = batch_id
        self.action = action
        self.progress = progress
        self.stop = stop or threading.Event()
        self.report = RunReport()
        self.by = current_user()
        self.sends: dict[int, int] = {}

    async def go(self) -> None:
        entries = self._unfinished()
        if not entries:
            return
        if self.stop.is_set():  # asked to stop before anything was sent: nothing to finish
            self.report.interrupted = True
            self._summarise()
            return
        self._log("info", "posting_started", entries=len(entries))
        try:
            if self.action == "create":
                # Whatever this run does not know it sent may be there already (a crash
                # mid-call, a restored backup): ask before creating anything.
                await self._settle(entries)
            else:
                # A void cut short (a crash mid-call) is sent again: voiding is idempotent.
                for entry in entries:
                    if entry.state != "PENDING":
                        self._move(entry.id, "PENDING", error="cut short: sent again")
            while pending := [e for e in self._unfinished() if e.state == "PENDING"]:
                sendable = [e for e in pending if self.sends.get(e.id, 0) < MAX_SENDS]
                if not sendable:
                    break
                size = max(1, self.sink.batch_size if self.action == "create" else 1)
                for start in range(0, len(sendable), size):
                    if self.stop.is_set():  # what was in flight is settled: send no more
                        break
                    await self._send(sendable[start : start + size])
                if self.stop.is_set():
                    break
        except ApiError as error:
            self.report.stopped = str(error)
        # Asked to stop while the last request was in flight: said, though nothing is left.
        self.report.interrupted = self.stop.is_set()
        self._summarise()

    async def _settle(self, entries: Sequence[Any]) -> None:
        found = await self.sink.lookup([Document.from_json(e.payload) for e in entries])
        for entry in entries:
            posted = found.get(entry.reference)
            if posted is not None:
                self.report.found += 1
                self._move(entry.id, "POSTED", posted=posted, event="posting_found")
            elif entry.state in ("SENDING", "UNKNOWN"):
                self._move(entry.id, "PENDING", error="not found at the destination: sent again")
        crash_point("settled")

    async def _send(self, entries: Sequence[Any]) -> None:
        for entry in entries:
            self.sends[entry.id] = self.sends.get(entry.id, 0) + 1
            self._move(entry.id, "SENDING", attempt=True)
        crash_point("sending")
        documents = [Document.from_json(e.payload) for e in entries]
        try:
            if self.action == "void":
                for entry, document in zip(entries, documents, strict=True):
                    await self.sink.void(document, Posted(entry.remote_id or ""))
                outcomes: Sequence[Posted | Refused] = [Posted(e.remote_id or "") for e in entries]
            else:
                outcomes = await self.sink.create(documents)
        except ApiError as error:
            await self._failed(entries, error)
            return
        crash_point("answered")
        for entry, posted in zip(entries, outcomes, strict=True):
            if isinstance(posted, Refused):
                self._move(entry.id, "REJECTED", error=posted.reason, event="posting_rejected")
                continue
            self.report.posted += 1
            event = "posting_voided" if self.action == "void" else "posting_created"
            self._move(entry.id, "POSTED", posted=posted, event=event)
        crash_point("posted")

    async def _failed(self, entries: Sequence[Any], error: ApiError) -> None:
        if error.ambiguous:
            for entry in entries:
                self._move(entry.id, "UNKNOWN", error=str(error))
            crash_point("unknown")
            if self.action == "void":
                # Voiding is idempotent: sending it again is the lookup.
                for entry in entries:
                    self._move(entry.id, "PENDING", error=str(error))
                return
            await self._settle(entries)
            return
        if error.kind == "bad_request":
            for entry in entries:
                self._move(entry.id, "REJECTED", error=str(error), event="posting_rejected")
            return
        for entry in entries:  # not sent, or surely not applied: try again on the next run
            self._move(entry.id, "PENDING", error=str(error))
        raise error

    # -- the journal ---------------------------------------------------------------------------

    def _unfinished(self) -> list[Any]:
        with self.db.read() as conn:
            return list(
                conn.execute(
                    select(ENTRIES)
                    .where(
                        (ENTRIES.c.batch_id == self.batch_id)
                        & (ENTRIES.c.destination == self.sink.destination)
                        & (ENTRIES.c.action == self.action)
                        & ENTRIES.c.state.in_(UNFINISHED)
                    )
                    .order_by(ENTRIES.c.id)
                ).all()
            )

    def _move(
        self,
        entry_id: int,
        state: str,
        *,
        posted: Posted | None = None,
        error: str | None = None,
        attempt: bool = False,
        event: str | None = None,
    ) -> None:
        """Commit one entry's new state (and the audit entry for a final one)."""
        values: dict[str, Any] = {"state": state, "updated_at": datetime.now(UTC)}
        if posted is not None:
            values |= {"remote_id": posted.remote_id, "remote_number": posted.remote_number}
        if state in ("POSTED", "REJECTED", "UNKNOWN", "PENDING"):
            values["error"] = error
        with self.db.write() as conn:
            if attempt:
                values["attempts"] = ENTRIES.c.attempts + 1
            conn.execute(ENTRIES.update().where(ENTRIES.c.id == entry_id).values(**values))
            row = conn.execute(select(ENTRIES).where(ENTRIES.c.id == entry_id)).one()
            if event is not None:
                log_event(
                    conn,
                    "error" if state == "REJECTED" else "info",
                    event,
                    source="posting",
                    batch_id=self.batch_id,
                    destination=row.destination,
                    client_id=row.client_id,
                    reference=row.reference,
                    remote_id=row.remote_id,
                    error=row.error,
                    by=self.by,
                )
        if self.progress is not None:
            self.progress(entry_view(row))

    def _summarise(self) -> None:
        # As the journal shows them: a document voided since reads VOIDED (not POSTED, which
        # is not counted here).
        self.report.entries = posting_entries(
            self.db, self.batch_id, self.sink.destination, self.action
        )
        states = [e.state for e in self.report.entries]
        self.report.rejected = states.count("REJECTED")
        self.report.unknown = states.count("UNKNOWN") + states.count("SENDING")
        self.report.pending = states.count("PENDING")
        level = "info" if self.report.complete else "warning"
        self._log(
            level,
            "posting_completed" if self.report.complete else "posting_incomplete",
            posted=self.report.posted,
            found=self.report.found,
            rejected=self.report.rejected,
            unknown=self.report.unknown,
            pending=self.report.pending,
            stopped=self.report.stopped,
            interrupted=self.report.interrupted,
        )

    def _log(self, level: str, event: str, **details: Any) -> None:
        with self.db.write() as conn:
            log_event(
                conn,
                level,
                event,
                source="posting",
                batch_id=self.batch_id,
                destination=self.sink.destination,
                action=self.action,
                by=self.by,
                **details,
            )
