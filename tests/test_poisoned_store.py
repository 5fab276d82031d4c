"""A store a trueup older than the boundary's checks wrote (issue 23: cleaning poisoned stores):
opened by this trueup, its impossible numbers are set to nothing (the row kept: a sync fetches
again only recent invoices and changed subscriptions) and its control characters written out,
ids and references left as sent; the month bills, flagging what lost its number, and the next
sync stores the sane values the sources send."""

import asyncio
import sqlite3
from datetime import date
from decimal import Decimal

from trueup.core.batch.build import build_batch
from trueup.core.diff.seats import seat_diff
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from unchecked_world import sync_unchecked
from world import SUB_ACME, world

TODAY = date(2026, 11, 21)
SUBSCRIPTION = "SELECT quantity FROM pax8_subscription WHERE id = ?"


def _synced(tmp_path):
    path = tmp_path / "trueup.sqlite"
    db = open_database(path)
    asyncio.run(sync_unchecked(db, world()))
    db.dispose()
    return path


def _as_schema_14(path, *statements: tuple[str, tuple]) -> None:
    """Rows as an old trueup wrote them, then the store marked as written by schema 14."""
    with sqlite3.connect(path) as conn:
        for sql, args in statements:
            conn.execute(sql, args)
        conn.execute("UPDATE schema_meta SET value = '14' WHERE key = 'schema_version'")


def _one(db, sql: str, *args):
    with db.read() as conn:
        return conn.exec_driver_sql(sql, args).scalar_one()


def _warnings(db) -> dict:
    return {e["event"]: e["details"] for e in read_log(db, limit=50)}


def test_an_old_poisoned_store_is_cleaned_when_opened_and_the_next_sync_mends_it(tmp_path):
    path = _synced(tmp_path)
    with sqlite3.connect(path) as conn:
        item, invoice = conn.execute("SELECT id, invoice_id FROM pax8_invoice_item").fetchone()
        line = conn.execute("SELECT id FROM halo_recurring_invoice_line").fetchone()[0]
        client = conn.execute("SELECT id FROM halo_client").fetchone()[0]
        good = conn.execute(SUBSCRIPTION, (SUB_ACME,)).fetchone()[0]
    _as_schema_14(
        path,
        ("UPDATE pax8_subscription SET quantity = '1E+30' WHERE id = ?", (SUB_ACME,)),
        ("UPDATE pax8_invoice_item SET price = 'Infinity' WHERE id = ?", (item,)),
        ("UPDATE halo_recurring_invoice_line SET quantity = 'NaN' WHERE id = ?", (line,)),
        ("UPDATE halo_client SET name = '\x1b[2J\x1b[Hcleared' WHERE id = ?", (client,)),
    )
    db = open_database(path)
    try:
        assert _one(db, SUBSCRIPTION, SUB_ACME) is None  # kept, its number forgotten
        assert _one(db, "SELECT price FROM pax8_invoice_item WHERE id = ?", item) is None
        assert _one(db, "SELECT count(*) FROM pax8_invoice WHERE id = ?", invoice) == 1
        line_quantity = "SELECT quantity FROM halo_recurring_invoice_line WHERE id = ?"
        assert _one(db, line_quantity, line) is None
        name = _one(db, "SELECT name FROM halo_client WHERE id = ?", client)
        assert name == "\\x1b[2J\\x1b[Hcleared"
        warnings = _warnings(db)
        forgotten = warnings["pax8_subscription: impossible numbers set to nothing in 1 stored row"]
        assert forgotten["rows"] == [f"{SUB_ACME}: quantity 1E+30"]
        assert "halo_client: control characters written out in 1 stored value" in warnings

        seat_diff(db, "2026-11", today=TODAY)  # no InvalidOperation, for any client
        invoices = build_batch(db, "2026-11", today=TODAY).body["invoices"]
        assert all(Decimal(i["total"]).is_finite() for i in invoices)
        asyncio.run(sync_unchecked(db, world()))
        assert _one(db, SUBSCRIPTION, SUB_ACME) == good
        assert _one(db, line_quantity, line) is not None
    finally:
        db.dispose()


def test_a_plain_number_past_the_bound_is_caught_and_ids_keep_their_characters(tmp_path):
    """500,000,000,000 seats is plain digits (past 10^9, inside money's 10^12); an invoice id with
    a control character names its items: both as sent, or the store would not open."""
    path = _synced(tmp_path)
    with sqlite3.connect(path) as conn:
        invoice = conn.execute("SELECT invoice_id FROM pax8_invoice_item").fetchone()[0]
    odd = "inv\x01"
    _as_schema_14(
        path,
        ("UPDATE pax8_subscription SET quantity = '500000000000' WHERE id = ?", (SUB_ACME,)),
        ("UPDATE pax8_invoice SET id = ? WHERE id = ?", (odd, invoice)),
        ("UPDATE pax8_invoice_item SET invoice_id = ? WHERE invoice_id = ?", (odd, invoice)),
        ("UPDATE halo_licence SET count = '200000000000'", ()),  # money's bound: kept
    )
    db = open_database(path)
    try:
        assert _one(db, SUBSCRIPTION, SUB_ACME) is None
        items = "SELECT count(*) FROM pax8_invoice_item WHERE invoice_id = ?"
        assert _one(db, items, odd) > 0
        assert _one(db, "SELECT count(*) FROM halo_licence WHERE count IS NULL") == 0
    finally:
        db.dispose()


def test_a_clean_store_is_left_as_it_was(tmp_path):
    path = _synced(tmp_path)
    tables = (
        "pax8_subscription",
        "pax8_invoice_item",
        "halo_client",
        "halo_recurring_invoice_line",
    )

    def dump(conn) -> dict:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}

    with sqlite3.connect(path) as conn:
        before = dump(conn)
    _as_schema_14(path)
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:
        assert dump(conn) == before
        logged = [r[0] for r in conn.execute("SELECT event FROM log_event")]
    assert not [e for e in logged if "stored" in e]
