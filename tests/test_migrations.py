"""A store written by an older trueup is brought up to date in place, keeping its data."""

import sqlite3

from sqlalchemy import inspect, text

from trueup.core.store import database as dbmod
from trueup.core.store.database import open_database


def test_a_version_1_store_gains_the_newer_tables_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # make it look like a store written by schema 1
        for table in (
            "company_mapping",
            "product_mapping",
            "mapping_change",
            "rules_document",
            "batch_override",
            "batch_invoice_state",
            "invoice_batch",
        ):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE schema_meta SET value='1' WHERE key='schema_version'")
        conn.execute("INSERT INTO halo_client (id, name, raw) VALUES (12, 'Acme', '{}')")
    database = open_database(path)
    with database.read() as conn:
        tables = set(inspect(conn).get_table_names())
        version = conn.execute(text("SELECT value FROM schema_meta WHERE key='schema_version'"))
        assert version.scalar() == str(dbmod.SCHEMA_VERSION) == "17"
        assert {
            "company_mapping",
            "product_mapping",
            "mapping_change",
            "rules_document",
            "invoice_batch",
            "batch_invoice_state",
            "batch_override",
        } <= tables
        assert conn.execute(text("SELECT name FROM halo_client")).scalar() == "Acme"
    database.dispose()


def test_a_version_4_store_gains_the_commitment_end_read_from_the_raw_json(tmp_path):
    path = tmp_path / "v4.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # as schema 4 wrote it: no column, no period index
        conn.execute("ALTER TABLE pax8_subscription DROP COLUMN commitment_end")
        drop_indexes_of_schema_6(conn)
        conn.execute("UPDATE schema_meta SET value='4' WHERE key='schema_version'")
        raws = {
            "now": '{"commitmentTerm": {"term": "Annual", "endDate": "2027-03-31T00:00:00Z"}}',
            "2022": '{"commitment": {"term": "Annual", "endDate": "2026-12-15"}}',
            "none": '{"billingTerm": "Monthly"}',
        }
        for key, raw in raws.items():
            conn.execute("INSERT INTO pax8_subscription (id, raw) VALUES (?, ?)", (key, raw))
    database = open_database(path)
    with database.read() as conn:
        ends = dict(conn.execute(text("SELECT id, commitment_end FROM pax8_subscription")).all())
        indexes = {row[1] for row in conn.execute(text("PRAGMA index_list(pax8_invoice_item)"))}
    database.dispose()
    assert ends == {"now": "2027-03-31", "2022": "2026-12-15", "none": None}
    assert "ix_pax8_invoice_item_month" in indexes


def test_a_version_5_store_reads_subscriptions_and_items_from_the_new_indexes(tmp_path):
    path = tmp_path / "v5.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # as schema 5 wrote it: narrower indexes
        drop_indexes_of_schema_6(conn)
        conn.execute(
            "CREATE INDEX ix_pax8_invoice_item_period "
            "ON pax8_invoice_item (start_period, end_period)"
        )
        conn.execute(
            "INSERT INTO pax8_subscription (id, company_id, raw) VALUES ('s1', 'c1', '{}')"
        )
        conn.execute("UPDATE schema_meta SET value='5' WHERE key='schema_version'")
    database = open_database(path)
    with database.read() as conn:
        indexes = {
            row[1]
            for table in ("pax8_subscription", "pax8_invoice_item")
            for row in conn.execute(text(f"PRAGMA index_list({table})"))
        }
        kept = conn.execute(text("SELECT company_id FROM pax8_subscription")).scalar()
    database.dispose()
    assert {
        "ix_pax8_subscription_company",
        "ix_pax8_invoice_item_month",
        "ix_pax8_invoice_item_term",
    } <= indexes
    assert not indexes & {"ix_pax8_subscription_company_id", "ix_pax8_invoice_item_period"}
    assert kept == "c1"


def drop_indexes_of_schema_6(conn):
    """Back to the indexes of schemas 1-4 (schema 5 added the period index)."""
    for name in (
        "ix_pax8_subscription_company",
        "ix_pax8_invoice_item_month",
        "ix_pax8_invoice_item_term",
    ):
        conn.execute(f"DROP INDEX {name}")
    conn.execute("CREATE INDEX ix_pax8_subscription_company_id ON pax8_subscription (company_id)")


def test_a_version_6_store_gains_the_line_digest_and_keeps_its_batches(tmp_path):
    path = tmp_path / "v6.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # as schema 6 wrote it: no line digest
        conn.execute("ALTER TABLE invoice_batch DROP COLUMN line_digest")
        conn.execute(
            "INSERT INTO invoice_batch (id, month, created_at, created_by, sync_runs, clients, "
            "body) VALUES ('2026-10-x', '2026-10', '2026-10-31 12:00:00', 'ann', '{}', '[]', '{}')"
        )
        conn.execute("UPDATE schema_meta SET value='6' WHERE key='schema_version'")
    database = open_database(path)
    with database.read() as conn:
        rows = conn.execute(text("SELECT id, line_digest FROM invoice_batch")).all()
    database.dispose()
    assert rows == [("2026-10-x", None)]


def test_a_version_8_store_marks_every_stored_record_as_pax8s(tmp_path):
    path = tmp_path / "v8.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # as schema 8 wrote it: no distributor column
        for table in (
            "pax8_company",
            "pax8_product",
            "pax8_subscription",
            "pax8_invoice",
            "pax8_invoice_item",
            "pax8_usage_summary",
        ):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN distributor")
        conn.execute("INSERT INTO pax8_company (id, name, raw) VALUES ('c1', 'Acme', '{}')")
        conn.execute("UPDATE schema_meta SET value='8' WHERE key='schema_version'")
    database = open_database(path)
    with database.write() as conn:
        conn.execute(text("INSERT INTO pax8_product (id, raw) VALUES ('p1', '{}')"))
        rows = conn.execute(text("SELECT id, distributor FROM pax8_company")).all()
        added = conn.execute(text("SELECT distributor FROM pax8_product")).scalar()
    database.dispose()
    assert rows == [("c1", "pax8")] and added == "pax8"


def test_a_version_11_store_reads_each_quickbooks_customers_default_tax_code(tmp_path):
    path = tmp_path / "v11.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # as schema 11 wrote it: no tax code column or tables
        conn.execute("ALTER TABLE qbo_customer DROP COLUMN tax_code")
        for table in ("qbo_company", "qbo_tax_code", "qbo_tax_code_mapping"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute(
            "INSERT INTO qbo_customer (id, raw) VALUES ('58', ?), ('59', '{}')",
            ('{"DefaultTaxCodeRef": {"value": "5"}}',),
        )
        conn.execute("UPDATE schema_meta SET value='11' WHERE key='schema_version'")
    database = open_database(path)
    with database.read() as conn:
        codes = conn.execute(text("SELECT id, tax_code FROM qbo_customer ORDER BY id")).all()
        tables = set(inspect(conn).get_table_names())
    database.dispose()
    assert codes == [("58", "5"), ("59", None)]
    assert {"qbo_company", "qbo_tax_code", "qbo_tax_code_mapping"} <= tables


def test_a_version_12_store_stages_parsed_rows_and_a_killed_runs_staging_goes(tmp_path):
    path = tmp_path / "v12.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:  # as schema 12 wrote it, a killed sync's record staged
        conn.execute("DROP TABLE staged_record")
        conn.execute(
            "CREATE TABLE staged_record (seq INTEGER PRIMARY KEY, run_id INTEGER NOT NULL "
            "REFERENCES sync_run (id) ON DELETE CASCADE, entity VARCHAR NOT NULL, scope VARCHAR, "
            "extra VARCHAR NOT NULL, raw TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO sync_run (id, source, status, started_at, created, updated, deleted, "
            "unchanged, failed, requests, retries, rate_limited, counts) "
            "VALUES (1, 'halo', 'running', '2026-12-01 00:00:00', 0, 0, 0, 0, 0, 0, 0, 0, '{}')"
        )
        conn.execute(
            "INSERT INTO staged_record (run_id, entity, extra, raw) "
            """VALUES (1, 'halo_client', '{}', '{"id": 1}')"""
        )
        conn.execute("UPDATE schema_meta SET value='12' WHERE key='schema_version'")
    database = open_database(path)
    with database.read() as conn:
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(staged_record)"))}
        staged = conn.execute(text("SELECT count(*) FROM staged_record")).scalar()
        indexes = {row[1] for row in conn.execute(text("PRAGMA index_list(staged_record)"))}
    database.dispose()
    assert {"parsed", "error", "out_of_range"} <= columns and staged == 0
    assert "ix_staged_record_run_entity" in indexes


def test_the_store_as_it_was_is_backed_up_before_its_schema_is_upgraded(tmp_path):
    """Migrations rewrite stored data in place (15 and 17 do): the store as an older trueup
    left it is the newest backup, whole, before any is run; a current store takes none."""
    path = tmp_path / "old.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_meta SET value='16' WHERE key='schema_version'")
        conn.execute("INSERT INTO halo_client (id, name, raw) VALUES (12, 'Acme\x07', '{}')")
    open_database(path).dispose()
    (backup,) = (tmp_path / "backups").iterdir()
    assert backup.name.startswith("old-") and "before-schema-17" in backup.name
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(backup) as conn:
        assert conn.execute(
            "SELECT value FROM schema_meta WHERE key='schema_version'"
        ).fetchone() == ("16",)
        assert conn.execute("SELECT name FROM halo_client").fetchone() == ("Acme\x07",)
    with sqlite3.connect(path) as conn:  # upgraded: the bell written out
        assert conn.execute("SELECT name FROM halo_client").fetchone() == ("Acme\\x07",)
    open_database(path).dispose()
    assert len(list((tmp_path / "backups").iterdir())) == 1
