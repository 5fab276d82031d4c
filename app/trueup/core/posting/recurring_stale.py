"""Whether the store's copy of a client's recurring invoices is older than Halo's.

A halo-recurring void puts the recurring lines back as they were before the true-up. The store
does not change with it (only a sync writes what Halo holds), so a Halo sync that read the lines
trued up, between the post and the void, leaves the store with quantities Halo no longer has. A
true-up planned from them would bill the month against seats the recurring invoice does not
bill, and leave its lines at the voided quantities. Such a client is held back until a sync
reads Halo again.
"""

from __future__ import annotations

from sqlalchemy import Connection

from trueup.core.store import tables as m
from trueup.core.store.postings import RECURRING, stored_utc


def stale_recurring(conn: Connection, month: str) -> dict[int, str]:
    """Client -> why its recurring invoices must be synced before the month is trued up again:
    a void of one of its true-ups of `month` taken after the last Halo sync began, that sync
    having ended after the true-up was queued (so it may have read the lines trued up). The
    instants compare as the store keeps them, UTC text of one format."""
    last = conn.exec_driver_sql(
        f"SELECT started_at, ended_at FROM {m.table_of(m.SyncRun)} "
        "WHERE source = 'halo' AND status = 'ok' ORDER BY id DESC LIMIT 1"
    ).first()
    if last is None or last[1] is None:
        return {}
    entries = m.table_of(m.PostingEntry)
    found: dict[int, str] = {}
    for client_id, reference, voided in conn.exec_driver_sql(
        f"SELECT c.client_id, c.reference, v.updated_at FROM {entries} c "
        f"JOIN {entries} v ON v.destination = c.destination AND v.reference = c.reference "
        "AND v.action = 'void' AND v.state = 'POSTED' "
        "WHERE c.action = 'create' AND c.destination = ? AND c.month = ? "
        "AND c.created_at < ? AND v.updated_at > ? ORDER BY c.id",
        (RECURRING, month, last[1], last[0]),
    ):
        found[client_id] = (
            f"the void of {reference} ({stored_utc(voided):%Y-%m-%d %H:%M} UTC) put its "
            "recurring invoice back after the last Halo sync read it trued up, so the store's "
            "copy is not what Halo holds: `trueup sync`, then post again"
        )
    return found
