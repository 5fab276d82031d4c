"""What a batch reads of earlier ones: last month's lines (PRICE_CHANGED, QTY_SWING) and the
totals its month-over-month changes compare with.

Each batch is stored with a line digest (2.5 MB for 2,000 clients) holding just that, so a
month's batch does not parse last month's 26 MB body (~0.3 s before the build could share its
work between processes). A batch stored before digests existed is read from its invoices.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from trueup.core.batch.body import canonical_bytes, parsed_body
from trueup.core.batch.rows import listed
from trueup.core.billing.facts import PreviousLine
from trueup.core.store import tables as m

_BATCHES = m.table_of(m.InvoiceBatch)


def line_digest(digests: Sequence[Mapping[str, Any]]) -> bytes:
    """The digest stored with a batch, from its invoices' `invoice_digest`s."""
    return canonical_bytes([_entry(digest) for digest in digests])


def _entry(digest: Mapping[str, Any]) -> list[Any]:
    keys = ("client_id", "client_name", "currency", "total", "line_facts")
    return [digest[key] for key in keys]


@dataclass(frozen=True)
class EarlierBatch:
    entries: list[list[Any]]  # per invoice: client, name, currency, total, line facts

    def totals(self) -> dict[int, dict[str, Any]]:
        """Per client: its name, currency and total."""
        return {
            int(client_id): {"client_name": name, "currency": currency, "total": total}
            for client_id, name, currency, total, _ in self.entries
        }

    def lines(self, clients: Collection[int]) -> dict[int, dict[str, PreviousLine]]:
        """The subscription lines of `clients`, by subscription."""
        wanted = set(clients)
        return {
            int(client_id): {
                sub_id: PreviousLine(
                    sub_id,
                    Decimal(quantity),
                    Decimal(unit_price),
                    None if unit_cost is None else Decimal(unit_cost),
                )
                for sub_id, quantity, unit_price, unit_cost in facts
            }
            for client_id, _, _, _, facts in self.entries
            if int(client_id) in wanted
        }


def read_earlier(conn: Connection, batch_id: str | None) -> EarlierBatch | None:
    if batch_id is None:
        return None
    digest = conn.execute(
        select(_BATCHES.c.line_digest).where(_BATCHES.c.id == batch_id)
    ).scalar_one()
    if digest is not None:
        return EarlierBatch(parsed_body(digest))
    return EarlierBatch([_entry(item.digest) for item in listed(conn, batch_id)])
