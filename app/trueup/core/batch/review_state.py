"""Which batch the workbench reviews, and each of its invoices' approval.

An approval vouches for an invoice as approved and belongs to the client's month: it holds on
any batch of the month with the same fingerprint (batch.approval.month_approvals). The Batch
screen stays on the month's batch holding the latest approval or posting, where an approval the
store would now bill differently shows as lapsed with what changed, until the operator builds
the batch again (`b`), where the unchanged invoices read approved and the changed ones lapsed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, union_all

from trueup.core.batch.approval import ApprovalState, approval_states, month_approvals
from trueup.core.batch.stored import batch_inputs
from trueup.core.rules.current import current_rules
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.postings import Sent, month_entries

_APPROVALS = m.table_of(m.Approval)
_BATCHES = m.table_of(m.InvoiceBatch)
_ROWS = m.table_of(m.BatchInvoice)
_ENTRIES = m.table_of(m.PostingEntry)


@dataclass(frozen=True)
class BatchApprovals:
    states: dict[int, ApprovalState]  # the approved and lapsed invoices, by client
    current: bool  # the batch is what the store would build now
    # client -> the destinations its month is posted at (and not voided since), from any batch
    posted: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # client -> the destinations its month was voided at, with nothing posted since
    voided: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # client -> the total of its documents posted and not voided (adjustments included)
    posted_totals: dict[int, Decimal] = field(default_factory=dict)
    adjusted: frozenset[int] = frozenset()  # clients with an adjustment posted
    last_voided: dict[int, datetime] = field(default_factory=dict)  # client -> its latest void

    def differs(self, client_id: int, total: Decimal) -> bool:
        """The client's month is posted and would now bill `total`, not what was posted."""
        posted = self.posted_totals.get(client_id)
        return posted is not None and posted != total

    def posted_to(self, client_id: int) -> tuple[str, ...]:
        return self.posted.get(client_id, ())

    def voided_at(self, client_id: int) -> tuple[str, ...]:
        return self.voided.get(client_id, ())

    def reads_voided(self, client_id: int) -> bool:
        """Voided, and not approved again since (approved_since)."""
        approval, voided = self.states.get(client_id), self.last_voided.get(client_id)
        return bool(self.voided_at(client_id)) and not approved_since(approval, voided)

    def state_of(self, client_id: int, word: str) -> str:
        """The client's month as the ledger words it (ledger/month.py): what was sent first
        (posted or adjusted, then voided), then its approval, then the operator's `word` on
        the batch (draft, held, ready)."""
        if self.posted_to(client_id):
            return "adjusted" if client_id in self.adjusted else "posted"
        if self.reads_voided(client_id):
            return "voided"
        approval = self.states.get(client_id)
        return word if approval is None else approval.status

    @property
    def lapsed(self) -> int:
        return sum(1 for s in self.states.values() if s.status == "lapsed")


def review_batch_id(db: Database, month: str) -> str | None:
    """The month's whole-month batch the operator last acted on: the latest approval given or
    document posted from it (an adjustment is posted from the batch that bills the month now:
    the one before it would read every adjusted client as billing otherwise). None when
    nothing was approved or posted."""
    acted = union_all(
        select(_APPROVALS.c.batch_id, _APPROVALS.c.approved_at.label("at")),
        # Documents posted from it; not voids, which name the batch that posted what they void.
        select(_ENTRIES.c.batch_id, _ENTRIES.c.created_at.label("at")).where(
            (_ENTRIES.c.month == month) & (_ENTRIES.c.action == "create")
        ),
    ).subquery()
    with db.read() as conn:
        found = conn.execute(
            select(acted.c.batch_id)
            .join(_BATCHES, _BATCHES.c.id == acted.c.batch_id)
            .where((_BATCHES.c.month == month) & (_BATCHES.c.clients == "[]"))
            .group_by(acted.c.batch_id)
            .order_by(func.max(acted.c.at).desc(), acted.c.batch_id)
            .limit(1)
        ).scalar()
    return None if found is None else str(found)


def batch_approvals(db: Database, batch_id: str, *, today: date) -> BatchApprovals:
    """The batch's approved and lapsed invoices (lapse detection rebuilds the batch when the
    store moved on, so this can take seconds on a large store), and whether it is current."""
    _, rules_id = current_rules(db)
    with db.read() as conn:
        batch = conn.execute(
            select(_BATCHES.c.month, _BATCHES.c.clients).where(_BATCHES.c.id == batch_id)
        ).one()
        clients = json.loads(batch.clients) or None
        now = batch_inputs(conn, batch.month, clients, today, rules_id).batch_id
        sent = month_entries(conn, batch.month)  # the month's journal, read once for all
        listed = conn.execute(select(_ROWS.c.client_id).where(_ROWS.c.batch_id == batch_id))
        # A posted month's approval is not asked after: what was sent outranks it (state_of),
        # and checking a posted month's 2,000 fingerprints took seconds.
        undecided = set(listed.scalars()) - {e.client_id for e in sent if e.state == "POSTED"}
        # The month's approvals, wherever given: none (most batches) reads no invoice.
        asked = set(month_approvals(conn, batch_id)) & undecided
    states = {
        s.client_id: s
        for s in (approval_states(db, batch_id, today=today, clients=asked) if asked else ())
        if s.status != "unapproved"
    }
    live = [entry for entry in sent if entry.state == "POSTED"]
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for entry in live:
        totals[entry.client_id] += entry.billed
    return BatchApprovals(
        states,
        now == batch_id,
        posted_invoices(sent),
        voided_invoices(sent),
        dict(totals),
        frozenset(entry.client_id for entry in live if entry.adjustment),
        last_voids(sent),
    )


def posted_invoices(sent: list[Sent]) -> dict[int, tuple[str, ...]]:
    """Of the month's journal: the clients posted somewhere and not voided since, from
    whichever batch: client -> destinations."""
    found: dict[int, set[str]] = defaultdict(set)
    for entry in sent:
        if entry.state == "POSTED":
            found[entry.client_id].add(entry.destination)
    return {c: tuple(sorted(d)) for c, d in found.items()}


def voided_invoices(sent: list[Sent]) -> dict[int, tuple[str, ...]]:
    """Of the month's journal: the clients whose documents were voided and that have nothing
    live since: client -> the destinations."""
    found: dict[int, set[str]] = defaultdict(set)
    live: set[int] = set()
    for entry in sent:
        if entry.state == "VOIDED":
            found[entry.client_id].add(entry.destination)
        elif entry.live:
            live.add(entry.client_id)
    return {c: tuple(sorted(d)) for c, d in found.items() if c not in live}


def last_voids(sent: Iterable[Sent]) -> dict[int, datetime]:
    """Of the month's journal: client -> when its latest void was posted."""
    found: dict[int, datetime] = {}
    for entry in sent:
        if entry.state == "VOIDED" and entry.voided_at is not None:
            seen = found.get(entry.client_id)
            found[entry.client_id] = entry.voided_at if seen is None else max(seen, entry.voided_at)
    return found


def approved_since(approval: ApprovalState | None, voided: datetime | None) -> bool:
    """A void leaves the client's approval standing (the month can be posted again as it
    was); an approval given after the void is the operator's newer word, and the month reads
    by it."""
    if approval is None or approval.approved_at is None or voided is None:
        return False
    return approval.status != "unapproved" and approval.approved_at > voided
