"""Mapping rows: each Pax8 company and product with its mapping, status, candidates and value.

Suggestions are one-to-one within a distributor (values/distributors.py): a Halo client billed
for a Pax8 company is still offered to that client's Partner Center tenant, and an item a Pax8
product bills to the same SKU bought direct, since one client may buy from both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import TypeVar

from sqlalchemy import Connection

from trueup.core.mapping.match import Match, Offer, assign, company_candidates, product_candidates
from trueup.core.mapping.reading import Mapping, Value, World, load_world
from trueup.core.values.distributors import distributor_of

T = TypeVar("T")
MATCH_THRESHOLD = 90
# Rows needing the operator first, then what is settled.
_STATUS_ORDER = {"unmapped": 0, "suggested": 1, "stale": 2, "mapped": 3, "ignored": 4}


@dataclass(frozen=True)
class Candidate:
    client_id: int
    client_name: str
    score: int
    reason: str


@dataclass(frozen=True)
class CompanyRow:
    company_id: str
    company_name: str
    status: str  # mapped | suggested | unmapped | ignored | stale
    client_id: int | None  # the mapping, or the suggestion
    client_name: str | None
    score: int | None
    source: str | None  # of the persisted mapping: exact | suggestion | manual | import
    reason: str
    subscriptions: int  # billable ones (Active, PendingCancel, Activated)
    monthly_value: Decimal  # Σ quantity × price of those in `currency`
    currency: str  # the currency most of them are in; amounts in others are not added
    candidates: tuple[Candidate, ...]  # best first, at most 5
    other_values: dict[str, Decimal] = field(default_factory=dict)  # the other currencies' sums


@dataclass(frozen=True)
class ItemCandidate:
    item_id: int
    item_name: str
    score: int
    reason: str


@dataclass(frozen=True)
class ProductRow:
    product_id: str
    sku: str | None
    name: str
    vendor: str | None
    status: str  # as CompanyRow; from the mapping for every client
    item_id: int | None
    item_name: str | None
    score: int | None
    source: str | None
    reason: str
    subscriptions: int
    monthly_value: Decimal
    currency: str
    overrides: int  # per-client overrides of this product
    candidates: tuple[ItemCandidate, ...]
    other_values: dict[str, Decimal] = field(default_factory=dict)  # as CompanyRow's


def company_rows_of(world: World, threshold: int) -> list[CompanyRow]:
    owners: dict[int, list[str]] = {}  # client -> the companies mapped to it
    for company_id, persisted in world.company_mappings.items():
        if persisted.status == "mapped" and persisted.target is not None:
            owners.setdefault(persisted.target, []).append(company_id)

    def state(client_id: int) -> str:
        client = world.clients.get(client_id)
        return "missing" if client is None else "active" if client.active else "inactive"

    mappings = world.company_mappings
    open_companies = [c for c in world.companies.values() if _open(mappings.get(c.id), state)]
    candidates: dict[str, tuple[Match, ...]] = {}
    offers: dict[str, Offer] = {}
    names = {c.id: c.name for c in world.companies.values()}
    for distributor, group in _by_distributor(open_companies, lambda c: c.id).items():
        offered = company_candidates(world, group, _held_within(owners, distributor))
        candidates.update(offered)
        offers.update(assign(offered, threshold, names))
    values = world.company_values()
    rows = []
    for company in world.companies.values():
        mapping = mappings.get(company.id)
        found = candidates.get(company.id, ())
        verdict = _verdict(mapping, offers.get(company.id), found, threshold, state, "Halo client")
        client = world.clients.get(verdict.target) if verdict.target is not None else None
        reason = verdict.reason
        if verdict.status == "mapped" and verdict.target is not None:
            shared = [world.companies[c].name for c in owners[verdict.target] if c != company.id]
            if shared:  # only by hand: suggestions are one-to-one
                reason += f"; the client also bills '{shared[0]}'"
        value = values.get(company.id, Value())
        currency, amount = value.main(world.currency)
        rows.append(
            CompanyRow(
                company_id=company.id,
                company_name=company.name,
                status=verdict.status,
                client_id=verdict.target,
                client_name=client.name if client else verdict.offered_name,
                score=verdict.score,
                source=verdict.source,
                reason=reason,
                subscriptions=value.count,
                monthly_value=amount,
                currency=currency,
                candidates=tuple(Candidate(m.target, m.name, m.score, m.reason) for m in found),
                other_values=value.others(currency),
            )
        )
    return sorted(rows, key=lambda r: _row_order(r.status, r.monthly_value, r.company_name))


def product_rows_of(world: World, threshold: int) -> list[ProductRow]:
    """Rows needing a decision first (unmapped, suggested, stale), then by monthly value."""
    state = partial(_item_state, world)
    every_client = _every_client(world)
    overrides = Counter(p for (p, client) in world.product_mappings if client is not None)
    candidates = open_product_candidates(world)
    names = {p.id: p.name for p in world.products.values()}
    offers: dict[str, Offer] = {}
    for group in _by_distributor(candidates, str).values():
        offers.update(assign({p: candidates[p] for p in group}, threshold, names))
    values = world.product_values()
    rows = []
    for product in world.products.values():
        found = candidates.get(product.id, ())
        mapping = every_client.get(product.id)
        verdict = _verdict(mapping, offers.get(product.id), found, threshold, state, "Halo item")
        item = world.items.get(verdict.target) if verdict.target is not None else None
        value = values.get(product.id, Value())
        currency, amount = value.main(world.currency)
        rows.append(
            ProductRow(
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                vendor=product.vendor,
                status=verdict.status,
                item_id=verdict.target,
                item_name=item.name if item else verdict.offered_name,
                score=verdict.score,
                source=verdict.source,
                reason=verdict.reason,
                subscriptions=value.count,
                monthly_value=amount,
                currency=currency,
                overrides=overrides[product.id],
                candidates=tuple(ItemCandidate(m.target, m.name, m.score, m.reason) for m in found),
                other_values=value.others(currency),
            )
        )
    return sorted(rows, key=lambda r: _row_order(r.status, r.monthly_value, r.name))


def open_product_candidates(world: World) -> dict[str, tuple[Match, ...]]:
    """The item candidates of every product with no live mapping for every client (unmapped,
    or mapped to an item that is gone), best first; items another product holds are not offered.
    """
    every_client = _every_client(world)
    owners: dict[int, list[str]] = {}  # item -> the products mapped to it for every client
    for product, mp in every_client.items():
        if mp.status == "mapped" and mp.target is not None:
            owners.setdefault(mp.target, []).append(product)
    state = partial(_item_state, world)
    open_products = [p for p in world.products.values() if _open(every_client.get(p.id), state)]
    found: dict[str, tuple[Match, ...]] = {}
    for distributor, group in _by_distributor(open_products, lambda p: p.id).items():
        found.update(product_candidates(world, group, _held_within(owners, distributor)))
    return found


def _by_distributor(records: Iterable[T], id_of: Callable[[T], str]) -> dict[str, list[T]]:
    """Records by the distributor their id names, in their order."""
    groups: dict[str, list[T]] = {}
    for record in records:
        groups.setdefault(distributor_of(id_of(record)), []).append(record)
    return groups


def _held_within(owners: dict[int, list[str]], distributor: str) -> dict[int, str]:
    """The targets (clients, items) a record of `distributor` holds: not offered again to
    that distributor's records, still offered to another's."""
    held = {}
    for target, sources in owners.items():
        mine = [s for s in sources if distributor_of(s) == distributor]
        if mine:
            held[target] = mine[0]
    return held


def best_item_candidates(conn: Connection, products: Collection[str]) -> dict[str, ItemCandidate]:
    """Of `products`, each with no mapping for every client, and its strongest Halo item
    candidate whatever its score: the one its row lists first (`trueup unmapped`: "Duo MFA 84
    below 90: ..."). Read inside the caller's transaction (the batch's)."""
    world = load_world(conn, subscriptions=False, licences=True, licensed=products)
    return {
        product_id: ItemCandidate(found[0].target, found[0].name, found[0].score, found[0].reason)
        for product_id, found in open_product_candidates(world).items()
        if found and product_id in products
    }


def _every_client(world: World) -> dict[str, Mapping]:
    """Each product's mapping for every client (per-client overrides left out)."""
    return {p: mp for (p, client), mp in world.product_mappings.items() if client is None}


def _item_state(world: World, item_id: int) -> str:
    item = world.items.get(item_id)
    return "missing" if item is None else "active" if item.active else "inactive"


@dataclass(frozen=True)
class _Verdict:
    status: str
    target: int | None
    score: int | None
    source: str | None
    reason: str
    offered_name: str | None = None


def _open(mapping: Mapping | None, state: Callable[[int], str]) -> bool:
    """Unmapped, or mapped to a target that is gone: the rows that get candidates."""
    if mapping is None:
        return True
    return mapping.status == "mapped" and (
        mapping.target is None or state(mapping.target) != "active"
    )


def _verdict(
    mapping: Mapping | None,
    offer: Offer | None,
    candidates: tuple[Match, ...],
    threshold: int,
    state: Callable[[int], str],  # a target's: active | inactive | missing
    what: str,
) -> _Verdict:
    if mapping is not None and mapping.status == "ignored":
        return _Verdict("ignored", None, None, mapping.source, mapping.reason or "not billed")
    if mapping is not None and mapping.target is not None:
        now = state(mapping.target)
        if now == "active":
            reason = mapping.reason or f"set by {mapping.source}"
            return _Verdict("mapped", mapping.target, mapping.score, mapping.source, reason)
        gone = "is inactive" if now == "inactive" else "no longer exists"
        reason = f"{what} {mapping.target} {gone}: map it again"
        return _Verdict("stale", mapping.target, mapping.score, mapping.source, reason)
    if offer is not None and offer.match is not None:
        match = offer.match
        return _Verdict("suggested", match.target, match.score, None, match.reason, match.name)
    if offer is not None:
        return _Verdict("unmapped", None, None, None, offer.held_back)
    if candidates:  # none good enough to offer: say how close the best one comes
        return _Verdict("unmapped", None, None, None, f"below {threshold}: {candidates[0].reason}")
    return _Verdict("unmapped", None, None, None, "no candidate")


def _row_order(status: str, value: Decimal, name: str) -> tuple[int, Decimal, str]:
    return (_STATUS_ORDER[status], -value, name.casefold())
