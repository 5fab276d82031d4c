"""The operator's word on a batch, carried to the month's batch built again (a rule toggled on
the Batch screen, a sync, a mapping fixed) where it still holds:

- a hold, whatever changed: it only ever keeps an invoice from approval and posting;
- `ready`, for an invoice that is, value for value, the one the operator marked;
- an override, while the errors it lets through are still there with the same numbers (code,
  line and message).

The word comes from the newest other batch of the same month and clients that has any, and is
copied with who gave it and when; an event in the log names both batches and what was dropped.
Approvals are not copied: they belong to the client's month and hold on any batch of it with
the same fingerprint (batch.approval.month_approvals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, insert, select

from trueup.core.batch.body import StoredInvoice, parsed_body
from trueup.core.batch.rows import invoice_of
from trueup.core.store import tables as m
from trueup.core.store.logbook import log_event

_BATCHES = m.table_of(m.InvoiceBatch)
_STATES = m.table_of(m.BatchInvoiceState)
_OVERRIDES = m.table_of(m.BatchOverride)
_ROWS = m.table_of(m.BatchInvoice)


def carry_review(conn: Connection, batch_id: str, month: str, clients: str) -> None:
    """Inside the transaction that stores batch `batch_id` (its invoices stored, `clients` as
    stored), copy onto it the word still true of the batch it replaces."""
    source = _replaced(conn, batch_id, month, clients)
    if source is None:
        return
    states = conn.execute(select(_STATES).where(_STATES.c.batch_id == source)).all()
    overrides = conn.execute(
        select(_OVERRIDES).where(_OVERRIDES.c.batch_id == source).order_by(_OVERRIDES.c.id)
    ).all()
    # The same text is the same invoice, value for value (its bytes are canonical).
    old, new = _shas(conn, source), _shas(conn, batch_id)
    held = [s for s in states if s.state == "held" and s.client_id in new]
    marked = [s for s in states if s.state == "ready"]
    ready = [s for s in marked if s.client_id in new and old.get(s.client_id) == new[s.client_id]]
    still_ready = {s.client_id for s in ready}
    invoices = _Invoices(conn, source, batch_id)
    kept = [o for o in overrides if _still_there(o, invoices)]
    _copy(conn, _STATES, [*held, *ready], batch_id)
    _copy(conn, _OVERRIDES, kept, batch_id)
    log_event(
        conn,
        "info",
        "review_carried",
        source="batch",
        batch_id=batch_id,
        from_batch=source,
        held=len(held),
        ready=len(ready),
        overrides=len(kept),
        ready_dropped=sorted(s.client_id for s in marked if s.client_id not in still_ready),
        overrides_dropped=len(overrides) - len(kept),
    )


def _copy(conn: Connection, table: Table, rows: Sequence[Row[Any]], batch_id: str) -> None:
    """The rows again, on batch `batch_id` (an override gets an id of its own)."""
    columns = [c.name for c in table.columns if c.name not in ("id", "batch_id")]
    if rows:
        conn.execute(
            insert(table),
            [{**{c: row._mapping[c] for c in columns}, "batch_id": batch_id} for row in rows],
        )


def _replaced(conn: Connection, batch_id: str, month: str, clients: str) -> str | None:
    """The newest other batch of the month and clients with any word of the operator's."""
    marked = select(_STATES.c.batch_id).union(select(_OVERRIDES.c.batch_id))
    found: str | None = conn.execute(
        select(_BATCHES.c.id)
        .where(
            (_BATCHES.c.month == month)
            & (_BATCHES.c.clients == clients)
            & (_BATCHES.c.id != batch_id)
            & _BATCHES.c.id.in_(marked)
        )
        .order_by(_BATCHES.c.created_at.desc(), _BATCHES.c.id.desc())
        .limit(1)
    ).scalar()
    return found


def _shas(conn: Connection, batch_id: str) -> dict[int, str]:
    query = select(_ROWS.c.client_id, _ROWS.c.sha256).where(_ROWS.c.batch_id == batch_id)
    return {int(client): str(sha) for client, sha in conn.execute(query)}


class _Invoices:
    """A client's invoice in the batch replaced and in the new one, each read once however many
    overrides it has (`X` leaves one on hundreds of invoices)."""

    def __init__(self, conn: Connection, source: str, batch_id: str) -> None:
        self._conn, self._batches = conn, (source, batch_id)
        self._read: dict[int, tuple[StoredInvoice | None, StoredInvoice | None]] = {}

    def of(self, client_id: int) -> tuple[StoredInvoice | None, StoredInvoice | None]:
        if client_id not in self._read:
            before, after = (invoice_of(self._conn, b, client_id) for b in self._batches)
            self._read[client_id] = (_parsed(before), _parsed(after))
        return self._read[client_id]


def _parsed(found: tuple[int, str] | None) -> StoredInvoice | None:
    return None if found is None else StoredInvoice.of(parsed_body(found[1]))


def _still_there(override: Any, invoices: _Invoices) -> bool:
    """Whether the errors the override let through are on the new invoice, the same."""
    before, after = invoices.of(override.client_id)
    if before is None or after is None:
        return False
    code, subscription = override.code, override.subscription_id
    covered = _covered(before, code, subscription)
    return bool(covered) and covered == _covered(after, code, subscription)


def _covered(
    invoice: StoredInvoice, code: str, subscription_id: str | None
) -> list[tuple[str, str, str]]:
    """The anomalies of `code` an override keyed on `subscription_id` covers (None: all)."""
    return sorted(
        (a.subscription_id or "", a.severity, a.message)
        for a in invoice.anomalies
        if a.code == code and (subscription_id is None or a.subscription_id == subscription_id)
    )
