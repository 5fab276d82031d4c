"""Issue 22 (words and numbers): a line counts in the unit its distributor sells in.

Pax8 writes each invoice item's `unitOfMeasure` (User, Seat, GB, Endpoint; the spec's example
items carry "User"); a line said "2000 seats × 0.09" for storage priced per GB.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.build import build_batch
from trueup.core.billing.lines import seats_text, unit_word
from trueup.core.store.database import open_database

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("unit", "quantity", "said"),
    [
        (None, "18", "18 seats"),
        ("User", "1", "1 seat"),
        ("Seat", "2.5", "2.5 seats"),
        ("Usage", "1", "1 seat"),
        ("GB", "2000", "2000 GB"),
        ("GB/Month", "12", "12 GB/Month"),
        ("Endpoint", "21", "21 endpoints"),
        ("Mailbox", "10", "10 mailboxes"),
        ("Server", "1", "1 server"),
        ("Licenses", "3", "3 seats"),
        ("Per User", "3", "3 seats"),
        ("Devices", "3", "3 devices"),
        ("Minutes", "1", "1 minute"),
        ("Property", "2", "2 properties"),
        ("Mailboxes", "2", "2 mailboxes"),
        ("User Month", "2", "2 User Month"),
        ("TB", "2", "2 TB"),
    ],
)
def test_a_quantity_is_said_in_its_unit(unit, quantity, said):
    assert seats_text(Decimal(quantity), unit_word(unit)) == said


def _line(body: dict, description: str) -> dict:
    return next(
        line
        for invoice in body["invoices"]
        for line in invoice["lines"]
        if line["description"] == description
    )


def test_the_demo_bills_storage_in_gb_and_protection_per_endpoint(db):
    with db.read() as conn:
        units = dict(
            conn.execute(
                text(
                    "SELECT DISTINCT p.name, i.unit FROM pax8_invoice_item i "
                    "JOIN pax8_product p ON p.id = i.product_id "
                    "WHERE p.name LIKE 'Acronis%Storage' "
                    "OR p.name LIKE 'Bitdefender%Business Security'"
                )
            ).all()
        )
    assert units == {
        "Acronis Cyber Protect Cloud - Hosted Storage": "GB",
        "Bitdefender GravityZone Business Security": "Endpoint",
    }
    body = build_batch(db, "2026-11", today=TODAY).body
    storage = _line(body, "Acronis Cyber Protect Cloud - Hosted Storage")["explanation"]
    assert " GB × 0.09 for 30 days" in storage and "seat" not in storage
    endpoints = _line(body, "Bitdefender GravityZone Business Security")["explanation"]
    assert " endpoints × 2.50" in endpoints
    m365 = _line(body, "Microsoft 365 Business Premium")["explanation"]
    assert " seats × " in m365  # Pax8's "User" stays seats


def test_a_version_13_store_reads_each_items_unit_from_its_raw_json(tmp_path):
    path = tmp_path / "v13.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # as schema 13 wrote it: no unit column
        conn.execute("DROP INDEX ix_pax8_invoice_item_unit")
        conn.execute("ALTER TABLE pax8_invoice_item DROP COLUMN unit")
        conn.execute("INSERT INTO pax8_invoice (id, raw) VALUES ('inv', '{}')")
        for item_id, unit in (("a", "GB"), ("b", "User\x1b[2J"), ("c", None)):
            raw = json.dumps({"unitOfMeasure": unit} if unit else {})
            conn.execute(
                "INSERT INTO pax8_invoice_item (id, invoice_id, product_id, raw) "
                "VALUES (?, 'inv', 'p', ?)",
                (item_id, raw),
            )
        conn.execute("UPDATE schema_meta SET value='13' WHERE key='schema_version'")
    database = open_database(path)
    with database.read() as conn:
        rows = conn.execute(text("SELECT id, unit FROM pax8_invoice_item ORDER BY id")).all()
        assert rows == [("a", "GB"), ("b", "User\\x1b[2J"), ("c", None)]
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT unit FROM pax8_invoice_item "
                "WHERE product_id = 'p' AND unit IS NOT NULL LIMIT 1"
            )
        ).all()
        assert "ix_pax8_invoice_item_unit" in str(plan)
    database.dispose()
