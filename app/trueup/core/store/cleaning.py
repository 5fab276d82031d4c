"""Cleaning what a trueup older than the boundary's checks stored (issue 23): a number past the
bounds or not finite (10^30 seats, a price of 1E+309, NaN), and text with control characters.

Each table that holds records from outside (it keeps their `raw` JSON) is read once, when such a
store is opened. Text is written out as the sync now writes it (values.text.visible), except ids
and references, which the sync keeps as sent. A poisoned number is set to nothing, never the row
removed: a sync fetches again only recent invoices and changed subscriptions, so a removed row
could be gone for good. The engine already bills a missing number as unknown (a quantity from
the subscription's history where it has one, else nothing, flagged), and the next sync that
brings a sane value stores it. The log names each row.

When visible() writes out more than it did (bcb6310: the characters that draw nothing, U+200B,
U+FEFF, U+00AD...), the text is written out again (write_out_invisible_text): the sync rewrites
clients and companies, but older invoices, their items and lines, and records no sync lists any
longer keep what the trueup before stored. The batches' texts and the posting journal are left
as they are: they are what was built, approved and sent, pinned by their sha256.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, Connection, String, Table
from sqlmodel import SQLModel

from trueup.core.store.logbook import log_event
from trueup.core.store.tables import DecimalText
from trueup.core.values.bounds import MONEY_LIMIT, QUANTITY_LIMIT
from trueup.core.values.text import visible

LOGGED_IN_FULL = 20  # rows named one by one in a log entry; the rest are counted


def register_visible(conn: Connection) -> None:
    """`trueup_visible(text)` in SQL, for this connection: values.text.visible."""
    conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "trueup_visible", 1, _visible_or_none, deterministic=True
    )


def clean_poisoned_rows(conn: Connection) -> None:
    register_visible(conn)
    for table, columns in _tables_of_records(conn):
        _write_out_text(conn, table, columns, _CONTROLS)
        _forget_poisoned_numbers(conn, table, columns)


def write_out_invisible_text(conn: Connection) -> None:
    """The text of every table of outside records written out again, as visible() now writes
    it (schema 17): ids, references and the raw JSON kept as sent, as clean_poisoned_rows."""
    register_visible(conn)
    for table, columns in _tables_of_records(conn):
        _write_out_text(conn, table, columns, _INVISIBLE)


def _tables_of_records(conn: Connection) -> Iterator[tuple[Table, list[Column[Any]]]]:
    """Each table that holds records from outside (it keeps their raw JSON), with the columns
    this store's version has (a later version may add more)."""
    for table in SQLModel.metadata.sorted_tables:
        if "raw" in table.c and table.name != "staged_record":  # staging holds no records now
            have = {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table.name})")}
            yield table, [column for column in table.c if column.name in have]


# What each cleaning of text says in the log: the characters written out, and why they were
# stored.
_CONTROLS = (
    "control characters",
    "stored by a trueup that did not yet check text from outside",
)
_INVISIBLE = (
    "invisible characters",
    "stored by a trueup that kept the characters that draw nothing (zero width space, word "
    "joiner, BOM, soft hyphen, a joiner joining nothing), so two names could read alike",
)


def _visible_or_none(value: object) -> object:
    return visible(value) if isinstance(value, str) else value


def _write_out_text(
    conn: Connection, table: Table, columns: list[Column[Any]], said: tuple[str, str]
) -> None:
    quote = conn.dialect.identifier_preparer.quote
    mended = 0
    for column in columns:
        if column.name == "raw" or not _is_text(column.type) or _is_reference(column):
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
            f"{table.name}: {said[0]} written out in {_count(mended, 'stored value')}",
            reason=said[1],
        )


def _forget_poisoned_numbers(conn: Connection, table: Table, columns: list[Column[Any]]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    keys = [c.name for c in table.primary_key.columns]
    where = " AND ".join(f"{quote(k)} = ?" for k in keys)
    found: dict[tuple[object, ...], list[str]] = defaultdict(list)
    for column in columns:
        if not isinstance(column.type, DecimalText):
            continue
        # The sync's own bounds (sync/records.py): quantities, else money.
        limit = QUANTITY_LIMIT if column.name == "quantity" else MONEY_LIMIT
        name = quote(column.name)
        # Only text that can be past the bound is read into Python: more digits than the
        # bound's, or anything but digits, a point and a sign (an exponent, NaN, Infinity).
        digits = len(str(int(limit)))
        candidates = conn.exec_driver_sql(
            f"SELECT {', '.join(map(quote, keys))}, {name} FROM {quote(table.name)} WHERE "
            f"{name} IS NOT NULL AND (length({name}) >= {digits} OR {name} GLOB '*[^0-9.-]*')"
        ).all()
        for *key, value in candidates:
            if not _within(value, limit):
                conn.exec_driver_sql(
                    f"UPDATE {quote(table.name)} SET {name} = NULL WHERE {where}", tuple(key)
                )
                found[tuple(key)].append(f"{column.name} {value[:40]}")
    if not found:
        return
    named = [
        visible(f"{'/'.join(map(str, key))}: {', '.join(said)}") for key, said in found.items()
    ]
    log_event(
        conn,
        "WARNING",
        f"{table.name}: impossible numbers set to nothing in {_count(len(found), 'stored row')}",
        reason=(
            "stored by a trueup that did not yet check numbers from outside; each bills "
            "nothing and is flagged until a sync brings a number trueup can bill"
        ),
        rows=named[:LOGGED_IN_FULL],
        more=max(0, len(named) - LOGGED_IN_FULL),
    )


def _within(value: str, limit: Decimal) -> bool:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return False
    return number.is_finite() and abs(number) <= limit


def _is_text(kind: object) -> bool:
    """A text column: a String, or a type stored as one (SQLModel's AutoString), not money."""
    if isinstance(kind, DecimalText):
        return False
    return isinstance(kind, String) or isinstance(getattr(kind, "impl", None), String)


def _is_reference(column: Column[Any]) -> bool:
    """An id or a reference to one: kept as sent, so that what names a row still finds it."""
    return (
        column.primary_key
        or bool(column.foreign_keys)
        or column.name == "id"
        or column.name.endswith("_id")
    )


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"
