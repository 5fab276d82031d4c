"""The Halo item a Pax8 product lacks, drafted from the store: the product's name, its SKU as the
supplier part code, a month's cost of one unit and the price the rules bill it at.

A Halo recurring item is priced by the month, so cost and price come from the product's billable
subscriptions billed monthly (a term's price split over its months when none is), in the currency
most of them are in: the price and partner cost most of them are on, the newest on a tie. Where
they carry no partner cost, the newest Pax8 invoice item for the product gives it, as the engine
takes a month's cost from the invoice. One item serves every client, so its price is what a
client without rules of its own is billed (the [defaults]); a client with its own rules is still
billed by them, whatever the item's price.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from trueup.core.billing.cost import REPLACED_STATUSES
from trueup.core.billing.pricing import Pricing
from trueup.core.billing.terms import is_monthly, term_months
from trueup.core.billing.timeline import Snapshot
from trueup.core.mapping.engine import MappingError
from trueup.core.mapping.journal import PRODUCT, Key, read_mapping
from trueup.core.mapping.reading import BILLABLE_STATUSES, CENT
from trueup.core.rules.current import current_rules
from trueup.core.rules.values import ValueProblem, decimal_of, value_of
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.values.distributors import distributor_name
from trueup.core.values.text import visible


@dataclass(frozen=True)
class ItemDraft:
    product_id: str
    name: str  # the Pax8 product's, as the Halo item's name
    sku: str  # as the Halo item's supplier part code
    currency: str
    # One unit for one month, in cents: a list price, and what is confirmed is what is sent.
    cost: Decimal | None  # None when the store has no cost for it
    price: Decimal
    cost_from: str  # where each figure comes from, in words
    price_from: str


def draft_item(db: Database, product_id: str, asked: str | None = None) -> ItemDraft:
    """The item `create_item` would create for the product; MappingError when it cannot.
    `asked`, a price as typed, is the item's price a month instead of the [defaults]' price."""
    given = None if asked is None else _given_price(asked)
    rules, _ = current_rules(db)
    who = distributor_name(product_id)
    with db.read() as conn:
        name, sku = _product(conn, product_id)
        if not sku:
            raise MappingError(
                f"{name} has no SKU to find its Halo item by again: create the item in Halo, "
                "then map it"
            )
        _not_mapped(conn, product_id, name)
        currency, subs = _subscriptions(conn, product_id, name)
        price, cost = _usual(subs)
        cost_from = f"{who} partner cost"
        if cost is None:
            cost, cost_from = _invoiced_cost(conn, product_id, currency)
    pricing = Pricing(rules.defaults, None, who)
    billed = pricing.price(Snapshot(date.min, Decimal(1), "Active", price, cost, None, None))
    price_from = pricing.source
    if billed is None:  # `halo` (no item yet to take it from), or no cost to mark up
        billed, price_from = price, f"{who} price: {pricing.missing}"
    if given is not None:
        billed, price_from = given, "price given"
    if billed is None:
        raise MappingError(
            f"{name} has no {who} price to give its Halo item: give one (`trueup map create-item "
            "--price`), or create it in Halo"
        )
    return ItemDraft(
        product_id=product_id,
        name=name,
        sku=sku,
        currency=currency,
        cost=None if cost is None else _cents(cost),
        price=_cents(billed),
        cost_from=cost_from if cost is not None else f"no {who} cost in the store",
        price_from=price_from,
    )


def _given_price(text: str) -> Decimal:
    """A price typed for the item: checked as a rules' fixed_price is (0 to 10^9)."""
    try:
        return Decimal(value_of("fixed_price", decimal_of(text)))
    except ValueProblem as problem:
        if "not a decimal" in str(problem):
            problem = ValueProblem(f"{visible(text)!r} is not an amount, like 12.50")
        raise MappingError(f"price {problem}") from None


class _Sub(NamedTuple):
    """One billable subscription's price and cost for a month of one unit."""

    price: Decimal | None
    cost: Decimal | None
    updated: str  # ISO time of its last change, "" when unknown: newest wins a tie
    monthly: bool  # billed monthly, not a term's price split over its months


def _product(conn: Connection, product_id: str) -> tuple[str, str]:
    """The product's name (its SKU or id when it has none) and its SKU ("" for none)."""
    table = m.table_of(m.Pax8Product)
    found = conn.execute(select(table.c.name, table.c.sku).where(table.c.id == product_id)).first()
    if found is None:
        raise MappingError(f"unknown Pax8 product {product_id}: sync, or check the id")
    sku = (found.sku or "").strip()
    return found.name or sku or product_id, sku


def _not_mapped(conn: Connection, product_id: str, name: str) -> None:
    """A product billed as a live item needs no other; one whose item is gone or inactive may."""
    mapping = read_mapping(conn, Key(PRODUCT, product_id))
    if mapping is None or mapping["status"] != "mapped":
        return
    items = m.table_of(m.HaloItem)
    item = conn.execute(
        select(items.c.name, items.c.inactive).where(items.c.id == mapping["item_id"])
    ).first()
    if item is not None and not item.inactive:
        raise MappingError(
            f"{name} is already billed as Halo item {mapping['item_id']} ({item.name}): unmap "
            "it first to bill it as a new item"
        )


def _subscriptions(conn: Connection, product_id: str, name: str) -> tuple[str, list[_Sub]]:
    """The currency most billable subscriptions are in, and theirs (the monthly ones if any)."""
    table = m.table_of(m.Pax8Subscription)
    query = select(
        table.c.billing_term,
        table.c.price,
        table.c.partner_cost,
        table.c.currency,
        table.c.updated_at,
    ).where(table.c.product_id == product_id, table.c.status.in_(BILLABLE_STATUSES))
    found = [(r.currency or "", sub) for r in conn.execute(query) if (sub := _per_month(r))]
    if not found:
        raise MappingError(
            f"{name} has no billable subscription to take a cost and price from: create its "
            "item in Halo, then map it"
        )
    counts = Counter(currency for currency, _ in found)
    currency = min(counts, key=lambda c: (-counts[c], c))
    subs = [sub for c, sub in found if c == currency]
    return currency, [sub for sub in subs if sub.monthly] or subs


def _per_month(row: Any) -> _Sub | None:
    """A month of the subscription; None for a one-time or trial charge."""
    months = 1 if is_monthly(row.billing_term) else term_months(row.billing_term)
    if months is None:
        return None
    price, cost = (None if v is None else v / months for v in (row.price, row.partner_cost))
    updated = row.updated_at.isoformat() if row.updated_at else ""
    return _Sub(price, cost, updated, months == 1)


def _usual(subs: list[_Sub]) -> tuple[Decimal | None, Decimal | None]:
    """The price and cost most subscriptions are on; of those tied, the newest."""
    counts = Counter((sub.price, sub.cost) for sub in subs)
    newest: dict[tuple[Decimal | None, Decimal | None], str] = {}
    for sub in subs:
        pair = (sub.price, sub.cost)
        newest[pair] = max(newest.get(pair, ""), sub.updated)
    return max(counts, key=lambda pair: (counts[pair], newest[pair]))


def _invoiced_cost(conn: Connection, product_id: str, currency: str) -> tuple[Decimal | None, str]:
    """A unit's cost on the newest monthly charge for the product that Pax8 did not credit."""
    items, invoices = m.table_of(m.Pax8InvoiceItem), m.table_of(m.Pax8Invoice)
    query = (
        select(items.c.cost, items.c.type, items.c.term, items.c.currency, items.c.start_period)
        .add_columns(invoices.c.status)
        .join(invoices, invoices.c.id == items.c.invoice_id)
        .where(items.c.product_id == product_id, items.c.cost.is_not(None))
        .order_by(items.c.start_period.desc(), items.c.id.desc())
    )
    who = distributor_name(product_id)
    for r in conn.execute(query):
        if (
            (r.type or "").casefold() == "subscription"
            and (r.status or "").casefold() not in REPLACED_STATUSES
            and (r.currency or currency) == currency
            and is_monthly(r.term)
        ):
            month = f" of {r.start_period:%Y-%m}" if r.start_period else ""
            return r.cost, f"{who} invoice{month}"
    return None, ""


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
