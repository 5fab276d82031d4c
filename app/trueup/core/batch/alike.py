"""Manual Halo lines that look like the service of a subscription with no Halo item, for
POSSIBLE_DOUBLE_BILL (docs/billing-decisions.md).

A subscription whose product maps to no item still bills, flagged UNMAPPED_SKU; a Halo line
billing the same service by hand, under an item of its own, passes as a manual line. Let the
error through and the client pays twice. Which lines look alike is the mapping engine's call,
never a matcher of our own: the line bills the product's best item candidate (what `trueup
unmapped` shows), or the engine's fuzzy name search finds the line's description and it bills
the same seats.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from trueup.core.billing.facts import LookAlike, ManualLine, SubscriptionFacts
from trueup.core.billing.lines import seats_text
from trueup.core.billing.timeline import quantity_on
from trueup.core.mapping.names import product_key

if TYPE_CHECKING:
    from trueup.core.mapping.match import FuzzyIndex
    from trueup.core.mapping.rows import ItemCandidate


def look_alikes(
    conn: Connection,
    subscriptions: Mapping[int, Sequence[SubscriptionFacts]],
    manual: Mapping[int, Sequence[ManualLine]],
    day: date,
) -> dict[int, list[LookAlike]]:
    """Per client, its manual lines that look like one of its unmapped subscriptions; Pax8
    seats are counted on `day`, as the seat diff counts them."""
    unmapped = {
        client_id: without_item
        for client_id, subs in subscriptions.items()
        if manual.get(client_id) and (without_item := [s for s in subs if s.item_id is None])
    }
    if not unmapped:
        return {}  # most months of a mapped store: the mapping engine is not even read
    # Loaded only now: rapidfuzz has no place in `trueup batch --help`, nor in a mapped month.
    from trueup.core.mapping.match import FUZZY_FLOOR, FuzzyIndex
    from trueup.core.mapping.rows import best_item_candidates

    products = {s.product_id for subs in unmapped.values() for s in subs if s.product_id}
    candidates = {
        product_id: candidate
        for product_id, candidate in best_item_candidates(conn, products).items()
        # Weaker is noise to the engine too: a licence hint where 24 of 315 licences agree
        # scores 7, and would take every Halo line of that item for the same service.
        if candidate.score >= FUZZY_FLOOR
    }
    found: dict[int, list[LookAlike]] = {}
    for client_id, subs in unmapped.items():
        lines = manual[client_id]
        names = FuzzyIndex(
            (line.line_id, line.description, product_key(line.description)) for line in lines
        )
        alike = [
            look
            for sub in subs
            for look in _alike(sub, lines, names, candidates.get(sub.product_id or ""), day)
        ]
        if alike:
            found[client_id] = alike
    return found


def _alike(
    sub: SubscriptionFacts,
    lines: Sequence[ManualLine],
    names: FuzzyIndex,
    candidate: ItemCandidate | None,
    day: date,
) -> Iterator[LookAlike]:
    seats = quantity_on(sub.snapshots, day)
    named = {match.target: match for match in names.search(product_key(sub.product_name))}
    for line in lines:
        if candidate is not None and line.item_id == candidate.item_id:
            evidence = (
                f'the item it bills, "{candidate.item_name}", is the best Halo match for '
                f"{sub.product_name} ({candidate.score}: {candidate.reason})"
            )
        elif line.line_id in named and line.quantity == seats:
            match = named[line.line_id]
            evidence = f"the names are alike, {match.reason}, and both bill {seats_text(seats)}"
        else:
            continue
        yield LookAlike(sub.subscription_id, line.line_id, evidence)
