"""The mapping engine: which Halo client bills a Pax8 company, which Halo item a Pax8 product.

Rows for the workbench and the CLI, one-key suggestions, and changes that persist at once (with
source, time and OS user) and can be undone. Names only ever *suggest* (billing-rules §1):
nothing is mapped without the operator's word, a key or a command.

One-to-one: a Halo client (item) already mapped to another company (product) is never suggested
again. The operator may still map two companies to one client by hand (two Pax8 tenants billed
to one Halo customer); such rows say so in their reason.
"""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Connection

from trueup.core.errors import TrueupError
from trueup.core.mapping.file import MappingImportError, export_mappings, import_mappings
from trueup.core.mapping.journal import (
    COMPANY,
    PRODUCT,
    Key,
    Undone,
    new_batch,
    remove_mapping,
    undo_newest,
    write_mapping,
)
from trueup.core.mapping.match import EXACT
from trueup.core.mapping.names import company_name, normalise, product_key
from trueup.core.mapping.reading import World, load_world
from trueup.core.mapping.report import suggestions_json, unmapped_json
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
from trueup.core.values.parsing import to_int

__all__ = [
    "MATCH_THRESHOLD",
    "Candidate",
    "CompanyRow",
    "ItemCandidate",
    "MappingError",
    "MappingImportError",
    "ProductRow",
    "accept_company_suggestions",
    "accept_product_suggestions",
    "accept_suggestions",
    "client_choices",
    "company_rows",
    "export_mappings",
    "ignore_company",
    "ignore_product",
    "import_mappings",
    "item_choices",
    "map_company",
    "map_product",
    "product_rows",
    "suggestions_json",
    "undo_last",
    "unmap_company",
    "unmap_product",
    "unmapped_json",
]

SOURCES = ("exact", "suggestion", "manual", "import")


class MappingError(TrueupError):
    """A mapping cannot be made as asked; the message names the id and what to do."""


# --- reading ----------------------------------------------------------------------------------


def company_rows(db: Database, *, threshold: int = MATCH_THRESHOLD) -> list[CompanyRow]:
    """Every Pax8 company: unmapped, suggested and stale first, then by monthly value."""
    with db.read() as conn:
        return company_rows_of(load_world(conn), threshold)


def product_rows(db: Database, *, threshold: int = MATCH_THRESHOLD) -> list[ProductRow]:
    """Every Pax8 product in use: unmapped, suggested and stale first, then by monthly value."""
    with db.read() as conn:
        return product_rows_of(load_world(conn, licences=True), threshold)


def client_choices(db: Database, query: str = "", *, limit: int = 50) -> list[Candidate]:
    """Active Halo clients for a picker: best fuzzy match first, alphabetical for no query.

    A client's id typed as the query comes first; clients that already bill a company say so.
    """
    with db.read() as conn:
        world = load_world(conn, subscriptions=False)
    billing = {
        mp.target: world.companies[c].name if c in world.companies else c
        for c, mp in world.company_mappings.items()
        if mp.status == "mapped" and mp.target is not None
    }
    active = [c for c in world.clients.values() if c.active]
    picked = _pick(
        [(c.id, c.name, company_name(c.name).key) for c in active],
        company_name(query).key if query.strip() else "",
        query,
        limit,
    )
    return [
        Candidate(cid, name, score, _billing(reason, billing.get(cid)))
        for cid, name, score, reason in picked
    ]


def item_choices(db: Database, query: str = "", *, limit: int = 50) -> list[ItemCandidate]:
    """Active Halo items for a picker, searched by name and by the SKUs written on them."""
    with db.read() as conn:
        world = load_world(conn, subscriptions=False)
    choices = [
        (i.id, i.name, " ".join([product_key(i.name), *(normalise(c) for _, c in i.codes)]))
        for i in world.items.values()
        if i.active
    ]
    picked = _pick(choices, product_key(query) if query.strip() else "", query, limit)
    return [ItemCandidate(*entry) for entry in picked]


def _pick(
    choices: list[tuple[int, str, str]], key: str, query: str, limit: int
) -> list[tuple[int, str, int, str]]:
    """(id, name, score, reason) best first; the choices are (id, name, searchable text)."""
    by_id = {cid: name for cid, name, _ in choices}
    if not key:
        ranked = sorted(choices, key=lambda c: (c[1].casefold(), c[0]))[:limit]
        return [(cid, name, 0, "") for cid, name, _ in ranked]
    picked: list[tuple[int, str, int, str]] = []
    # to_int: isdigit() holds for "²" and a pasted 5,000 digits too, which int() refuses.
    typed_id = to_int(query.strip()) if query.strip().isdigit() else None
    if typed_id in by_id:
        picked.append((typed_id, by_id[typed_id], EXACT, "id"))
    hits = process.extract(
        key, [text for _, _, text in choices], scorer=fuzz.WRatio, processor=None, limit=limit
    )
    for _, score, index in hits:
        cid, name, _ = choices[index]
        if score > 0 and all(p[0] != cid for p in picked):
            picked.append((cid, name, round(score), f"fuzzy {round(score)}"))
    return picked[:limit]


def _billing(reason: str, company: str | None) -> str:
    if company is None:
        return reason
    return f"{reason}; already bills '{company}'" if reason else f"already bills '{company}'"


# --- changing ---------------------------------------------------------------------------------


def map_company(
    db: Database,
    company_id: str,
    client_id: int,
    *,
    source: str = "manual",
    score: int | None = None,
    reason: str = "",
) -> None:
    """Bill a Pax8 company to a Halo client (allowed even when the client bills another)."""
    with db.write() as conn:
        world = load_world(conn, subscriptions=False)
        _known_company(world, company_id)
        _active_client(world, client_id)
        key = Key(COMPANY, company_id)
        write_mapping(conn, key, client_id, action="map", **_provenance(source, score, reason))


def unmap_company(db: Database, company_id: str) -> None:
    """Forget the company's mapping (or ignore); a company gone from Pax8 can be cleaned up."""
    with db.write() as conn:
        if not remove_mapping(conn, Key(COMPANY, company_id)):
            _known_company(load_world(conn, subscriptions=False), company_id)


def ignore_company(db: Database, company_id: str) -> None:
    """The operator's word that the company is not billed through Halo: no more suggestions."""
    with db.write() as conn:
        _known_company(load_world(conn, subscriptions=False), company_id)
        write_mapping(conn, Key(COMPANY, company_id), None, action="ignore", status="ignored")


def map_product(
    db: Database,
    product_id: str,
    item_id: int,
    *,
    client_id: int | None = None,
    source: str = "manual",
    score: int | None = None,
    reason: str = "",
) -> None:
    """Bill a Pax8 product as a Halo item; with `client_id`, for that client only (override)."""
    with db.write() as conn:
        world = load_world(conn, subscriptions=False)
        _known_product(world, product_id)
        item = world.items.get(item_id)
        if item is None:
            raise MappingError(f"unknown Halo item {item_id}: sync, or pick one from `map suggest`")
        if not item.active:
            raise MappingError(
                f"Halo item {item_id} ({item.name}) is inactive; choose an active one"
            )
        if client_id is not None:
            _known_client(world, client_id)
        key = Key(PRODUCT, product_id, client_id)
        write_mapping(conn, key, item_id, action="map", **_provenance(source, score, reason))


def unmap_product(db: Database, product_id: str, *, client_id: int | None = None) -> None:
    """Forget the product's mapping for every client, or one client's override."""
    with db.write() as conn:
        if not remove_mapping(conn, Key(PRODUCT, product_id, client_id)):
            world = load_world(conn, subscriptions=False)
            _known_product(world, product_id)
            if client_id is not None:
                _known_client(world, client_id)


def ignore_product(db: Database, product_id: str) -> None:
    with db.write() as conn:
        _known_product(load_world(conn, subscriptions=False), product_id)
        write_mapping(conn, Key(PRODUCT, product_id), None, action="ignore", status="ignored")


def accept_company_suggestions(
    db: Database, *, min_score: int = MATCH_THRESHOLD
) -> list[CompanyRow]:
    """Map every company suggested at `min_score` or above, as one undoable batch."""
    return accept_suggestions(db, min_score=min_score, products=False)[0]


def accept_product_suggestions(
    db: Database, *, min_score: int = MATCH_THRESHOLD
) -> list[ProductRow]:
    """Map every product suggested at `min_score` or above (for every client), as one batch."""
    return accept_suggestions(db, min_score=min_score, companies=False)[1]


def accept_suggestions(
    db: Database, *, min_score: int = MATCH_THRESHOLD, companies: bool = True, products: bool = True
) -> tuple[list[CompanyRow], list[ProductRow]]:
    """Accept the company and/or product suggestions in one transaction and one undo batch."""
    with db.write() as conn:
        world = load_world(conn, licences=products)
        batch = new_batch()
        accepted_companies = [
            r for r in company_rows_of(world, min_score) if companies and r.status == "suggested"
        ]
        for company in accepted_companies:
            assert company.client_id is not None and company.score is not None
            _accept(conn, Key(COMPANY, company.company_id), company.client_id, company, batch)
        accepted_products = [
            r for r in product_rows_of(world, min_score) if products and r.status == "suggested"
        ]
        for product in accepted_products:
            assert product.item_id is not None
            _accept(conn, Key(PRODUCT, product.product_id), product.item_id, product, batch)
    return accepted_companies, accepted_products


def _accept(
    conn: Connection, key: Key, target: int, row: CompanyRow | ProductRow, batch: str
) -> None:
    # Only id links and SKUs score 100; a name never does.
    source = "exact" if row.score == EXACT else "suggestion"
    write_mapping(
        conn,
        key,
        target,
        action="accept",
        batch=batch,
        source=source,
        score=row.score,
        reason=row.reason,
    )


def undo_last(db: Database) -> str | None:
    """Revert the newest change (or batch) not yet undone; a one-line account, None if none."""
    with db.write() as conn:
        undone = undo_newest(conn)
        if not undone:
            return None
        return _describe_undo(conn, undone)


def _provenance(source: str, score: int | None, reason: str) -> dict[str, Any]:
    if source not in SOURCES:
        raise MappingError(f"source {source!r} is not one of {', '.join(SOURCES)}")
    return {"source": source, "score": score, "reason": reason}


def _known_company(world: World, company_id: str) -> None:
    if company_id not in world.companies:
        raise MappingError(f"unknown Pax8 company {company_id}: sync, or check the id")


def _known_product(world: World, product_id: str) -> None:
    if product_id not in world.products:
        raise MappingError(f"unknown Pax8 product {product_id}: sync, or check the id")


def _known_client(world: World, client_id: int) -> None:
    if client_id not in world.clients:
        raise MappingError(f"unknown Halo client {client_id}: sync, or check the id")


def _active_client(world: World, client_id: int) -> None:
    _known_client(world, client_id)
    client = world.clients[client_id]
    if not client.active:
        raise MappingError(
            f"Halo client {client_id} ({client.name}) is inactive; choose an active one"
        )


def _describe_undo(conn: Connection, undone: list[Undone]) -> str:
    if len(undone) > 1:
        noun = "suggestions" if undone[0].action == "accept" else "mappings"
        return f"undid {undone[0].action} of {len(undone)} {noun}"
    world = load_world(conn, subscriptions=False)
    change = undone[0]
    key, restored = change.key, change.restored
    if key.kind == COMPANY:
        company = world.companies.get(key.id)
        subject = company.name if company else key.id
    else:
        product = world.products.get(key.id)
        subject = product.name if product else key.id
        if key.client_id is not None:
            client = world.clients.get(key.client_id)
            subject += f" for {client.name if client else key.client_id}"
    if restored is None:
        was_ignored = change.replaced is not None and change.replaced["status"] == "ignored"
        return f"{'stopped ignoring' if was_ignored else 'unmapped'} {subject}"
    if restored["status"] == "ignored":
        return f"ignored {subject} again"
    if key.kind == COMPANY:
        client = world.clients.get(restored["client_id"])
        target = client.name if client else f"client {restored['client_id']}"
    else:
        item = world.items.get(restored["item_id"])
        target = item.name if item else f"item {restored['item_id']}"
    return f"mapped {subject} to {target} again"
