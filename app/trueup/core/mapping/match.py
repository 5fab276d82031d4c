"""Candidates for a Pax8 company's Halo client and a Pax8 product's Halo item, and which to offer.

Evidence, strongest first: an id link (Halo external link, Pax8 externalId) or a SKU written on
the item (100); the same name once normalised (99 when spelled identically, else 98); Halo
licences whose seats match the item billed to the same client (up to 95); fuzzy names (up to 97).
Exact normalised-name lookups are dictionary hits; only what they leave is searched fuzzily,
and only among targets no other source claims, so large stores stay fast.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from trueup.core.mapping.names import (
    company_name,
    explain_same_company,
    explain_same_product,
    fold,
    product_key,
)
from trueup.core.mapping.reading import Client, Company, Item, Product, World
from trueup.core.values.text import visible

EXACT = 100
SAME_NAME = 99
SAME_KEY = 98
FUZZY_CAP = 97  # a fuzzy match never outranks a normalised-name match
FUZZY_FLOOR = 60  # weaker likenesses are noise, not candidates
LICENCE_CAP = 95
SHARED_TENANT = 95  # a tenant id or domain Halo gives to several clients: no one link
LICENCE_MIN_AGREEING = 3
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Match:
    target: int  # a Halo client or item id
    name: str
    score: int
    reason: str
    exact: bool = False  # an id link or SKU: accepted with source "exact"


@dataclass(frozen=True)
class Offer:
    """What one source is offered: a match for one key, or why its best is held back."""

    match: Match | None
    held_back: str = ""


class FuzzyIndex:
    """Fuzzy name search, fast enough for thousands of names against thousands.

    Cheap retrievals instead of an all-pairs token-set comparison: ratio and token_sort_ratio
    over every key in rapidfuzz's C loop (typos, word order), and a word index for names whose
    words all appear in the other ("Cedar Hollow Realty" in "Cedar Hollow Realty Group"). Only those
    hits are scored, by `_likeness`. rapidfuzz's WRatio is not used: between names of unequal
    length it credits one shared word ("Ironwood Engineering" ~ "Delgado Jensen Engineering": 86).
    """

    def __init__(self, targets: Iterable[tuple[int, str, str]]) -> None:  # (id, name, key)
        self.targets = list(targets)
        self.keys = [key for _, _, key in self.targets]
        self.holding: dict[str, set[int]] = defaultdict(set)  # word -> targets holding it
        for index, key in enumerate(self.keys):
            for word in key.split():
                self.holding[word].add(index)
        # Each target filed under its rarest word: a target whose words are all in a query
        # is found by looking up the query's words only.
        self.by_rarest: dict[str, list[int]] = defaultdict(list)
        for index, key in enumerate(self.keys):
            if key:
                rarest = min(key.split(), key=lambda w: (len(self.holding[w]), w))
                self.by_rarest[rarest].append(index)

    def search(self, key: str) -> list[Match]:
        if not key or not self.keys:
            return []
        indexes = self._sharing_all_words(key)
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
            hits = process.extract(
                key,
                self.keys,
                scorer=scorer,
                processor=None,
                limit=2 * MAX_CANDIDATES,
                score_cutoff=FUZZY_FLOOR,
            )
            indexes.update(index for _, _, index in hits)
        found = []
        for index in indexes:
            target, name, target_key = self.targets[index]
            score, kind = _likeness(key, target_key)
            if score >= FUZZY_FLOOR:
                found.append(Match(target, name, score, f"fuzzy {score} ({kind})"))
        return found

    def _sharing_all_words(self, key: str) -> set[int]:
        """Targets holding every word of the key, or whose every word the key holds."""
        words = set(key.split())
        postings = sorted((self.holding.get(w, set()) for w in words), key=len)
        within = set.intersection(*postings) if postings else set()
        for word in words:
            within.update(
                i for i in self.by_rarest.get(word, ()) if set(self.keys[i].split()) <= words
            )
        return within


def _likeness(left: str, right: str) -> tuple[int, str]:
    """How alike two normalised names are (at most FUZZY_CAP), and in what way."""
    kinds = {
        "spelling": fuzz.ratio(left, right),
        "word order": fuzz.token_sort_ratio(left, right),
        # One name's words all in the other: likely, never certain ("Harbor Point Brewing").
        "extra words": 0.95 * fuzz.token_set_ratio(left, right),
    }
    kind = max(kinds, key=lambda k: kinds[k])
    return min(round(kinds[kind]), FUZZY_CAP), kind


def best_first(matches: Iterable[Match]) -> tuple[Match, ...]:
    """The strongest match per target, best first, at most MAX_CANDIDATES."""
    best: dict[int, Match] = {}
    for match in matches:
        if match.target not in best or match.score > best[match.target].score:
            best[match.target] = match
    ranked = sorted(best.values(), key=lambda m: (-m.score, m.name.casefold(), m.target))
    return tuple(ranked[:MAX_CANDIDATES])


def company_candidates(
    world: World, companies: list[Company], taken: dict[int, str]
) -> dict[str, tuple[Match, ...]]:
    """Candidates per company; clients mapped to another company (`taken`) are never offered."""
    open_clients = [c for c in world.clients.values() if c.active and c.id not in taken]
    by_key: dict[str, list[Client]] = defaultdict(list)
    for client in open_clients:
        # A name of punctuation alone ("-", "???") normalises to nothing, and is like no other.
        if key := company_name(client.name).key:
            by_key[key].append(client)
    direct = {c.id: _direct_company_matches(world, c, by_key, taken) for c in companies}
    claimed = {m.target for found in direct.values() for m in found}
    fuzzy = FuzzyIndex(
        (c.id, c.name, company_name(c.name).key) for c in open_clients if c.id not in claimed
    )
    result = {}
    for company in companies:
        found = direct[company.id]
        if not any(m.exact for m in found):
            found += fuzzy.search(company_name(company.name).key)
        result[company.id] = best_first(found)
    return result


def _direct_company_matches(
    world: World, company: Company, by_key: dict[str, list[Client]], taken: dict[int, str]
) -> list[Match]:
    found = []
    for client_id in sorted(world.links.get(company.id, ())):
        client = world.clients[client_id]
        if client.active and client_id not in taken:
            found.append(Match(client_id, client.name, EXACT, "Halo external link", exact=True))
    found += _same_tenant(world, company, taken)
    external = (company.external_id or "").strip()
    if external.isdigit():
        named = world.clients.get(int(external))
        if named is not None and named.active and named.id not in taken:
            found.append(Match(named.id, named.name, EXACT, f"Pax8 externalId {external}", True))
    for client in by_key.get(company_name(company.name).key, []):
        if client.name.strip() == company.name.strip():
            found.append(Match(client.id, client.name, SAME_NAME, "same name"))
        else:
            reason = explain_same_company(company.name, client.name)
            found.append(Match(client.id, client.name, SAME_KEY, reason))
    return found


def _same_tenant(world: World, company: Company, taken: dict[int, str]) -> list[Match]:
    """A Microsoft tenant id names one customer anywhere: the id Halo keeps is a link (100). A
    tenant domain (contoso.onmicrosoft.com) is as strong as the same name (99), not a link: Halo's
    domain field may hold another of the tenant's domains, or a website's. A key Halo gives to
    several clients (a parent and its child, a duplicate) links none: each is offered at
    SHARED_TENANT, for the operator to choose."""
    found = []
    keys = (
        (company.tenant_id, EXACT, "Microsoft tenant"),
        (company.tenant_domain, SAME_NAME, "domain"),
    )
    for key, score, what in keys:
        named = [
            world.clients[client_id]
            for client_id in sorted(world.tenants.get(key or "", ()))
            if client_id in world.clients
        ]
        open_clients = [c for c in named if c.active and c.id not in taken]
        shared = len([c for c in named if c.active]) > 1
        for client in open_clients:
            reason = f"Halo names its {what} {visible(key or '')}"
            if shared:
                reason += f" on {len(named)} clients"
            found.append(
                Match(
                    client.id,
                    client.name,
                    min(score, SHARED_TENANT) if shared else score,
                    reason,
                    exact=score == EXACT and not shared,
                )
            )
    return found


def product_candidates(
    world: World, products: list[Product], taken: dict[int, str]
) -> dict[str, tuple[Match, ...]]:
    """Candidates per product; items mapped to another product (`taken`) are never offered."""
    open_items = {i.id: i for i in world.items.values() if i.active and i.id not in taken}
    by_code: dict[str, list[tuple[Item, str]]] = defaultdict(list)
    by_key: dict[str, list[Item]] = defaultdict(list)
    for item in open_items.values():
        for label, code in item.codes:
            by_code[fold(code)].append((item, label))
        if key := product_key(item.name):  # as a client's: punctuation alone is no name
            by_key[key].append(item)
    licensed = _licence_matches(world, open_items)
    direct = {p.id: _direct_product_matches(p, by_code, by_key) for p in products}
    claimed = {m.target for found in direct.values() for m in found}
    fuzzy = FuzzyIndex(
        (i.id, i.name, product_key(i.name)) for i in open_items.values() if i.id not in claimed
    )
    result = {}
    for product in products:
        found = direct[product.id] + licensed.get(product.id, [])
        if not any(m.exact for m in found):
            found += fuzzy.search(product_key(product.name))
        result[product.id] = best_first(found)
    return result


def _direct_product_matches(
    product: Product,
    by_code: dict[str, list[tuple[Item, str]]],
    by_key: dict[str, list[Item]],
) -> list[Match]:
    found = []
    for label, code in (("SKU", product.sku), ("vendor SKU", product.vendor_sku)):
        for item, field in by_code.get(fold(code.strip()), []) if code else []:
            found.append(Match(item.id, item.name, EXACT, f"{label} match ({field})", exact=True))
    for item in by_key.get(product_key(product.name), []):
        if item.name.strip() == product.name.strip():
            found.append(Match(item.id, item.name, SAME_NAME, "same name"))
        else:
            reason = explain_same_product(product.name, item.name)
            found.append(Match(item.id, item.name, SAME_KEY, reason))
    return found


def _licence_matches(world: World, open_items: dict[int, Item]) -> dict[str, list[Match]]:
    """Halo licences name the Pax8 product but no item: the item billed to the same client
    for the same number of seats is the hint. It counts only when most licences agree."""
    held: Counter[str] = Counter()
    agreeing: dict[str, Counter[int]] = defaultdict(Counter)
    for licence in world.licences:
        held[licence.product_id] += 1
        lines = world.client_lines.get(licence.client_id, [])
        agreeing[licence.product_id].update({i for i, qty in lines if qty == licence.count})
    found: dict[str, list[Match]] = {}
    for product_id, counts in agreeing.items():
        ranked = [(item, n) for item, n in counts.most_common() if item in open_items]
        if not ranked:
            continue
        (item_id, top), runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else 0
        if top >= LICENCE_MIN_AGREEING and top >= 2 * runner_up:
            score = round(LICENCE_CAP * top / held[product_id])
            reason = f"seats match on {top} of {held[product_id]} Halo licences"
            found[product_id] = [Match(item_id, open_items[item_id].name, score, reason)]
    return found


def assign(
    candidates: dict[str, tuple[Match, ...]], threshold: int, source_names: dict[str, str]
) -> dict[str, Offer]:
    """Offer each source at most one target, and each target to at most one source.

    Best scores first. Exact links qualify at any threshold, the rest at or above it. Two
    equally good claims cancel each other (the operator chooses); a target held back that way
    is not offered lower down either.
    """
    eligible = [
        (source, match)
        for source, matches in candidates.items()
        for match in matches
        if match.exact or match.score >= threshold
    ]
    offers: dict[str, Offer] = {}
    settled: dict[int, str | None] = {}  # target -> the source offered it, None when contested
    for level in sorted({m.score for _, m in eligible}, reverse=True):
        by_source: dict[str, list[Match]] = defaultdict(list)
        by_target: dict[int, list[str]] = defaultdict(list)
        for source, match in eligible:
            if match.score == level and source not in offers and match.target not in settled:
                by_source[source].append(match)
                by_target[match.target].append(source)
        for source, matches in by_source.items():
            rivals = [s for s in by_target[matches[0].target] if s != source]
            if len(matches) > 1:
                names = " and ".join(f"'{m.name}'" for m in matches[:2])
                offers[source] = Offer(None, f"{names} score {level} alike: choose one")
            elif rivals:
                rival = source_names.get(rivals[0], rivals[0])
                offers[source] = Offer(None, f"'{matches[0].name}' fits '{rival}' as well")
            else:
                offers[source] = Offer(matches[0])
        for target, sources in by_target.items():
            offered = [s for s in sources if offers[s].match is not None]
            settled[target] = offered[0] if offered else None
    for source, match in eligible:
        if source not in offers:  # every good target went elsewhere
            winner = settled.get(match.target)
            where = (
                f"is suggested for '{source_names.get(winner, winner)}'"
                if winner
                else "is contested"
            )
            offers[source] = Offer(None, f"'{match.name}' {where}")
    return offers
