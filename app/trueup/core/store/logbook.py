"""The log table the Logs & Monitoring screen reads: level, time, event, details."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import simplejson
from sqlalchemy import Connection, func, insert, select

from trueup.core.store.tables import LogEvent, table_of

if TYPE_CHECKING:  # the database's migrations log what they clean (store/cleaning.py)
    from trueup.core.store.database import Database


def log_event(
    conn: Connection, level: str, event: str, *, source: str | None = None, **details: Any
) -> None:
    """Append one entry inside the caller's transaction (it commits or rolls back with it)."""
    conn.execute(
        insert(table_of(LogEvent)).values(
            at=datetime.now(UTC),
            level=level.upper(),  # INFO, WARNING, ERROR: as `trueup log --level` asks
            source=source,
            event=event,
            details=simplejson.dumps(details, use_decimal=True, default=str),
        )
    )


def read_log(db: Database, *, level: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest entries first, details decoded."""
    table = table_of(LogEvent)
    query = select(table).order_by(table.c.id.desc()).limit(limit)
    if level:
        # upper(): entries written before levels were upper-cased (posting's were "info").
        query = query.where(func.upper(table.c.level) == level.upper())
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "id": r.id,
            "at": r.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "level": r.level,
            "source": r.source,
            "event": r.event,
            "details": simplejson.loads(r.details),
        }
        for r in rows
    ]
