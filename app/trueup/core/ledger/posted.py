"""What was posted for each client's month, over a span of months in one query: the ledger's
posted total (month.py: the documents posted and not voided, adjustments included), read from
the journal's few fields in SQL instead of each document whole, which a year of a large MSP's
documents would make slow (bench/README.md, The last 12 months)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection

from trueup.core.store import tables as m
from trueup.core.store.postings import BILLED_BY_RECURRING, RECURRING

_ENTRIES = m.table_of(m.PostingEntry)


@dataclass(frozen=True)
class PostedMonth:
    currency: str
    total: Decimal  # ClientMonth.posted_total
    batch_id: str  # of the latest document posted: the batch the month now bills as


def posted_months(
    conn: Connection, first: str, last: str, client_id: int | None = None
) -> dict[str, dict[int, PostedMonth]]:
    """month -> client -> what was posted, for the months `first` to `last` (of one client)."""
    query = (
        "SELECT e.month, e.client_id, e.batch_id, json_extract(e.payload, '$.currency'), "
        f"coalesce(iif(e.destination = '{RECURRING}', {BILLED_BY_RECURRING}, NULL), "
        f"json_extract(e.payload, '$.total')) FROM {_ENTRIES} e "
        "WHERE e.month BETWEEN ? AND ? AND e.action = 'create' AND e.state = 'POSTED' "
        f"AND NOT EXISTS (SELECT 1 FROM {_ENTRIES} v WHERE v.destination = e.destination "
        "AND v.reference = e.reference AND v.action = 'void' AND v.state = 'POSTED')"
    )
    parameters: tuple[str | int, ...] = (first, last)
    if client_id is not None:
        query += " AND e.client_id = ?"
        parameters += (client_id,)
    found: dict[str, dict[int, PostedMonth]] = defaultdict(dict)
    for month, client, batch_id, currency, total in conn.exec_driver_sql(
        query + " ORDER BY e.id", parameters
    ):
        before = found[month].get(client)
        summed = Decimal(total) + (before.total if before else 0)
        found[month][client] = PostedMonth(currency, summed, batch_id)
    return found
