"""JSON for scripts: `trueup map suggest --json` and `trueup unmapped --json` (contract §2, §3)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from trueup.core.mapping.reading import Value, World, load_world
from trueup.core.mapping.rows import (
    MATCH_THRESHOLD,
    Candidate,
    CompanyRow,
    ItemCandidate,
    ProductRow,
    company_rows_of,
    product_rows_of,
)
from trueup.core.store.database import Database

OPEN_STATUSES = ("unmapped", "suggested", "stale")


def suggestions_json(db: Database, *, threshold: int = MATCH_THRESHOLD) -> dict[str, Any]:
    """`map suggest --json`: every company and product still needing a decision."""
    with db.read() as conn:
        world = load_world(conn, licences=True)
    companies = company_rows_of(world, threshold)
    products = product_rows_of(world, threshold)
    return {
        "threshold": threshold,
        "companies": [company_json(r) for r in companies if r.status in OPEN_STATUSES],
        "products": [product_json(r) for r in products if r.status in OPEN_STATUSES],
    }


def unmapped_json(db: Database, *, threshold: int = MATCH_THRESHOLD) -> dict[str, Any]:
    """Contract §3 `unmapped`: what carries billable subscriptions but cannot be billed yet.

    A company counts when it has no live client (unmapped, suggested, stale; not ignored). A
    product counts by its subscriptions left without an item for their client (billing-rules
    §10 UNMAPPED_SKU; an override covers its client only): `subscriptions` and `monthly_value`
    are theirs.
    """
    with db.read() as conn:
        world = load_world(conn, licences=True)
    companies = [
        r
        for r in company_rows_of(world, threshold)
        if r.status in OPEN_STATUSES and r.subscriptions
    ]
    uncovered = _uncovered_subscriptions(world)
    products = [
        r
        for r in product_rows_of(world, threshold)
        if r.status != "ignored" and uncovered.get(r.product_id)
    ]
    return {
        "companies": [
            {**company_json(r), "name": r.company_name, "suggestions": _suggestions(r.candidates)}
            for r in companies
        ],
        "products": [
            {
                **product_json(r),
                **_value_json(uncovered[r.product_id], world.currency),
                "suggestions": _suggestions(r.candidates),
            }
            for r in products
        ],
    }


def _uncovered_subscriptions(world: World) -> dict[str, Value]:
    """Per product: the billable subscriptions whose client has no live item for it."""

    def live(item_id: int | None) -> bool:
        item = world.items.get(item_id) if item_id is not None else None
        return item is not None and item.active

    clients = {
        c: mp.target
        for c, mp in world.company_mappings.items()
        if mp.status == "mapped" and mp.target is not None
    }
    uncovered: dict[str, Value] = defaultdict(Value)
    for sub in world.subscriptions:
        if sub.product_id is None:
            continue
        client = clients.get(sub.company_id) if sub.company_id else None
        override = world.product_mappings.get((sub.product_id, client)) if client else None
        chosen = override or world.product_mappings.get((sub.product_id, None))
        if chosen is None or (chosen.status == "mapped" and not live(chosen.target)):
            uncovered[sub.product_id].add(sub)
    return uncovered


def _value_json(value: Value, fallback_currency: str) -> dict[str, Any]:
    currency, amount = value.main(fallback_currency)
    others = {c: _money(v) for c, v in value.others(currency).items()}
    return {
        "subscriptions": value.count,
        "monthly_value": _money(amount),
        "currency": currency,
        "other_currencies": others,
    }


def _suggestions(candidates: tuple[Candidate, ...] | tuple[ItemCandidate, ...]) -> list[Any]:
    return [asdict(c) for c in candidates]


def company_json(row: CompanyRow) -> dict[str, Any]:
    return {
        "company_id": row.company_id,
        "company_name": row.company_name,
        "status": row.status,
        "client_id": row.client_id,
        "client_name": row.client_name,
        "score": row.score,
        "reason": row.reason,
        "subscriptions": row.subscriptions,
        "monthly_value": _money(row.monthly_value),
        "currency": row.currency,
        "other_currencies": {c: _money(v) for c, v in row.other_values.items()},
        "candidates": _suggestions(row.candidates),
    }


def product_json(row: ProductRow) -> dict[str, Any]:
    return {
        "product_id": row.product_id,
        "sku": row.sku,
        "name": row.name,
        "vendor": row.vendor,
        "status": row.status,
        "item_id": row.item_id,
        "item_name": row.item_name,
        "score": row.score,
        "reason": row.reason,
        "subscriptions": row.subscriptions,
        "monthly_value": _money(row.monthly_value),
        "currency": row.currency,
        "other_currencies": {c: _money(v) for c, v in row.other_values.items()},
        "overrides": row.overrides,
        "candidates": _suggestions(row.candidates),
    }


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), ROUND_HALF_UP))
