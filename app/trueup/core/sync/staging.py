"""Staging fetched records and applying them in one transaction.

A sync first stages what it fetches (short transactions, so memory stays flat and the two
sources never hold the write lock for long), then applies everything in ONE transaction. A sync
that fails or is interrupted before that transaction commits changes no synced data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.json_text import dump_json, load_json
from trueup.core.store.logbook import log_event
from trueup.core.sync.records import (
    ENTITIES,
    SOURCE_ENTITIES,
    Entity,
    OutOfRange,
    RecordError,
)
from trueup.core.values.distributors import PAX8

CHUNK = 2000
Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0


def total_counts(counts: Iterable[EntityCounts]) -> EntityCounts:
    """Every kind's counts added up, for the run's row."""
    totals = EntityCounts()
    for c in counts:
        for field, value in asdict(c).items():
            setattr(totals, field, getattr(totals, field) + value)
    return totals


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
    """Buffers one run's fetched records and writes them out in short transactions."""

    def __init__(self, db: Database, run_id: int, flush_every: int = CHUNK) -> None:
        self.db = db
        self.run_id = run_id
        self.flush_every = flush_every
        self.fetched: Counter[str] = Counter()
        # Scopes fetched, even those that came back empty: their stored rows must go.
        self.scopes: dict[str, set[str]] = {}
        self._buffer: list[dict[str, Any]] = []

    def add(
        self,
        entity: str,
        raws: list[dict[str, Any]],
        *,
        scope: str | None = None,
        extra: dict[str, Any] | Callable[[int], dict[str, Any]] | None = None,
    ) -> None:
        """Stage records; `extra` is context for all of them, or per position (a callable)."""
        if scope is not None:
            self.scopes.setdefault(entity, set()).add(scope)
        for index, raw in enumerate(raws):
            self._buffer.append(
                {
                    "run_id": self.run_id,
                    "entity": entity,
                    "scope": scope,
                    "extra": dump_json(extra(index) if callable(extra) else extra or {}),
                    "raw": dump_json(raw),
                }
            )
        self.fetched[entity] += len(raws)
        if len(self._buffer) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            with self.db.write() as conn:
                conn.execute(insert(m.table_of(m.StagedRecord)), self._buffer)
            self._buffer = []


def apply_run(
    db: Database,
    run_id: int,
    source: str,
    stager: Stager,
    *,
    stats: dict[str, int],
    progress: Progress | None = None,
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
            counts[name] = _apply_entity(
                conn, run_id, entity, stager.scopes.get(name, set()), total, progress
            )
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
    return len(stale)


def _apply_entity(
    conn: Connection,
    run_id: int,
    entity: Entity,
    scopes: set[str],
    total: int,
    progress: Progress | None,
) -> EntityCounts:
    table = entity.table
    key_columns = [c.name for c in table.primary_key.columns]
    existing = _existing_fingerprints(conn, table, key_columns)
    parents = _parent_keys(conn, table)
    counts = EntityCounts()
    seen: dict[tuple[Any, ...], int] = {}  # key -> hash of its first copy's raw JSON
    repeats = 0
    refused = False  # a record with an impossible number: keep what is stored of its kind
    done = 0
    for chunk in _staged_chunks(conn, run_id, entity.name):
        rows = []
        for staged in chunk:
            try:
                row = entity.parse(load_json(staged.raw), load_json(staged.extra))
            except (RecordError, ValueError) as exc:
                counts.failed += 1
                refused = refused or isinstance(exc, OutOfRange)
                _log_failure(conn, entity, counts.failed, str(exc), staged.raw)
                continue
            missing = _missing_parent(row, parents)
            if missing:
                counts.failed += 1
                _log_failure(conn, entity, counts.failed, missing, staged.raw)
                continue
            key = tuple(row[c] for c in key_columns)
            if key in seen:
                # Listed twice in one sync: the first copy stands, and the log says so (the
                # second may hold other seats or another status: never dropped unseen).
                repeats += 1
                _log_repeat(conn, entity, repeats, key, seen[key] != hash(staged.raw))
                continue
            seen[key] = hash(staged.raw)
            row["raw"] = staged.raw
            before = existing.get(key)
            if before is None:
                counts.created += 1
            elif before == hash(staged.raw):
                counts.unchanged += 1
            else:
                counts.updated += 1
            rows.append(row)
        if rows:
            upsert(conn, table, key_columns, rows)
        done += len(chunk)
        if progress:
            progress(f"saving {entity.label}", done, total)
    if refused:
        # Its stored row (the last good one) must not be deleted as gone, nor any other.
        log_event(
            conn,
            "WARNING",
            f"{entity.label}: stored rows kept",
            reason="a record was refused for an impossible number; nothing was deleted",
        )
    else:
        counts.deleted = _delete_unseen(conn, entity, key_columns, existing, seen, scopes)
    if repeats > _LOGGED_IN_FULL:
        log_event(
            conn,
            "WARNING",
            f"{entity.label}: {repeats} records listed twice, first copies kept",
            reason=f"the first {_LOGGED_IN_FULL} are logged one by one",
        )
    return counts


def _existing_fingerprints(
    conn: Connection, table: Table, key_columns: list[str]
) -> dict[tuple[Any, ...], int]:
    """Key -> hash of the stored raw JSON: tells updated from unchanged in little memory.

    Only Pax8's rows of a table other distributors share: what a sync finds gone is deleted
    from these alone, so records imported from files outlive every sync."""
    columns = [table.c[c] for c in key_columns]
    query = select(*columns, table.c.raw)
    if "distributor" in table.c:
        query = query.where(table.c.distributor == PAX8)
    return {tuple(row[:-1]): hash(row[-1]) for row in conn.execute(query)}


def _parent_keys(conn: Connection, table: Table) -> dict[str, set[Any]]:
    """For each foreign key column, the parent keys present (children of absent parents fail)."""
    parents: dict[str, set[Any]] = {}
    for column in table.columns:
        for fk in column.foreign_keys:
            parent = fk.column
            parents[column.name] = {r[0] for r in conn.execute(select(parent))}
    return parents


def _missing_parent(row: dict[str, Any], parents: dict[str, set[Any]]) -> str | None:
    for column, keys in parents.items():
        if row.get(column) not in keys:
            return f"'{column}' {row.get(column)!r} names no stored parent"
    return None


def _staged_chunks(conn: Connection, run_id: int, entity: str) -> Iterator[list[Any]]:
    staged = m.table_of(m.StagedRecord)
    last = 0
    while True:
        chunk = conn.execute(
            select(staged.c.seq, staged.c.raw, staged.c.extra)
            .where(staged.c.run_id == run_id, staged.c.entity == entity, staged.c.seq > last)
            .order_by(staged.c.seq)
            .limit(CHUNK)
        ).all()
        if not chunk:
            return
        last = chunk[-1].seq
        yield list(chunk)


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


def _delete_unseen(
    conn: Connection,
    entity: Entity,
    key_columns: list[str],
    existing: dict[tuple[Any, ...], int],
    seen: Container[tuple[Any, ...]],
    scopes: set[str],
) -> int:
    if entity.replace == "upsert":
        return 0
    table = entity.table
    unseen = [key for key in existing if key not in seen]
    if entity.replace == "scoped":
        assert entity.scope_column is not None
        scope_at = (
            key_columns.index(entity.scope_column) if entity.scope_column in key_columns else None
        )
        if scope_at is None:
            scoped_keys = _keys_in_scopes(conn, table, key_columns, entity.scope_column, scopes)
            unseen = [key for key in unseen if key in scoped_keys]
        else:
            unseen = [key for key in unseen if str(key[scope_at]) in scopes]
    if not unseen:
        return 0
    by_key = delete(table).where(*[table.c[c] == bindparam(f"k_{c}") for c in key_columns])
    conn.execute(
        by_key, [{f"k_{c}": v for c, v in zip(key_columns, key, strict=True)} for key in unseen]
    )
    return len(unseen)


def _keys_in_scopes(
    conn: Connection, table: Table, key_columns: list[str], scope_column: str, scopes: set[str]
) -> set[tuple[Any, ...]]:
    columns = [table.c[c] for c in key_columns]
    keys: set[tuple[Any, ...]] = set()
    for batch in chunks(sorted(scopes)):
        query = select(*columns).where(table.c[scope_column].in_(batch))
        keys.update(tuple(row) for row in conn.execute(query))
    return keys


# Records skipped or listed twice are logged one by one up to this many per kind and sync.
_LOGGED_IN_FULL = 5


def _log_failure(conn: Connection, entity: Entity, nth: int, reason: str, raw: str) -> None:
    # The first few in full; after that the run's counts say how many more.
    if nth <= _LOGGED_IN_FULL:
        log_event(
            conn, "WARNING", f"{entity.label}: record skipped", reason=reason, record=raw[:500]
        )


def _log_repeat(
    conn: Connection, entity: Entity, nth: int, key: tuple[Any, ...], differs: bool
) -> None:
    if nth > _LOGGED_IN_FULL:
        return
    shown = key[0] if len(key) == 1 else list(key)
    log_event(
        conn,
        "WARNING",
        f"{entity.label}: {shown} listed twice, first copy kept",
        source=entity.name.split("_", 1)[0],
        id=shown,
        copies_differ=differs,
        reason="the source listed this id twice in one sync; the first copy was stored, the "
        "second dropped"
        + ("; they differ: check the record at the source" if differs else " (the same)"),
    )


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
