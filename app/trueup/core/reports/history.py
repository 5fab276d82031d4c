"""The last 12 months up to a batch's month, of one client (the invoice screen's chart) or of
every client (the summary's leakage by month): per month and currency, the invoices' total,
margin and the seat mismatches they corrected (each line's `recovered`, at the price it bills,
summed in its invoice's digest: body.recovered_sums).

A client's month counts as it was posted when it was (the ledger's posted total; its cost and
leakage from the batch that posted it), else as the month's batch bills it: in the batch's own
month the batch asked for (the summary's: its ledger's), in every other the last batch stored
of all its clients, the one `trueup month`, `export` and `summary` tell a closed month from
(ledger.month.last_stored_batch), never a later batch of chosen clients. A month with neither
is absent, never zero.

Each client's invoice is picked from the batches' rows, and its figures read from its stored
digest in SQL, never its text. A batch built before lines carried `recovered` (ENGINE 12) has
no leakage to give: its month's leakage is unknown, not zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection

from trueup.core.ledger.month import NoBatchStoredError, last_stored_batch
from trueup.core.ledger.posted import PostedMonth, posted_months
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.values.months import Month

MONTHS = 12
ZERO = Decimal(0)


@dataclass
class Figures:
    """One currency's invoices of a month (or of the month's summary: summary.CurrencyTotals)."""

    total: Decimal = ZERO  # tax included
    subtotal: Decimal = ZERO
    cost: Decimal = ZERO
    under_billed: Decimal = ZERO  # seats Halo billed too few of, now billed
    over_billed: Decimal = ZERO  # seats Halo billed too many of, now removed
    leakage_known: bool = True  # False: an invoice of a batch built before lines carried it

    @property
    def margin(self) -> Decimal:
        """Of the subtotal, as an invoice's (billing-rules.md §7): tax is not the MSP's."""
        return self.subtotal - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        if not self.subtotal:
            return None
        return (self.margin * 100 / self.subtotal).quantize(Decimal("0.1"))

    @property
    def recovered(self) -> Decimal | None:
        """Both corrections, under-billing now billed and over-billing removed: the mismatches
        the invoices set right, None when unknown (leakage_known)."""
        return self.under_billed + self.over_billed if self.leakage_known else None


@dataclass(frozen=True)
class History:
    months: tuple[Month, ...]  # oldest first; the batch's month last
    figures: dict[Month, dict[str, Figures]]  # by month, then currency; no invoice: absent

    def currencies(self) -> list[str]:
        return sorted({currency for by in self.figures.values() for currency in by})

    def series(
        self, currency: str, figure: Callable[[Figures], Decimal | None]
    ) -> list[Decimal | None]:
        """A figure of each month, None where the month has no invoice in the currency."""
        found = [self.figures.get(month, {}).get(currency) for month in self.months]
        return [None if f is None else figure(f) for f in found]


def month_history(
    db: Database, month: Month, *, batch_id: str | None = None, client_id: int | None = None
) -> History:
    """The 12 months to `month` of `client_id` (None: every client); `batch_id`: the batch
    that stands for `month` (None: as for the others, its last stored of every client)."""
    months = tuple(month.shifted(n - MONTHS + 1) for n in range(MONTHS))
    told_from = {
        each: batch_id if batch_id and each == month else _whole_batch(db, each) for each in months
    }
    figures: dict[Month, dict[str, Figures]] = {}
    with db.read() as conn:
        posted = posted_months(conn, months[0], months[-1], client_id)
        for each in months:
            by_currency = _month(conn, told_from[each], client_id, posted.get(each, {}))
            if by_currency:
                figures[each] = by_currency
    return History(months, figures)


def _whole_batch(db: Database, month: Month) -> str | None:
    try:
        return last_stored_batch(db, month)
    except NoBatchStoredError:  # its posted clients still count, as posted
        return None


# The rows of the batches a month is told from (the month's, and those its clients were
# posted from), not every batch ever built for it.
_LISTED = (
    f"SELECT r.client_id, r.batch_id, r.sha256 FROM {m.table_of(m.BatchInvoice)} r "
    "WHERE r.batch_id IN (SELECT value FROM json_each(?))"
)
_ONE = " AND r.client_id = ?"
# The chosen invoices' figures from their digests (a text stored before digests has the same
# keys at its top, and no `recovered`).
_FIGURES = (
    "SELECT t.sha256, json_extract(coalesce(t.digest, t.text), '$.currency', '$.subtotal', "
    "'$.total', '$.cost', '$.recovered') "
    f"FROM json_each(?) s JOIN {m.table_of(m.BatchInvoiceText)} t ON t.sha256 = s.value"
)


def _month(
    conn: Connection, batch_id: str | None, client_id: int | None, sent: dict[int, PostedMonth]
) -> dict[str, Figures]:
    batches = {p.batch_id for p in sent.values()} | ({batch_id} if batch_id else set())
    wanted = orjson.dumps(sorted(batches)).decode()
    if client_id is None:
        listed = conn.exec_driver_sql(_LISTED, (wanted,))
    else:
        listed = conn.exec_driver_sql(_LISTED + _ONE, (wanted, client_id))
    chosen = _chosen(listed, sent, batch_id)
    rows = conn.exec_driver_sql(_FIGURES, (orjson.dumps(list(chosen)).decode(),))
    by_currency: dict[str, Figures] = {}
    for sha, digest in rows:
        currency, subtotal, total, cost, recovered = orjson.loads(digest)
        posted = sent.get(chosen[sha])
        if posted is not None:  # the ledger's figure: what the documents sent add up to
            currency, total = posted.currency, posted.total
        sums = by_currency.setdefault(currency, Figures())
        sums.total += Decimal(total)
        sums.subtotal += Decimal(subtotal)
        sums.cost += Decimal(cost or 0)
        if recovered is None:
            sums.leakage_known = False
        for line_currency, (under, over) in (recovered or {}).items():
            leak = by_currency.setdefault(line_currency, Figures())
            leak.under_billed += Decimal(under)
            leak.over_billed += Decimal(over)
    return by_currency


def _chosen(
    listed: Iterable[Sequence[Any]], sent: dict[int, PostedMonth], batch_id: str | None
) -> dict[str, int]:
    """sha256 -> client of each client's invoice: the one posted, else the one in `batch_id`
    (None: posted ones only)."""
    best: dict[int, tuple[int, str]] = {}  # client -> (rank, sha256): the lowest rank wins
    for client, batch, sha in listed:
        posted = sent.get(client)
        if posted is not None and batch == posted.batch_id:
            rank = 0
        elif batch == batch_id:
            rank = 1
        else:
            continue
        if client not in best or rank < best[client][0]:
            best[client] = (rank, sha)
    return {sha: client for client, (_, sha) in best.items()}
