"""Which QuickBooks customer a Halo client is, which QuickBooks item a Halo item: candidates and
the one suggestion each gets.

The same evidence and scores as the Pax8 -> Halo mapping, through its own matcher
(mapping_match): an id or SKU link at 100, the same normalised name at 99/98, fuzzy names up to
97; one-to-one, equal claims offered to neither. A QuickBooks row may carry more than one name
(DisplayName, CompanyName, FullyQualifiedName); each is matched, and the reason says which.
That matcher numbers its targets, so here they are positions in the list of QuickBooks rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from trueup.core.mapping.match import (
    EXACT,
    SAME_KEY,
    SAME_NAME,
    FuzzyIndex,
    Match,
    assign,
    best_first,
)
from trueup.core.mapping.names import (
    company_name,
    explain_same_company,
    explain_same_product,
    fold,
    product_key,
)


@dataclass(frozen=True)
class BookTarget:
    """A QuickBooks customer or item as matching sees it."""

    id: str
    names: tuple[tuple[str, str], ...]  # (field in words, name), the one shown first
    links: tuple[tuple[str, str], ...]  # (field, value) a Halo link may name: Id, Sku
    unusable: str = ""  # why it is never suggested ("is inactive"), "" when it may be

    @property
    def name(self) -> str:
        return self.names[0][1]

    @property
    def usable(self) -> bool:
        return not self.unusable


@dataclass(frozen=True)
class HaloSource:
    """A Halo client or item, with what may link it to a QuickBooks row exactly."""

    id: int
    name: str
    links: tuple[tuple[str, str, str], ...]  # (QuickBooks field, value, reason when it matches)


@dataclass(frozen=True)
class NameRules:
    key: Callable[[str], str]  # what two spellings of one name share
    explain: Callable[[str, str], str]  # why two names with the same key are one


CUSTOMER_NAMES = NameRules(lambda name: company_name(name).key, explain_same_company)
ITEM_NAMES = NameRules(product_key, explain_same_product)


@dataclass(frozen=True)
class BookCandidate:
    id: str
    name: str
    score: int
    reason: str


@dataclass(frozen=True)
class Suggestion:
    candidates: tuple[BookCandidate, ...]  # best first, at most 5
    offered: BookCandidate | None  # the one to accept, if any
    held_back: str  # why the best is not offered, when it qualifies but is contested


def suggest(
    sources: list[HaloSource],
    targets: list[BookTarget],
    taken: set[str],
    rules: NameRules,
    threshold: int,
) -> dict[int, Suggestion]:
    """Per Halo id: its candidates among usable targets no other source is mapped to (`taken`),
    and the one offered (exact links at any threshold, names at or above it)."""
    open_targets = [i for i, t in enumerate(targets) if t.usable and t.id not in taken]
    by_link: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_key: dict[str, list[tuple[int, int]]] = defaultdict(list)  # key -> (target, name number)
    for index in open_targets:
        for field, value in targets[index].links:
            by_link[(field, fold(value.strip()))].append(index)
        for number, key in _distinct_keys(targets[index], rules):
            by_key[key].append((index, number))
    direct = {s.id: _direct(s, targets, by_link, by_key, rules) for s in sources}
    claimed = {m.target for found in direct.values() for m in found}
    entries = [  # (target, name number) behind each fuzzy entry
        (index, number)
        for index in open_targets
        if index not in claimed
        for number, _ in _distinct_keys(targets[index], rules)
    ]
    fuzzy = FuzzyIndex(
        (entry, targets[index].names[number][1], _key_of(targets[index], number, rules))
        for entry, (index, number) in enumerate(entries)
    )
    candidates: dict[str, tuple[Match, ...]] = {}
    for source in sources:
        found = direct[source.id]
        if not any(m.exact for m in found):
            for hit in fuzzy.search(rules.key(source.name)):
                index, number = entries[hit.target]
                reason = hit.reason + _named_by(targets[index], number)
                found.append(Match(index, targets[index].name, hit.score, reason))
        candidates[str(source.id)] = best_first(found)
    offers = assign(candidates, threshold, {str(s.id): s.name for s in sources})
    result = {}
    for source in sources:
        offer = offers.get(str(source.id))
        chosen = offer.match if offer else None
        result[source.id] = Suggestion(
            tuple(_candidate(m, targets) for m in candidates[str(source.id)]),
            _candidate(chosen, targets) if chosen else None,
            offer.held_back if offer else "",
        )
    return result


def _direct(
    source: HaloSource,
    targets: list[BookTarget],
    by_link: dict[tuple[str, str], list[int]],
    by_key: dict[str, list[tuple[int, int]]],
    rules: NameRules,
) -> list[Match]:
    found = []
    for field, value, reason in source.links:
        for index in by_link.get((field, fold(value.strip())), []) if value.strip() else []:
            found.append(Match(index, targets[index].name, EXACT, reason, exact=True))
    for index, number in by_key.get(rules.key(source.name), []):
        target = targets[index]
        written = target.names[number][1]
        if written.strip() == source.name.strip():
            score, reason = SAME_NAME, "same name"
        else:
            score, reason = SAME_KEY, rules.explain(source.name, written)
        found.append(Match(index, target.name, score, reason + _named_by(target, number)))
    return found


def _distinct_keys(target: BookTarget, rules: NameRules) -> list[tuple[int, str]]:
    """(name number, key) of each of the target's names, leaving out repeats of a key."""
    seen: dict[str, int] = {}
    for number in range(len(target.names)):
        seen.setdefault(_key_of(target, number, rules), number)
    return [(number, key) for key, number in seen.items() if key]


def _key_of(target: BookTarget, number: int, rules: NameRules) -> str:
    return rules.key(target.names[number][1])


def _named_by(target: BookTarget, number: int) -> str:
    """Which field a name match was on, when not the one shown."""
    return f" ({target.names[number][0]})" if number else ""


def _candidate(match: Match, targets: list[BookTarget]) -> BookCandidate:
    return BookCandidate(targets[match.target].id, match.name, match.score, match.reason)
