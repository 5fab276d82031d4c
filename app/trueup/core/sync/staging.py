"""Staging fetched records and applying them in one transaction.

A sync first stages what it fetches (short transactions, so memory stays flat and the two
sources never hold the write lock for long), each record parsed into its row as it is staged,
while the fetch waits on the rate limits anyway; then it applies everything in ONE transaction,
as set-based statements (sync/apply.py). A sync that fails or is interrupted before that
transaction commits changes no synced data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Dialect, Table, delete, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.json_text import dump_json
from trueup.core.store.logbook import log_event
from trueup.core.sync.apply import EntityCounts as EntityCounts  # file imports count with it
from trueup.core.sync.apply import apply_entity
from trueup.core.sync.apply import total_counts as total_counts
from trueup.core.sync.records import ENTITIES, SOURCE_ENTITIES, Entity, OutOfRange, RecordError

CHUNK = 2000

T = TypeVar("T")


def chunks(keys: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """`keys` a few hundred at a time: an IN list stays under SQLite's limit on variables."""
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def start_run(db: Database, source: str, **values: Any) -> int:
    with db.write() as conn:
        key = conn.execute(
            insert(m.table_of(m.SyncRun)).values(
                source=source, status="running", started_at=_now(), **values
            )
        ).inserted_primary_key
        assert key is not None
        log_event(conn, "INFO", f"{source} sync started", source=source, run_id=key[0])
    return int(key[0])


class Stager:
    """Parses one run's fetched records and writes them out in short transactions."""

    def __init__(self, db: Database, run_id: int, flush_every: int = CHUNK) -> None:
        self.db = db
        self.run_id = run_id
        self.flush_every = flush_every
        self.fetched: Counter[str] = Counter()
        # Scopes fetched, even those that came back empty: their stored rows must go.
        self.scopes: dict[str, set[str]] = {}
        # Of each kind fetched by scope, the records fetched in each scope (sync/shrink.py).
        self.in_scope: dict[str, Counter[str]] = {}
        self._buffer: list[dict[str, Any]] = []
        self._binders: dict[str, _Binders] = {}

    def add(
        self,
        entity: str,
        raws: list[dict[str, Any]],
        *,
        scope: str | None = None,
        extra: dict[str, Any] | Callable[[int], dict[str, Any]] | None = None,
    ) -> None:
        """Stage records as the client decoded them (JSON numbers as int or Decimal); `extra` is
        context for all of them, or per position (a callable)."""
        if scope is not None:
            self.scopes.setdefault(entity, set()).add(scope)
            self.in_scope.setdefault(entity, Counter())[scope] += len(raws)
        kind = ENTITIES[entity]
        binders = self._binders.get(entity)
        if binders is None:
            binders = self._binders[entity] = _binders(kind.table, self.db.engine.dialect)
        for index, raw in enumerate(raws):
            context = extra(index) if callable(extra) else extra or {}
            self._buffer.append(
                {
                    "run_id": self.run_id,
                    "entity": entity,
                    "raw": dump_json(raw),
                    **_parsed(kind, raw, context, binders),
                }
            )
            if len(self._buffer) >= self.flush_every:  # a whole list (41k subscriptions) at once
                self.flush()
        self.fetched[entity] += len(raws)

    def flush(self) -> None:
        if self._buffer:
            with self.db.write() as conn:
                conn.execute(insert(m.table_of(m.StagedRecord)), self._buffer)
            self._buffer = []


# Each column's conversion to what SQLite is given, as SQLAlchemy converts it on an insert.
_Binders = dict[str, Callable[[Any], Any] | None]


def _binders(table: Table, dialect: Dialect) -> _Binders:
    return {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns}


def _parsed(
    entity: Entity, raw: dict[str, Any], extra: dict[str, Any], binders: _Binders
) -> dict[str, Any]:
    """A record's staged columns: its row as the table would be given it, or why it is refused.
    Converted now, the apply copies the values as they are, the same bytes an insert writes."""
    try:
        row = entity.parse(raw, extra)
    except (RecordError, ValueError) as exc:
        return {"parsed": None, "error": str(exc), "out_of_range": isinstance(exc, OutOfRange)}
    bound = {}
    for name, value in row.items():
        bind = binders[name]
        bound[name] = value if bind is None else bind(value)
    return {"parsed": orjson.dumps(bound).decode(), "error": None, "out_of_range": False}


def apply_run(
    db: Database, run_id: int, source: str, stager: Stager, *, stats: dict[str, int]
) -> dict[str, EntityCounts]:
    """Replace the source's stored data with the staged records, in one transaction."""
    stager.flush()
    counts: dict[str, EntityCounts] = {}
    with db.write() as conn:
        for name in SOURCE_ENTITIES[source]:
            entity = ENTITIES[name]
            total = stager.fetched.get(name, 0)
            if total == 0 and name not in stager.scopes and entity.replace != "all":
                continue
            counts[name] = apply_entity(conn, run_id, entity, total, stager.scopes.get(name, set()))
        _finish(conn, run_id, source, counts, stats)
    return counts


def fail_run(
    db: Database, run_id: int, source: str, status: str, error: str, stats: dict[str, int]
) -> None:
    """Record why a run did not apply; its staged records are dropped, stored data untouched."""
    with db.write() as conn:
        conn.execute(
            delete(m.table_of(m.StagedRecord)).where(m.table_of(m.StagedRecord).c.run_id == run_id)
        )
        duration_ms = _close_run(conn, run_id, status=status, error=error, **stats)
        log_event(
            conn,
            "ERROR",
            f"{source} sync {status}",
            source=source,
            run_id=run_id,
            error=error,
            duration_ms=duration_ms,
        )


def recover_stale_runs(db: Database) -> int:
    """Runs left 'running' by a killed process: mark them interrupted, drop their staging."""
    runs = m.table_of(m.SyncRun)
    with db.write() as conn:
        stale = [
            row.id for row in conn.execute(select(runs.c.id).where(runs.c.status == "running"))
        ]
        for run_id in stale:
            conn.execute(
                delete(m.table_of(m.StagedRecord)).where(
                    m.table_of(m.StagedRecord).c.run_id == run_id
                )
            )
            _close_run(
                conn,
                run_id,
                status="interrupted",
                error="the process stopped before the sync finished (killed or crashed)",
            )
            log_event(conn, "WARNING", "sync interrupted", run_id=run_id)
    if stale:
        db.empty_log()
    return len(stale)


def upsert(
    conn: Connection, table: Table, key_columns: list[str], rows: list[dict[str, Any]]
) -> None:
    """Insert the rows, each replacing the stored row of its key (a sync's and an import's)."""
    statement = sqlite_insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=key_columns,
        set_={
            c.name: statement.excluded[c.name] for c in table.columns if c.name not in key_columns
        },
    )
    conn.execute(statement, rows)


def _finish(
    conn: Connection,
    run_id: int,
    source: str,
    counts: dict[str, EntityCounts],
    stats: dict[str, int],
) -> None:
    totals = total_counts(counts.values())
    conn.execute(
        delete(m.table_of(m.StagedRecord)).where(m.table_of(m.StagedRecord).c.run_id == run_id)
    )
    duration_ms = _close_run(
        conn,
        run_id,
        status="ok",
        counts=dump_json({name: asdict(c) for name, c in counts.items()}),
        **asdict(totals),
        **stats,
    )
    log_event(
        conn,
        "INFO",
        f"{source} sync completed",
        source=source,
        run_id=run_id,
        duration_ms=duration_ms,
        **asdict(totals),
        entities={name: asdict(c) for name, c in counts.items()},
    )


def _close_run(conn: Connection, run_id: int, **values: Any) -> int:
    """Mark the run ended; its duration in milliseconds."""
    runs = m.table_of(m.SyncRun)
    started = conn.execute(select(runs.c.started_at).where(runs.c.id == run_id)).scalar_one()
    ended = _now()
    duration_ms = int((ended - started).total_seconds() * 1000)
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(ended_at=ended, duration_ms=duration_ms, **values)
    )
    return duration_ms


def _now() -> datetime:
    return datetime.now(UTC)
