"""Bringing a store written by an older trueup up to this schema: one step per version.

A new store is created at the latest version directly (database.py); these steps run on stores
written before, each in the transaction that opens the store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import orjson
from sqlalchemy import Connection, text
from sqlmodel import SQLModel

from trueup.core.store import tables as models
from trueup.core.store.cleaning import (
    clean_poisoned_rows,
    register_visible,
    write_out_invisible_text,
)
from trueup.core.values.parsing import commitment_end, parse_day

SCHEMA_VERSION = 17


def _add_tables(*names: str) -> Callable[[Connection], None]:
    def add(conn: Connection) -> None:
        SQLModel.metadata.create_all(conn, tables=[SQLModel.metadata.tables[n] for n in names])

    return add


def _commitment_end_and_period_index(conn: Connection) -> None:
    """The commitment's end day as a column (reading it out of the raw JSON of every
    subscription cost the batch ~0.2 s) and the invoice items by period."""
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(pax8_subscription)")}
    if "commitment_end" not in columns:
        conn.exec_driver_sql("ALTER TABLE pax8_subscription ADD COLUMN commitment_end DATE")
    # The sync's own reading of the raw JSON, so migrated and synced stores agree.
    ends = []
    for sub_id, raw in conn.exec_driver_sql("SELECT id, raw FROM pax8_subscription"):
        end = commitment_end(json.loads(raw))
        ends.append({"id": sub_id, "end": end.isoformat() if end else None})
    if ends:
        update = "UPDATE pax8_subscription SET commitment_end = :end WHERE id = :id"
        conn.execute(text(update), ends)
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_pax8_invoice_item_period "
        "ON pax8_invoice_item (start_period, end_period)"
    )


def _covering_indexes(conn: Connection) -> None:
    """The batch's reads of subscriptions and invoice items from indexes alone (tables.py)."""
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_pax8_subscription_company_id")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_pax8_invoice_item_period")
    for model in (models.Pax8Subscription, models.Pax8InvoiceItem):
        for index in models.table_of(model).indexes:
            index.create(conn, checkfirst=True)


def _line_digest(conn: Connection) -> None:
    """Batches keep a digest of their lines; those stored before have none (their body is read).
    A store older than schema 3 already has it: step 3 makes the table as it is now."""
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(invoice_batch)")}
    if "line_digest" not in columns:
        conn.exec_driver_sql("ALTER TABLE invoice_batch ADD COLUMN line_digest TEXT")


def _distributor_column(conn: Connection) -> None:
    """Every distributor's records in the Pax8 tables (tables.distributor_field): the rows
    stored so far came from Pax8, which the column's default says."""
    for model in models.DISTRIBUTOR_TABLES:
        table = models.table_of(model).name
        columns = {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")}
        if "distributor" not in columns:
            conn.exec_driver_sql(
                f"ALTER TABLE {table} ADD COLUMN distributor VARCHAR NOT NULL DEFAULT 'pax8'"
            )


def _invoice_rows(conn: Connection) -> None:
    """A batch's invoices become rows, each text stored once (tables.BatchInvoiceText), and its
    body keeps the rest. Each text is its invoice re-encoded as every batch body is (keys
    sorted, compact: batch/body.py), which gives back the bytes it had inside the body; the
    digest the batch code reads of it is made from the text when first read."""
    _add_tables("batch_invoice_text", "batch_invoice")(conn)
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(invoice_batch)")}
    if "inputs" not in columns:
        conn.exec_driver_sql("ALTER TABLE invoice_batch ADD COLUMN inputs TEXT")
    for (batch_id,) in conn.exec_driver_sql("SELECT id FROM invoice_batch").all():
        body = orjson.loads(
            conn.exec_driver_sql(
                "SELECT body FROM invoice_batch WHERE id = ?", (batch_id,)
            ).scalar_one()
        )
        rows = []
        for invoice in body.pop("invoices", []):
            text = orjson.dumps(invoice, option=orjson.OPT_SORT_KEYS)
            rows.append((int(invoice["client_id"]), hashlib.sha256(text).hexdigest(), text))
        if rows:  # an empty list would be bound as no parameters at all
            conn.exec_driver_sql(
                "INSERT OR IGNORE INTO batch_invoice_text (sha256, text) VALUES (?, ?)",
                [(sha, text.decode()) for _, sha, text in rows],
            )
            conn.exec_driver_sql(
                "INSERT INTO batch_invoice (batch_id, position, client_id, sha256) "
                "VALUES (?, ?, ?, ?)",
                [(batch_id, n, client, sha) for n, (client, sha, _) in enumerate(rows)],
            )
        conn.exec_driver_sql(
            "UPDATE invoice_batch SET body = ? WHERE id = ?",
            (orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode(), batch_id),
        )


def _line_ends(conn: Connection) -> None:
    """A Halo recurring line's end day as a column, read from its raw JSON by the sync's own
    parser: a manual line that ended before the month is not billed (billing-rules.md §6)."""
    table = models.table_of(models.HaloRecurringInvoiceLine).name
    columns = {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")}
    if "ends" not in columns:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN ends DATE")
    ends = []
    for line_id, raw in conn.exec_driver_sql(f"SELECT id, raw FROM {table}"):
        day = parse_day(orjson.loads(raw).get("enddate"))
        if day is not None:
            ends.append({"id": line_id, "ends": day.isoformat()})
    if ends:
        conn.execute(text(f"UPDATE {table} SET ends = :ends WHERE id = :id"), ends)


def _qbo_tax(conn: Connection) -> None:
    """QuickBooks' company, tax codes and each client's tax code; a customer's own default tax
    code as a column, read from its raw JSON."""
    _add_tables("qbo_company", "qbo_tax_code", "qbo_tax_code_mapping")(conn)
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(qbo_customer)")}
    if "tax_code" not in columns:
        conn.exec_driver_sql("ALTER TABLE qbo_customer ADD COLUMN tax_code VARCHAR")
    conn.exec_driver_sql(
        "UPDATE qbo_customer SET tax_code = json_extract(raw, '$.DefaultTaxCodeRef.value') "
        "WHERE json_valid(raw)"
    )


def _staged_rows(conn: Connection) -> None:
    """Staged records are parsed as they are fetched (sync/staging.py). Any left in the table
    belong to a run a stopped process left, which the next sync marks interrupted and whose
    staging it drops: the table is made anew."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS staged_record")
    _add_tables("staged_record")(conn)


def _item_units(conn: Connection) -> None:
    """An invoice item's unit of measure as a column (a line says `2000 GB`, not `2000 seats`),
    read from its raw JSON in one pass and made visible as the sync's parser does; indexed by
    product."""
    table = models.table_of(models.Pax8InvoiceItem).name
    columns = {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")}
    if "unit" not in columns:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN unit VARCHAR")
    register_visible(conn)
    conn.exec_driver_sql(
        f"UPDATE {table} SET unit = trueup_visible(json_extract(raw, '$.unitOfMeasure')) "
        "WHERE json_valid(raw) AND json_type(raw, '$.unitOfMeasure') = 'text'"
    )
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS ix_pax8_invoice_item_unit ON {table} (product_id, unit)"
    )


def _digest_codes_and_products(conn: Connection) -> None:
    """An invoice's digest also lists its anomaly codes and its products, each once, so the
    ledger and approvals read a month without parsing its invoices (batch/body.py). A text
    kept unchanged keeps its digest, so the digests stored before are completed here, from
    their texts, in SQL (the store does not call the batch code). A text with no digest (the
    schema 10 migration's) is still read whole."""
    codes = (
        "SELECT json_extract(a.value, '$.code') AS code FROM json_each(t.text, '$.anomalies') a "
        "UNION SELECT json_extract(a.value, '$.code') FROM json_each(t.text, '$.lines') l, "
        "json_each(l.value, '$.anomalies') a ORDER BY 1"
    )
    products = (
        "SELECT DISTINCT json_extract(l.value, '$.product_id') AS product "
        "FROM json_each(t.text, '$.lines') l WHERE product IS NOT NULL AND product != '' "
        "ORDER BY 1"
    )
    conn.exec_driver_sql(
        "UPDATE batch_invoice_text AS t SET digest = json_set(t.digest, "
        f"'$.codes', json((SELECT json_group_array(code) FROM ({codes}))), "
        f"'$.products', json((SELECT json_group_array(product) FROM ({products})))) "
        "WHERE t.digest IS NOT NULL AND json_type(t.digest, '$.codes') IS NULL"
    )


# version -> the step that brings a store from version-1 to it.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: _add_tables("company_mapping", "product_mapping", "mapping_change"),
    3: _add_tables("rules_document", "invoice_batch", "batch_invoice_state", "batch_override"),
    4: _add_tables(
        "approval",
        "posting_entry",
        "qbo_customer",
        "qbo_item",
        "qbo_customer_mapping",
        "qbo_item_mapping",
    ),
    5: _commitment_end_and_period_index,
    6: _covering_indexes,
    7: _line_digest,
    8: _add_tables(
        "xero_contact",
        "xero_item",
        "xero_account",
        "xero_tax_rate",
        "xero_contact_mapping",
        "xero_item_mapping",
    ),
    9: _distributor_column,
    10: _invoice_rows,
    11: _line_ends,
    12: _qbo_tax,
    13: _staged_rows,
    14: _item_units,
    15: clean_poisoned_rows,
    16: _digest_codes_and_products,
    17: write_out_invisible_text,
}
