"""What the seat diff reads from the store: one query per table, never one per row.

The two big tables (subscriptions, recurring-invoice lines) are read through the driver:
SQLAlchemy's per-value type conversion costs more than the whole diff on a 40k-subscription
store. The store keeps decimals as their text (DecimalText) and instants as UTC ISO text
(SQLAlchemy's SQLite DateTime).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from trueup.core import models as m
from trueup.core.mappings import MappingIndex, load_mapping_index
from trueup.core.timeline import Snapshot, SnapshotState, chain_snapshots, with_current

ZERO = Decimal(0)


@dataclass(frozen=True)
class HaloLine:
    line_id: int
    invoice_id: int
    item_id: int | None
    description: str | None
    quantity: Decimal
    unit_price: Decimal | None


@dataclass(frozen=True)
class StoredSubscription:
    id: str
    company_id: str | None
    product_id: str | None
    product_name: str | None
    currency: str | None
    price: Decimal | None
    billing_term: str | None
    started: date | None
    snapshots: list[Snapshot]

    @property
    def last_change(self) -> datetime:
        return self.snapshots[-1].changed_at or datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DiffStore:
    """The store as the diff looks things up: mappings, names, subscriptions, active lines."""

    index: MappingIndex
    clients: dict[int, str]
    products: dict[str, tuple[str | None, str | None]]  # id -> (sku, name)
    subscriptions: list[tuple[int, StoredSubscription]]  # of mapped companies, with their client
    active_lines: dict[tuple[int, int], list[HaloLine]]  # (client, item) -> lines
    currencies: dict[int, str]  # client -> the currency most of its subscriptions are in
    companies: dict[int, set[str]]  # client -> the Pax8 companies mapped to it
    main_currency: str  # of the store: for clients whose subscriptions name none

    def currency_of(self, client_id: int) -> str:
        return self.currencies.get(client_id) or self.main_currency

    def client_name(self, client_id: int) -> str:
        return self.clients.get(client_id) or f"client {client_id}"

    def product_label(self, product_id: str | None, fallback: str | None) -> tuple[str | None, str]:
        sku, name = self.products.get(product_id or "", (None, None))
        return sku, name or fallback or product_id or "?"


def load_diff_store(conn: Connection) -> DiffStore:
    index = load_mapping_index(conn)
    clients_t, products_t = m.table_of(m.HaloClient), m.table_of(m.Pax8Product)
    clients = {r.id: r.name for r in conn.execute(select(clients_t.c.id, clients_t.c.name))}
    products = {
        r.id: (r.sku, r.name)
        for r in conn.execute(select(products_t.c.id, products_t.c.sku, products_t.c.name))
    }
    subscriptions = _load_subscriptions(conn, index)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for client_id, subscription in subscriptions:
        if subscription.currency:
            counts[client_id][subscription.currency] += 1
    companies: dict[int, set[str]] = defaultdict(set)
    for company_id, client_id in index.companies.items():
        companies[client_id].add(company_id)
    main_currency = most_common(sum(counts.values(), Counter[str]()))
    currencies = {client: most_common(found) for client, found in counts.items()}
    return DiffStore(
        index,
        clients,
        products,
        subscriptions,
        _load_lines(conn),
        currencies,
        companies,
        main_currency,
    )


_STATE_COLUMNS = "quantity, status, price, partner_cost, end_at, updated_at"


def _load_subscriptions(
    conn: Connection, index: MappingIndex
) -> list[tuple[int, StoredSubscription]]:
    history: dict[str, list[SnapshotState]] = defaultdict(list)
    for r in conn.exec_driver_sql(
        f"SELECT subscription_id, {_STATE_COLUMNS} FROM {m.table_of(m.Pax8SubscriptionSnapshot)}"
        " ORDER BY subscription_id, position"
    ).all():
        history[r[0]].append(_state_of(r[1:]))
    found: list[tuple[int, StoredSubscription]] = []
    for r in conn.exec_driver_sql(
        "SELECT id, company_id, product_id, product_name, currency, billing_start, start_at, "
        f"{_STATE_COLUMNS}, billing_term FROM {m.table_of(m.Pax8Subscription)}"
    ).all():
        client_id = index.companies.get(r[1] or "")
        if client_id is None:
            continue
        start = _instant(r[6])
        started = _day(r[5]) or (start.date() if start else None)
        state = _state_of(r[7:13])
        snapshots = chain_snapshots(started, with_current(state, history.get(r[0], [])))
        fields = (r[0], r[1], r[2], r[3], r[4], _decimal(r[9]), r[13])
        found.append((client_id, StoredSubscription(*fields, started, snapshots)))
    return found


def _state_of(row: Sequence[Any]) -> SnapshotState:
    quantity, status, price, partner_cost, end_at, updated_at = row
    end = _instant(end_at)
    return SnapshotState(
        _decimal(quantity),
        status,
        _decimal(price),
        _decimal(partner_cost),
        end.date() if end else None,  # the UTC date of endDate
        _instant(updated_at),
    )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text[:10])


def _load_lines(conn: Connection) -> dict[tuple[int, int], list[HaloLine]]:
    """The active lines (line not inactive, header not disabled) by client and item."""
    headers_t = m.table_of(m.HaloRecurringInvoice)
    client_of = {
        r.id: r.client_id
        for r in conn.execute(select(headers_t.c.id, headers_t.c.client_id, headers_t.c.disabled))
        if not r.disabled and r.client_id is not None
    }
    active: dict[tuple[int, int], list[HaloLine]] = defaultdict(list)
    found = conn.exec_driver_sql(
        "SELECT id, invoice_id, item_id, description, quantity, unit_price, inactive "
        f"FROM {m.table_of(m.HaloRecurringInvoiceLine)} ORDER BY id"
    ).all()
    for line_id, invoice_id, item_id, description, quantity, price, inactive in found:
        client_id = client_of.get(invoice_id)
        if client_id is not None and not inactive and item_id is not None:
            quantity = _decimal(quantity) or ZERO
            line = HaloLine(line_id, invoice_id, item_id, description, quantity, _decimal(price))
            active[(client_id, item_id)].append(line)
    return active


def most_common(counts: Counter[str]) -> str:
    """The most frequent key, ties alphabetical; "" for none."""
    return min(counts, key=lambda key: (-counts[key], key)) if counts else ""
