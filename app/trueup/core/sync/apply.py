"""Applying one kind of staged record to its table, inside the run's one transaction.

Every record was parsed into its row when it was staged (staging.Stager), so the apply is a few
set-based statements over the staged rows, in the order they were fetched: a record whose
parent is not stored fails; of a key listed twice the first copy stands; the first copies are
upserted; the stored rows the source no longer lists are deleted (within the scopes fetched),
unless a record was refused for an impossible number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from sqlalchemy import Connection

from trueup.core.store.logbook import log_event
from trueup.core.sync.records import Entity
from trueup.core.values.distributors import PAX8


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


# Records skipped or listed twice are logged one by one up to this many per kind and sync.
LOGGED_IN_FULL = 5

# The seq of each key's first copy of the kind being applied: a temporary table, this
# connection's alone, made for each kind and dropped after it.
_FIRST = "temp.sync_first_copy"


def apply_entity(
    conn: Connection, run_id: int, entity: Entity, fetched: int, scopes: set[str]
) -> EntityCounts:
    """Apply the `fetched` records of `entity` that run `run_id` staged; what changed."""
    sql = _Statements(entity, conn)
    params = {"run": run_id, "entity": entity.name}
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_FIRST}")
    conn.exec_driver_sql(f"CREATE TABLE {_FIRST} (seq INTEGER PRIMARY KEY)")
    conn.exec_driver_sql(sql.first_copies, params)
    counts = EntityCounts()
    counts.failed, refused = conn.exec_driver_sql(sql.failures_count, params).one()
    counts.created, counts.updated, counts.unchanged = conn.exec_driver_sql(
        sql.changes, {"distributor": PAX8}
    ).one()
    repeats = fetched - counts.failed - counts.created - counts.updated - counts.unchanged
    _log_skipped(conn, entity, sql, params, failed=counts.failed, repeats=repeats)
    conn.exec_driver_sql(sql.upsert)
    if refused:
        # Its stored row (the last good one) must not be deleted as gone, nor any other.
        log_event(
            conn,
            "WARNING",
            f"{entity.label}: stored rows kept",
            source=_source(entity),
            reason="a record was refused for an impossible number; nothing was deleted",
        )
    elif entity.replace == "all" or (entity.replace == "scoped" and scopes):
        scope_list = orjson.dumps(sorted(scopes)).decode()
        gone = conn.exec_driver_sql(sql.delete_unseen, {"distributor": PAX8, "scopes": scope_list})
        counts.deleted = gone.rowcount
    if repeats > LOGGED_IN_FULL:
        log_event(
            conn,
            "WARNING",
            f"{entity.label}: {repeats} records listed twice, first copies kept",
            source=_source(entity),
            reason=f"the first {LOGGED_IN_FULL} are logged one by one",
        )
    conn.exec_driver_sql(f"DROP TABLE {_FIRST}")
    return counts


class _Statements:
    """The SQL that applies one kind of record. Names come from the table's definition."""

    def __init__(self, entity: Entity, conn: Connection) -> None:
        quote = conn.dialect.identifier_preparer.quote
        table = entity.table
        self.keys = [c.name for c in table.primary_key.columns]
        self.parents = [
            (c.name, quote(fk.column.table.name), quote(fk.column.name))
            for c in table.columns
            for fk in c.foreign_keys
        ]
        staged = "FROM staged_record s WHERE s.run_id = :run AND s.entity = :entity"
        orphan = " OR ".join(
            f"{_field(c)} IS NULL OR {_field(c)} NOT IN (SELECT {col} FROM {parent})"
            for c, parent, col in self.parents
        )
        valid = f"s.parsed IS NOT NULL AND NOT ({orphan or 0})"
        keys = ", ".join(_field(k) for k in self.keys)
        self.first_copies = (
            f"INSERT INTO {_FIRST} (seq) SELECT min(s.seq) {staged} AND {valid} GROUP BY {keys}"
        )
        failed = f"{staged} AND NOT ({valid})"
        self.failures_count = f"SELECT count(*), coalesce(max(s.out_of_range), 0) {failed}"
        self.failures = f"SELECT s.seq, s.error, s.parsed, s.raw {failed} ORDER BY s.seq LIMIT :n"
        first = f"FROM {_FIRST} f JOIN staged_record s ON s.seq = f.seq"
        same_key = " AND ".join(f"t.{quote(k)} = {_field(k)}" for k in self.keys)
        if "distributor" in table.c:  # another distributor's row is not the source's to count
            same_key += " AND t.distributor = :distributor"
        # No stored row (raw is never NULL in one): created; else updated or unchanged.
        self.changes = (
            "SELECT coalesce(sum(t.raw IS NULL), 0), coalesce(sum(t.raw != s.raw), 0), "
            f"coalesce(sum(t.raw = s.raw), 0) {first} LEFT JOIN {quote(table.name)} t "
            f"ON {same_key}"
        )
        first_raw = " AND ".join(f"{_field(k, 'c')} = {_field(k)}" for k in self.keys)
        self.repeats = (
            "SELECT s.seq, s.parsed, s.raw IS NOT (SELECT c.raw FROM "
            f"{_FIRST} f JOIN staged_record c ON c.seq = f.seq WHERE {first_raw}) "
            f"{staged} AND {valid} AND s.seq NOT IN (SELECT seq FROM {_FIRST}) "
            "ORDER BY s.seq LIMIT :n"
        )
        columns = [c.name for c in table.columns if c.name not in ("raw", "distributor")]
        # The distributor column is left to its default, the source's own; an upsert sets it
        # too, as the row becomes the source's.
        updated = [quote(c.name) for c in table.columns if c.name not in self.keys]
        # A row the same in every column is left as it is: a re-sync rewrites only what moved.
        self.upsert = (
            f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, [*columns, 'raw']))}) "
            f"SELECT {', '.join(_field(c) for c in columns)}, s.raw "
            f"FROM {_FIRST} f, staged_record s WHERE s.seq = f.seq ORDER BY f.seq "
            f"ON CONFLICT ({', '.join(map(quote, self.keys))}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in updated)
            + f" WHERE ({', '.join(updated)}) IS NOT ("
            + ", ".join(f"excluded.{c}" for c in updated)
            + ")"
        )
        gone = [f"({', '.join(map(quote, self.keys))}) NOT IN (SELECT {keys} {first})"]
        if "distributor" in table.c:  # records imported from files outlive every sync
            gone.append("distributor = :distributor")
        if entity.replace == "scoped":
            assert entity.scope_column is not None
            gone.append(f"{quote(entity.scope_column)} IN (SELECT value FROM json_each(:scopes))")
        self.delete_unseen = f"DELETE FROM {quote(table.name)} WHERE {' AND '.join(gone)}"


def _field(column: str, alias: str = "s") -> str:
    """A column of a staged row."""
    return f"json_extract({alias}.parsed, '$.{column}')"


def _log_skipped(
    conn: Connection,
    entity: Entity,
    sql: _Statements,
    params: dict[str, Any],
    *,
    failed: int,
    repeats: int,
) -> None:
    """The first few records skipped and listed twice, in the order they were fetched; after
    that the run's counts say how many more."""
    logged: list[tuple[int, dict[str, Any]]] = []
    first = {**params, "n": LOGGED_IN_FULL}
    if failed:
        for seq, error, parsed, raw in conn.exec_driver_sql(sql.failures, first):
            reason = error or _orphan(conn, sql, orjson.loads(parsed))
            logged.append((seq, _failure(entity, reason, raw)))
    if repeats:
        for seq, parsed, differs in conn.exec_driver_sql(sql.repeats, first):
            row = orjson.loads(parsed)
            logged.append((seq, _repeat(entity, [row[k] for k in sql.keys], bool(differs))))
    for _, event in sorted(logged, key=lambda pair: pair[0]):
        log_event(conn, "WARNING", **event)


def _orphan(conn: Connection, sql: _Statements, row: dict[str, Any]) -> str:
    for column, parent, parent_column in sql.parents:
        value = row.get(column)
        found = conn.exec_driver_sql(
            f"SELECT 1 FROM {parent} WHERE {parent_column} = ?", (value,)
        ).first()
        if value is None or found is None:
            return f"'{column}' {value!r} names no stored parent"
    raise AssertionError("logged as skipped, yet every parent is stored")


def _failure(entity: Entity, reason: str, raw: str) -> dict[str, Any]:
    return {
        "event": f"{entity.label}: record skipped",
        "source": _source(entity),
        "reason": reason,
        "record": raw[:500],
    }


def _repeat(entity: Entity, key: list[Any], differs: bool) -> dict[str, Any]:
    shown = key[0] if len(key) == 1 else key
    return {
        "event": f"{entity.label}: {shown} listed twice, first copy kept",
        "source": _source(entity),
        "id": shown,
        "copies_differ": differs,
        "reason": "the source listed this id twice in one sync; the first copy was stored, the "
        "second dropped"
        + ("; they differ: check the record at the source" if differs else " (the same)"),
    }


def _source(entity: Entity) -> str:
    """The source whose sync applies the entity (pax8_company: pax8), for its log entries."""
    return entity.name.split("_", 1)[0]
