"""The local copy of QuickBooks' customers and items, which the qbo mappings choose from.

A refresh fetches both lists completely before it touches the store, then replaces both tables
in one transaction: a failed fetch leaves the last good copy as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert

from trueup.core.sources.http import Row
from trueup.core.sources.qbo import QboClient
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.json_text import dump_json
from trueup.core.values.parsing import to_bool, to_text


async def refresh_qbo_catalog(db: Database, client: QboClient) -> tuple[int, int]:
    """Replace the stored QuickBooks customers and items; return (customers, items)."""
    customers = _by_id(_customer_row(raw) for raw in await client.customers())
    items = _by_id(_item_row(raw) for raw in await client.items())
    with db.write() as conn:
        for model, rows in ((m.QboCustomer, customers), (m.QboItem, items)):
            table = m.table_of(model)
            conn.execute(delete(table))
            if rows:
                conn.execute(insert(table), rows)
    return len(customers), len(items)


def _customer_row(raw: Row) -> Row | None:
    return _with_id(
        raw,
        name=to_text(raw.get("DisplayName")),
        active=to_bool(raw.get("Active")),
        currency=to_text(_ref_value(raw.get("CurrencyRef"))),
    )


def _item_row(raw: Row) -> Row | None:
    return _with_id(
        raw,
        name=to_text(raw.get("Name")),
        sku=to_text(raw.get("Sku")),
        type=to_text(raw.get("Type")),
        active=to_bool(raw.get("Active")),
    )


def _with_id(raw: Row, **columns: Any) -> Row | None:
    identifier = to_text(raw.get("Id"))
    if not identifier:
        return None  # nothing could map to it
    return {"id": identifier, **columns, "raw": dump_json(raw)}


def _ref_value(ref: Any) -> Any:
    return ref.get("value") if isinstance(ref, dict) else None


def _by_id(rows: Iterable[Row | None]) -> list[Row]:
    """One row per id (a page boundary shifting under us may repeat one): the last wins."""
    return list({row["id"]: row for row in rows if row is not None}.values())
