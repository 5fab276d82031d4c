"""What the posting journal says was sent for a month, per client, whichever batch sent it.

The state of billing belongs to (month, client): a batch built again after posting is a new
proposal, but the client's month stays posted where it went. Every stage that asks "is this
client's month posted?" (approval, the Batch screen, the posting plan) reads it here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection

from trueup.core.store import tables as m

_ENTRIES = m.table_of(m.PostingEntry)
IN_FLIGHT = ("PENDING", "SENDING", "UNKNOWN")
RECURRING = "halo-recurring"
# What a halo-recurring true-up bills the client's month: the invoice it trued the recurring
# invoice up to (its batch's), not the one-off document beside it, whose total is only the
# month's difference and usage (posting/documents.py). Read from the invoice's digest.
BILLED_BY_RECURRING = (
    "(SELECT coalesce(json_extract(t.digest, '$.total'), json_extract(t.text, '$.total')) "
    f"FROM {m.table_of(m.BatchInvoice)} r JOIN {m.table_of(m.BatchInvoiceText)} t "
    "ON t.sha256 = r.sha256 WHERE r.batch_id = e.batch_id AND r.client_id = e.client_id)"
)


@dataclass(frozen=True)
class Sent:
    """One create entry of the month: a document posted, on its way, rejected or voided."""

    batch_id: str
    client_id: int
    destination: str
    reference: str
    state: str  # the journal's state; VOIDED once its void is POSTED
    payload: str  # the document as sent (posting/documents.py)
    remote_id: str | None  # the destination's id for the document
    remote_number: str | None  # and its own number, where it has one
    by: str
    at: datetime | None  # when the entry last changed (posted, for a posted one)
    # Read from the payload by SQLite, never the ~20 lines parsed for them:
    client_name: str
    currency: str
    total: Decimal  # the document's (an adjustment's is its difference, negative for a credit)
    adjusts: tuple[str, ...]  # the references an adjustment corrects (none for the month's own)
    billed: Decimal  # what it bills the month: its total, or a recurring true-up's invoice's
    voided_at: datetime | None = None  # when its void was posted (VOIDED only)
    voided_by: str | None = None
    draft: bool = (
        False  # Xero's: created as a DRAFT ([xero] invoice_status), not sent to the client
    )
    # Its void's journal state while the void is not done (PENDING, SENDING or UNKNOWN: cut
    # short, `trueup void` again finishes it; REJECTED: refused there); None otherwise.
    voiding: str | None = None

    @property
    def adjustment(self) -> bool:
        """An adjustment of the month's document(s), not the month's document itself."""
        return bool(self.adjusts)

    @property
    def live(self) -> bool:
        """Posted and not voided, or possibly on its way: the month is taken at its
        destination (a REJECTED or VOIDED one leaves it free)."""
        return self.state == "POSTED" or self.state in IN_FLIGHT


def month_entries(conn: Connection, month: str, client_id: int | None = None) -> list[Sent]:
    """Every create entry of the month at every destination (of one client, given one),
    oldest first."""
    # Plain SQL: read through the ORM's column types, most of a posted month's reading time
    # went to their conversion of each row's dates (bench/README.md, "trueup month --json").
    rows = conn.exec_driver_sql(
        "SELECT e.batch_id, e.client_id, e.destination, e.reference, e.state, "
        "e.payload, e.remote_id, e.remote_number, e.created_by, e.updated_at, "
        "json_extract(e.payload, '$.client_name', '$.currency', '$.total', '$.adjusts', "
        "'$.draft'), "
        f"iif(e.destination = '{RECURRING}', {BILLED_BY_RECURRING}, NULL), "
        # Its void, if one was queued: its state, when and by whom (posted: the document then
        # reads VOIDED; not yet: the void is unfinished).
        f"(SELECT json_array(v.state, v.updated_at, v.created_by) FROM {_ENTRIES} v "
        "WHERE v.month = e.month AND v.destination = e.destination "
        "AND v.reference = e.reference AND v.action = 'void') "
        f"FROM {_ENTRIES} e WHERE e.month = ? AND e.action = 'create' "
        f"{'' if client_id is None else 'AND e.client_id = ? '}ORDER BY e.id",
        (month,) if client_id is None else (month, client_id),
    ).all()
    found = []
    for batch, client, destination, reference, state, payload, rid, number, by, at, *rest in rows:
        extracted, billed, void = rest
        values = orjson.loads(extracted)
        void_state, voided_at, voided_by = orjson.loads(void) if void else (None, None, None)
        done = void_state == "POSTED"
        found.append(
            Sent(
                batch,
                client,
                destination,
                reference,
                "VOIDED" if done else state,
                payload,
                rid,
                number,
                by,
                stored_utc(at),
                *_from_payload(values, billed),
                stored_utc(voided_at) if done else None,
                voided_by if done else None,
                bool(values[4]),
                None if done else void_state,
            )
        )
    return found


def _from_payload(
    values: list[Any], billed: str | None
) -> tuple[str, str, Decimal, tuple[str, ...], Decimal]:
    name, currency, total, adjusts, _ = values
    amount = Decimal(total)
    return (
        str(name or ""),
        str(currency or ""),
        amount,
        tuple(adjusts or ()),
        amount if billed is None else Decimal(billed),
    )


def stored_utc(stored: str | None) -> datetime | None:
    """A journal time as SQLAlchemy stores it (UTC, without its offset)."""
    return None if stored is None else datetime.fromisoformat(stored).replace(tzinfo=UTC)


def live_postings(conn: Connection, month: str) -> dict[int, list[Sent]]:
    """client -> the month's documents posted and not voided, or on their way."""
    found: dict[int, list[Sent]] = defaultdict(list)
    for sent in month_entries(conn, month):
        if sent.live:
            found[sent.client_id].append(sent)
    return dict(found)


def taken_by(sent: Sent) -> str:
    """Where a client's month went, and what to do about it, in one phrase."""
    where = f"to {sent.destination} as {sent.reference} (batch {sent.batch_id})"
    if sent.state == "POSTED":
        # By month: the client's whole month there, its adjustments from later batches too.
        month = sent.batch_id[:7]
        command = f"trueup void {month} --to {sent.destination} --client {sent.client_id}"
        # Nothing wrong with it: voiding is only for billing the month somewhere else.
        return (
            f"already posted {where}: nothing to send; to bill it elsewhere, `{command}` first "
            "(or v on the workbench's Batch screen)"
        )
    command = f"trueup post {sent.batch_id} --to {sent.destination}"
    return f"already being posted {where}; `{command}` finishes it"


def adjusted_where(sent: Sent, month: str) -> str:
    """Where a client's month posted at `sent`'s destination is adjusted, in one phrase, or
    what to do instead (a recurring true-up is voided and posted again; one on its way is
    finished first)."""
    if sent.state != "POSTED":
        return taken_by(sent)
    where = f"posted to {sent.destination} as {sent.reference}"
    if sent.destination == RECURRING:
        return (
            f"{where}: a recurring true-up is not adjusted; void it (`trueup void {month} --to "
            f"{RECURRING} --client {sent.client_id}`, or v on the workbench's Batch screen) and "
            "post the month again"
        )
    return (
        f"{where}: its adjustment goes there (`trueup post {month} --to {sent.destination} "
        "--adjust`, or P on the workbench's Batch screen)"
    )
