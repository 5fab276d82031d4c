"""One client's month, with everything behind it: the evidence pack (`trueup evidence`).

For a client who asks "why was I charged for 17.97 seats" or a dispute with Pax8: each line's
arithmetic in words with its anomalies; for each subscription the seat timeline of the month
(what changed when, from Pax8's history), the Pax8 invoice items behind its cost (credited and
re-issued ones shown as such) and the Halo lines it was compared with; what was posted where and
when. The raw records travel beside it.

The invoice is told from what was known then, and the pack says which: a posted month from the
batch that posted it (an adjusted one: the batch of its last adjustment); a closed month (before
the month being closed) from the last batch of all its clients stored for it, as `trueup month`
tells it, never rebuilt from today's data; only the month being closed (or a later one) from the
store as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select

from trueup.core.batch.body import InvoiceView
from trueup.core.batch.costs import cost_evidence
from trueup.core.batch.reading import client_batches, client_invoice
from trueup.core.batch.stored import BatchError, current_batch
from trueup.core.billing.facts import CostItem
from trueup.core.billing.timeline import TimelineEntry
from trueup.core.diff.seats import DiffRow, HaloLine, diff_detail, seat_diff
from trueup.core.ledger.month import Posting, client_postings, last_stored_batch
from trueup.core.reports.tables import Overrider, overriders
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.json_text import load_json
from trueup.core.values.months import Month


@dataclass(frozen=True)
class SubscriptionEvidence:
    subscription_id: str
    product: str
    timeline: list[TimelineEntry]  # the month, from Pax8's history
    cost_items: list[CostItem]  # the Pax8 invoice items of the month, credited ones too
    halo_lines: tuple[HaloLine, ...]  # what Halo bills for it, compared in the seat diff
    diff_status: str | None


Basis = Literal["posted", "stored", "current"]  # where the invoice was told from (module doc)


@dataclass(frozen=True)
class EvidencePack:
    month: Month
    batch_id: str
    basis: Basis
    built_at: datetime  # when the batch was built: what was known then
    invoice: InvoiceView
    subscriptions: list[SubscriptionEvidence]
    postings: tuple[Posting, ...]
    records: dict[str, Any]  # the raw JSON behind it, as Pax8 and Halo sent it
    # who let each error through, and when (tables.overrider reads it): the batch's overrides
    overriders: dict[tuple[int, str, str | None], Overrider]


def evidence_pack(
    db: Database, month: Month, client_id: int, *, today: date, closing: Month
) -> EvidencePack:
    """`closing`: the month being closed on `today`; the months before it are closed."""
    postings = client_postings(db, month, client_id)
    posted = [p.batch_id for p in postings if p.state == "posted"]
    basis: Basis
    if posted:
        # The newest: an adjustment was posted from the batch that bills the month as its
        # invoice and adjustments add up to (the first would tell the month before them).
        basis, wanted = "posted", posted[-1]
    elif month < closing:
        # The batch `trueup month`, export and summary tell it from: the last of every client,
        # not a later batch of chosen clients, which would give the pack another total.
        basis, wanted = "stored", last_stored_batch(db, month)
    else:
        basis, wanted = "current", current_batch(db, month, today=today)
    found = [b for b in client_batches(db, month, client_id) if b.batch_id == wanted]
    if not found:
        raise BatchError(f"client {client_id} has no invoice in {month} (batch {wanted})")
    batch = found[0]
    invoice = client_invoice(db, batch.batch_id, client_id)
    rows = {r.subscription_id: r for r in seat_diff(db, month, today=today, clients=[client_id])}
    subscriptions = [
        _subscription(
            db, month, line.subscription_id, line.description, rows.get(line.subscription_id)
        )
        for line in invoice.lines
        if line.kind == "subscription" and line.subscription_id
    ]
    records = _records(db, [s.subscription_id for s in subscriptions], client_id)
    who = {k: v for k, v in overriders(db, batch.batch_id).items() if k[0] == client_id}
    return EvidencePack(
        month,
        batch.batch_id,
        basis,
        batch.created_at,
        invoice,
        subscriptions,
        postings,
        records,
        who,
    )


def _subscription(
    db: Database, month: Month, subscription_id: str, product: str, row: DiffRow | None
) -> SubscriptionEvidence:
    timeline = diff_detail(db, row, month).timeline if row is not None else []
    return SubscriptionEvidence(
        subscription_id,
        product,
        timeline,
        cost_evidence(db, subscription_id, [month]),
        row.halo_lines if row is not None else (),
        row.status if row is not None else None,
    )


def _records(db: Database, subscription_ids: list[str], client_id: int) -> dict[str, Any]:
    """The raw JSON as stored from the APIs: subscriptions with their history, the Pax8 invoice
    items, the client's Halo recurring invoices and their lines."""
    subs, history = m.table_of(m.Pax8Subscription), m.table_of(m.Pax8SubscriptionSnapshot)
    items = m.table_of(m.Pax8InvoiceItem)
    headers, lines = m.table_of(m.HaloRecurringInvoice), m.table_of(m.HaloRecurringInvoiceLine)
    with db.read() as conn:

        def raws(query: Any) -> list[Any]:
            return [load_json(raw) for raw in conn.execute(query).scalars()]

        invoice_ids = select(headers.c.id).where(headers.c.client_id == client_id)
        return {
            "pax8_subscriptions": raws(select(subs.c.raw).where(subs.c.id.in_(subscription_ids))),
            "pax8_subscription_history": raws(
                select(history.c.raw)
                .where(history.c.subscription_id.in_(subscription_ids))
                .order_by(history.c.subscription_id, history.c.position)
            ),
            "pax8_invoice_items": raws(
                select(items.c.raw).where(items.c.subscription_id.in_(subscription_ids))
            ),
            "halo_recurring_invoices": raws(
                select(headers.c.raw).where(headers.c.client_id == client_id)
            ),
            "halo_recurring_invoice_lines": raws(
                select(lines.c.raw).where(lines.c.invoice_id.in_(invoice_ids))
            ),
        }
