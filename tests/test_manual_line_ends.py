"""Issue 17 item 11c: a manual Halo line that ended before the month is not billed.

Halo writes a recurring line's last day in `enddate` ("1899-12-30T00:00:00" when it has none).
A line that ended before the month's first day is one Halo no longer bills; one ending inside
the month is passed through whole, as Halo shows it (docs/billing-decisions.md, End dates).
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import text

from test_billing_store_cases import batch, client_invoice
from test_dropped_revenue import JUNE, TODAY, contoso, sync
from trueup.core.store.database import open_database

UNSET = "1899-12-30T00:00:00"


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def labour(line_id: int, ends: str) -> dict:
    return {
        "id": line_id,
        "ihid": -90,
        "_itemid": None,
        "qty_order": 1.0,
        "unit_price": 150.00,
        "item_shortdescription": f"Managed service, line {line_id}",
        "isinactive": False,
        "enddate": ends,
    }


async def test_a_manual_line_ended_before_the_month_is_not_billed(store):
    data = contoso()
    data["halo"]["recurring_invoices"][0]["lines"] += [
        labour(31001, "2025-05-31T00:00:00"),  # ended the day before June
        labour(31002, "2025-06-15T00:00:00"),  # ends inside June: billed as Halo shows it
        labour(31003, UNSET),  # Halo's "no date": no end
    ]
    await sync(store, data)
    invoice = client_invoice(batch(store, JUNE, TODAY))
    manual = {li["description"]: li["amount"] for li in invoice["lines"] if li["kind"] == "manual"}
    assert manual == {
        "Managed service, line 31002": "150.00",
        "Managed service, line 31003": "150.00",
    }
    with store.read() as conn:
        ends = dict(conn.execute(text("SELECT id, ends FROM halo_recurring_invoice_line")).all())
    assert (ends[31001], ends[31002], ends[31003]) == ("2025-05-31", "2025-06-15", None)


def test_a_version_10_store_reads_each_lines_end_date_from_its_raw_json(tmp_path):
    path = tmp_path / "v10.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # as schema 10 wrote it: no end date column
        conn.execute("ALTER TABLE halo_recurring_invoice_line DROP COLUMN ends")
        conn.execute("INSERT INTO halo_recurring_invoice (id, raw) VALUES (-1, '{}')")
        for line_id, ends in ((1, "2026-10-31T00:00:00"), (2, UNSET), (3, None)):
            raw = json.dumps({"enddate": ends} if ends else {})
            conn.execute(
                "INSERT INTO halo_recurring_invoice_line (id, invoice_id, raw) VALUES (?, -1, ?)",
                (line_id, raw),
            )
        conn.execute("UPDATE schema_meta SET value='10' WHERE key='schema_version'")
    database = open_database(path)
    with database.read() as conn:
        rows = conn.execute(text("SELECT id, ends FROM halo_recurring_invoice_line ORDER BY id"))
        assert rows.all() == [(1, "2026-10-31"), (2, None), (3, None)]
    database.dispose()
