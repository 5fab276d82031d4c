"""A source that collapses never replaces the last good data.

An empty or truncated answer (Halo listing no clients, Pax8 answering `null`, a proxy serving an
empty page) looks like a tenant that lost its records; applied, it would delete them while the
mappings and approvals that name them stay. So before a run replaces a kind of record wholesale,
its count is compared with what the store holds: a fall of more than `[sync] max_shrink_percent`
(judged from MIN_STORED rows up), or to none from any, fails the source (its stored data
untouched) unless the operator says the drop is real (`trueup sync --accept-shrink`).

A subscription's history is replaced one subscription at a time, and only grows: Pax8 adds a
version on every change and drops none. One answered with fewer versions than the store holds
(its current one alone, a page of it) has collapsed; applied, it would delete the dated changes
the month's proration reads, and the batch would bill the newest quantity for the whole month.
It fails the source the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, Select, Table, func, select

from trueup.core.errors import TrueupError
from trueup.core.store.database import Database
from trueup.core.sync.records import ENTITIES, SOURCE_ENTITIES, Entity
from trueup.core.sync.staging import chunks
from trueup.core.values.distributors import PAX8
from trueup.core.values.text import some

# Below this many stored rows a kind of record is too small to judge by share (a new tenant).
MIN_STORED = 10

# Kinds replaced scope by scope whose scopes only grow (a subscription's history): fewer records
# in a scope than stored is a collapse.
GROWING_SCOPES = ("pax8_subscription_snapshot",)


class ShrinkRefused(TrueupError):
    """The source answered with far fewer records than the store holds."""


def check_shrink(
    db: Database,
    source: str,
    fetched: Mapping[str, int],
    max_percent: int,
    in_scope: Mapping[str, Mapping[str, int]] | None = None,
) -> None:
    """ShrinkRefused naming every kind of record of `source` whose count fell too far, and
    every scope of a GROWING_SCOPES kind (`in_scope`: the records fetched in each scope) that
    was answered with fewer records than it holds."""
    falls, shrunk = [], []
    with db.read() as conn:
        for name in SOURCE_ENTITIES[source]:
            entity = ENTITIES[name]
            if name in GROWING_SCOPES and in_scope and in_scope.get(name):
                shrunk.extend(_histories_shrunk(conn, entity, in_scope[name]))
            if entity.replace != "all":
                continue  # upserted or replaced by scope: a short answer deletes nothing else
            stored = conn.execute(_pax8_count(entity.table)).scalar_one()
            got = fetched.get(name, 0)
            if _collapsed(stored, got, max_percent):
                falls.append(f"{entity.label}: {got} fetched against {stored} stored")
    said = []
    if falls:
        said.append(
            f"{'; '.join(falls)} (down more than [sync] max_shrink_percent = {max_percent}%)"
        )
    said.extend(shrunk)
    if said:
        raise ShrinkRefused(
            f"{'; '.join(said)}: the last good data is kept. If the drop is real, "
            "`trueup sync --accept-shrink` applies it"
        )


def _collapsed(stored: int, got: int, max_percent: int) -> bool:
    """A fall past the share allowed, or to nothing at all: a tenant of 8 clients answered
    with none is the collapse the share cannot see below MIN_STORED."""
    if got == 0:
        return stored > 0 and max_percent < 100  # 100: the operator turned the guard off
    return stored >= MIN_STORED and (stored - got) * 100 > stored * max_percent


def _pax8_count(table: Table) -> Select[int]:
    """The stored rows a sync would replace: a table's imported records are not the source's."""
    query = select(func.count()).select_from(table)
    return query.where(table.c.distributor == PAX8) if "distributor" in table.c else query


def _histories_shrunk(conn: Connection, entity: Entity, fetched: Mapping[str, int]) -> list[str]:
    """The subscriptions whose history was answered with fewer versions than the store holds,
    said in one phrase ([] if none)."""
    assert entity.scope_column is not None
    column = entity.table.c[entity.scope_column]
    shrunk: list[str] = []
    for some_ids in chunks(sorted(fetched)):
        query = select(column, func.count()).where(column.in_(some_ids)).group_by(column)
        shrunk.extend(
            f"{sub_id} ({fetched[sub_id]} fetched against {stored} stored)"
            for sub_id, stored in conn.execute(query)
            if fetched[sub_id] < stored
        )
    if not shrunk:
        return []
    whose = f"{len(shrunk)} subscriptions" if len(shrunk) > 1 else "a subscription"
    return [
        f"{entity.label}: {whose} answered with fewer versions than stored, though a history "
        f"only grows: {some(sorted(shrunk))}"
    ]
