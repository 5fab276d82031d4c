"""Batches as rows and built incrementally (issue 16): after a change that touches a few clients,
the month's batch bills only those again and is, byte for byte, the batch billing every client
gives; each invoice's text is stored once; a store whose batches were stored whole (schema 9)
keeps them, the same bytes."""

import hashlib
import sqlite3
from datetime import date

import pytest

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch import build as build_module
from trueup.core.batch import facts as facts_module
from trueup.core.batch.approval import approve, invoice_fingerprint
from trueup.core.batch.body import (
    StoredInvoice,
    canonical_bytes,
    invoice_codes,
    invoice_products,
    parsed_body,
)
from trueup.core.batch.build import build_batch
from trueup.core.batch.stored import batch_bytes, load_batch
from trueup.core.diff import reading as reading_module
from trueup.core.ledger.month import ledger_json, month_ledger
from trueup.core.mapping.engine import (
    ignore_product,
    map_company,
    map_product,
    undo_last,
    unmap_company,
)
from trueup.core.mapping.index import load_mapping_index
from trueup.core.rules.current import set_client_override, set_default, set_line_override
from trueup.core.store.database import open_database
from trueup.core.values.months import Month

TODAY = date(2026, 11, 21)
MONTH = "2026-11"


def one(db, sql, *args):
    with db.read() as conn:
        return conn.exec_driver_sql(sql, args).first()


def mapped_subscription(db):
    """A client, a product it has a subscription of, mapped for every client, and another item."""
    client, product, item = one(
        db,
        "SELECT cm.client_id, s.product_id, pm.item_id FROM pax8_subscription s "
        "JOIN company_mapping cm ON cm.company_id = s.company_id AND cm.client_id IS NOT NULL "
        "JOIN product_mapping pm ON pm.product_id = s.product_id AND pm.client_id IS NULL "
        "AND pm.item_id IS NOT NULL ORDER BY s.id LIMIT 1",
    )
    other = one(
        db, "SELECT id FROM halo_item WHERE NOT coalesce(inactive, 0) AND id != ? LIMIT 1", item
    )[0]
    return client, product, other


def unmapped_company(db):
    return one(
        db,
        "SELECT c.id FROM pax8_company c WHERE c.id IN (SELECT company_id FROM pax8_subscription) "
        "AND c.id NOT IN (SELECT company_id FROM company_mapping) ORDER BY c.name LIMIT 1",
    )[0]


def unbilled_client(db):
    return one(
        db,
        "SELECT id FROM halo_client WHERE id NOT IN "
        "(SELECT client_id FROM company_mapping WHERE client_id IS NOT NULL) ORDER BY id LIMIT 1",
    )[0]


def change_client_rule(db):
    client, _, _ = mapped_subscription(db)
    set_client_override(db, client, "markup_percent", "12.5")


def change_line_rule(db):
    client, product, _ = mapped_subscription(db)
    set_line_override(db, client, product, "proration", "max")


def map_a_company(db):
    map_company(db, unmapped_company(db), unbilled_client(db))


def unmap_a_company(db):
    company = one(db, "SELECT company_id FROM company_mapping WHERE client_id IS NOT NULL")[0]
    unmap_company(db, company)


def remap_a_product(db):
    _, product, other = mapped_subscription(db)
    map_product(db, product, other)


def override_a_product(db):
    client, product, other = mapped_subscription(db)
    map_product(db, product, other, client_id=client)


def ignore_a_product(db):
    _, product, _ = mapped_subscription(db)
    ignore_product(db, product)


def map_then_undo(db):
    remap_a_product(db)
    undo_last(db)


def change_a_default(db):
    set_default(db, "markup_percent", "3")


CHANGES = [
    change_client_rule,
    change_line_rule,
    map_a_company,
    unmap_a_company,
    remap_a_product,
    override_a_product,
    ignore_a_product,
    map_then_undo,
    change_a_default,
]


@pytest.fixture
def billed(monkeypatch):
    """The clients each build bills, in order."""
    found: list[int] = []
    real = build_module.bill_client

    def counting(facts, month, rules):
        found.append(facts.client_id)
        return real(facts, month, rules)

    monkeypatch.setattr(build_module, "bill_client", counting)
    return found


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_a_batch_built_after_a_change_is_the_batch_billing_every_client_gives(db, billed, change):
    first = build_batch(db, MONTH, today=TODAY, by="test")
    everyone = len(billed)
    change(db)
    billed.clear()
    again = build_batch(db, MONTH, today=TODAY, by="test")
    assert again.batch_id != first.batch_id
    incremental = batch_bytes(db, again.batch_id)
    touched = len(billed)
    with db.write() as conn:
        conn.exec_driver_sql("DELETE FROM invoice_batch WHERE id = ?", (again.batch_id,))
    whole = build_batch(db, MONTH, today=TODAY, by="test", reuse=False)
    assert whole.batch_id == again.batch_id
    assert batch_bytes(db, whole.batch_id) == incremental
    if change is change_a_default:
        assert touched == everyone  # every client reads the defaults
    elif change in (change_client_rule, change_line_rule):
        assert touched == 1
    else:  # the demo's clients with a product mapped to no item are billed again too
        assert 0 < touched < everyone


def test_an_invoice_is_stored_once_however_many_batches_list_it(db, billed):
    first = build_batch(db, MONTH, today=TODAY, by="test")
    texts = one(db, "SELECT count(*) FROM batch_invoice_text")[0]
    change_client_rule(db)
    build_batch(db, MONTH, today=TODAY, by="test")
    assert one(db, "SELECT count(*) FROM batch_invoice_text")[0] == texts + 1
    rows = one(db, "SELECT count(*) FROM batch_invoice WHERE batch_id = ?", first.batch_id)[0]
    assert rows == texts == len(load_batch(db, first.batch_id).body["invoices"])


def test_a_store_whose_batches_were_stored_whole_keeps_them(db, tmp_path):
    """Schema 9 kept each batch's invoices inside its body: migrated, every batch reads back as
    the same bytes, its word and approvals kept, and the next build gives the same batch."""
    built = build_batch(db, MONTH, today=TODAY, by="test")
    whole = batch_bytes(db, built.batch_id)
    path = db.path
    db.dispose()
    with sqlite3.connect(path) as conn:  # as schema 9 stored it
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE invoice_batch SET body = ?, inputs = NULL", (whole.decode(),))
        conn.execute("DROP TABLE batch_invoice")
        conn.execute("DROP TABLE batch_invoice_text")
        conn.execute("ALTER TABLE invoice_batch DROP COLUMN inputs")
        conn.execute("UPDATE schema_meta SET value='9' WHERE key='schema_version'")
    migrated = open_database(path)
    try:
        assert batch_bytes(migrated, built.batch_id) == whole
        rebuilt = build_batch(migrated, MONTH, today=TODAY, by="test")
        assert rebuilt.batch_id == built.batch_id and rebuilt.data == whole
        with migrated.write() as conn:
            conn.exec_driver_sql("DELETE FROM invoice_batch")
        assert build_batch(migrated, MONTH, today=TODAY, by="test").data == whole
    finally:
        migrated.dispose()


def test_an_invoice_read_from_its_digest_is_the_invoice_read_from_its_text(db):
    """The ledger and approvals read an invoice's figures, codes and products from its digest,
    and an approval's fingerprint from its bytes as stored: the same as parsing it."""
    built = build_batch(db, MONTH, today=TODAY, by="test")
    read = load_batch(db, built.batch_id).invoices
    with db.read() as conn:
        index = load_mapping_index(conn)
    assert read and all(invoice.digest for invoice in read)
    for invoice in read:
        parsed = StoredInvoice.of(parsed_body(invoice.text))
        assert invoice == parsed  # the figures
        assert (invoice.codes, invoice.products) == (parsed.codes, parsed.products)
        targets = {p: index.item_for(p, invoice.client_id) for p in parsed.products}
        whole = canonical_bytes({"invoice": parsed.source, "targets": targets})
        assert invoice_fingerprint(invoice, index) == hashlib.sha256(whole).hexdigest()


def test_a_store_whose_digests_lack_codes_and_products_gains_them(db):
    """Schema 15's digests held neither: migrated (schema 16), each is completed from its text
    as the batch code digests it, and the month reads the same, its approvals holding."""
    built = build_batch(db, MONTH, today=TODAY, by="test")
    assert approve(db, built.batch_id, by="test").approved  # those with no error
    before = ledger_json(month_ledger(db, Month(MONTH), today=TODAY))
    path = db.path
    db.dispose()
    with sqlite3.connect(path) as conn:  # as schema 15 stored them
        conn.execute("UPDATE batch_invoice_text SET digest = json_remove(digest, '$.codes')")
        conn.execute("UPDATE batch_invoice_text SET digest = json_remove(digest, '$.products')")
        conn.execute("UPDATE schema_meta SET value='15' WHERE key='schema_version'")
    migrated = open_database(path)
    try:
        with migrated.read() as conn:
            stored = conn.exec_driver_sql("SELECT text, digest FROM batch_invoice_text").all()
        for text, digest in stored:
            invoice, completed = parsed_body(text), parsed_body(digest)
            assert completed["codes"] == invoice_codes(invoice)
            assert completed["products"] == list(invoice_products(invoice))
        after = ledger_json(month_ledger(migrated, Month(MONTH), today=TODAY))
        assert after == before
        assert {c["state"] for c in after["clients"]} >= {"approved"}
    finally:
        migrated.dispose()


def test_a_rules_change_reads_nothing_of_the_whole_store_again_a_mapping_change_does(
    db, monkeypatch
):
    """What a build read of the whole store (the mapping index, names, currencies, unmapped
    companies, strays) serves the next build under the same sync runs and mapping journal: a
    rules change reads none of it again, a mapping change all of it. Either way the batch is
    the one billing every client gives."""
    reads: list[str] = []
    real_wide, real_index = reading_module.store_wide, build_module.load_mapping_index
    monkeypatch.setattr(
        reading_module,
        "store_wide",
        lambda conn, index: reads.append("store") or real_wide(conn, index),
    )
    monkeypatch.setattr(
        build_module,
        "load_mapping_index",
        lambda conn: reads.append("index") or real_index(conn),
    )
    real_usage = facts_module.load_usage  # its scan of every subscription was ~0.15 s of 0.27
    monkeypatch.setattr(
        facts_module, "load_usage", lambda *args: reads.append("usage") or real_usage(*args)
    )
    build_batch(db, MONTH, today=TODAY, by="test")
    assert reads == ["index", "store", "usage"]
    reads.clear()
    change_client_rule(db)
    again = build_batch(db, MONTH, today=TODAY, by="test")
    assert reads == []
    incremental = batch_bytes(db, again.batch_id)
    with db.write() as conn:
        conn.exec_driver_sql("DELETE FROM invoice_batch WHERE id = ?", (again.batch_id,))
    whole = build_batch(db, MONTH, today=TODAY, by="test", reuse=False)
    assert whole.batch_id == again.batch_id and whole.data == incremental
    reads.clear()
    remap_a_product(db)
    mapped = build_batch(db, MONTH, today=TODAY, by="test")
    assert reads == ["index", "store", "usage"]
    incremental = batch_bytes(db, mapped.batch_id)
    with db.write() as conn:
        conn.exec_driver_sql("DELETE FROM invoice_batch WHERE id = ?", (mapped.batch_id,))
    assert build_batch(db, MONTH, today=TODAY, by="test", reuse=False).data == incremental


def test_the_next_build_reuses_the_invoices_this_process_stored_unless_the_file_changed(
    db, monkeypatch
):
    """After a change, the invoices of the batch this process stored last come from memory; a
    batch of the same id written at another time (another file put at the same path) is read
    from the store. Either way the batch is the one billing every client gives."""
    reads: list[str] = []
    real = build_module.listed_invoices
    monkeypatch.setattr(
        build_module,
        "listed_invoices",
        lambda conn, batch_id: reads.append(batch_id) or real(conn, batch_id),
    )
    build_batch(db, MONTH, today=TODAY, by="test")
    change_client_rule(db)
    remembered = build_batch(db, MONTH, today=TODAY, by="test")
    assert reads == []
    with db.write() as conn:  # as if another file, with this batch written at another time
        conn.exec_driver_sql(
            "UPDATE invoice_batch SET created_at = '2099-01-01 00:00:00.000000' WHERE id = ?",
            (remembered.batch_id,),
        )
    set_client_override(db, mapped_subscription(db)[0], "markup_percent", "7.5")
    again = build_batch(db, MONTH, today=TODAY, by="test")
    assert reads == [remembered.batch_id]
    whole = build_batch(db, MONTH, today=TODAY, by="test", reuse=False)
    assert again.batch_id == whole.batch_id and batch_bytes(db, again.batch_id) == whole.data
