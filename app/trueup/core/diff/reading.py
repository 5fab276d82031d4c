"""What the seat diff (and the batch, which bills from the same reading) reads from the store:
one query per table, each table read once, never one query per row.

The two big tables (subscriptions, recurring-invoice lines) are read through the driver:
SQLAlchemy's per-value type conversion costs more than the whole diff on a 40k-subscription
store. The store keeps decimals as their text (DecimalText) and instants as UTC ISO text
(SQLAlchemy's SQLite DateTime). The subscriptions' scan also reads what billing needs of them
(billing term, commitment); what the whole store says (currencies, unmapped companies) is
counted in SQLite, so a reading scoped to some clients reads only theirs. Subscriptions,
snapshots and lines are named tuples: a frozen dataclass takes three times as long to build,
and a large store has ~40k of each.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from trueup.core.billing.timeline import Snapshot, SnapshotState, chain_snapshots, with_current
from trueup.core.mapping.index import MappingIndex, load_mapping_index
from trueup.core.store import tables as m
from trueup.core.values.parsing import parse_day

ZERO = Decimal(0)


class HaloLine(NamedTuple):
    line_id: int
    invoice_id: int
    item_id: int | None
    description: str | None
    quantity: Decimal
    unit_price: Decimal | None
    ends: date | None = None  # the line's end date; None: no end
    currency: str | None = None  # its recurring invoice's, as Halo names it (often a symbol)


class ClientLine(NamedTuple):
    """An active Halo line as billing reads it (a manual line when no subscription bills it)."""

    line: HaloLine
    quantity: Decimal  # as stored, 0 when empty (`line.quantity` makes any zero plain 0)
    currency: str | None  # the symbol of its recurring invoice's currency
    ends: date | None  # the line's end date; None: no end


class StoredSubscription(NamedTuple):
    id: str
    company_id: str | None
    product_id: str | None
    product_name: str | None
    currency: str | None
    price: Decimal | None
    billing_term: str | None
    started: date | None  # billingStart, else the UTC date of startDate
    snapshots: list[Snapshot]
    commitment_term: str | None
    commitment_end: date | None

    @property
    def last_change(self) -> datetime:
        return self.snapshots[-1].changed_at or datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class StoreWide:
    """What the diff reads of the whole store whichever clients it reads: names, products and
    units, each client's currency, the companies nobody mapped. They stay the same while the
    sync runs and the mapping journal do (what names a batch, with the rules: batch/stored.py),
    so a batch built again after a rules change takes them from the build before."""

    names: dict[int, str]
    products: dict[str, tuple[str | None, str | None]]  # id -> (sku, name)
    currencies: dict[int, str]
    main_currency: str
    unmapped: dict[str, int]
    units: dict[str, str]
    inactive: frozenset[int] = frozenset()  # the clients Halo marks inactive


def store_wide(conn: Connection, index: MappingIndex) -> StoreWide:
    clients_t, products_t = m.table_of(m.HaloClient), m.table_of(m.Pax8Product)
    rows = conn.execute(select(clients_t.c.id, clients_t.c.name, clients_t.c.inactive)).all()
    names = {r.id: r.name for r in rows}
    inactive = frozenset(r.id for r in rows if r.inactive)
    products = {
        r.id: (r.sku, r.name)
        for r in conn.execute(select(products_t.c.id, products_t.c.sku, products_t.c.name))
    }
    currencies, main_currency, unmapped = _currencies_and_unmapped(conn, index)
    return StoreWide(names, products, currencies, main_currency, unmapped, _units(conn), inactive)


@dataclass(frozen=True)
class DiffStore:
    """The store as the diff looks things up: mappings, names, subscriptions, active lines."""

    index: MappingIndex
    subscriptions: list[tuple[int, StoredSubscription]]  # of mapped companies, with their client
    active_lines: dict[tuple[int, int], list[HaloLine]]  # (client, item) -> lines
    client_lines: dict[int, list[ClientLine]]  # every active line, with or without an item, by id
    companies: dict[int, set[str]]  # client -> the Pax8 companies mapped to it
    wide: StoreWide  # what it says of every client, whichever it read

    @property
    def clients(self) -> dict[int, str]:
        return self.wide.names

    @property
    def products(self) -> dict[str, tuple[str | None, str | None]]:
        """id -> (sku, name)"""
        return self.wide.products

    @property
    def unmapped(self) -> dict[str, int]:
        """company mapped to no client -> its billable subscriptions"""
        return self.wide.unmapped

    @property
    def currencies(self) -> dict[int, str]:
        """client -> the currency most of its subscriptions are in"""
        return self.wide.currencies

    @property
    def main_currency(self) -> str:
        """Of the store: for clients whose subscriptions name none."""
        return self.wide.main_currency

    @property
    def units(self) -> dict[str, str]:
        """product -> the unit its invoice items count in (User, GB)"""
        return self.wide.units

    def currency_of(self, client_id: int) -> str:
        return self.currencies.get(client_id) or self.main_currency

    def client_name(self, client_id: int) -> str:
        return self.clients.get(client_id) or f"client {client_id}"

    def halo_state(self, client_id: int) -> str:
        """active, inactive (Halo marks it so) or missing (Halo no longer lists it)."""
        if client_id not in self.clients:
            return "missing"
        return "inactive" if client_id in self.wide.inactive else "active"

    def product_label(self, product_id: str | None, fallback: str | None) -> tuple[str | None, str]:
        sku, name = self.products.get(product_id or "", (None, None))
        return sku, name or fallback or product_id or "?"


def load_diff_store(
    conn: Connection,
    clients: Collection[int] | None = None,
    index: MappingIndex | None = None,
    wide: StoreWide | None = None,
) -> DiffStore:
    """The store as the diff reads it; with `clients`, only their subscriptions and lines (a
    batch of a few clients). The whole store's facts are `wide` when given, else read."""
    index = index or load_mapping_index(conn)
    wide = wide or store_wide(conn, index)
    companies: dict[int, set[str]] = defaultdict(set)
    for company_id, client_id in index.companies.items():
        companies[client_id].add(company_id)
    scope = None
    if clients is not None:
        scope = sorted({company for client in clients for company in companies.get(client, ())})
    numbers = Numbers()
    subscriptions = _load_subscriptions(conn, index, numbers, scope)
    active_lines, client_lines = _load_lines(conn, numbers, clients)
    return DiffStore(index, subscriptions, active_lines, client_lines, companies, wide)


def _units(conn: Connection) -> dict[str, str]:
    """Each product's unit of measure, from any of its invoice items (one index seek each)."""
    rows = conn.exec_driver_sql(
        "SELECT p.id, (SELECT i.unit FROM pax8_invoice_item i WHERE i.product_id = p.id "
        "AND i.unit IS NOT NULL LIMIT 1) FROM pax8_product p"
    )
    return {product: unit for product, unit in rows if unit}


_STATE_COLUMNS = "quantity, status, price, partner_cost, end_at, updated_at"
BILLABLE = ("Active", "PendingCancel", "Activated")  # Pax8's spelling, as stored


class Numbers(dict[str | None, Decimal | None]):
    """Decimal text parsed once per distinct value: prices and quantities repeat across tens of
    thousands of rows (and the parsed values are shared, immutable)."""

    def __missing__(self, text: str | None) -> Decimal | None:
        value = self[text] = None if text is None else Decimal(text)
        return value


def _load_subscriptions(
    conn: Connection, index: MappingIndex, numbers: Numbers, companies: list[str] | None
) -> list[tuple[int, StoredSubscription]]:
    """The subscriptions of mapped companies (of `companies` when given), with their client."""
    subscriptions_t = m.table_of(m.Pax8Subscription)
    where, parameters = "", tuple[str, ...]()
    if companies is not None:
        where = " WHERE company_id IN (SELECT value FROM json_each(?))"
        parameters = (json.dumps(companies),)
    history: dict[str, list[SnapshotState]] = defaultdict(list)
    for r in conn.exec_driver_sql(
        f"SELECT subscription_id, {_STATE_COLUMNS} FROM {m.table_of(m.Pax8SubscriptionSnapshot)} "
        f"WHERE subscription_id IN (SELECT id FROM {subscriptions_t}{where}) "
        "ORDER BY subscription_id, position",
        parameters,
    ).all():
        history[r[0]].append(_state_of(r[1:], numbers))
    found: list[tuple[int, StoredSubscription]] = []
    for r in conn.exec_driver_sql(
        "SELECT id, company_id, product_id, product_name, currency, billing_start, start_at, "
        f"{_STATE_COLUMNS}, billing_term, commitment_term, commitment_end "
        f"FROM {subscriptions_t}{where}",
        parameters,
    ).all():
        client_id = index.companies.get(r[1] or "")
        if client_id is None:
            continue
        started = _day(r[5]) if r[5] is not None else _instant_day(r[6])
        state = _state_of(r[7:13], numbers)
        snapshots = chain_snapshots(started, with_current(state, history.get(r[0], [])))
        fields = (r[0], r[1], r[2], r[3], r[4], numbers[r[9]], r[13], started, snapshots)
        found.append((client_id, StoredSubscription(*fields, r[14], _day(r[15]))))
    return found


def _currencies_and_unmapped(
    conn: Connection, index: MappingIndex
) -> tuple[dict[int, str], str, dict[str, int]]:
    """Of the whole store, counted in SQLite: each client's most common subscription currency,
    the store's, and the billable subscriptions of companies neither mapped nor ignored."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    whole: Counter[str] = Counter()
    unmapped: dict[str, int] = defaultdict(int)
    for company, currency, status, number in conn.exec_driver_sql(
        "SELECT company_id, currency, status, count(*) "
        f"FROM {m.table_of(m.Pax8Subscription)} GROUP BY company_id, currency, status"
    ).all():
        client_id = index.companies.get(company or "")
        if client_id is not None:
            if currency:
                counts[client_id][currency] += number
                whole[currency] += number
        elif company and status in BILLABLE and company not in index.ignored_companies:
            unmapped[company] += number
    main_currency = most_common(whole)
    currencies = {client: most_common(found) for client, found in counts.items()}
    return currencies, main_currency, unmapped


def _state_of(row: Sequence[Any], numbers: Numbers) -> SnapshotState:
    quantity, status, price, partner_cost, end_at, updated_at = row
    return SnapshotState(
        numbers[quantity],
        status,
        numbers[price],
        numbers[partner_cost],
        _instant_day(end_at),  # the UTC date of endDate
        _instant(updated_at),
    )


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        # The store's naive UTC text: parsed with its offset, as `replace(tzinfo=)` costs ~2 µs.
        moment = datetime.fromisoformat(f"{text}+00:00")
    except ValueError:  # an offset of its own
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _instant_day(text: str | None) -> date | None:
    moment = _instant(text)
    return moment.date() if moment else None


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text[:10])


def _load_lines(
    conn: Connection, numbers: Numbers, clients: Collection[int] | None
) -> tuple[dict[tuple[int, int], list[HaloLine]], dict[int, list[ClientLine]]]:
    """The active lines (line not inactive, header not disabled) of every client or of
    `clients`: by client and item, and every one by client with its invoice's currency. A line
    ends on its own end date or on its recurring invoice's schedule's, the earlier: Halo
    creates no invoice past the schedule's end."""
    by_item: dict[tuple[int, int], list[HaloLine]] = defaultdict(list)
    by_client: dict[int, list[ClientLine]] = defaultdict(list)
    schedules = _schedule_ends(conn)
    for (
        line_id,
        invoice_id,
        item_id,
        description,
        quantity,
        price,
        client_id,
        currency,
        ends,
    ) in conn.exec_driver_sql(
        "SELECT l.id, l.invoice_id, l.item_id, l.description, l.quantity, l.unit_price, "
        f"h.client_id, h.currency, l.ends FROM {m.table_of(m.HaloRecurringInvoiceLine)} l "
        f"JOIN {m.table_of(m.HaloRecurringInvoice)} h ON h.id = l.invoice_id "
        "WHERE NOT coalesce(l.inactive, 0) AND NOT coalesce(h.disabled, 0) "
        "AND h.client_id IS NOT NULL"
        + ("" if clients is None else " AND h.client_id IN (SELECT value FROM json_each(?))")
        + " ORDER BY l.id",
        () if clients is None else (json.dumps(sorted(clients)),),
    ).all():
        stored = numbers[quantity]
        count = stored or ZERO
        until = _day(ends)
        schedule_end = schedules.get(invoice_id)
        if schedule_end is not None and (until is None or schedule_end < until):
            until = schedule_end
        line = HaloLine(
            line_id, invoice_id, item_id, description, count, numbers[price], until, currency
        )
        by_client[client_id].append(
            ClientLine(line, ZERO if stored is None else stored, currency, until)
        )
        if item_id is not None:
            by_item[(client_id, item_id)].append(line)
    return by_item, by_client


def _schedule_ends(conn: Connection) -> dict[int, date]:
    """Each recurring invoice's schedule end date, where it has one (a few thousand headers,
    most with Halo's far-off 2099-12-31 or its "unset" sentinel)."""
    found: dict[int, date] = {}
    for invoice_id, text in conn.exec_driver_sql(
        "SELECT id, json_extract(raw, '$.schedule.end_date') "
        f"FROM {m.table_of(m.HaloRecurringInvoice)} "
        "WHERE json_valid(raw) AND json_extract(raw, '$.schedule.end_date') IS NOT NULL"
    ):
        day = parse_day(text)
        if day is not None:
            found[invoice_id] = day
    return found


# Halo names a recurring invoice's currency by its symbol.
_SYMBOLS = {
    "US$": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "A$": "AUD",
    "NZ$": "NZD",
    "€": "EUR",
    "£": "GBP",
}


def halo_currency(symbol: str | None, client_currency: str) -> str:
    """The ISO code of a Halo currency: "$" is the client's own when that is a dollar."""
    text = (symbol or "").strip()
    if len(text) == 3 and text.isalpha():
        return text.upper()
    if text in _SYMBOLS:
        return _SYMBOLS[text]
    if text == "$" and not client_currency.endswith("D"):
        return "USD"
    return client_currency


def most_common(counts: Counter[str]) -> str:
    """The most frequent key, ties alphabetical; "" for none."""
    if len(counts) == 1:  # most clients bill in one currency
        return next(iter(counts))
    return min(counts, key=lambda key: (-counts[key], key)) if counts else ""
