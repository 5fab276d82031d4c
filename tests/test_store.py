"""The local store: pragmas, permissions, schema version, clear errors, atomic apply."""

import os
import sqlite3
import stat
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from trueup.core.store import database as dbmod
from trueup.core.store import tables as m
from trueup.core.store.database import StoreError, open_database
from trueup.core.sync.staging import Stager, apply_run, fail_run, recover_stale_runs, start_run


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "data" / "trueup.sqlite")
    yield database
    database.dispose()


def test_new_store_is_private_wal_full_with_foreign_keys(store):
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        version = conn.execute(text("SELECT value FROM schema_meta WHERE key='schema_version'"))
        assert version.scalar() == str(dbmod.SCHEMA_VERSION)


def test_a_file_of_another_application_is_refused_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another application"):
        open_database(path)
    assert path.read_bytes() == before


def test_a_corrupt_file_gets_one_clear_line(tmp_path):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        open_database(path)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "t.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="newer trueup"):
        open_database(path)


def test_an_older_schema_is_migrated(tmp_path, monkeypatch):
    path = tmp_path / "t.sqlite"
    open_database(path).dispose()
    applied = []
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", dbmod.SCHEMA_VERSION + 1)
    monkeypatch.setitem(dbmod.MIGRATIONS, dbmod.SCHEMA_VERSION, lambda conn: applied.append(1))
    database = open_database(path)
    with database.read() as conn:
        assert conn.execute(
            text("SELECT value FROM schema_meta WHERE key='schema_version'")
        ).scalar() == str(dbmod.SCHEMA_VERSION)
    database.dispose()
    assert applied == [1]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_folder_is_explained(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError, match=r"permission denied|read-only"):
            open_database(folder / "trueup.sqlite")
    finally:
        folder.chmod(0o700)


def test_a_read_only_file_is_explained(tmp_path, monkeypatch):
    path = tmp_path / "t.sqlite"
    open_database(path).dispose()
    monkeypatch.setattr(os, "access", lambda p, mode: mode != os.W_OK)
    with pytest.raises(StoreError, match="read-only"):
        open_database(path)


def _company(cid, name):
    return {
        "id": cid,
        "name": name,
        "status": "Active",
        "updatedDate": "2026-11-03T09:12:00.000-0600",
    }


def _apply(store, source, fill):
    run_id = start_run(store, source)
    stager = Stager(store, run_id, flush_every=2)
    fill(stager)
    return apply_run(
        store, run_id, source, stager, stats={"requests": 1, "retries": 0, "rate_limited": 0}
    )


def _rows(store, model):
    with store.read() as conn:
        return conn.execute(select(model.__table__)).all()


def test_apply_counts_created_updated_unchanged_deleted_and_keeps_raw(store):
    _apply(
        store,
        "pax8",
        lambda s: s.add("pax8_company", [_company("a", "Acme"), _company("b", "Birch")]),
    )
    counts = _apply(
        store,
        "pax8",
        lambda s: s.add(
            "pax8_company",
            [_company("a", "Acme"), _company("b", "Birch Legal"), _company("c", "Cedar")],
        ),
    )
    company = counts["pax8_company"]
    assert (company.created, company.updated, company.unchanged, company.deleted) == (1, 1, 1, 0)
    counts = _apply(store, "pax8", lambda s: s.add("pax8_company", [_company("c", "Cedar")]))
    assert counts["pax8_company"].deleted == 2
    rows = _rows(store, m.Pax8Company)
    assert [r.id for r in rows] == ["c"]
    assert '"updatedDate":"2026-11-03T09:12:00.000-0600"' in rows[0].raw


def test_money_keeps_its_exact_digits_in_columns_and_raw(store):
    sub = {
        "id": "s1",
        "companyId": "a",
        "productId": "p",
        "quantity": 18,
        "price": Decimal("12.50"),
        "partnerCost": Decimal("10.63"),
        "status": "Active",
    }
    _apply(store, "pax8", lambda s: s.add("pax8_subscription", [sub]))
    row = _rows(store, m.Pax8Subscription)[0]
    assert (row.price, row.partner_cost, row.quantity) == (Decimal("12.50"), Decimal("10.63"), 18)
    assert '"price":12.50' in row.raw


def test_a_record_without_identity_is_counted_failed_and_logged(store):
    counts = _apply(
        store,
        "pax8",
        lambda s: s.add(
            "pax8_company",
            [_company("a", "Acme"), {"name": "no id"}, {"id": None, "name": "null id"}],
        ),
    )
    assert counts["pax8_company"].failed == 2
    assert [r.id for r in _rows(store, m.Pax8Company)] == ["a"]
    events = [r.event for r in _rows(store, m.LogEvent)]
    assert events.count("companies: record skipped") == 2


def test_scoped_replacement_touches_only_the_fetched_scopes(store):
    def subs(s):
        s.add("pax8_subscription", [{"id": "s1"}, {"id": "s2"}])
        s.add(
            "pax8_subscription_snapshot",
            [{"quantity": 18}, {"quantity": 17}],
            scope="s1",
            extra=lambda i: {"subscription_id": "s1", "position": i},
        )
        s.add(
            "pax8_subscription_snapshot",
            [{"quantity": 5}],
            scope="s2",
            extra=lambda i: {"subscription_id": "s2", "position": i},
        )

    _apply(store, "pax8", subs)

    def refetch_s1_only(s):
        s.add("pax8_subscription", [{"id": "s1"}, {"id": "s2"}])
        s.add(
            "pax8_subscription_snapshot",
            [{"quantity": 19}],
            scope="s1",
            extra=lambda i: {"subscription_id": "s1", "position": i},
        )

    counts = _apply(store, "pax8", refetch_s1_only)
    snapshots = {
        (r.subscription_id, r.position): r.quantity
        for r in _rows(store, m.Pax8SubscriptionSnapshot)
    }
    assert snapshots == {("s1", 0): 19, ("s2", 0): 5}
    assert counts["pax8_subscription_snapshot"].deleted == 1


def test_children_of_absent_parents_fail_instead_of_breaking_the_transaction(store):
    counts = _apply(
        store,
        "halo",
        lambda s: (
            s.add("halo_recurring_invoice", [{"id": -94, "client_id": 420}]),
            s.add(
                "halo_recurring_invoice_line",
                [{"id": 1, "ihid": -94, "_itemid": 7}, {"id": 2, "ihid": -95, "_itemid": 7}],
            ),
        ),
    )
    assert counts["halo_recurring_invoice_line"].failed == 1
    assert [r.id for r in _rows(store, m.HaloRecurringInvoiceLine)] == [1]


def test_a_failed_run_changes_no_data_and_says_why(store):
    _apply(store, "pax8", lambda s: s.add("pax8_company", [_company("a", "Acme")]))
    run_id = start_run(store, "pax8")
    stager = Stager(store, run_id, flush_every=1)
    stager.add("pax8_company", [_company("z", "Zed")])  # staged, never applied
    fail_run(
        store,
        run_id,
        "pax8",
        "failed",
        "Pax8 rejected the client id or secret",
        {"requests": 3, "retries": 0, "rate_limited": 0},
    )
    assert [r.id for r in _rows(store, m.Pax8Company)] == ["a"]
    run = next(r for r in _rows(store, m.SyncRun) if r.id == run_id)
    assert (run.status, run.error, run.requests) == (
        "failed",
        "Pax8 rejected the client id or secret",
        3,
    )
    assert _rows(store, m.StagedRecord) == []


def test_runs_left_by_a_killed_process_are_marked_interrupted(store):
    run_id = start_run(store, "halo")
    Stager(store, run_id, flush_every=1).add("halo_client", [{"id": 1, "name": "A"}])
    assert recover_stale_runs(store) == 1
    run = next(r for r in _rows(store, m.SyncRun) if r.id == run_id)
    assert run.status == "interrupted" and "killed" in run.error
    assert _rows(store, m.StagedRecord) == [] and _rows(store, m.HaloClient) == []
