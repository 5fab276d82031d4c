"""Every client of a month: what its batch bills, what was decided and what was sent.

The month being closed (or a later one) is told from the store as it is: its batch is built
first when the store has moved on. A closed month (before the month being closed) is told from
the last batch stored for it, as known then, never rebuilt from today's data: its figures are
those it was billed and posted by, and opening it leaves nothing behind that the evidence pack
of a client not posted (told from that same last batch) would then be told from instead.
`trueup batch --month` builds a closed month's batch from today's data when asked.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from trueup.core.batch.approval import (
    ApprovalState,
    approval_states,
    invoice_fingerprint,
    month_approvals,
)
from trueup.core.batch.review_state import approved_since, last_voids
from trueup.core.batch.settled import unsettled
from trueup.core.batch.stored import StoredBatch, current_batch, list_batches, load_batch
from trueup.core.errors import TrueupError
from trueup.core.mapping.index import load_mapping_index
from trueup.core.posting.sink import document_kind
from trueup.core.settings.config import BillingSettings
from trueup.core.store.database import Database
from trueup.core.store.postings import IN_FLIGHT, Sent, month_entries
from trueup.core.values.money import money_json
from trueup.core.values.months import Month
from trueup.core.values.text import visible

ZERO = Decimal(0)


class NoBatchStoredError(TrueupError):
    """A closed month with no batch stored for it: nothing known then to tell it from, and none
    is built from today's data unasked."""


@dataclass(frozen=True)
class Posting:
    """One document sent for the client's month (a void shows on the document it voided)."""

    destination: str
    reference: str
    document_id: str | None  # the destination's id for it
    document_number: str | None  # and its own number, where it has one
    state: str  # posted | voided | pending | sending | unknown | rejected
    amount: Decimal
    currency: str
    at: str | None
    by: str
    batch_id: str
    adjusts: tuple[str, ...] = ()  # an adjustment: the references it corrects
    billed: Decimal | None = None  # what it bills the month, when not `amount` (Sent.billed)
    voided_at: str | None = None  # when its void was posted, and who voided it
    voided_by: str | None = None
    document: str = "invoice"  # what the destination holds it as (posting.sink.document_kind)
    draft: bool = False  # a Xero draft: at the destination, not yet issued to the client
    # Its void while not done: pending | sending | unknown (cut short: `trueup void` again
    # finishes it) or rejected (refused there); None when no void is under way.
    voiding: str | None = None


@dataclass(frozen=True)
class ClientMonth:
    client_id: int
    client_name: str
    state: str  # draft | held | ready | lapsed | approved | posting | posted | adjusted | voided
    currency: str
    total: Decimal  # what the month's batch bills now (0 when the client left it)
    posted_total: Decimal  # of the documents posted and not voided
    unsettled: tuple[str, ...]  # why the month's figures are not final yet (none: settled)
    postings: tuple[Posting, ...]

    @property
    def shown_name(self) -> str:
        """`client_name` for people: written out, as a batch or a journal from before bcb6310
        holds it raw (the JSON, the export and the summary read it as it was built)."""
        return visible(self.client_name)

    @property
    def settled(self) -> bool:
        """Every cost and usage backed by the Pax8 invoice (batch/settled.py)."""
        return not self.unsettled

    @property
    def difference(self) -> Decimal:
        return self.total - self.posted_total

    @property
    def posted(self) -> bool:
        """A document of the month stands at a destination (posted, not voided)."""
        return any(p.state == "posted" for p in self.postings)

    @property
    def voiding(self) -> tuple[Posting, ...]:
        """Its documents whose void is queued and not done (cut short, or refused)."""
        return tuple(p for p in self.postings if p.voiding)


@dataclass(frozen=True)
class MonthLedger:
    month: Month
    batch_id: str  # the month's batch for the store as it is; a closed month's last stored
    clients: list[ClientMonth]
    batch: StoredBatch = field(repr=False, compare=False)  # read once, for what reads it more
    known_on: datetime | None = None  # a closed month: when its batch was built (module doc)

    @property
    def told_from(self) -> str:
        """The batch the month is told from, as the reports' first lines say it."""
        return told_from(self.batch_id, self.known_on)


def told_from(batch_id: str, known_on: datetime | None) -> str:
    """`batch ID`, or for a closed month `as known on 2026-11-21 09:12 UTC, batch ID`."""
    if known_on is None:
        return f"batch {batch_id}"
    return f"as known on {known_on:%Y-%m-%d %H:%M} UTC, batch {batch_id}"


# The journal's states that settle a client's month whatever its approval says (_state).
_DECIDING = {"POSTED", *IN_FLIGHT}


def month_ledger(
    db: Database, month: Month, *, today: date, closing: Month | None = None
) -> MonthLedger:
    """The month's ledger (module doc). `closing`: the month being closed on `today` (by
    default, by the default close day); the months before it are closed, and one with no batch
    stored for it is NoBatchStoredError."""
    closing = closing or Month.being_closed(today, BillingSettings().close_day)
    closed = month < closing
    batch_id = last_stored_batch(db, month) if closed else current_batch(db, month, today=today)
    stored = load_batch(db, batch_id)
    with db.read() as conn:
        sent: dict[int, list[Sent]] = defaultdict(list)
        for entry in month_entries(conn, month):
            sent[entry.client_id].append(entry)
    # What was sent outranks the approval (_state): only the others' approvals are checked.
    undecided = {c for c in stored.by_client if not _DECIDING & {s.state for s in sent.get(c, ())}}
    approvals = {
        s.client_id: s
        for s in (
            _approvals_then(db, stored, undecided)
            if closed
            else approval_states(db, batch_id, today=today, stored=stored, clients=undecided)
        )
    }
    voids = last_voids(entry for entries in sent.values() for entry in entries)
    clients = []
    invoices = stored.by_client
    for client_id in sorted(invoices.keys() | sent.keys()):
        invoice = invoices.get(client_id)
        postings = tuple(_posting(s) for s in sent.get(client_id, ()))
        first = postings[0] if postings else None
        name = invoice.client_name if invoice else sent[client_id][0].client_name
        state = _state(
            postings, stored.states.get(client_id), approvals.get(client_id), voids.get(client_id)
        )
        clients.append(
            ClientMonth(
                client_id,
                name,
                state,
                invoice.currency if invoice else (first.currency if first else ""),
                invoice.total if invoice else ZERO,
                sum((_billed(p) for p in postings if p.state == "posted"), ZERO),
                tuple(unsettled(invoice)) if invoice else ("not in the month's batch",),
                postings,
            )
        )
    ordered = sorted(clients, key=lambda c: c.client_name.casefold())
    return MonthLedger(month, batch_id, ordered, stored, stored.created_at if closed else None)


def last_stored_batch(db: Database, month: Month) -> str:
    """The newest batch stored of every client of the month (not of chosen ones: the ledger
    lists them all); NoBatchStoredError when there is none."""
    stored = list_batches(db, month)  # newest first
    whole = [b.batch_id for b in stored if not b.clients]
    if whole:
        return whole[0]
    build = f"`trueup batch --month {month}` builds one from today's data"
    if stored:
        raise NoBatchStoredError(
            f"only batches of chosen clients were stored for {month} (`trueup batches --month "
            f"{month}`): a closed month is told from the last batch of all its clients; {build}"
        )
    raise NoBatchStoredError(
        f"no batch was ever stored for {month}: a closed month is told from what was known "
        f"then, and nothing was; {build}"
    )


def _approvals_then(db: Database, stored: StoredBatch, clients: set[int]) -> list[ApprovalState]:
    """A closed month's approvals as its stored batch reads them: approved when the approval
    vouches for the stored invoice (where its lines post as mapped now), else lapsed. Never
    checked against today's data as approval_states does: that builds the month's batch."""
    with db.read() as conn:
        given = month_approvals(conn, stored.batch_id)
        index = load_mapping_index(conn)
    found = []
    for client_id in sorted(clients & given.keys()):
        approval, invoice = given[client_id], stored.by_client[client_id]
        same = invoice_fingerprint(invoice, index) == approval.fingerprint
        found.append(
            ApprovalState(
                client_id,
                invoice.client_name,
                "approved" if same else "lapsed",
                approval.approved_by,
                approval.approved_at.replace(tzinfo=UTC),
            )
        )
    return found


def client_postings(db: Database, month: Month, client_id: int) -> tuple[Posting, ...]:
    """The documents sent for one client's month, oldest first."""
    with db.read() as conn:
        return tuple(_posting(s) for s in month_entries(conn, month, client_id))


def ledger_json(ledger: MonthLedger) -> dict[str, Any]:
    """`trueup month --json` (contract §3); `as_known_on`: a closed month's, when its batch was
    built (null for the month being closed, told from the store as it is)."""
    return {
        "month": ledger.month,
        "batch_id": ledger.batch_id,
        "as_known_on": ledger.known_on.isoformat() if ledger.known_on else None,
        "clients": [_client_json(c) for c in ledger.clients],
        "totals": ledger_totals(ledger),
    }


def ledger_totals(ledger: MonthLedger) -> dict[str, Any]:
    """The month's clients per state, and per currency what it bills now, what was posted and
    the difference (the JSON's `totals`, and the text's last lines). The difference is of two
    kinds: what clients not posted bill (`not_posted`), and what posted clients bill otherwise
    now (`to_adjust`, over `to_adjust_clients`: an adjustment each)."""
    states: Counter[str] = Counter(c.state for c in ledger.clients)
    currencies: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
    adjusting: Counter[str] = Counter()
    for client in ledger.clients:
        sums = currencies[client.currency]
        sums[0] += client.total
        sums[1] += client.posted_total
        if not client.posted:
            sums[2] += client.total
        elif client.difference:
            sums[3] += client.difference
            adjusting[client.currency] += 1
    return {
        "clients": len(ledger.clients),
        "by_state": dict(sorted(states.items())),
        "by_currency": {
            currency: {
                "total": money_json(total),
                "posted_total": money_json(posted),
                "difference": money_json(total - posted),
                "not_posted": money_json(not_posted),
                "to_adjust": money_json(to_adjust),
                "to_adjust_clients": adjusting[currency],
            }
            for currency, (total, posted, not_posted, to_adjust) in sorted(currencies.items())
        },
    }


def _client_json(client: ClientMonth) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "client_name": client.client_name,
        "state": client.state,
        "currency": client.currency,
        "total": money_json(client.total),
        "posted_total": money_json(client.posted_total),
        "difference": money_json(client.difference),
        "settled": client.settled,
        "unsettled": list(client.unsettled),
        "postings": [
            {
                "destination": p.destination,
                "reference": p.reference,
                "document_id": p.document_id,
                "document_number": p.document_number,
                "document": p.document,
                "draft": p.draft,
                "state": p.state,
                "amount": money_json(p.amount),
                # What it bills the month: a recurring true-up's is the invoice it trued the
                # recurring one up to, not its one-off document's `amount`.
                "billed": money_json(p.amount if p.billed is None else p.billed),
                "at": p.at,
                "by": p.by,
                "voided_at": p.voided_at,
                "voided_by": p.voided_by,
                "batch_id": p.batch_id,
                "adjusts": list(p.adjusts),
                "voiding": p.voiding,
            }
            for p in client.postings
        ],
    }


def _state(
    postings: tuple[Posting, ...],
    word: str | None,
    approval: ApprovalState | None,
    voided: datetime | None,  # the client's latest void
) -> str:
    """The furthest the client's month has gone: what was sent first, then the decisions (an
    approval given after a void among them: review_state.approved_since)."""
    states = {p.state for p in postings}
    if "posted" in states:
        adjusted = any(p.adjusts and p.state == "posted" for p in postings)
        return "adjusted" if adjusted else "posted"
    if states & {"pending", "sending", "unknown"}:
        return "posting"
    if "voided" in states and not approved_since(approval, voided):
        return "voided"
    if approval is not None and approval.status in ("approved", "lapsed"):
        return approval.status
    return word if word in ("held", "ready") else "draft"


def _billed(posting: Posting) -> Decimal:
    """What the posting bills the month (a recurring true-up: its invoice's total, 0 too)."""
    return posting.amount if posting.billed is None else posting.billed


def _posting(sent: Sent) -> Posting:
    """The journal's entry as the ledger shows it: its few figures, never its ~20 lines."""
    return Posting(
        sent.destination,
        sent.reference,
        sent.remote_id,
        sent.remote_number,
        sent.state.lower(),
        sent.total,
        sent.currency,
        sent.at.isoformat() if sent.at else None,
        sent.by,
        sent.batch_id,
        sent.adjusts,
        None if sent.billed == sent.total else sent.billed,
        sent.voided_at.isoformat() if sent.voided_at else None,
        sent.voided_by,
        document_kind(sent.destination, sent.total, sent.remote_id),
        sent.draft,
        sent.voiding.lower() if sent.voiding else None,
    )
