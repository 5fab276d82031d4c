"""A store a trueup older than the boundary's checks wrote (issue 23: cleaning poisoned stores):
opened by this trueup, its impossible numbers are set to nothing (the row kept: a sync fetches
again only recent invoices and changed subscriptions) and its control characters written out,
ids and references left as sent; the month bills, flagging what lost its number, and the next
sync stores the sane values the sources send."""

import asyncio
import sqlite3
from datetime import date
from decimal import Decimal

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from test_posting import FakeSink, post
from trueup.core.batch.approval import approval_states, approve
from trueup.core.batch.build import build_batch
from trueup.core.diff.seats import seat_diff
from trueup.core.posting.plan import queue_void
from trueup.core.posting.run import run_posting
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from trueup.core.store.migrations import SCHEMA_VERSION
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


# As the trueup before bcb6310 stored names: the characters that draw nothing kept as sent.
ZWSP, BOM, SHY, ZWJ = "\u200b", "\ufeff", "\u00ad", "\u200d"
# What the journal, the approvals and the batches hold: kept byte for byte by the migration.
KEPT = ("posting_entry", "approval", "invoice_batch", "batch_invoice", "batch_invoice_text")


def test_a_store_past_the_cleaning_writes_out_what_draws_nothing_and_keeps_its_postings(db):
    """Schema 15 cleaned the control characters known then: a store past it kept the zero
    width spaces, BOMs and soft hyphens the sync stored before bcb6310, in records no sync
    rewrites (an October invoice's items, recurring lines) as in names. Opened by this trueup
    (schema 17) they are written out; the month built, approved, posted and voided on them
    keeps every batch, approval and journal entry byte for byte, its invoices still approved."""
    with db.write() as conn:  # as the sync before bcb6310 stored them
        client, company, item, line, site = conn.exec_driver_sql(
            "SELECT (SELECT min(id) FROM halo_client), (SELECT min(id) FROM pax8_company), "
            "(SELECT min(i.id) FROM pax8_invoice_item i JOIN pax8_invoice v "
            "ON v.id = i.invoice_id WHERE v.invoice_date < '2026-11-01'), "
            "(SELECT min(id) FROM halo_recurring_invoice_line), (SELECT min(id) FROM halo_site)"
        ).one()
        for sql, args in (
            ("UPDATE halo_client SET name = ? || name || ? WHERE id = ?", (ZWSP, BOM, client)),
            ("UPDATE halo_client SET name = name || ? WHERE id != ?", (ZWSP, client)),
            ("UPDATE pax8_company SET name = name || ? WHERE id = ?", (f"{SHY}{ZWSP}", company)),
            (
                "UPDATE pax8_invoice_item SET unit = ? || unit, sku = sku || ? WHERE id = ?",
                (BOM, SHY, item),
            ),
            (
                "UPDATE halo_recurring_invoice_line SET description = ? WHERE id = ?",
                (f"Managed{ZWSP} Services{SHY}", line),
            ),
            # A joiner joining two emoji is part of the name (one technologist): kept.
            (
                "UPDATE halo_site SET name = ? WHERE id = ?",
                (f"Lab \U0001f469{ZWJ}\U0001f4bb", site),
            ),
        ):
            conn.exec_driver_sql(sql, args)
        names = dict(conn.exec_driver_sql("SELECT id, name FROM halo_client").all())
    # The month as the trueup before built, approved, posted and voided it on those names.
    batch = build_batch(db, "2026-11", today=TODAY)
    approved = approve(db, batch.batch_id, by="alice").approved
    sink = FakeSink()
    post(db, batch, sink)
    assert queue_void(db, batch.batch_id, sink.destination, approved[:1], by="bob") == 1
    assert asyncio.run(run_posting(db, sink, batch.batch_id, action="void")).complete
    approvals = {s.client_id: s.status for s in approval_states(db, batch.batch_id, today=TODAY)}
    path = db.path
    db.dispose()
    with sqlite3.connect(path) as conn:
        raw = conn.execute("SELECT raw FROM halo_client WHERE id = ?", (client,)).fetchone()[0]
        kept = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in KEPT}
        assert any(ZWSP in text for (text,) in conn.execute("SELECT text FROM batch_invoice_text"))
        journal = conn.execute(
            "SELECT action, state, count(*) FROM posting_entry GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        conn.execute("UPDATE schema_meta SET value = '16' WHERE key = 'schema_version'")
    assert journal == [("create", "POSTED", len(approved)), ("void", "POSTED", 1)]

    migrated = open_database(path)
    try:
        client_name = _one(migrated, "SELECT name FROM halo_client WHERE id = ?", client)
        assert client_name == names[client].replace(ZWSP, "\\u200b").replace(BOM, "\\ufeff")
        assert client_name.startswith("\\u200b") and client_name.endswith("\\ufeff")
        with migrated.read() as conn:
            stored = conn.exec_driver_sql("SELECT name FROM halo_client").scalars().all()
        assert len(stored) == len(names) and not any(ZWSP in n or BOM in n for n in stored)
        company_name = _one(migrated, "SELECT name FROM pax8_company WHERE id = ?", company)
        assert company_name.endswith("\\xad\\u200b")
        unit, sku = migrated_item = (
            _one(migrated, "SELECT unit FROM pax8_invoice_item WHERE id = ?", item),
            _one(migrated, "SELECT sku FROM pax8_invoice_item WHERE id = ?", item),
        )
        assert unit.startswith("\\ufeff") and sku.endswith("\\xad"), migrated_item
        described = "SELECT description FROM halo_recurring_invoice_line WHERE id = ?"
        assert _one(migrated, described, line) == "Managed\\u200b Services\\xad"
        assert _one(migrated, "SELECT raw FROM halo_client WHERE id = ?", client) == raw
        site_name = _one(migrated, "SELECT name FROM halo_site WHERE id = ?", site)
        assert site_name == f"Lab \U0001f469{ZWJ}\U0001f4bb"
        assert (
            _one(migrated, "SELECT value FROM schema_meta WHERE key = 'schema_version'")
            == str(SCHEMA_VERSION)
            == "17"
        )
        warnings = _warnings(migrated)
        written = "halo_client: invisible characters written out in 59 stored values"
        assert written in warnings
        assert (
            "halo_recurring_invoice_line: invisible characters written out in 1 stored value"
            in warnings
        )
        with sqlite3.connect(path) as conn:
            after = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in KEPT}
        assert after == kept
        states = approval_states(migrated, batch.batch_id, today=TODAY)
        assert {s.client_id: s.status for s in states} == approvals
        assert [approvals[c] for c in approved] == ["approved"] * len(approved)
    finally:
        migrated.dispose()
