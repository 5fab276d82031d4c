"""Mapping Pax8 companies to Halo clients and products to items: `trueup map ...`, `trueup
unmapped` and the Clients and Products screens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trueup.core.errors import SyncUnavailableError
from trueup.core.mapping import engine
from trueup.core.mapping.engine import MATCH_THRESHOLD as MATCH_THRESHOLD
from trueup.core.mapping.engine import (
    Candidate,
    CompanyRow,
    ItemCandidate,
    MappingError,
    ProductRow,
)
from trueup.core.mapping.file import (
    ImportResult,
    export_mappings,
    import_mappings,
    mappings_text,
)
from trueup.core.mapping.journal import NewestChange, newest_change, newest_id
from trueup.core.mapping.match import EXACT
from trueup.core.mapping.reading import load_world
from trueup.core.mapping.report import company_json as company_json
from trueup.core.mapping.report import product_json as product_json
from trueup.core.mapping.report import suggestions_json, unmapped_json
from trueup.core.posting.item_draft import ItemDraft as ItemDraft
from trueup.core.posting.item_draft import draft_item
from trueup.core.service.changes import Changes
from trueup.core.store.database import Database

if TYPE_CHECKING:  # HTTP loads only when an item is created
    from trueup.core.posting.halo_item import CreatedItem
    from trueup.core.sources.halo import HaloClient

HaloFactory = Callable[[], "HaloClient"]  # a fresh client for one write


@dataclass(frozen=True)
class Override:
    """A client that bills a product under an item of its own."""

    client_id: int
    client_name: str
    item_id: int | None
    item_name: str


class Mappings:
    """The mappings of one store; `threshold` is the score a name match must reach to be
    offered (the config's [mapping] threshold); `halo` opens HaloPSA to create an item a product
    lacks (None: items cannot be created here)."""

    def __init__(
        self,
        db: Database,
        *,
        threshold: int = MATCH_THRESHOLD,
        changes: Changes | None = None,
        halo: HaloFactory | None = None,
    ) -> None:
        self.db = db
        self.threshold = threshold
        self._changes = changes or Changes()
        self._halo = halo
        self._own: set[int] = set()  # the journal entries this service wrote

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write through this service: what it journaled is this service's own, for undo. (A
        change another process commits between the reads of the newest id around the write
        would count as ours: a window of one statement each side.)"""
        with self.db.read() as conn:
            before = newest_id(conn)
        with self._changes.writing():
            yield
        with self.db.read() as conn:
            self._own.update(range(before + 1, newest_id(conn) + 1))

    def undo_note(self) -> NewestChange | None:
        """The change the next undo reverts when it was not made through this service (another
        `trueup`, another workbench), to ask before undoing it; else None."""
        with self.db.read() as conn:
            newest = newest_change(conn)
        return None if newest is None or newest.id in self._own else newest

    # --- reading ---------------------------------------------------------------------------

    def company_rows(self) -> list[CompanyRow]:
        return engine.company_rows(self.db, threshold=self.threshold)

    def product_rows(self) -> list[ProductRow]:
        return engine.product_rows(self.db, threshold=self.threshold)

    def client_choices(self, query: str = "") -> list[Candidate]:
        return engine.client_choices(self.db, query)

    def item_choices(self, query: str = "") -> list[ItemCandidate]:
        return engine.item_choices(self.db, query)

    def suggestions_json(self) -> dict[str, Any]:
        """`trueup map suggest --json` (contract §3)."""
        return suggestions_json(self.db, threshold=self.threshold)

    def unmapped_json(self) -> dict[str, Any]:
        """`trueup unmapped --json` (contract §3)."""
        return unmapped_json(self.db, threshold=self.threshold)

    def product_overrides(self, product_id: str) -> list[Override]:
        """The clients that bill this product under an item of their own."""
        with self.db.read() as conn:
            world = load_world(conn)
        found = []
        for (product, client_id), chosen in world.product_mappings.items():
            if product != product_id or client_id is None:
                continue
            client = world.clients.get(client_id)
            item = world.items.get(chosen.target) if chosen.target is not None else None
            found.append(
                Override(
                    client_id,
                    client.name if client else f"client {client_id}",
                    chosen.target,
                    item.name if item else "(ignored)" if chosen.target is None else "(gone)",
                )
            )
        return sorted(found, key=lambda o: o.client_name.casefold())

    # --- companies -> clients -----------------------------------------------------------------

    def map_company(
        self,
        company_id: str,
        client_id: int,
        *,
        source: str = "manual",
        score: int | None = None,
        reason: str = "",
    ) -> None:
        with self._writing():
            engine.map_company(
                self.db, company_id, client_id, source=source, score=score, reason=reason
            )

    def unmap_company(self, company_id: str) -> None:
        with self._writing():
            engine.unmap_company(self.db, company_id)

    def ignore_company(self, company_id: str) -> None:
        with self._writing():
            engine.ignore_company(self.db, company_id)

    def accept_company(self, row: CompanyRow) -> None:
        """Accept the row's suggestion as it stands."""
        if row.status != "suggested" or row.client_id is None:
            raise MappingError(f"{row.company_name} has no suggestion to accept")
        self.map_company(
            row.company_id,
            row.client_id,
            source=_accepted_source(row.score),
            score=row.score,
            reason=row.reason,
        )

    def accept_company_suggestions(self) -> list[CompanyRow]:
        with self._writing():
            return engine.accept_company_suggestions(self.db, min_score=self.threshold)

    # --- products -> items -------------------------------------------------------------------

    def map_product(
        self,
        product_id: str,
        item_id: int,
        *,
        client_id: int | None = None,
        source: str = "manual",
        score: int | None = None,
        reason: str = "",
    ) -> None:
        with self._writing():
            engine.map_product(
                self.db,
                product_id,
                item_id,
                client_id=client_id,
                source=source,
                score=score,
                reason=reason,
            )

    def unmap_product(self, product_id: str, *, client_id: int | None = None) -> None:
        with self._writing():
            engine.unmap_product(self.db, product_id, client_id=client_id)

    def ignore_product(self, product_id: str) -> None:
        with self._writing():
            engine.ignore_product(self.db, product_id)

    def accept_product(self, row: ProductRow) -> None:
        if row.status != "suggested" or row.item_id is None:
            raise MappingError(f"{row.name} has no suggestion to accept")
        self.map_product(
            row.product_id,
            row.item_id,
            source=_accepted_source(row.score),
            score=row.score,
            reason=row.reason,
        )

    def accept_product_suggestions(self) -> list[ProductRow]:
        with self._writing():
            return engine.accept_product_suggestions(self.db, min_score=self.threshold)

    @property
    def can_create_items(self) -> bool:
        return self._halo is not None

    def item_draft(self, product_id: str, price: str | None = None) -> ItemDraft:
        """The Halo item `create_item` would create for the product, to confirm first; `price`
        (as typed) instead of the price the [defaults] bill."""
        return draft_item(self.db, product_id, price)

    async def create_item(self, product_id: str, price: str | None = None) -> CreatedItem:
        """Create the product's item in Halo (unless Halo has one with its SKU), store it and
        map the product to it; run again after any failure, it never creates a second."""
        from trueup.core.posting.halo_item import create_item

        if self._halo is None:
            raise SyncUnavailableError("there is no HaloPSA connection here to create items in")
        with self._writing():
            async with self._halo() as halo:
                return await create_item(self.db, halo, product_id, price)

    # --- both at once, undo, files -------------------------------------------------------------

    def accept_suggestions(self) -> tuple[list[CompanyRow], list[ProductRow]]:
        """Every suggestion at or above the threshold, companies first, as one undoable batch."""
        with self._writing():
            return engine.accept_suggestions(self.db, min_score=self.threshold)

    def undo_last(self) -> str | None:
        """Undo the latest mapping change; what was undone, in words, or None if nothing."""
        with self._writing():
            return engine.undo_last(self.db)

    def export_file(self, path: Path) -> int:
        """Write every mapping to `path` (TOML, or JSON for .json); how many were written."""
        return export_mappings(self.db, path)

    def export_text(self) -> str:
        """Every mapping as `export_file` writes a TOML file."""
        return mappings_text(self.db)[0]

    def import_file(self, path: Path) -> ImportResult:
        """Set the mappings the file holds, all or nothing (entries marked stale skipped)."""
        with self._writing():
            return import_mappings(self.db, path)


def _accepted_source(score: int | None) -> str:
    # As accepting them all does: only id links and SKUs score EXACT, a name never does.
    return "exact" if score == EXACT else "suggestion"
