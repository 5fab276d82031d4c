"""`trueup status`: what the store holds and how fresh it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.json_text import load_json
from trueup.core.sync.records import ENTITIES
from trueup.core.values.distributors import PAX8
from trueup.core.values.times import age


def store_status(db: Database, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    runs = m.table_of(m.SyncRun)
    with db.read() as conn:
        counts = {
            name: conn.execute(select(func.count()).select_from(e.table)).scalar_one()
            for name, e in ENTITIES.items()
        }
        imported = _imported(conn)
        sources: dict[str, Any] = {}
        for source in ("pax8", "halo"):
            last = conn.execute(
                select(runs).where(runs.c.source == source).order_by(runs.c.id.desc()).limit(1)
            ).first()
            last_ok = conn.execute(
                select(runs)
                .where(runs.c.source == source, runs.c.status == "ok")
                .order_by(runs.c.id.desc())
                .limit(1)
            ).first()
            sources[source] = {
                "last_sync": _iso(last_ok.ended_at) if last_ok else None,
                "age": age(last_ok.ended_at, now) if last_ok else "never",
                "last_run": _run(last) if last else None,
            }
    return {"db": str(db.path), "entities": counts, "imported": imported, "sources": sources}


def _imported(conn: Connection) -> dict[str, dict[str, int]]:
    """Of the counts, the rows imported from distributors' files, by distributor."""
    found: dict[str, dict[str, int]] = {}
    for name, entity in ENTITIES.items():
        if "distributor" not in entity.table.c:
            continue
        column = entity.table.c.distributor
        query = select(column, func.count()).where(column != PAX8).group_by(column)
        for distributor, count in conn.execute(query):
            found.setdefault(distributor, {})[name] = count
    return found


def _run(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "started_at": _iso(row.started_at),
        "ended_at": _iso(row.ended_at),
        "duration_ms": row.duration_ms,
        "created": row.created,
        "updated": row.updated,
        "deleted": row.deleted,
        "unchanged": row.unchanged,
        "failed": row.failed,
        "requests": row.requests,
        "rate_limited": row.rate_limited,
        "retries": row.retries,
        "error": row.error,
        "counts": load_json(row.counts),
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None
