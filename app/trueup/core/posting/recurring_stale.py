"""Whether the store's copy of a client's recurring invoices is older than Halo's.

A halo-recurring void puts the recurring lines back as they were before the true-up. The store
does not change with it (only a sync writes what Halo holds), so a Halo sync that read the lines
trued up, between the post and the void, leaves the store with quantities Halo no longer has. A
true-up planned from them would bill the month against seats the recurring invoice does not
bill, and leave its lines at the voided quantities. Such a client is held back until a sync
reads Halo again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from trueup.core.store import tables as m

RECURRING = "halo-recurring"


def stale_recurring(conn: Connection, month: str) -> dict[int, str]:
    """Client -> why its recurring invoices must be synced before the month is trued up again:
    a void of one of its true-ups of `month` taken after the last Halo sync began, that sync
    having ended after the true-up was queued (so it may have read the lines trued up)."""
    last = conn.exec_driver_sql(
        f"SELECT started_at, ended_at FROM {m.table_of(m.SyncRun)} "
        "WHERE source = 'halo' AND status = 'ok' ORDER BY id DESC LIMIT 1"
    ).first()
    if last is None or last[1] is None:
        return {}
    began, ended = _moment(last[0]), _moment(last[1])
    entries = m.table_of(m.PostingEntry)
    found: dict[int, str] = {}
    for client_id, reference, queued, voided in conn.exec_driver_sql(
        f"SELECT c.client_id, c.reference, c.created_at, v.updated_at FROM {entries} c "
        f"JOIN {entries} v ON v.destination = c.destination AND v.reference = c.reference "
        "AND v.action = 'void' AND v.state = 'POSTED' "
        "WHERE c.action = 'create' AND c.destination = ? AND c.month = ? ORDER BY c.id",
        (RECURRING, month),
    ):
        if ended > _moment(queued) and began < _moment(voided):
            found[client_id] = (
                f"the void of {reference} ({_moment(voided):%Y-%m-%d %H:%M} UTC) put its recurring "
                "invoice back after the last Halo sync read it trued up, so the store's copy is "
                "not what Halo holds: `trueup sync`, then post again"
            )
    return found


def _moment(value: datetime | str) -> datetime:
    """The store's instant as naive UTC (it keeps UTC text without its offset)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
