"""What a Pax8 sync asks for besides the lists, and what it leaves as the store holds it.

The lists (companies, subscriptions, invoices) are read whole every sync: Pax8 documents no
sort or filter by update date for them, and a record missing from a list is deleted as gone.
Per-record requests are skipped only where the stored rows are known to be what Pax8 would
send again, and a skipped record's stored rows are left exactly as they are.

An invoice's stored items are known to be whole when they add up to the invoice's total: a
store synced before c440920 may hold an invoice with some of its items (a page served empty or
cut short was taken as the end), and nothing else would read them again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select

from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.json_text import load_json
from trueup.core.sync.staging import chunks
from trueup.core.values.distributors import PAX8
from trueup.core.values.money import money_json
from trueup.core.values.parsing import parse_instant, to_decimal

# Usage (arrears) products are not flagged as such in the catalogue: an Azure plan is known by
# its name, any other by Pax8 billing it in arrears on an invoice.
USAGE_NAME_WORDS = ("azure plan", "azure subscription", "consumption", "usage")
_USAGE_NAME = re.compile("|".join(map(re.escape, USAGE_NAME_WORDS)), re.IGNORECASE)

# What an invoice's items follow from. Its status and balance move as it is paid or credited,
# but its items do not: Pax8 never changes an approved invoice, a correction credits it and
# issues a new one (devx.pax8.com/docs/invoice-billing-integrations).
_INVOICE_CONTENT = ("invoiceDate", "total", "currencyCode", "companyId")


class HistoryWanted:
    """Which listed subscriptions need their history fetched: those changed since `since` whose
    stored history is not current. Fed the list page by page, in order, so the history
    requests go while the list is still paged; an id listed twice is wanted once."""

    def __init__(self, db: Database, since: date) -> None:
        self._window = _midnight(since)
        snapshots = m.table_of(m.Pax8SubscriptionSnapshot)
        with db.read() as conn:
            self._stored = {
                row.subscription_id: row.updated_at
                for row in conn.execute(
                    select(snapshots.c.subscription_id, snapshots.c.updated_at).where(
                        snapshots.c.position == 0
                    )
                )
            }
        self._seen: set[str] = set()

    def of(self, subscriptions: Iterable[dict[str, Any]]) -> list[str]:
        """Of these subscriptions (the next page), the ids not wanted before."""
        needed = []
        for sub in subscriptions:
            changed = parse_instant(sub.get("updatedDate"))
            started = parse_instant(sub.get("billingStart") or sub.get("startDate"))
            recent = any(t is not None and t >= self._window for t in (changed, started))
            sub_id = str(sub.get("id"))
            if sub_id in self._seen or not recent:
                continue
            if sub_id not in self._stored or self._stored[sub_id] != changed:
                self._seen.add(sub_id)
                needed.append(sub_id)
        return needed

    @property
    def count(self) -> int:
        """How many were wanted so far."""
        return len(self._seen)


# What an invoice's total is the sum of, of its items' figures. Pax8 documents none of it
# (reference/pax8-api.md §4): what the partner owes Pax8 is its items' costTotal, what a client
# billed on behalf owes their total (the simulator's invoices add up so); amountDue is "the final
# total due for the item"; whether salesTax is in them is UNCONFIRMED. Items agree with their
# invoice when one of these, with or without the tax, comes to its total to the cent.
_ITEM_SUMS = ("costTotal", "total", "amountDue")


@dataclass(frozen=True)
class Short:
    """An invoice whose stored items do not add up to its total: they are read again."""

    total: Decimal
    stored: frozenset[str]  # the stored items' ids
    sums: tuple[Decimal, Decimal]  # the stored items' costTotal and total, added up


@dataclass
class ItemsWanted:
    """The invoices whose items a sync reads, in the order listed; `short` the ones of them
    read because their stored items do not add up to the invoice's total."""

    ids: list[str] = field(default_factory=list)
    short: dict[str, Short] = field(default_factory=dict)


def items_needed(db: Database, invoices: list[dict[str, Any]]) -> ItemsWanted:
    """Listed invoices whose items are not stored, whose content differs from the stored
    invoice's (never expected of Pax8; if it happens, the items are read again), or whose
    stored items do not add up to its total (some were never stored)."""
    stored = stored_invoice_content(db)
    needed: dict[str, None] = {}
    kept: dict[str, Decimal | None] = {}
    for invoice in invoices:
        if invoice.get("id") is None:
            continue  # refused when applied (no identity): no items can belong to it
        invoice_id = str(invoice["id"])
        if stored.get(invoice_id) != _content(invoice):
            needed.setdefault(invoice_id)
        else:
            kept.setdefault(invoice_id, to_decimal(invoice.get("total")))
    short = stored_short(db, {key: total for key, total in kept.items() if total is not None})
    for invoice_id in short:
        needed.setdefault(invoice_id)
    return ItemsWanted(list(needed), short)


def stored_short(db: Database, totals: Mapping[str, Decimal]) -> dict[str, Short]:
    """Of these invoices (id -> its total), those whose stored items do not add up to it.

    The stored costTotal and total are added up first; the items' amountDue and salesTax,
    kept in their raw records alone, are read only for an invoice neither comes to."""
    items = m.table_of(m.Pax8InvoiceItem)
    sums: dict[str, list[Decimal]] = {}
    with db.read() as conn:
        for some_ids in chunks(sorted(totals)):
            query = select(items.c.invoice_id, items.c.cost_total, items.c.total).where(
                items.c.invoice_id.in_(some_ids), items.c.distributor == PAX8
            )
            for invoice_id, cost_total, total in conn.execute(query):
                added = sums.setdefault(invoice_id, [Decimal(0), Decimal(0)])
                added[0] += cost_total or 0
                added[1] += total or 0
        short: dict[str, Short] = {}
        for invoice_id, (cost_total, total) in sorted(sums.items()):
            if _cents(totals[invoice_id]) in (_cents(cost_total), _cents(total)):
                continue
            query = select(items.c.id, items.c.raw).where(
                items.c.invoice_id == invoice_id, items.c.distributor == PAX8
            )
            rows = conn.execute(query).all()
            if not adds_up(totals[invoice_id], (load_json(row.raw) for row in rows)):
                ids = frozenset(row.id for row in rows)
                short[invoice_id] = Short(totals[invoice_id], ids, (cost_total, total))
    return short


def adds_up(total: Decimal, items: Iterable[Any]) -> bool:
    """Whether one of the items' figures an invoice's total may be the sum of (_ITEM_SUMS),
    with or without their salesTax, comes to `total` to the cent."""
    sums = [Decimal(0) for _ in _ITEM_SUMS]
    tax = Decimal(0)
    for item in items:
        if not isinstance(item, dict):
            continue
        for index, name in enumerate(_ITEM_SUMS):
            sums[index] += to_decimal(item.get(name)) or 0
        tax += to_decimal(item.get("salesTax")) or 0
    wanted = _cents(total)
    return any(wanted in (_cents(added), _cents(added + tax)) for added in sums)


def _cents(amount: Decimal) -> str:
    return money_json(amount)


def stored_invoice_content(db: Database) -> dict[str, tuple[Any, ...]]:
    """Pax8 invoices with items stored: id -> the content fields of the stored invoice.

    An invoice with no item stored is absent: its items are read every sync (one request)."""
    invoices, items = m.table_of(m.Pax8Invoice), m.table_of(m.Pax8InvoiceItem)
    has_items = exists().where(items.c.invoice_id == invoices.c.id)
    query = select(invoices.c.id, invoices.c.raw).where(invoices.c.distributor == PAX8, has_items)
    with db.read() as conn:
        return {row.id: _content(load_json(row.raw)) for row in conn.execute(query)}


def _content(invoice: Any) -> tuple[Any, ...]:
    if not isinstance(invoice, dict):
        return ()
    return tuple(invoice.get(name) for name in _INVOICE_CONTENT)


def usage_needed(
    subscriptions: Iterable[dict[str, Any]], arrears: set[str], since: date
) -> list[str]:
    """Usage subscriptions whose summaries can change, sorted: all but those Pax8 says were
    cancelled before `since`.

    Summaries hold the current month's charges only [SPEC UsageSummary.currentCharges], and a
    subscription that ended before the reconciled months began has none in them; its stored
    summaries stay as they are."""
    window = _midnight(since)
    needed = set()
    for sub in subscriptions:
        sub_id = str(sub.get("id"))
        usage = sub_id in arrears or _USAGE_NAME.search(str(sub.get("productName") or ""))
        if usage and not _ended_before(sub, window):
            needed.add(sub_id)
    return sorted(needed)


def _ended_before(sub: dict[str, Any], moment: datetime) -> bool:
    ended = parse_instant(sub.get("endDate"))
    return sub.get("status") == "Cancelled" and ended is not None and ended < moment


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)
