"""QuickBooks Online customers and items for the Halo clients and items trueup bills.

Posting an invoice to QuickBooks needs the client's QuickBooks customer and each line's
QuickBooks item. As for Pax8 -> Halo, links and names only suggest (qbo_match): nothing is
mapped without the operator's word (`trueup qbo map accept|set`), and each mapping keeps its
source, score, reason, who and when. Rows exist for what billing uses: Halo clients with a Pax8
company mapped to them, Halo items with a Pax8 product mapped to them.

A mapping whose QuickBooks row is gone or inactive is stale: it is shown, never posted to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from trueup.core.errors import TrueupError
from trueup.core.mapping.match import EXACT
from trueup.core.mapping.qbo.match import HaloSource, QboCandidate, Suggestion, suggest
from trueup.core.mapping.qbo.reading import CLIENTS, ITEMS, Kind, Side
from trueup.core.mapping.rows import MATCH_THRESHOLD
from trueup.core.store.database import Database

__all__ = [
    "MATCH_THRESHOLD",
    "Missing",
    "QboCandidate",
    "QboGaps",
    "QboMappingError",
    "QboRow",
    "accept_qbo_suggestions",
    "map_customer",
    "map_item",
    "missing_qbo_targets",
    "qbo_rows",
    "qbo_targets",
    "unmap_customer",
    "unmap_item",
]

# Rows needing the operator first.
_STATUS_ORDER = {"unmapped": 0, "suggested": 1, "stale": 2, "mapped": 3}
_NAMES_SHOWN = 5  # in a refusal; the rest are counted


class QboMappingError(TrueupError):
    """A QuickBooks mapping cannot be made as asked; the message names the id."""


@dataclass(frozen=True)
class QboRow:
    kind: str  # client | item: the Halo side
    halo_id: int
    halo_name: str
    status: str  # mapped | suggested | unmapped | stale
    qbo_id: str | None  # the mapping, or the suggestion
    qbo_name: str | None
    score: int | None
    source: str | None  # of the mapping: exact | suggestion | manual
    reason: str
    candidates: tuple[QboCandidate, ...]  # for rows without a live mapping, best first


@dataclass(frozen=True)
class Missing:
    halo_id: int
    halo_name: str
    reason: str  # "not mapped", "QuickBooks customer 5 is inactive", ...


@dataclass(frozen=True)
class QboGaps:
    """Halo clients and items an invoice needs that have no usable QuickBooks twin."""

    clients: tuple[Missing, ...]
    items: tuple[Missing, ...]

    def __bool__(self) -> bool:
        return bool(self.clients or self.items)

    def message(self) -> str:
        """One line for a refusal: what is missing, and the command that fixes it."""
        parts = [
            _gap(self.clients, "client", "clients", "QuickBooks customer"),
            _gap(self.items, "item", "items", "QuickBooks item"),
        ]
        found = "; ".join(p for p in parts if p)
        return f"{found}; run `trueup qbo map suggest`" if found else ""


# --- reading ----------------------------------------------------------------------------------


def qbo_rows(
    db: Database, *, threshold: int = MATCH_THRESHOLD
) -> tuple[list[QboRow], list[QboRow]]:
    """Every billed Halo client and item with its QuickBooks twin or best suggestion: those
    needing the operator first (unmapped, suggested, stale), then by name."""
    with db.read() as conn:
        return _rows(CLIENTS.side(conn), threshold), _rows(ITEMS.side(conn), threshold)


def qbo_targets(db: Database) -> tuple[dict[int, str], dict[int, str]]:
    """For the poster: QuickBooks customer id by Halo client id, QuickBooks item id by Halo item
    id; only mappings whose QuickBooks row is there and usable."""
    with db.read() as conn:
        customers, items = CLIENTS.side(conn), ITEMS.side(conn)
    return _live(customers), _live(items)


def missing_qbo_targets(
    db: Database,
    client_ids: Iterable[int] | None = None,
    item_ids: Iterable[int] | None = None,
) -> QboGaps:
    """Which of these Halo clients and items cannot be posted to QuickBooks, and why; None
    stands for every one billing uses."""
    with db.read() as conn:
        customers, items = CLIENTS.side(conn), ITEMS.side(conn)
    return QboGaps(_missing(customers, client_ids), _missing(items, item_ids))


def _live(side: Side) -> dict[int, str]:
    return {h: mp.target for h, mp in side.mappings.items() if not side.problem(h)}


def _missing(side: Side, ids: Iterable[int] | None) -> tuple[Missing, ...]:
    wanted = sorted(side.billed if ids is None else set(ids))
    return tuple(
        Missing(h, side.halo_name(h), problem) for h in wanted if (problem := side.problem(h))
    )


def _gap(missing: tuple[Missing, ...], one: str, many: str, what: str) -> str:
    if not missing:
        return ""
    names = ", ".join(f"{m.halo_name} ({m.halo_id})" for m in missing[:_NAMES_SHOWN])
    more = len(missing) - _NAMES_SHOWN
    listed = f"{names} and {more} more" if more > 0 else names
    has = f"{len(missing)} {one} has" if len(missing) == 1 else f"{len(missing)} {many} have"
    return f"{has} no {what}: {listed}"


def _rows(side: Side, threshold: int) -> list[QboRow]:
    owners: dict[str, list[int]] = defaultdict(list)  # QuickBooks id -> the Halo ids mapped
    for halo_id, mapping in side.mappings.items():
        owners[mapping.target].append(halo_id)
    open_ids = [h for h in sorted(side.billed) if side.problem(h)]
    suggestions = suggest(
        [side.sources.get(h) or _unknown(side, h) for h in open_ids],
        list(side.targets.values()),
        set(owners),
        side.kind.rules,
        threshold,
    )
    rows = [_row(side, h, suggestions.get(h), owners, threshold) for h in side.billed]
    return sorted(rows, key=lambda r: (_STATUS_ORDER[r.status], r.halo_name.casefold(), r.halo_id))


def _row(
    side: Side,
    halo_id: int,
    suggestion: Suggestion | None,
    owners: dict[str, list[int]],
    threshold: int,
) -> QboRow:
    kind, name = side.kind, side.halo_name(halo_id)
    mapping = side.mappings.get(halo_id)
    if mapping is not None:
        target = side.targets.get(mapping.target)
        status, reason = "mapped", mapping.reason or "set by hand"
        if problem := side.problem(halo_id):
            status, reason = "stale", f"{problem}: map it again"
        elif shared := [h for h in owners[mapping.target] if h != halo_id]:
            reason += f"; also the {kind.qbo} of '{side.halo_name(shared[0])}'"
        return QboRow(
            kind.name,
            halo_id,
            name,
            status,
            mapping.target,
            target.name if target else None,
            mapping.score,
            mapping.source,
            reason,
            suggestion.candidates if suggestion else (),
        )
    assert suggestion is not None  # every billed row without a live mapping was matched
    offered, candidates = suggestion.offered, suggestion.candidates
    if offered is not None:
        return QboRow(
            kind.name,
            halo_id,
            name,
            "suggested",
            offered.id,
            offered.name,
            offered.score,
            None,
            offered.reason,
            candidates,
        )
    if suggestion.held_back:
        reason = suggestion.held_back
    elif candidates:  # none good enough to offer: say how close the best one comes
        reason = f"below {threshold}: {candidates[0].reason}"
    else:
        reason = "no candidate"
    return QboRow(kind.name, halo_id, name, "unmapped", None, None, None, None, reason, candidates)


def _unknown(side: Side, halo_id: int) -> HaloSource:
    """A billed Halo id the store no longer holds: matched by no name."""
    return HaloSource(halo_id, side.halo_name(halo_id), ())


# --- changing ---------------------------------------------------------------------------------


def map_customer(db: Database, client_id: int, customer_id: str) -> str:
    """Post a Halo client's invoices to a QuickBooks customer; says what it did, in words."""
    return _map_by_hand(db, CLIENTS, client_id, customer_id)


def map_item(db: Database, item_id: int, qbo_item_id: str) -> str:
    """Post a Halo item's lines as a QuickBooks item; says what it did, in words."""
    return _map_by_hand(db, ITEMS, item_id, qbo_item_id)


def unmap_customer(db: Database, client_id: int) -> bool:
    """Forget the client's QuickBooks customer; False when it had none."""
    return _unmap(db, CLIENTS, client_id)


def unmap_item(db: Database, item_id: int) -> bool:
    """Forget the item's QuickBooks item; False when it had none."""
    return _unmap(db, ITEMS, item_id)


def accept_qbo_suggestions(
    db: Database, *, min_score: int = MATCH_THRESHOLD
) -> tuple[list[QboRow], list[QboRow]]:
    """Map every client and item suggested at `min_score` or above, in one transaction."""
    with db.write() as conn:
        accepted = []
        for kind in (CLIENTS, ITEMS):
            rows = [r for r in _rows(kind.side(conn), min_score) if r.status == "suggested"]
            for row in rows:
                assert row.qbo_id is not None
                # Only an id link or a SKU scores 100; a name never does.
                source = "exact" if row.score == EXACT else "suggestion"
                kind.write(conn, row.halo_id, row.qbo_id, source, row.score, row.reason)
            accepted.append(rows)
    return accepted[0], accepted[1]


def _map_by_hand(db: Database, kind: Kind, halo_id: int, qbo_id: str) -> str:
    with db.write() as conn:
        side = kind.side(conn)
        if halo_id not in side.sources:
            raise QboMappingError(f"unknown {kind.halo} {halo_id}: sync, or check the id")
        target = side.targets.get(qbo_id)
        if target is None:
            raise QboMappingError(
                f"unknown {kind.qbo} {qbo_id}: refresh with `trueup qbo refresh`, or check the id"
            )
        if not target.usable:
            raise QboMappingError(
                f"{kind.qbo} {qbo_id} ({target.name}) {target.unusable}; choose another"
            )
        kind.write(conn, halo_id, qbo_id, "manual", None, "")
    return (
        f"mapped {kind.halo} {halo_id} ({side.halo_name(halo_id)}) "
        f"to {kind.qbo} {qbo_id} ({target.name})"
    )


def _unmap(db: Database, kind: Kind, halo_id: int) -> bool:
    with db.write() as conn:
        if kind.remove(conn, halo_id):
            return True
        if halo_id not in kind.side(conn).sources:
            raise QboMappingError(f"unknown {kind.halo} {halo_id}: sync, or check the id")
    return False
