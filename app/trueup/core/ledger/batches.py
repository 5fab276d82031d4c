"""The stored batches of the store (newest first) and what became of each: `trueup batches`,
and the open ones `trueup status` lists (approved invoices not all posted, or a posting run
left unfinished)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from trueup.core.batch.approval import invoice_fingerprint
from trueup.core.batch.rows import stored_invoices
from trueup.core.batch.stored import batch_inputs
from trueup.core.mapping.index import load_mapping_index
from trueup.core.rules.in_force import rules_id_in_force
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.postings import IN_FLIGHT, Sent, month_entries

_BATCHES = m.table_of(m.InvoiceBatch)
_APPROVALS = m.table_of(m.Approval)


@dataclass(frozen=True)
class StoredBatch:
    batch_id: str
    month: str
    created_at: str
    created_by: str
    clients: tuple[int, ...]  # asked for; () = every mapped client
    invoices: int
    approved: int
    posted: int  # invoices posted from this batch and not voided (adjustments apart)
    in_flight: int  # its journal entries a run left unfinished
    current: bool  # what the store would build now (the same inputs)
    waiting: int = 0  # approved on it, and the client's month posted from no batch
    posted_to: tuple[str, ...] = ()  # where the month's documents went, from any batch
    voided: int = 0  # invoices posted from this batch, then voided
    adjusted: int = 0  # adjustments posted from this batch and not voided

    @property
    def open(self) -> bool:
        """Work left on it: approved invoices whose month is not posted, or a run to finish."""
        return self.in_flight > 0 or self.waiting > 0


def stored_batches(db: Database, *, today: date, month: str | None = None) -> list[StoredBatch]:
    with db.read() as conn:
        rules_id = rules_id_in_force(conn)
        query = select(
            _BATCHES.c.id,
            _BATCHES.c.month,
            _BATCHES.c.created_at,
            _BATCHES.c.created_by,
            _BATCHES.c.clients,
            func.json_array_length(_BATCHES.c.body, "$.summary").label("invoices"),
        ).order_by(_BATCHES.c.created_at.desc(), _BATCHES.c.id)
        if month is not None:
            query = query.where(_BATCHES.c.month == month)
        rows = conn.execute(query).all()
        # batch -> client -> the fingerprint of the invoice approved
        approved: dict[str, dict[int, str]] = defaultdict(dict)
        for batch, client, fingerprint in conn.execute(
            select(_APPROVALS.c.batch_id, _APPROVALS.c.client_id, _APPROVALS.c.fingerprint)
        ):
            approved[str(batch)][int(client)] = fingerprint
        sent = {month: month_entries(conn, month) for month in {r.month for r in rows}}
        return [_stored(conn, row, approved, sent[row.month], today, rules_id) for row in rows]


def open_batches_json(db: Database, *, today: date) -> list[dict[str, Any]]:
    """`trueup status --json`'s `open_batches`."""
    return [batch_json(b) for b in stored_batches(db, today=today) if b.open]


def batch_json(batch: StoredBatch) -> dict[str, Any]:
    return {
        **asdict(batch),
        "clients": list(batch.clients),
        "posted_to": list(batch.posted_to),
        "open": batch.open,
    }


def _stored(
    conn: Connection,
    row: Any,
    approved: dict[str, dict[int, str]],
    sent: list[Sent],
    today: date,
    rules_id: int | None,
) -> StoredBatch:
    clients = tuple(json.loads(row.clients))
    mine = [s for s in sent if s.batch_id == row.id]
    now = batch_inputs(conn, row.month, clients or None, today, rules_id).batch_id
    # An adjustment is not an invoice of this batch: counted as posted, a client adjusted from
    # a later batch read posted from two, its month's batches more invoices than it has.
    standing = [s for s in mine if s.state == "POSTED"]
    given = approved.get(row.id, {})
    # The month is posted per client, from whichever batch (approval.month_approvals).
    waiting = given.keys() - {s.client_id for s in sent if s.state == "POSTED"}
    if waiting and now != row.id:
        waiting = _still_approved(conn, now, {c: given[c] for c in waiting})
    return StoredBatch(
        row.id,
        row.month,
        row.created_at.isoformat() if hasattr(row.created_at, "isoformat") else str(row.created_at),
        row.created_by,
        clients,
        int(row.invoices or 0),
        len(given),
        len({s.client_id for s in standing if not s.adjusts}),
        sum(1 for s in mine if s.state in IN_FLIGHT),
        now == row.id,
        len(waiting),
        tuple(sorted({s.destination for s in sent if s.live})),
        len({s.client_id for s in mine if s.state == "VOIDED" and not s.adjusts}),
        sum(1 for s in standing if s.adjusts),
    )


def _still_approved(conn: Connection, now: str, fingerprints: dict[int, str]) -> set[int]:
    """Of the approvals given on a batch the store has moved on from, the clients whose invoice
    the month's batch `now` bills as approved: a lapsed one waits on no batch, and `trueup post`
    of it refuses the client. Told only when `now` is stored: building it is not status's to do
    (all are taken to wait until then, as `trueup post` then says)."""
    if conn.execute(select(_BATCHES.c.id).where(_BATCHES.c.id == now)).first() is None:
        return set(fingerprints)
    index = load_mapping_index(conn)
    return {
        invoice.client_id
        for invoice in stored_invoices(conn, now)
        if fingerprints.get(invoice.client_id) == invoice_fingerprint(invoice, index)
    }
