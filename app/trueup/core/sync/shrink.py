"""A source that collapses never replaces the last good data.

An empty or truncated answer (Halo listing no clients, Pax8 answering `null`, a proxy serving an
empty page) looks like a tenant that lost its records; applied, it would delete them while the
mappings and approvals that name them stay. So before a run replaces a kind of record wholesale,
its count is compared with what the store holds: a fall of more than `[sync] max_shrink_percent`
fails the source (its stored data untouched) unless the operator says the drop is real
(`trueup sync --accept-shrink`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Select, Table, func, select

from trueup.core.errors import TrueupError
from trueup.core.store.database import Database
from trueup.core.sync.records import ENTITIES, SOURCE_ENTITIES
from trueup.core.values.distributors import PAX8

# Below this many stored rows a kind of record is too small to judge by share (a new tenant).
MIN_STORED = 10


class ShrinkRefused(TrueupError):
    """The source answered with far fewer records than the store holds."""


def check_shrink(db: Database, source: str, fetched: Mapping[str, int], max_percent: int) -> None:
    """ShrinkRefused naming every kind of record of `source` whose count fell too far."""
    falls = []
    with db.read() as conn:
        for name in SOURCE_ENTITIES[source]:
            entity = ENTITIES[name]
            if entity.replace != "all":
                continue  # upserted or replaced by scope: a short answer deletes nothing else
            stored = conn.execute(_pax8_count(entity.table)).scalar_one()
            got = fetched.get(name, 0)
            if stored >= MIN_STORED and (stored - got) * 100 > stored * max_percent:
                falls.append(f"{entity.label}: {got} fetched against {stored} stored")
    if falls:
        raise ShrinkRefused(
            f"{'; '.join(falls)} (down more than [sync] max_shrink_percent = {max_percent}%): "
            "the last good data is kept. If the drop is real, `trueup sync --accept-shrink` "
            "applies it"
        )


def _pax8_count(table: Table) -> Select[int]:
    """The stored rows a sync would replace: a table's imported records are not the source's."""
    query = select(func.count()).select_from(table)
    return query.where(table.c.distributor == PAX8) if "distributor" in table.c else query
