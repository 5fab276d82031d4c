"""The books trueup posts to (QuickBooks Online, Xero): their catalogue read into the store, and
the Halo clients and items mapped to their customers (contacts) and items (`trueup qbo|xero`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from trueup.core.mapping.books import engine, tax_code_file, tax_codes
from trueup.core.mapping.books.engine import QBO as QBO
from trueup.core.mapping.books.engine import XERO as XERO
from trueup.core.mapping.books.engine import BookCandidate as BookCandidate
from trueup.core.mapping.books.engine import BookGaps
from trueup.core.mapping.books.engine import BookRow as BookRow
from trueup.core.mapping.books.engine import Books as Books
from trueup.core.mapping.books.engine import Missing as Missing
from trueup.core.mapping.books.tax_codes import TaxCode as TaxCode
from trueup.core.mapping.books.tax_codes import TaxCodeRow as TaxCodeRow
from trueup.core.mapping.rows import MATCH_THRESHOLD
from trueup.core.settings.clients import (
    qbo_from_settings,
    sandbox_books_client,
    xero_from_settings,
)
from trueup.core.settings.config import Settings
from trueup.core.sources.http import ApiClient
from trueup.core.sources.qbo import QboClient
from trueup.core.sources.xero import XeroClient
from trueup.core.store.database import Database
from trueup.core.sync.books_catalog import refresh_qbo_catalog, refresh_xero_catalog

BOOKS = {books.name: books for books in (QBO, XERO)}


class Accounting:
    """One accounting system's side of one store; `threshold`: what a name match needs to be
    offered."""

    def __init__(self, db: Database, books: Books, *, threshold: int = MATCH_THRESHOLD) -> None:
        self.db = db
        self.books = books
        self.threshold = threshold

    async def refresh_catalog(
        self, settings: Settings, *, new_company: bool = False
    ) -> dict[str, int]:
        """Read the books' customers and items (and QuickBooks' company and tax codes, Xero's
        accounts and tax rates) on the configured connection; how many of each.
        `new_company`: QuickBooks' company changed for good (sync/books_catalog)."""
        client = xero_from_settings(settings) if self.books is XERO else qbo_from_settings(settings)
        return await self.refresh_with(client, new_company=new_company)

    async def refresh_from_sandbox(
        self, urls: Mapping[str, str], credentials: Mapping[str, Mapping[str, str]]
    ) -> dict[str, int]:
        """The same from the sandbox's simulators (`trueup demo`), never a configured service."""
        return await self.refresh_with(sandbox_books_client(self.books.name, urls, credentials))

    async def refresh_with(self, client: ApiClient, *, new_company: bool = False) -> dict[str, int]:
        """The same through `client`, a QuickBooks or Xero client (closed afterwards)."""
        async with client:
            if isinstance(client, XeroClient):
                return await refresh_xero_catalog(self.db, client)
            if not isinstance(client, QboClient):
                raise TypeError(f"not a client of the books: {client!r}")
            return await refresh_qbo_catalog(self.db, client, new_company=new_company)

    def choices(self, kind: str, query: str = "") -> list[BookCandidate]:
        """The usable customers (contacts) or items to pick from by hand, by name."""
        return engine.book_choices(self.db, self.books, kind, query)

    def accept(self, row: BookRow) -> str:
        """Map one row to its suggestion."""
        return engine.accept_book_suggestion(self.db, self.books, row)

    def rows(self) -> tuple[list[BookRow], list[BookRow]]:
        """Every billed Halo client and item with its twin in the books or best suggestion."""
        return engine.book_rows(self.db, self.books, threshold=self.threshold)

    def gaps(self) -> BookGaps:
        """The billed clients and items that cannot be posted to the books yet, and why."""
        return engine.missing_book_targets(self.db, self.books)

    def accept_suggestions(self) -> tuple[list[BookRow], list[BookRow]]:
        return engine.accept_book_suggestions(self.db, self.books, min_score=self.threshold)

    def map_customer(self, client_id: int, customer_id: str) -> str:
        return engine.map_customer(self.db, self.books, client_id, customer_id)

    def map_item(self, item_id: int, target_id: str) -> str:
        return engine.map_item(self.db, self.books, item_id, target_id)

    def unmap_customer(self, client_id: int) -> bool:
        return engine.unmap_customer(self.db, self.books, client_id)

    def unmap_item(self, item_id: int) -> bool:
        return engine.unmap_item(self.db, self.books, item_id)

    # -- QuickBooks tax codes (a company outside the US) -------------------------------------

    def tax_code_rows(self) -> list[TaxCodeRow]:
        """Each billed client's tax code or the offer; none for a US company."""
        return tax_codes.tax_code_rows(self.db)

    def tax_codes(self) -> list[TaxCode]:
        """The company's tax codes, as last refreshed, by name."""
        with self.db.read() as conn:
            listed = tax_codes.tax_codes(conn).values()
        return sorted(listed, key=lambda code: (code.name.casefold(), code.id))

    def accept_tax_codes(self) -> list[TaxCodeRow]:
        return tax_codes.accept_tax_codes(self.db)

    def set_tax_code(self, client_id: int, code_id: str) -> str:
        return tax_codes.set_tax_code(self.db, client_id, code_id)

    def unset_tax_code(self, client_id: int) -> bool:
        return tax_codes.unset_tax_code(self.db, client_id)

    def export_tax_codes(self, path: Path) -> int:
        return tax_code_file.export_tax_codes(self.db, path)

    def tax_codes_text(self) -> str:
        """Every client's tax code as `export_tax_codes` writes a TOML file."""
        return tax_code_file.tax_codes_text(self.db)[0]

    def import_tax_codes(self, path: Path) -> int:
        return tax_code_file.import_tax_codes(self.db, path)
