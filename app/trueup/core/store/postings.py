"""What the posting journal says was sent for a month, per client, whichever batch sent it.

The state of billing belongs to (month, client): a batch built again after posting is a new
proposal, but the client's month stays posted where it went. Every stage that asks "is this
client's month posted?" (approval, the Batch screen, the posting plan) reads it here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import orjson
from sqlalchemy import Connection, select

from trueup.core.store import tables as m

_ENTRIES = m.table_of(m.PostingEntry)
IN_FLIGHT = ("PENDING", "SENDING", "UNKNOWN")


@dataclass(frozen=True)
class Sent:
    """One create entry of the month: a document posted, on its way, rejected or voided."""

    batch_id: str
    client_id: int
    destination: str
    reference: str
    state: str  # the journal's state; VOIDED once its void is POSTED
    payload: str
    remote_id: str | None = None  # the destination's id for the document
    remote_number: str | None = None  # and its own number, where it has one
    by: str = ""
    at: datetime | None = None  # when the entry last changed (posted, for a posted one)

    @cached_property
    def _document(self) -> dict[str, Any]:
        """The document as sent, parsed once however many of its fields are read."""
        parsed: dict[str, Any] = orjson.loads(self.payload)
        return parsed

    @property
    def adjusts(self) -> tuple[str, ...]:
        """The references an adjustment corrects (none for the month's document itself)."""
        return tuple(self._document.get("adjusts") or ())

    @property
    def adjustment(self) -> bool:
        """An adjustment of the month's document(s), not the month's document itself."""
        return bool(self.adjusts)

    @property
    def client_name(self) -> str:
        return str(self._document.get("client_name", ""))

    @property
    def currency(self) -> str:
        return str(self._document.get("currency", ""))

    @property
    def total(self) -> Decimal:
        """The document's total (an adjustment's is its difference, negative for a credit)."""
        return Decimal(self._document["total"])

    @property
    def live(self) -> bool:
        """Posted and not voided, or possibly on its way: the month is taken at its
        destination (a REJECTED or VOIDED one leaves it free)."""
        return self.state == "POSTED" or self.state in IN_FLIGHT


def month_entries(conn: Connection, month: str) -> list[Sent]:
    """Every create entry of the month at every destination, oldest first."""
    where = _ENTRIES.c.month == month
    voided = {
        (r.destination, r.reference)
        for r in conn.execute(
            select(_ENTRIES.c.destination, _ENTRIES.c.reference).where(
                where & (_ENTRIES.c.action == "void") & (_ENTRIES.c.state == "POSTED")
            )
        )
    }
    return [
        Sent(
            r.batch_id,
            r.client_id,
            r.destination,
            r.reference,
            "VOIDED" if (r.destination, r.reference) in voided else r.state,
            r.payload,
            r.remote_id,
            r.remote_number,
            r.created_by,
            r.updated_at,
        )
        for r in conn.execute(
            select(_ENTRIES).where(where & (_ENTRIES.c.action == "create")).order_by(_ENTRIES.c.id)
        )
    ]


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
        command = f"trueup void {sent.batch_id} --to {sent.destination} --client {sent.client_id}"
        return f"already posted {where}; `{command}` frees the month"
    command = f"trueup post {sent.batch_id} --to {sent.destination}"
    return f"already being posted {where}; `{command}` finishes it"
