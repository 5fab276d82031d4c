"""What the mapping engine reads from the store, in one pass per call: columns, and only the
Microsoft tenant keys from raw JSON, which SQLite reads (`_tenants`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, Connection, case, func, select

from trueup.core.store import tables as m
from trueup.core.values.distributors import PARTNER_CENTER

# Statuses that put seats on an invoice (billing-rules §2).
BILLABLE_STATUSES = ("Active", "PendingCancel", "Activated")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    external_id: str | None
    # The Microsoft tenant it is, as its distributor's file names it (Partner Center's
    # CustomerId and CustomerDomainName), lower case: keys into World.tenants.
    tenant_id: str | None = None
    tenant_domain: str | None = None


@dataclass(frozen=True)
class Client:
    id: int
    name: str
    active: bool


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    sku: str | None
    vendor_sku: str | None
    vendor: str | None


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    active: bool
    codes: tuple[tuple[str, str], ...]  # (field label, code): where a SKU may be written


@dataclass(frozen=True)
class Subscription:
    company_id: str | None
    product_id: str | None
    amount: Decimal  # quantity × price, one month
    currency: str


@dataclass(frozen=True)
class Mapping:
    """One persisted mapping row, company or product (product rows carry product_id)."""

    status: str  # mapped | ignored
    target: int | None  # the Halo client (company) or item (product)
    source: str
    score: int | None
    reason: str


@dataclass(frozen=True)
class Licence:
    client_id: int
    product_id: str
    count: Decimal


@dataclass
class Value:
    """Billable subscriptions and their monthly amount, kept per currency (never added across)."""

    count: int = 0
    by_currency: dict[str, Decimal] = field(default_factory=dict)
    currency_counts: Counter[str] = field(default_factory=Counter)

    def add(self, sub: Subscription) -> None:
        self.count += 1
        self.by_currency[sub.currency] = self.by_currency.get(sub.currency, Decimal(0)) + sub.amount
        self.currency_counts[sub.currency] += 1

    def main(self, fallback: str) -> tuple[str, Decimal]:
        """The currency most of the subscriptions are in, and their sum in it."""
        if not self.currency_counts:
            return fallback, Decimal("0.00")
        currency = min(self.currency_counts, key=lambda c: (-self.currency_counts[c], c))
        return currency, self.by_currency[currency].quantize(CENT, ROUND_HALF_UP)

    def others(self, main: str) -> dict[str, Decimal]:
        """The sums in the other currencies (never added to the main one's), by currency."""
        return {
            currency: amount.quantize(CENT, ROUND_HALF_UP)
            for currency, amount in sorted(self.by_currency.items())
            if currency != main
        }


@dataclass
class World:
    companies: dict[str, Company]
    clients: dict[int, Client]
    products: dict[str, Product]
    items: dict[int, Item]
    links: dict[str, set[int]]  # Pax8 company id -> Halo clients whose external link names it
    tenants: dict[str, set[int]]  # Microsoft tenant id or domain -> Halo clients naming it
    company_mappings: dict[str, Mapping]
    product_mappings: dict[tuple[str, int | None], Mapping]  # (product, client or None)
    subscriptions: list[Subscription]
    licences: list[Licence]
    client_lines: dict[int, list[tuple[int, Decimal]]]  # client -> (item, quantity) billed
    currency: str  # the store's usual currency, for rows with nothing billable

    def company_values(self) -> dict[str, Value]:
        values: dict[str, Value] = defaultdict(Value)
        for sub in self.subscriptions:
            if sub.company_id is not None:
                values[sub.company_id].add(sub)
        return values

    def product_values(self) -> dict[str, Value]:
        values: dict[str, Value] = defaultdict(Value)
        for sub in self.subscriptions:
            if sub.product_id is not None:
                values[sub.product_id].add(sub)
        return values


def load_world(
    conn: Connection,
    *,
    subscriptions: bool = True,
    licences: bool = False,
    licensed: Collection[str] | None = None,
) -> World:
    """The store as the engine needs it; leave out what a caller does not use, for speed.

    With `licensed`, only the licences naming those products are read, and the Halo lines of
    the clients holding them: all that those products' licence evidence looks at (the batch
    asks about a few unmapped products, and need not read 40k lines for them)."""
    pax8_companies, halo_clients = m.table_of(m.Pax8Company).c, m.table_of(m.HaloClient).c
    pax8_products = m.table_of(m.Pax8Product).c
    tenant = func.lower(func.json_extract(pax8_companies.raw, "$.customerId"))
    domain = func.lower(func.json_extract(pax8_companies.raw, "$.customerDomainName"))
    from_file = pax8_companies.distributor == PARTNER_CENTER
    companies = {
        r.id: Company(r.id, r.name or r.id, r.external_id, r.tenant, r.domain)
        for r in conn.execute(
            select(
                pax8_companies.id,
                pax8_companies.name,
                pax8_companies.external_id,
                case((from_file, tenant)).label("tenant"),
                case((from_file, domain)).label("domain"),
            )
        )
    }
    clients = {
        r.id: Client(r.id, r.name or f"client {r.id}", not r.inactive)
        for r in conn.execute(select(halo_clients.id, halo_clients.name, halo_clients.inactive))
    }
    products = {
        r.id: Product(r.id, r.name or r.sku or r.id, r.sku, r.vendor_sku, r.vendor_name)
        for r in conn.execute(
            select(
                pax8_products.id,
                pax8_products.name,
                pax8_products.sku,
                pax8_products.vendor_sku,
                pax8_products.vendor_name,
            )
        )
    }
    return World(
        companies=companies,
        clients=clients,
        products=products,
        items=_items(conn),
        links=_links(conn, clients),
        tenants=_tenants(conn) if any(c.tenant_id for c in companies.values()) else {},
        company_mappings={
            r.company_id: Mapping(r.status, r.client_id, r.source, r.score, r.reason)
            for r in conn.execute(select(m.table_of(m.CompanyMapping)))
        },
        product_mappings={
            (r.product_id, r.client_id): Mapping(r.status, r.item_id, r.source, r.score, r.reason)
            for r in conn.execute(select(m.table_of(m.ProductMapping)))
        },
        subscriptions=(billable := _billable_subscriptions(conn) if subscriptions else []),
        licences=_licences(conn, licensed) if licences else [],
        client_lines=_client_lines(conn, licensed) if licences else {},
        currency=_usual_currency(billable),
    )


def _items(conn: Connection) -> dict[int, Item]:
    items = {}
    for r in conn.execute(select(m.table_of(m.HaloItem))):
        codes = (
            ("supplier part code", r.supplier_part_code),
            ("internal reference", r.internal_reference),
            ("external reference", r.external_reference),
        )
        items[r.id] = Item(
            r.id,
            r.name or f"item {r.id}",
            not r.inactive,
            tuple((label, code.strip()) for label, code in codes if code and code.strip()),
        )
    return items


def _links(conn: Connection, clients: dict[int, Client]) -> dict[str, set[int]]:
    links: dict[str, set[int]] = defaultdict(set)
    table = m.table_of(m.HaloExternalLink)
    query = select(table.c.halo_id, table.c.third_party_id, table.c.table_id)
    for r in conn.execute(query):
        # table_id 1 is Halo's client table; other tables' links name other things.
        if r.third_party_id and r.halo_id in clients and r.table_id in (None, 1):
            links[r.third_party_id.strip()].add(r.halo_id)
    return links


def _tenants(conn: Connection) -> dict[str, set[int]]:
    """The Microsoft tenants Halo ties to each client (lower case): the client's Azure tenants
    and its domain (the swagger's Area.azure_tenants[].azure_tenant_id and Area.domain), and the
    tenant of a licence Halo's Microsoft integration keeps for it (Licence_List.tenant_id)."""
    queries = (
        "SELECT c.id, json_extract(t.value, '$.azure_tenant_id') FROM halo_client c, "
        "json_each(c.raw, '$.azure_tenants') t WHERE json_type(c.raw, '$.azure_tenants') = 'array'",
        "SELECT id, json_extract(raw, '$.domain') FROM halo_client",
        "SELECT client_id, json_extract(raw, '$.tenant_id') FROM halo_licence WHERE active",
    )
    tenants: dict[str, set[int]] = defaultdict(set)
    for query in queries:
        for client_id, key in conn.exec_driver_sql(query):
            if isinstance(key, str) and key.strip() and client_id is not None:
                tenants[key.strip().lower()].add(client_id)
    return tenants


def _billable_subscriptions(conn: Connection) -> list[Subscription]:
    table = m.table_of(m.Pax8Subscription)
    query = select(
        table.c.company_id, table.c.product_id, table.c.quantity, table.c.price, table.c.currency
    ).where(table.c.status.in_(BILLABLE_STATUSES))
    return [
        Subscription(
            r.company_id,
            r.product_id,
            (r.quantity or Decimal(0)) * (r.price or Decimal(0)),
            r.currency or "",
        )
        for r in conn.execute(query)
    ]


def _licences(conn: Connection, products: Collection[str] | None) -> list[Licence]:
    query = select(_LICENCES.c.client_id, _LICENCES.c.third_party_product, _LICENCES.c["count"])
    query = query.where(_active_licence(products))
    return [
        Licence(client, product.strip(), seats)
        for client, product, seats in conn.execute(query)
        if client is not None and product and seats is not None
    ]


def _client_lines(
    conn: Connection, products: Collection[str] | None
) -> dict[int, list[tuple[int, Decimal]]]:
    """The items each client's active recurring invoices bill, with their quantities (only
    the clients holding a licence of `products`, when given)."""
    invoices = m.table_of(m.HaloRecurringInvoice)
    lines = m.table_of(m.HaloRecurringInvoiceLine)
    query = (
        select(invoices.c.client_id, lines.c.item_id, lines.c.quantity)
        .join(invoices, invoices.c.id == lines.c.invoice_id)
        .where(invoices.c.disabled.is_not(True), lines.c.inactive.is_not(True))
    )
    if products is not None:
        holders = select(_LICENCES.c.client_id).where(_active_licence(products))
        query = query.where(invoices.c.client_id.in_(holders))
    billed: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for client_id, item_id, quantity in conn.execute(query).all():  # fetchone costs 2x on 40k
        if client_id is not None and item_id is not None and quantity is not None:
            billed[client_id].append((item_id, quantity))
    return billed


_LICENCES = m.table_of(m.HaloLicence)


def _active_licence(products: Collection[str] | None) -> ColumnElement[bool]:
    """An active licence, naming one of `products` when given (its name read trimmed)."""
    active = _LICENCES.c.active.is_not(False)
    if products is None:
        return active
    return active & func.trim(_LICENCES.c.third_party_product).in_(sorted(products))


def _usual_currency(subscriptions: list[Subscription]) -> str:
    counts = Counter(s.currency for s in subscriptions if s.currency)
    return min(counts, key=lambda c: (-counts[c], c)) if counts else ""
