"""Cleaning what a trueup older than the boundary's checks stored (issue 23): a number past the
bounds or not finite (10^30 seats, a price of 1E+309, NaN), and text with control characters.

Each table that holds records from outside (it keeps their `raw` JSON) is read once, when such a
store is opened. Text is written out as the sync now writes it (values.text.visible). A row with
a poisoned number cannot be mended from what is stored, so it is removed, with its parent record
where it has one (an invoice's item takes its invoice, a snapshot its subscription): the next
sync then fetches the record again as new and the boundary judges it. The log names each row.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, Connection, String, Table
from sqlmodel import SQLModel

from trueup.core.store.logbook import log_event
from trueup.core.store.tables import DecimalText
from trueup.core.values.bounds import MONEY_LIMIT, QUANTITY_LIMIT
from trueup.core.values.text import visible

LOGGED_IN_FULL = 20  # rows named one by one in a log entry; the rest are counted


def clean_poisoned_rows(conn: Connection) -> None:
    conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "trueup_visible", 1, _visible_or_none, deterministic=True
    )
    for table in SQLModel.metadata.sorted_tables:
        if "raw" in table.c and table.name != "staged_record":  # staging holds no records now
            # The columns this store's version has (a later version may add more).
            have = {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table.name})")}
            columns = [column for column in table.c if column.name in have]
            _write_out_text(conn, table, columns)
            _remove_poisoned(conn, table, columns)


def _visible_or_none(value: object) -> object:
    return visible(value) if isinstance(value, str) else value


def _write_out_text(conn: Connection, table: Table, columns: list[Column[Any]]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    mended = 0
    for column in columns:
        if column.name == "raw" or column.primary_key or not _is_text(column.type):
            continue
        name = quote(column.name)
        mended += conn.exec_driver_sql(
            f"UPDATE {quote(table.name)} SET {name} = trueup_visible({name}) "
            f"WHERE {name} IS NOT trueup_visible({name})"
        ).rowcount
    if mended:
        log_event(
            conn,
            "WARNING",
            f"{table.name}: control characters written out in {mended} stored values",
            reason="stored by a trueup that did not yet check text from outside",
        )


def _remove_poisoned(conn: Connection, table: Table, columns: list[Column[Any]]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    keys = [c.name for c in table.primary_key.columns]
    found: dict[tuple[object, ...], list[str]] = defaultdict(list)
    for column in columns:
        if not isinstance(column.type, DecimalText):
            continue
        limit = QUANTITY_LIMIT if column.name in ("quantity", "count") else MONEY_LIMIT
        name = quote(column.name)
        # Only text that can be past the bounds is read into Python: long, or not plain digits.
        candidates = conn.exec_driver_sql(
            f"SELECT {', '.join(map(quote, keys))}, {name} FROM {quote(table.name)} "
            f"WHERE {name} IS NOT NULL AND (length({name}) > 12 OR {name} GLOB '*[^0-9.-]*')"
        )
        for row in candidates:
            if not _within(row[-1], limit):
                found[tuple(row[:-1])].append(f"{column.name} {row[-1][:40]}")
    if not found:
        return
    parent = _parent(table)
    where = " AND ".join(f"{quote(k)} = ?" for k in keys)
    for row_key in found:
        if parent is not None:
            child, parent_table, parent_key = parent
            conn.exec_driver_sql(
                f"DELETE FROM {quote(parent_table)} WHERE {quote(parent_key)} IN "
                f"(SELECT {quote(child)} FROM {quote(table.name)} WHERE {where})",
                row_key,
            )
        conn.exec_driver_sql(f"DELETE FROM {quote(table.name)} WHERE {where}", row_key)
    named = [
        visible(f"{'/'.join(map(str, key))}: {', '.join(said)}") for key, said in found.items()
    ]
    log_event(
        conn,
        "WARNING",
        f"{table.name}: {len(found)} stored rows with impossible numbers removed",
        reason=(
            "stored by a trueup that did not yet check numbers from outside; the next sync "
            "fetches them again (or import the file again)"
        ),
        rows=named[:LOGGED_IN_FULL],
        more=max(0, len(named) - LOGGED_IN_FULL),
        parents_removed=parent[1] if parent else None,
    )


def _is_text(kind: object) -> bool:
    """A text column: a String, or a type stored as one (SQLModel's AutoString), not money."""
    if isinstance(kind, DecimalText):
        return False
    return isinstance(kind, String) or isinstance(getattr(kind, "impl", None), String)


def _within(value: str, limit: Decimal) -> bool:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return False
    return number.is_finite() and abs(number) <= limit


def _parent(table: Table) -> tuple[str, str, str] | None:
    """The column, table and key of the record this row belongs to, when it has one."""
    for column in table.c:
        for foreign in column.foreign_keys:
            return column.name, foreign.column.table.name, foreign.column.name
    return None
