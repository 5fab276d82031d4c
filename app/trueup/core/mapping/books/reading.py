"""What a books mapping (QuickBooks or Xero) reads from the store: for clients or for items, the
Halo side, the accounting system's side and the mappings between them, in one pass.

Billing decides which Halo rows need a twin in the books: the clients a Pax8 company is mapped
to and the items a Pax8 product is mapped to (for every client or as an override), and the items
of recurring-invoice lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select
from sqlmodel import SQLModel

from trueup.core.mapping.books.match import (
    CUSTOMER_NAMES,
    ITEM_NAMES,
    BookTarget,
    HaloSource,
    NameRules,
)
from trueup.core.settings.operator import current_user
from trueup.core.store import tables as m
from trueup.core.store.json_text import load_json
from trueup.core.values.parsing import to_name


@dataclass(frozen=True)
class BookMapping:
    target: str  # the QuickBooks customer or item id, the Xero contact or item id
    source: str  # exact | suggestion | manual
    score: int | None
    reason: str


@dataclass(frozen=True)
class Side:
    """Clients and customers, or items and items: what rows, suggestions and checks need."""

    kind: Kind
    sources: dict[int, HaloSource]  # every Halo client (item) the store holds
    billed: frozenset[int]  # those billing uses
    targets: dict[str, BookTarget]
    mappings: dict[int, BookMapping]  # Halo id -> its row in the books

    def halo_name(self, halo_id: int) -> str:
        source = self.sources.get(halo_id)
        return source.name if source else f"{self.kind.name} {halo_id}"

    def problem(self, halo_id: int) -> str:
        """Why the Halo row cannot be posted to the books, "" when it can."""
        mapping = self.mappings.get(halo_id)
        if mapping is None:
            return "not mapped"
        target = self.targets.get(mapping.target)
        state = "no longer exists" if target is None else target.unusable
        return f"{self.kind.target} {mapping.target} {state}" if state else ""


@dataclass(frozen=True)
class Kind:
    name: str  # client | item
    halo: str  # how the Halo side is named in messages
    target: str  # how the books' side is named in messages ("QuickBooks customer")
    table: type[SQLModel]  # the mapping table
    halo_column: str
    target_column: str
    rules: NameRules
    load: Load

    def side(self, conn: Connection) -> Side:
        sources, billed, targets = self.load(conn)
        return Side(self, sources, billed, targets, self.mappings(conn))

    def mappings(self, conn: Connection) -> dict[int, BookMapping]:
        table = self._table().c
        query = select(
            table[self.halo_column],
            table[self.target_column],
            table.source,
            table.score,
            table.reason,
        )
        return {r[0]: BookMapping(r[1], r.source, r.score, r.reason) for r in conn.execute(query)}

    def write(
        self,
        conn: Connection,
        halo_id: int,
        target_id: str,
        source: str,
        score: int | None,
        reason: str,
    ) -> None:
        """Set the Halo row's twin in the books, saying how it was chosen, by whom and when."""
        self.remove(conn, halo_id)
        values = {self.halo_column: halo_id, self.target_column: target_id}
        conn.execute(
            insert(self._table()).values(
                **values,
                source=source,
                score=score,
                reason=reason,
                created_at=datetime.now(UTC),
                created_by=current_user(),
            )
        )

    def remove(self, conn: Connection, halo_id: int) -> bool:
        table = self._table()
        return bool(
            conn.execute(delete(table).where(table.c[self.halo_column] == halo_id)).rowcount
        )

    def _table(self) -> Table:
        return m.table_of(self.table)


Load = Callable[[Connection], tuple[dict[int, HaloSource], frozenset[int], dict[str, BookTarget]]]
Links = tuple[tuple[str, str, str], ...]  # (Halo field, target field, reason) pairs


def _clients_against(
    targets: Callable[[Connection], dict[str, BookTarget]], link_field: str
) -> Load:
    """The billed Halo clients against the books' customers; Halo's `accounts_id` (the id of
    its twin in the accounting system) links exactly by `link_field`."""

    def load(
        conn: Connection,
    ) -> tuple[dict[int, HaloSource], frozenset[int], dict[str, BookTarget]]:
        halo = m.table_of(m.HaloClient).c
        sources = {
            r.id: HaloSource(
                r.id,
                r.name or f"client {r.id}",
                ((link_field, r.accounts_id, f"Halo accounts id {r.accounts_id}"),)
                if r.accounts_id
                else (),
            )
            for r in conn.execute(select(halo.id, halo.name, halo.accounts_id))
        }
        mapped = m.table_of(m.CompanyMapping).c
        billed = conn.execute(
            select(mapped.client_id).where(mapped.status == "mapped", mapped.client_id.is_not(None))
        ).scalars()
        return sources, frozenset(billed), targets(conn)

    return load


def _items_against(targets: Callable[[Connection], dict[str, BookTarget]], links: Links) -> Load:
    """The billed Halo items against the books' items; Halo's own fields link exactly."""

    def load(
        conn: Connection,
    ) -> tuple[dict[int, HaloSource], frozenset[int], dict[str, BookTarget]]:
        sources = {}
        for r in conn.execute(select(m.table_of(m.HaloItem))):
            values = {**_raw(r.raw), **r._asdict()}  # columns first, then what only raw holds
            found = tuple(
                (field, str(values[key]), reason.format(values[key]))
                for key, field, reason in links
                if _text(values.get(key))
            )
            sources[r.id] = HaloSource(r.id, r.name or f"item {r.id}", found)
        return sources, _billed_items(conn), targets(conn)

    return load


def _billed_items(conn: Connection) -> frozenset[int]:
    mapped = m.table_of(m.ProductMapping).c
    billed = set(
        conn.execute(
            select(mapped.item_id).where(mapped.status == "mapped", mapped.item_id.is_not(None))
        ).scalars()
    )
    # The items of recurring-invoice lines bill too (labour, managed services): a batch passes
    # them through as manual lines.
    lines, headers = m.table_of(m.HaloRecurringInvoiceLine).c, m.table_of(m.HaloRecurringInvoice).c
    billed |= set(
        conn.execute(
            select(lines.item_id)
            .join(m.table_of(m.HaloRecurringInvoice), headers.id == lines.invoice_id)
            .where(lines.item_id.is_not(None))
            .distinct()
        ).scalars()
    )
    return frozenset(billed)


def _qbo_customers(conn: Connection) -> dict[str, BookTarget]:
    targets = {}
    for r in conn.execute(select(m.table_of(m.QboCustomer))):
        raw = _raw(r.raw)
        shown = r.name or f"customer {r.id}"
        names = [("DisplayName", shown)]
        company, qualified = (to_name(raw.get(f)) for f in ("CompanyName", "FullyQualifiedName"))
        if qualified and qualified != shown:
            # A sub-customer (job) is shown under its parents ("Acme Holdings:Bear Creek"): one
            # billed with its parent bills the parent, whatever its own name says.
            names.insert(0, ("QuickBooks FullyQualifiedName", qualified))
        if company:
            names.append(("QuickBooks CompanyName", company))
        unusable = "is inactive" if r.active is False else ""
        targets[r.id] = BookTarget(r.id, tuple(names), (("Id", r.id),), unusable)
    return targets


def _qbo_items(conn: Connection) -> dict[str, BookTarget]:
    targets = {}
    for r in conn.execute(select(m.table_of(m.QboItem))):
        unusable = (
            "is inactive" if r.active is False else "is a category" if r.type == "Category" else ""
        )
        named_by = (("Id", r.id), ("Sku", r.sku)) if r.sku else (("Id", r.id),)
        targets[r.id] = BookTarget(r.id, (("Name", r.name or f"item {r.id}"),), named_by, unusable)
    return targets


def _xero_contacts(conn: Connection) -> dict[str, BookTarget]:
    targets = {}
    for r in conn.execute(select(m.table_of(m.XeroContact))):
        unusable = "is archived" if r.status not in (None, "ACTIVE") else ""
        named_by: tuple[tuple[str, str], ...] = (("ContactID", r.id),)
        if r.account_number:
            named_by += (("AccountNumber", r.account_number),)
        targets[r.id] = BookTarget(
            r.id, (("Name", r.name or f"contact {r.id}"),), named_by, unusable
        )
    return targets


def _xero_items(conn: Connection) -> dict[str, BookTarget]:
    targets = {}
    for r in conn.execute(select(m.table_of(m.XeroItem))):
        unusable = "is not sold" if r.sold is False else ""
        names = (("Name", r.name or r.code), ("Xero item code", r.code))
        targets[r.id] = BookTarget(r.id, names, (("ItemID", r.id), ("Code", r.code)), unusable)
    return targets


def _raw(text: str) -> dict[str, Any]:
    value = load_json(text) if text else {}
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> bool:
    return isinstance(value, str | int) and str(value).strip() != ""


# Where a Halo item may name its twin in the books: Halo's own fields, then its codes.
_QBO_ITEM_LINKS: Links = (
    ("accountsid", "Id", "Halo accounts id {}"),
    ("qbosku", "Sku", "Sku match (Halo qbosku)"),
    ("supplier_part_code", "Sku", "Sku match (supplier part code)"),
    ("internal_reference", "Sku", "Sku match (internal reference)"),
)
_XERO_ITEM_LINKS: Links = (
    ("xeroid", "ItemID", "Halo xero id {}"),
    ("supplier_part_code", "Code", "item code match (supplier part code)"),
    ("internal_reference", "Code", "item code match (internal reference)"),
)


@dataclass(frozen=True)
class Books:
    """An accounting system trueup posts to, as its mappings see it."""

    name: str  # the destination and the CLI group: qbo | xero
    label: str  # QuickBooks | Xero
    clients: Kind
    items: Kind


QBO = Books(
    "qbo",
    "QuickBooks",
    Kind(
        "client",
        "Halo client",
        "QuickBooks customer",
        m.QboCustomerMapping,
        "client_id",
        "customer_id",
        CUSTOMER_NAMES,
        _clients_against(_qbo_customers, "Id"),
    ),
    Kind(
        "item",
        "Halo item",
        "QuickBooks item",
        m.QboItemMapping,
        "item_id",
        "qbo_item_id",
        ITEM_NAMES,
        _items_against(_qbo_items, _QBO_ITEM_LINKS),
    ),
)
XERO = Books(
    "xero",
    "Xero",
    Kind(
        "client",
        "Halo client",
        "Xero contact",
        m.XeroContactMapping,
        "client_id",
        "contact_id",
        CUSTOMER_NAMES,
        _clients_against(_xero_contacts, "AccountNumber"),
    ),
    Kind(
        "item",
        "Halo item",
        "Xero item",
        m.XeroItemMapping,
        "item_id",
        "xero_item_id",
        ITEM_NAMES,
        _items_against(_xero_items, _XERO_ITEM_LINKS),
    ),
)
