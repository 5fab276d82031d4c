"""The batch's one reading of the store (core/diff_store, diff.seat_counts, batch_facts) against
independent readings: the seat diff's rows, the raw Pax8 JSON, plain SQL. These guard the
shortcuts that make a 2,000-client batch fast (bench/README.md)."""

import json
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.build import build_batch
from trueup.core.diff.reading import load_diff_store
from trueup.core.diff.seats import diff_rows, seat_counts
from trueup.core.mapping.engine import ignore_company

TODAY = date(2026, 11, 21)


def store_of(db):
    with db.read() as conn:
        return load_diff_store(conn)


@pytest.mark.parametrize("day", [date(2026, 11, 1), TODAY, date(2026, 11, 30), date(2026, 10, 4)])
def test_seat_counts_are_what_the_seat_diff_rows_say(db, day):
    store = store_of(db)
    rows = [row for row in diff_rows(store, day) if row.subscription_id]
    counts = seat_counts(store, day)
    assert len(rows) > 100
    assert counts == {
        row.subscription_id: (row.halo_qty, row.halo_lines, row.status, row.pax8_qty)
        for row in rows
    }
    assert {row.status for row in rows} >= {"match", "under", "missing_in_halo"}


def test_commitments_are_read_as_the_raw_json_has_them(db):
    with db.read() as conn:
        raw = dict(conn.exec_driver_sql("SELECT id, raw FROM pax8_subscription").all())
    subscriptions = [s for _, s in store_of(db).subscriptions]
    assert subscriptions
    for subscription in subscriptions:
        sent = json.loads(raw[subscription.id])
        commitment = sent.get("commitmentTerm") or sent.get("commitment") or {}
        end = commitment.get("endDate")
        assert subscription.commitment_term == commitment.get("term")
        assert subscription.commitment_end == (date.fromisoformat(end[:10]) if end else None)
    assert any(s.commitment_end for s in subscriptions)


def test_unmapped_companies_count_their_billable_subscriptions(db):
    with db.read() as conn:
        mapped = {
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT company_id FROM company_mapping WHERE (status = 'mapped' AND client_id "
                "IS NOT NULL) OR status = 'ignored'"
            )
        }
        rows = conn.exec_driver_sql("SELECT company_id, status FROM pax8_subscription").all()
    expected = Counter(
        company
        for company, status in rows
        if company not in mapped and status in ("Active", "PendingCancel", "Activated")
    )
    assert len(expected) >= 2
    assert store_of(db).unmapped == expected
    ignored = sorted(expected)[0]
    ignore_company(db, ignored)
    assert ignored not in store_of(db).unmapped


def test_instants_stored_in_any_style_are_read_as_utc(db):
    with db.read() as conn:
        sub_id = conn.exec_driver_sql(
            "SELECT s.id FROM pax8_subscription s JOIN company_mapping c "
            "ON c.company_id = s.company_id WHERE NOT EXISTS (SELECT 1 FROM "
            "pax8_subscription_snapshot h WHERE h.subscription_id = s.id) LIMIT 1"
        ).scalar_one()
    styles = {
        "2026-11-05 10:30:00.250000": datetime(2026, 11, 5, 10, 30, 0, 250000, UTC),
        "2026-11-05 10:30:00": datetime(2026, 11, 5, 10, 30, tzinfo=UTC),
        "2026-11-05T10:30:00+02:00": datetime(2026, 11, 5, 8, 30, tzinfo=UTC),
        "2026-11-05T23:30:00-05:00": datetime(2026, 11, 6, 4, 30, tzinfo=UTC),
        "2026-11-05T10:30:00Z": datetime(2026, 11, 5, 10, 30, tzinfo=UTC),
        "2026-11-05": datetime(2026, 11, 5, tzinfo=UTC),
    }
    for text, instant in styles.items():
        with db.write() as conn:
            conn.exec_driver_sql(
                "UPDATE pax8_subscription SET updated_at = ?, end_at = ? WHERE id = ?",
                (text, text, sub_id),
            )
        (found,) = [s for _, s in store_of(db).subscriptions if s.id == sub_id]
        (snapshot,) = found.snapshots
        assert snapshot.changed_at == instant and snapshot.changed_at.tzinfo is UTC, text
        assert snapshot.end == instant.date(), text


def test_a_batch_of_one_client_bills_it_as_the_whole_batch_does(db):
    """Cost items are built for the chosen clients' subscriptions only; credited invoices are
    still found from every item."""
    whole = build_batch(db, "2026-11", today=TODAY, by="test").body
    reissued = [
        invoice
        for invoice in whole["invoices"]
        if any(a["code"] == "INVOICE_REISSUED" for a in invoice["anomalies"])
    ]
    assert reissued
    for invoice in [*reissued, whole["invoices"][0], whole["invoices"][-1]]:
        alone = build_batch(db, "2026-11", clients=[invoice["client_id"]], today=TODAY, by="t")
        assert alone.body["invoices"] == [invoice]


def test_summary_and_totals_count_each_anomaly_once(db):
    body = build_batch(db, "2026-11", today=TODAY, by="test").body
    totals: Counter[str] = Counter(a["severity"] for a in body["anomalies"])
    for invoice, summary in zip(body["invoices"], body["summary"], strict=True):
        on_lines = [a for line in invoice["lines"] for a in line["anomalies"]]
        keys = {(a["code"], a["severity"], a["message"]) for a in on_lines}
        own = [
            a for a in invoice["anomalies"] if (a["code"], a["severity"], a["message"]) not in keys
        ]
        counted = Counter(a["severity"] for a in [*own, *on_lines])
        assert summary["anomalies"] == {s: counted.get(s, 0) for s in ("error", "warning", "info")}
        totals.update(counted)
    assert body["totals"]["anomalies"] == {
        s: totals.get(s, 0) for s in ("error", "warning", "info")
    }
    assert sum(totals.values()) > 50


def test_the_large_reads_of_raw_json_tables_come_from_indexes(db, monkeypatch):
    """Subscription and invoice-item rows carry their raw JSON (~1 kB each): the month's items
    (scanned, as a large batch does), the usage billed in arrears and the currency count are
    read from indexes, not from the rows."""
    from sqlalchemy import event

    from trueup.core.batch import facts as batch_facts

    monkeypatch.setattr(batch_facts, "_SEARCHED_UP_TO", 0)
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        build_batch(db, "2026-11", today=TODAY, by="test")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    expected = {
        "i.end_period, i.quantity, i.cost_total": "COVERING INDEX ix_pax8_invoice_item_month",
        "i.term = 'Arrears'": "INDEX ix_pax8_invoice_item_term (term=?",
        "GROUP BY company_id, currency, status": "COVERING INDEX ix_pax8_subscription_company",
    }
    with db.read() as conn:
        for marker, index in expected.items():
            sql, parameters = next(s for s in statements if marker in s[0])
            plan = " | ".join(
                row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
            )
            assert index in plan, plan
