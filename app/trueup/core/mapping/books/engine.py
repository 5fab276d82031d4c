"""The books' customers and items (QuickBooks Online's customers and items, Xero's contacts and
items) for the Halo clients and items trueup bills.

Posting an invoice to the books needs the client's customer (contact) there and each line's
item. As for Pax8 -> Halo, links and names only suggest (match.py): nothing is mapped without
the operator's word (`trueup qbo|xero map accept|set`), and each mapping keeps its source,
score, reason, who and when. Rows exist for what billing uses: Halo clients with a Pax8 company
mapped to them, Halo items with a Pax8 product mapped to them or on a recurring invoice.

A mapping whose row in the books is gone, inactive or archived is stale: it is shown, never
posted to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from trueup.core.errors import TrueupError
from trueup.core.mapping.books.match import BookCandidate, HaloSource, Suggestion, suggest
from trueup.core.mapping.books.reading import QBO, XERO, Books, Kind, Side
from trueup.core.mapping.match import EXACT
from trueup.core.mapping.rows import MATCH_THRESHOLD
from trueup.core.store.database import Database

__all__ = [
    "MATCH_THRESHOLD",
    "QBO",
    "XERO",
    "BookCandidate",
    "BookGaps",
    "BookMappingError",
    "BookRow",
    "Books",
    "Missing",
    "accept_book_suggestion",
    "accept_book_suggestions",
    "book_choices",
    "book_rows",
    "book_targets",
    "map_customer",
    "map_item",
    "missing_book_targets",
    "unmap_customer",
    "unmap_item",
]

# Rows needing the operator first.
STATUS_ORDER = {"unmapped": 0, "suggested": 1, "stale": 2, "mapped": 3}
_NAMES_SHOWN = 5  # in a refusal; the rest are counted


class BookMappingError(TrueupError):
    """A books mapping cannot be made as asked; the message names the id."""


@dataclass(frozen=True)
class BookRow:
    kind: str  # client | item: the Halo side
    halo_id: int
    halo_name: str
    status: str  # mapped | suggested | unmapped | stale
    target_id: str | None  # the mapping, or the suggestion
    target_name: str | None
    score: int | None
    source: str | None  # of the mapping: exact | suggestion | manual
    reason: str
    candidates: tuple[BookCandidate, ...]  # for rows without a live mapping, best first


@dataclass(frozen=True)
class Missing:
    halo_id: int
    halo_name: str
    reason: str  # "not mapped", "QuickBooks customer 5 is inactive", ...


@dataclass(frozen=True)
class BookGaps:
    """Halo clients and items an invoice needs that have no usable twin in the books."""

    books: Books
    clients: tuple[Missing, ...]
    items: tuple[Missing, ...]

    def __bool__(self) -> bool:
        return bool(self.clients or self.items)

    def message(self) -> str:
        """One line for a refusal: what is missing, and the command that fixes it."""
        parts = [
            _gap(self.clients, "client", "clients", self.books.clients.target),
            _gap(self.items, "item", "items", self.books.items.target),
        ]
        found = "; ".join(p for p in parts if p)
        return f"{found}; run `trueup {self.books.name} map suggest`" if found else ""


# --- reading ----------------------------------------------------------------------------------


def book_rows(
    db: Database, books: Books, *, threshold: int = MATCH_THRESHOLD
) -> tuple[list[BookRow], list[BookRow]]:
    """Every billed Halo client and item with its twin in the books or best suggestion: those
    needing the operator first (unmapped, suggested, stale), then by name."""
    with db.read() as conn:
        clients, items = books.clients.side(conn), books.items.side(conn)
        return _rows(books, clients, threshold), _rows(books, items, threshold)


def book_targets(db: Database, books: Books) -> tuple[dict[int, str], dict[int, str]]:
    """For the poster: the customer (contact) id by Halo client id, the item id by Halo item
    id; only mappings whose row in the books is there and usable."""
    with db.read() as conn:
        customers, items = books.clients.side(conn), books.items.side(conn)
    return _live(customers), _live(items)


def missing_book_targets(
    db: Database,
    books: Books,
    client_ids: Iterable[int] | None = None,
    item_ids: Iterable[int] | None = None,
) -> BookGaps:
    """Which of these Halo clients and items cannot be posted to the books, and why; None
    stands for every one billing uses."""
    with db.read() as conn:
        customers, items = books.clients.side(conn), books.items.side(conn)
    return BookGaps(books, _missing(customers, client_ids), _missing(items, item_ids))


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


def _rows(books: Books, side: Side, threshold: int) -> list[BookRow]:
    owners: dict[str, list[int]] = defaultdict(list)  # id in the books -> the Halo ids mapped
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
    rows = [_row(books, side, h, suggestions.get(h), owners, threshold) for h in side.billed]
    return sorted(rows, key=lambda r: (STATUS_ORDER[r.status], r.halo_name.casefold(), r.halo_id))


def _row(
    books: Books,
    side: Side,
    halo_id: int,
    suggestion: Suggestion | None,
    owners: dict[str, list[int]],
    threshold: int,
) -> BookRow:
    kind, name = side.kind, side.halo_name(halo_id)
    mapping = side.mappings.get(halo_id)
    if mapping is not None:
        target = side.targets.get(mapping.target)
        status, reason = "mapped", mapping.reason or "set by hand"
        if problem := side.problem(halo_id):
            status, reason = "stale", f"{problem}: map it again"
        elif shared := [h for h in owners[mapping.target] if h != halo_id]:
            reason += f"; also the {kind.target} of '{side.halo_name(shared[0])}'"
        return BookRow(
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
        return BookRow(
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
    elif not side.targets:  # not "no candidate": nothing of the books was read to match
        reason = f"no {kind.target}s in the store: `trueup {books.name} refresh` reads them"
    else:
        reason = "no candidate"
    return BookRow(kind.name, halo_id, name, "unmapped", None, None, None, None, reason, candidates)


def _unknown(side: Side, halo_id: int) -> HaloSource:
    """A billed Halo id the store no longer holds: matched by no name."""
    return HaloSource(halo_id, side.halo_name(halo_id), ())


# --- changing ---------------------------------------------------------------------------------


def book_choices(db: Database, books: Books, kind: str, query: str = "") -> list[BookCandidate]:
    """The usable customers (contacts) or items of the books whose name holds `query`, A to Z:
    what an operator picks from by hand."""
    side_kind = books.items if kind == "item" else books.clients
    with db.read() as conn:
        targets = side_kind.side(conn).targets
    wanted = query.strip().casefold()
    found = [
        BookCandidate(t.id, t.name, 0, "")
        for t in targets.values()
        if t.usable and (not wanted or any(wanted in n.casefold() for _, n in t.names))
    ]
    return sorted(found, key=lambda c: (c.name.casefold(), c.id))


def accept_book_suggestion(db: Database, books: Books, row: BookRow) -> str:
    """Map one row to its suggestion, as `accept_book_suggestions` would."""
    if row.status != "suggested" or row.target_id is None:
        raise BookMappingError(f"{row.halo_name} has no suggestion to accept")
    kind = books.items if row.kind == "item" else books.clients
    source = "exact" if row.score == EXACT else "suggestion"
    with db.write() as conn:
        kind.write(conn, row.halo_id, row.target_id, source, row.score, row.reason)
    return f"mapped {kind.halo} {row.halo_id} ({row.halo_name}) to {kind.target} {row.target_id}"


def map_customer(db: Database, books: Books, client_id: int, customer_id: str) -> str:
    """Post a Halo client's invoices to a customer (contact) in the books; says what it did."""
    return _map_by_hand(db, books, books.clients, client_id, customer_id)


def map_item(db: Database, books: Books, item_id: int, target_id: str) -> str:
    """Post a Halo item's lines as an item of the books; says what it did, in words."""
    return _map_by_hand(db, books, books.items, item_id, target_id)


def unmap_customer(db: Database, books: Books, client_id: int) -> bool:
    """Forget the client's customer (contact) in the books; False when it had none."""
    return _unmap(db, books.clients, client_id)


def unmap_item(db: Database, books: Books, item_id: int) -> bool:
    """Forget the item's twin in the books; False when it had none."""
    return _unmap(db, books.items, item_id)


def accept_book_suggestions(
    db: Database, books: Books, *, min_score: int = MATCH_THRESHOLD
) -> tuple[list[BookRow], list[BookRow]]:
    """Map every client and item suggested at `min_score` or above, in one transaction."""
    with db.write() as conn:
        accepted = []
        for kind in (books.clients, books.items):
            rows = [r for r in _rows(books, kind.side(conn), min_score) if r.status == "suggested"]
            for row in rows:
                assert row.target_id is not None
                # Only an id link or a code scores 100; a name never does.
                source = "exact" if row.score == EXACT else "suggestion"
                kind.write(conn, row.halo_id, row.target_id, source, row.score, row.reason)
            accepted.append(rows)
    return accepted[0], accepted[1]


def _map_by_hand(db: Database, books: Books, kind: Kind, halo_id: int, target_id: str) -> str:
    with db.write() as conn:
        side = kind.side(conn)
        if halo_id not in side.sources:
            raise BookMappingError(f"unknown {kind.halo} {halo_id}: sync, or check the id")
        target = side.targets.get(target_id)
        if target is None:
            raise BookMappingError(
                f"unknown {kind.target} {target_id}: refresh with `trueup {books.name} refresh`, "
                "or check the id"
            )
        if not target.usable:
            raise BookMappingError(
                f"{kind.target} {target_id} ({target.name}) {target.unusable}; choose another"
            )
        kind.write(conn, halo_id, target_id, "manual", None, "")
    return (
        f"mapped {kind.halo} {halo_id} ({side.halo_name(halo_id)}) "
        f"to {kind.target} {target_id} ({target.name})"
    )


def _unmap(db: Database, kind: Kind, halo_id: int) -> bool:
    with db.write() as conn:
        if kind.remove(conn, halo_id):
            return True
        if halo_id not in kind.side(conn).sources:
            raise BookMappingError(f"unknown {kind.halo} {halo_id}: sync, or check the id")
    return False
