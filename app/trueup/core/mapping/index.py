"""The mappings in force: which Halo client bills a Pax8 company, which item a product."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from trueup.core.store import tables as m


@dataclass(frozen=True)
class MappingIndex:
    companies: dict[str, int] = field(default_factory=dict)  # company -> client
    ignored_companies: frozenset[str] = frozenset()
    products: dict[str, int] = field(default_factory=dict)  # product -> item, every client
    overrides: dict[tuple[str, int], int] = field(default_factory=dict)  # (product, client)
    ignored_products: frozenset[str] = frozenset()

    def item_for(self, product_id: str, client_id: int) -> int | None:
        """The client's override first, else the product's mapping for every client."""
        return self.overrides.get((product_id, client_id), self.products.get(product_id))

    def products_of_item(self, item_id: int, client_id: int) -> set[str]:
        """The Pax8 products that one client's Halo item stands for."""
        found = {p for p, i in self.products.items() if i == item_id}
        for (product, client), item in self.overrides.items():
            if client == client_id:
                if item == item_id:
                    found.add(product)
                else:
                    found.discard(product)
        return found


def load_mapping_index(conn: Connection) -> MappingIndex:
    companies: dict[str, int] = {}
    ignored_companies: set[str] = set()
    for row in conn.execute(select(m.table_of(m.CompanyMapping))):
        if row.status == "mapped" and row.client_id is not None:
            companies[row.company_id] = row.client_id
        elif row.status == "ignored":
            ignored_companies.add(row.company_id)
    products: dict[str, int] = {}
    overrides: dict[tuple[str, int], int] = {}
    ignored_products: set[str] = set()
    for row in conn.execute(select(m.table_of(m.ProductMapping))):
        if row.status == "ignored":
            if row.client_id is None:
                ignored_products.add(row.product_id)
        elif row.item_id is not None:
            if row.client_id is None:
                products[row.product_id] = row.item_id
            else:
                overrides[(row.product_id, row.client_id)] = row.item_id
    return MappingIndex(
        companies, frozenset(ignored_companies), products, overrides, frozenset(ignored_products)
    )
