"""What the QuickBooks mapping reads from the store: for clients or for items, the Halo side,
the QuickBooks side and the mappings between them, in one pass.

Billing decides which Halo rows need a QuickBooks twin: the clients a Pax8 company is mapped to
and the items a Pax8 product is mapped to (for every client or as an override).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select
from sqlmodel import SQLModel

from trueup.core.mapping.qbo.match import (
    CUSTOMER_NAMES,
    ITEM_NAMES,
    HaloSource,
    NameRules,
    QboTarget,
)
from trueup.core.settings.operator import current_user
from trueup.core.store import tables as m
from trueup.core.store.json_text import load_json


@dataclass(frozen=True)
class QboMapping:
    target: str  # the QuickBooks customer or item id
    source: str  # exact | suggestion | manual
    score: int | None
    reason: str


@dataclass(frozen=True)
class Side:
    """Clients and customers, or items and items: what rows, suggestions and checks need."""

    kind: Kind
    sources: dict[int, HaloSource]  # every Halo client (item) the store holds
    billed: frozenset[int]  # those billing uses
    targets: dict[str, QboTarget]
    mappings: dict[int, QboMapping]  # Halo id -> its QuickBooks row

    def halo_name(self, halo_id: int) -> str:
        source = self.sources.get(halo_id)
        return source.name if source else f"{self.kind.name} {halo_id}"

    def problem(self, halo_id: int) -> str:
        """Why the Halo row cannot be posted to QuickBooks, "" when it can."""
        mapping = self.mappings.get(halo_id)
        if mapping is None:
            return "not mapped"
        target = self.targets.get(mapping.target)
        state = "no longer exists" if target is None else target.unusable
        return f"{self.kind.qbo} {mapping.target} {state}" if state else ""


@dataclass(frozen=True)
class Kind:
    name: str  # client | item
    halo: str  # how the Halo side is named in messages
    qbo: str  # how the QuickBooks side is named in messages
    table: type[SQLModel]  # the mapping table
    halo_column: str
    qbo_column: str
    rules: NameRules
    load: Callable[[Connection], tuple[dict[int, HaloSource], frozenset[int], dict[str, QboTarget]]]

    def side(self, conn: Connection) -> Side:
        sources, billed, targets = self.load(conn)
        return Side(self, sources, billed, targets, self.mappings(conn))

    def mappings(self, conn: Connection) -> dict[int, QboMapping]:
        table = self._table().c
        query = select(
            table[self.halo_column], table[self.qbo_column], table.source, table.score, table.reason
        )
        return {r[0]: QboMapping(r[1], r.source, r.score, r.reason) for r in conn.execute(query)}

    def write(
        self,
        conn: Connection,
        halo_id: int,
        qbo_id: str,
        source: str,
        score: int | None,
        reason: str,
    ) -> None:
        """Set the Halo row's QuickBooks twin, saying how it was chosen, by whom and when."""
        self.remove(conn, halo_id)
        values = {self.halo_column: halo_id, self.qbo_column: qbo_id}
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


def _client_side(
    conn: Connection,
) -> tuple[dict[int, HaloSource], frozenset[int], dict[str, QboTarget]]:
    halo = m.table_of(m.HaloClient).c
    sources = {
        r.id: HaloSource(
            r.id,
            r.name or f"client {r.id}",
            (("Id", r.accounts_id, f"Halo accounts id {r.accounts_id}"),) if r.accounts_id else (),
        )
        for r in conn.execute(select(halo.id, halo.name, halo.accounts_id))
    }
    mapped = m.table_of(m.CompanyMapping).c
    billed = conn.execute(
        select(mapped.client_id).where(mapped.status == "mapped", mapped.client_id.is_not(None))
    ).scalars()
    targets = {}
    for r in conn.execute(select(m.table_of(m.QboCustomer))):
        raw = _raw(r.raw)
        names = [("DisplayName", r.name or f"customer {r.id}")]
        names += [(f, raw[f]) for f in ("CompanyName", "FullyQualifiedName") if _text(raw.get(f))]
        unusable = "is inactive" if r.active is False else ""
        targets[r.id] = QboTarget(r.id, tuple(names), (("Id", r.id),), unusable)
    return sources, frozenset(billed), targets


# Where a Halo item may name its QuickBooks twin: Halo's own QuickBooks fields, then its codes.
_ITEM_LINKS = (
    ("accountsid", "Id", "Halo accounts id {}"),
    ("qbosku", "Sku", "Sku match (Halo qbosku)"),
    ("supplier_part_code", "Sku", "Sku match (supplier part code)"),
    ("internal_reference", "Sku", "Sku match (internal reference)"),
)


def _item_side(
    conn: Connection,
) -> tuple[dict[int, HaloSource], frozenset[int], dict[str, QboTarget]]:
    sources = {}
    for r in conn.execute(select(m.table_of(m.HaloItem))):
        values = {**_raw(r.raw), **r._asdict()}  # columns first, then what only the raw holds
        links = tuple(
            (field, str(values[key]), reason.format(values[key]))
            for key, field, reason in _ITEM_LINKS
            if _text(values.get(key))
        )
        sources[r.id] = HaloSource(r.id, r.name or f"item {r.id}", links)
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
    targets = {}
    for r in conn.execute(select(m.table_of(m.QboItem))):
        unusable = (
            "is inactive" if r.active is False else "is a category" if r.type == "Category" else ""
        )
        named_by = (("Id", r.id), ("Sku", r.sku)) if r.sku else (("Id", r.id),)
        targets[r.id] = QboTarget(r.id, (("Name", r.name or f"item {r.id}"),), named_by, unusable)
    return sources, frozenset(billed), targets


def _raw(text: str) -> dict[str, Any]:
    value = load_json(text) if text else {}
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> bool:
    return isinstance(value, str | int) and str(value).strip() != ""


CLIENTS = Kind(
    "client",
    "Halo client",
    "QuickBooks customer",
    m.QboCustomerMapping,
    "client_id",
    "customer_id",
    CUSTOMER_NAMES,
    _client_side,
)
ITEMS = Kind(
    "item",
    "Halo item",
    "QuickBooks item",
    m.QboItemMapping,
    "item_id",
    "qbo_item_id",
    ITEM_NAMES,
    _item_side,
)
