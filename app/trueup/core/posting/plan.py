"""What posting a batch would do, and the journal entries (the outbox) that make it happen.

`plan_posting` reads: which approved invoices can post to a destination, which cannot and why
(unapproved, lapsed, a mapping missing, already posted from another batch), the total per
currency. `queue_posting` writes one PENDING journal entry per invoice, each holding its
document, in one transaction; `posting_run.run_posting` then sends them.

One invoice per client, month and destination: a client's month posted from one batch is
refused from any other until it is voided, and the document posted again after a void gets the
next reference (TU2611-420-2), since a voided document keeps its number at the destination.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update

from trueup.core.batch.approval import approval_states
from trueup.core.batch.body import StoredInvoice
from trueup.core.batch.settled import unsettled
from trueup.core.batch.stored import BatchError, StoredBatch, load_batch
from trueup.core.billing.rules import Rules
from trueup.core.diff.seats import DiffRow, cyclic_gc_paused, seat_diff
from trueup.core.mapping.index import MappingIndex, load_mapping_index
from trueup.core.posting.crashpoints import crash_point
from trueup.core.posting.documents import (
    HaloCatalog,
    invoice_document,
    load_catalog,
    missing_targets,
    recurring_document,
    reference_for,
)
from trueup.core.posting.recurring_stale import stale_recurring
from trueup.core.posting.sink import DESTINATIONS, Document, document_kind
from trueup.core.rules.current import current_rules
from trueup.core.settings.config import XeroSettings
from trueup.core.settings.operator import current_user
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.logbook import log_event
from trueup.core.store.postings import Sent, month_entries, taken_by
from trueup.core.values.text import some, visible

ENTRIES = m.table_of(m.PostingEntry)
UNFINISHED = ("PENDING", "SENDING", "UNKNOWN")


class PostingError(BatchError):
    """Posting cannot go ahead; the message says what to do."""


@dataclass(frozen=True)
class Planned:
    client_id: int
    client_name: str
    currency: str
    total: Decimal
    document: Document | None  # None when it cannot post
    problem: str | None = None  # why it cannot post
    entry_state: str | None = None  # its journal entry's state, if it has one
    unsettled: tuple[str, ...] = ()  # a new document of a month not settled: why (batch/settled)
    approved: bool = False  # blocked though the operator approved it (lapsed, or no target)
    # An adjustment plan's blocked client whose posted month bills otherwise now (as `trueup
    # month` counts it to adjust), whatever keeps its adjustment back.
    differs: bool = False
    # halo-recurring: the client has no active recurring invoice in Halo, so the one-off
    # invoice bills the whole month, and will each month until Halo has one for it.
    no_recurring: bool = False
    # A re-issue: what became of the month's document before it ("TU2611-420 voided at qbo").
    follows: str = ""


@dataclass(frozen=True)
class PostingPlan:
    batch_id: str
    month: str
    destination: str
    ready: list[Planned]  # to post (new, or an unfinished or rejected entry to finish)
    done: list[Planned]  # already posted from this batch
    blocked: list[Planned]  # with the reason each cannot post

    def stuck(self) -> list[Planned]:
        """The invoices the operator approved that cannot post: still to do."""
        return [planned for planned in self.blocked if planned.approved]

    def unsettled(self) -> list[Planned]:
        """The new documents of a month whose figures are not final yet: posting them needs the
        operator's explicit word."""
        return [p for p in self.ready if p.unsettled]

    def without_recurring(self) -> list[Planned]:
        """halo-recurring: the new documents billing a whole month on a one-off invoice."""
        return [p for p in self.ready if p.no_recurring]

    def totals(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for planned in self.ready:
            sums[planned.currency] = sums.get(planned.currency, Decimal(0)) + planned.total
        return dict(sorted(sums.items()))


@dataclass(frozen=True)
class EntryView:
    id: int
    client_id: int
    client_name: str
    destination: str
    action: str
    reference: str
    state: str
    attempts: int
    remote_id: str | None
    remote_number: str | None
    error: str | None
    total: Decimal
    currency: str
    document: str  # what the destination holds it as (sink.document_kind): "invoice" ...
    batch_id: str
    created_at: datetime  # when the entry was written (UTC), and by whom
    created_by: str
    updated_at: datetime  # when its state last changed: posted, for a posted one
    name_as_sent: str  # as its payload holds it: the JSON prints it; `client_name`, written out

    @property
    def said(self) -> str:
        """The state in words: a void the destination took reads VOIDED, not POSTED (the
        journal's word for any document it took)."""
        return "VOIDED" if self.action == "void" and self.state == "POSTED" else self.state


@dataclass(frozen=True)
class PlanInputs:
    """What planning a batch's documents reads from the store."""

    stored: StoredBatch
    rules: Rules
    index: MappingIndex
    catalog: HaloCatalog
    sent: dict[int, list[Sent]]  # client -> the month's journal entries, oldest first


def plan_inputs(
    db: Database,
    batch_id: str,
    clients: Sequence[int] | None,
    xero: XeroSettings | None = None,
    qbo_realm: str | None = None,
) -> PlanInputs:
    """The batch and what its documents need; PostingError for a client the batch lacks."""
    stored = load_batch(db, batch_id)
    unknown = sorted(set(clients or ()) - stored.by_client.keys())
    if unknown:
        raise PostingError(
            f"batch {batch_id} has no invoice for client(s) {', '.join(map(str, unknown))}"
        )
    rules, _ = current_rules(db)
    with db.read() as conn:
        sent: dict[int, list[Sent]] = defaultdict(list)
        for entry in month_entries(conn, stored.month):
            sent[entry.client_id].append(entry)
        catalog = load_catalog(conn, xero, qbo_realm)
        return PlanInputs(stored, rules, load_mapping_index(conn), catalog, dict(sent))


def check_destination(destination: str) -> str:
    if destination not in DESTINATIONS:
        raise PostingError(
            f"unknown destination {destination!r}: use one of {', '.join(DESTINATIONS)}"
        )
    return destination


# Its documents are ~100k acyclic objects (each line read, then written as the destination's).
@cyclic_gc_paused()
def plan_posting(
    db: Database,
    batch_id: str,
    destination: str,
    *,
    today: date,
    clients: Sequence[int] | None = None,
    xero: XeroSettings | None = None,
    qbo_realm: str | None = None,
) -> PostingPlan:
    """`qbo_realm`: the QuickBooks company posting would reach (the configured one)."""
    check_destination(destination)
    inputs = plan_inputs(db, batch_id, clients, xero, qbo_realm)
    stored, rules, index, catalog, by_client = (
        inputs.stored, inputs.rules, inputs.index, inputs.catalog, inputs.sent
    )  # fmt: skip
    states = {s.client_id: s for s in approval_states(db, batch_id, today=today, stored=stored)}
    rows: dict[int, list[DiffRow]] = defaultdict(list)
    stale: dict[int, str] = {}
    if destination == "halo-recurring":
        for row in seat_diff(db, stored.month, today=today):
            rows[row.client_id].append(row)
        with db.read() as conn:
            stale = stale_recurring(conn, stored.month)
    wanted = None if clients is None else set(clients)
    ready, done, blocked = [], [], []
    for invoice in stored.invoices:
        client_id = invoice.client_id
        if wanted is not None and client_id not in wanted:
            continue
        # The name written out for the plan's views (raw in a batch built before bcb6310).
        base = (client_id, visible(invoice.client_name), invoice.currency, invoice.total)
        entries = by_client.get(client_id, [])
        mine = [e for e in entries if e.destination == destination]
        own = next(
            (
                e
                for e in mine
                if e.batch_id == batch_id and e.state != "VOIDED" and not e.adjustment
            ),
            None,
        )
        # An adjustment of this batch cut short (a crash, a lost answer) is finished here: once
        # the month moves on, `--adjust` plans from the newer batch and names this command.
        cut_short = next(
            (e for e in mine if e.batch_id == batch_id and e.adjustment and e.state in UNFINISHED),
            None,
        )
        if cut_short is not None:
            document = Document.from_json(cut_short.payload)
            ready.append(Planned(*base[:3], document.total, document, entry_state=cut_short.state))
            continue
        # One destination per client and month, whichever batch sent it.
        taken = next((e for e in entries if e.live and e is not own), None)
        if (own is not None and own.state == "POSTED") or (
            taken is not None and taken.destination == destination and taken.state == "POSTED"
        ):
            done.append(Planned(*base, None, entry_state="POSTED"))
            continue
        if taken is not None:
            blocked.append(Planned(*base, None, taken_by(taken)))
            continue
        if own is not None and own.state in UNFINISHED:
            ready.append(Planned(*base, Document.from_json(own.payload), entry_state=own.state))
            continue
        if stored.states.get(client_id) == "held":
            blocked.append(Planned(*base, None, "held by the operator"))
            continue
        state = states[client_id]
        if state.status != "approved":
            reason = (
                "not approved"
                if state.status == "unapproved"
                else _lapsed(stored.month, client_id, state.changes)
            )
            lapsed = state.status != "unapproved"
            blocked.append(Planned(*base, None, reason, approved=lapsed))
            continue
        if client_id in stale:
            blocked.append(Planned(*base, None, stale[client_id], approved=True))
            continue
        reference = (
            own.reference
            if own is not None
            else _next_reference(stored.month, client_id, entries, destination)
        )
        document = document_for(
            invoice, batch_id, stored.month, reference, destination, index, catalog, rules, rows
        )
        problems = missing_targets(document, destination, catalog, rules_tax=invoice.tax)
        if problems:
            blocked.append(Planned(*base, None, "; ".join(problems), approved=True))
            continue
        entry_state = own.state if own else None
        whole = destination == "halo-recurring" and client_id not in catalog.first_recurring
        ready.append(
            Planned(
                *base,
                document,
                None,
                entry_state,
                tuple(unsettled(invoice)),
                no_recurring=whole and bool(document.lines),
                follows=_follows(entries, reference),
            )
        )
    return PostingPlan(batch_id, stored.month, destination, ready, done, blocked)


def _lapsed(month: str, client_id: int, changes: Sequence[str]) -> str:
    """Why a lapsed approval stops the post, in a few of its changes (the total's first), and
    the command that approves the client's month again."""
    first = sorted(changes, key=lambda change: not change.startswith("total "))
    command = f"trueup approve {month} --client {client_id}"
    return (
        f"approval lapsed: {some(first, separator='; ')}; `{command}` approves it again (or a "
        f"on the workbench's Batch screen; `trueup approve {month} --status` lists every change)"
    )


def queue_posting(db: Database, plan: PostingPlan, *, by: str | None = None) -> int:
    """Write the plan's new documents as PENDING entries (a rejected one gets its new document
    and goes back to PENDING), in one transaction; returns how many entries were written."""
    by = by or current_user()
    now = datetime.now(UTC)
    written = 0
    with db.write() as conn:
        for planned in plan.ready:
            document = planned.document
            if document is None or planned.entry_state in UNFINISHED:
                continue
            payload = document.to_json()
            key = _idempotency_key(plan.destination, document.reference, "create", payload)
            values: dict[str, Any] = {
                "state": "PENDING",
                "payload": payload,
                "idempotency_key": key,
                "error": None,
                "updated_at": now,
            }
            if planned.entry_state == "REJECTED":
                conn.execute(
                    ENTRIES.update()
                    .where(
                        (ENTRIES.c.destination == plan.destination)
                        & (ENTRIES.c.reference == document.reference)
                        & (ENTRIES.c.action == "create")
                    )
                    .values(**values)
                )
            else:
                conn.execute(
                    insert(ENTRIES).values(
                        batch_id=plan.batch_id,
                        month=plan.month,
                        client_id=planned.client_id,
                        destination=plan.destination,
                        action="create",
                        reference=document.reference,
                        created_at=now,
                        created_by=by,
                        **values,
                    )
                )
            written += 1
        if written:
            log_event(
                conn,
                "info",
                "posting_queued",
                source="posting",
                batch_id=plan.batch_id,
                destination=plan.destination,
                invoices=written,
                totals={c: str(t) for c, t in plan.totals().items()},
                by=by,
            )
    crash_point("queued")
    return written


def posting_entries(
    db: Database,
    batch_id: str | None,
    destination: str | None = None,
    action: str | None = None,
    *,
    month: str | None = None,
) -> list[EntryView]:
    """The batch's journal (with `month`, the month's, whichever batch wrote it), in the order
    entries were written. A document whose void is posted reads VOIDED, as in every view."""
    whose = ENTRIES.c.batch_id == batch_id if month is None else ENTRIES.c.month == month
    query = select(ENTRIES).where(whose).order_by(ENTRIES.c.id)
    if destination:
        query = query.where(ENTRIES.c.destination == destination)
    with db.read() as conn:
        rows = conn.execute(query).all()
    voided = {
        (r.destination, r.reference) for r in rows if r.action == "void" and r.state == "POSTED"
    }
    return [
        entry_view(r, voided=r.action == "create" and (r.destination, r.reference) in voided)
        for r in rows
        if not action or r.action == action
    ]


def _follows(entries: Sequence[Sent], reference: str) -> str:
    """What a re-issue follows, when the client's month had a document before `reference`'s
    (voided, or refused): the latest of the month's own documents, in words."""
    month = [
        e
        for e in entries
        if e.reference != reference and not e.adjustment and e.state in ("VOIDED", "REJECTED")
    ]
    if not month:
        return ""
    last = month[-1]
    fate = (
        f"voided at {last.destination}"
        if last.state == "VOIDED"
        else f"refused by {last.destination}"
    )
    return f"{last.reference} {fate}"


def _next_reference(month: str, client_id: int, entries: Sequence[Sent], destination: str) -> str:
    """The client's month's first reference no entry holds, at any destination: a re-issue
    after a void (TU2611-420-2), or after another batch's rejected one, is never a reference
    used before, so the chain reads voided → re-issued, and the journal's unique key holds."""
    used = {e.reference for e in entries}
    revision = 1
    while (reference := reference_for(month, client_id, revision, destination)) in used:
        revision += 1
    return reference


def entry_view(row: Any, *, voided: bool = False) -> EntryView:
    """`voided`: the document's void is posted (the create entry itself stays POSTED)."""
    document = Document.from_json(row.payload)
    return EntryView(
        row.id,
        row.client_id,
        visible(document.client_name),  # written out: a document sent before bcb6310 holds it raw
        row.destination,
        row.action,
        row.reference,
        "VOIDED" if voided else row.state,
        row.attempts,
        row.remote_id,
        row.remote_number,
        row.error,
        document.total,
        document.currency,
        document_kind(row.destination, document.total, row.remote_id),
        row.batch_id,
        row.created_at.replace(tzinfo=UTC),  # stored as UTC without its offset
        row.created_by,
        row.updated_at.replace(tzinfo=UTC),
        document.client_name,
    )


def document_for(
    invoice: StoredInvoice,
    batch_id: str,
    month: str,
    reference: str,
    destination: str,
    index: MappingIndex,
    catalog: HaloCatalog,
    rules: Rules,
    rows: Mapping[int, Sequence[DiffRow]],
) -> Document:
    if destination == "halo-recurring":
        return recurring_document(
            invoice,
            batch_id=batch_id,
            month=month,
            reference=reference,
            index=index,
            catalog=catalog,
            rules=rules,
            diff_rows=rows.get(invoice.client_id, ()),
        )
    return invoice_document(
        invoice,
        batch_id=batch_id,
        month=month,
        reference=reference,
        destination=destination,
        index=index,
        catalog=catalog,
    )


def _idempotency_key(destination: str, reference: str, action: str, payload: str) -> str:
    digest = hashlib.sha256(payload.encode()).hexdigest()[:12]
    return f"{destination}:{reference}:{action}:{digest}"


def queue_void(
    db: Database,
    batch_id: str,
    destination: str,
    clients: Sequence[int] | None = None,
    *,
    by: str | None = None,
) -> int:
    """Journal the void of the batch's posted documents (of `clients`, or all), one PENDING
    void entry each, in one transaction; a void the destination refused goes back to PENDING
    (sent again, once its cause is fixed). Returns how many were queued."""
    check_destination(destination)
    by = by or current_user()
    now = datetime.now(UTC)
    with db.write() as conn:
        rows = conn.execute(
            select(ENTRIES).where(
                (ENTRIES.c.batch_id == batch_id) & (ENTRIES.c.destination == destination)
            )
        ).all()
        voids = {r.reference for r in rows if r.action == "void"}
        refused = [
            r.id
            for r in rows
            if r.action == "void"
            and r.state == "REJECTED"
            and (clients is None or r.client_id in clients)
        ]
        if refused:
            conn.execute(
                update(ENTRIES)
                .where(ENTRIES.c.id.in_(refused))
                .values(state="PENDING", updated_at=now)
            )
        posted = [
            r
            for r in rows
            if r.action == "create"
            and r.state == "POSTED"
            and r.reference not in voids
            and (clients is None or r.client_id in clients)
        ]
        for row in posted:
            conn.execute(
                insert(ENTRIES).values(
                    batch_id=batch_id,
                    month=row.month,
                    client_id=row.client_id,
                    destination=destination,
                    action="void",
                    reference=row.reference,
                    idempotency_key=_idempotency_key(
                        destination, row.reference, "void", row.payload
                    ),
                    state="PENDING",
                    payload=row.payload,
                    remote_id=row.remote_id,
                    remote_number=row.remote_number,
                    created_at=now,
                    created_by=by,
                    updated_at=now,
                )
            )
        if posted:
            log_event(
                conn,
                "warning",
                "void_queued",
                source="posting",
                batch_id=batch_id,
                destination=destination,
                references=[r.reference for r in posted],
                by=by,
            )
    return len(posted) + len(refused)
