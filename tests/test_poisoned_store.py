"""A store a trueup older than the boundary's checks wrote (issue 23: cleaning poisoned stores):
opened by this trueup, its impossible numbers and control characters are gone before anything
reads them, the month bills, and the next sync brings the removed records back as they are now.
"""

import asyncio
import sqlite3
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from trueup.core.batch.build import build_batch
from trueup.core.diff.seats import seat_diff
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from unchecked_world import sync_unchecked
from world import SUB_ACME, world

TODAY = date(2026, 11, 21)


def _poison(path) -> dict:
    """What the store held before the checks, written as an old trueup wrote it (schema 14)."""
    with sqlite3.connect(path) as conn:
        item, invoice = conn.execute("SELECT id, invoice_id FROM pax8_invoice_item").fetchone()
        line, recurring = conn.execute(
            "SELECT id, invoice_id FROM halo_recurring_invoice_line LIMIT 1"
        ).fetchone()
        client = conn.execute("SELECT id FROM halo_client LIMIT 1").fetchone()[0]
        conn.execute("UPDATE pax8_subscription SET quantity = '1E+30' WHERE id = ?", (SUB_ACME,))
        conn.execute("UPDATE pax8_invoice_item SET price = 'Infinity' WHERE id = ?", (item,))
        conn.execute(
            "UPDATE halo_recurring_invoice_line SET quantity = 'NaN' WHERE id = ?", (line,)
        )
        conn.execute("UPDATE halo_client SET name = '\x1b[2J\x1b[Hcleared' WHERE id = ?", (client,))
        conn.execute("UPDATE schema_meta SET value = '14' WHERE key = 'schema_version'")
    return {
        "item": item,
        "invoice": invoice,
        "line": line,
        "recurring": recurring,
        "client": client,
    }


def _count(db, sql: str, *args) -> int:
    with db.read() as conn:
        return conn.exec_driver_sql(sql, args).scalar_one()


def test_an_old_poisoned_store_is_cleaned_when_opened_and_the_next_sync_mends_it(tmp_path):
    path = tmp_path / "trueup.sqlite"
    db = open_database(path)
    asyncio.run(sync_unchecked(db, world()))
    good = {
        "subscription": _count(db, "SELECT quantity FROM pax8_subscription WHERE id = ?", SUB_ACME),
        "snapshots": _count(
            db,
            "SELECT count(*) FROM pax8_subscription_snapshot WHERE subscription_id = ?",
            SUB_ACME,
        ),
    }
    db.dispose()
    poisoned = _poison(path)

    db = open_database(path)
    try:
        gone = {
            "subscription": "SELECT count(*) FROM pax8_subscription WHERE id = ?",
            "snapshots": (
                "SELECT count(*) FROM pax8_subscription_snapshot WHERE subscription_id = ?"
            ),
        }
        assert [_count(db, sql, SUB_ACME) for sql in gone.values()] == [0, 0]
        # An item takes its invoice (the next sync reads a new invoice's items), a line its
        # recurring invoice: nothing half of a record stays.
        assert (
            _count(db, "SELECT count(*) FROM pax8_invoice WHERE id = ?", poisoned["invoice"]) == 0
        )
        recurring = "SELECT count(*) FROM halo_recurring_invoice WHERE id = ?"
        assert _count(db, recurring, poisoned["recurring"]) == 0
        with db.read() as conn:
            name = conn.execute(
                text("SELECT name FROM halo_client WHERE id = :id"), {"id": poisoned["client"]}
            ).scalar_one()
        assert name == "\\x1b[2J\\x1b[Hcleared"
        warnings = {e["event"]: e["details"] for e in read_log(db, limit=50)}
        removed = warnings["pax8_subscription: 1 stored rows with impossible numbers removed"]
        assert removed["rows"] == [f"{SUB_ACME}: quantity 1E+30"]
        assert "pax8_invoice_item: 1 stored rows with impossible numbers removed" in warnings
        assert "halo_client: control characters written out in 1 stored values" in warnings

        seat_diff(db, "2026-11", today=TODAY)  # no InvalidOperation, for any client
        invoices = build_batch(db, "2026-11", today=TODAY).body["invoices"]
        assert all(Decimal(i["total"]).is_finite() for i in invoices)

        asyncio.run(sync_unchecked(db, world()))
        assert (
            _count(db, "SELECT quantity FROM pax8_subscription WHERE id = ?", SUB_ACME)
            == good["subscription"]
        )
        assert _count(db, gone["snapshots"], SUB_ACME) == good["snapshots"]
        assert _count(db, "SELECT count(*) FROM pax8_invoice_item WHERE id = ?", poisoned["item"])
        assert _count(
            db, "SELECT count(*) FROM halo_recurring_invoice_line WHERE id = ?", poisoned["line"]
        )
    finally:
        db.dispose()


def test_a_clean_store_is_left_as_it_was(tmp_path):
    path = tmp_path / "trueup.sqlite"
    db = open_database(path)
    asyncio.run(sync_unchecked(db, world()))
    db.dispose()
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT count(*) FROM pax8_invoice_item").fetchone()
        conn.execute("UPDATE schema_meta SET value = '14' WHERE key = 'schema_version'")
    db = open_database(path)
    try:
        assert not [e for e in read_log(db, limit=50) if "stored" in e["event"]]
        assert _count(db, "SELECT count(*) FROM pax8_invoice_item") == before[0]
    finally:
        db.dispose()
