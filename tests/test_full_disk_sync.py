"""A sync on a full disk (issue 23, item 6): one line that says so, no traceback, the last good
data kept, the staging dropped; and a write-ahead log a stopped sync grew is emptied by the next.

A full disk is played by capping the store with max_page_count, which fails as a full disk does
(SQLite's "database or disk is full"). On a real full disk SQLite cannot even drop the staging
(a delete writes to the log): the run stays open, and the next sync drops it and empties the log,
which the second test shows.
"""

import asyncio
import logging
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from full_disk import cap_store
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import claim_sync
from unchecked_world import sync_unchecked
from world import world


def _count(db, sql: str) -> object:
    with db.read() as conn:
        return conn.exec_driver_sql(sql).scalar_one()


def _bigger_world() -> dict:
    data = world()
    subscriptions = data["pax8"]["subscriptions"]
    subscriptions += [{**subscriptions[0], "id": f"more-{n}"} for n in range(3000)]
    return data


def test_a_sync_that_fills_the_disk_fails_in_one_line_and_keeps_the_last_good_data(
    tmp_path, caplog
):
    db = open_database(tmp_path / "trueup.sqlite")
    asyncio.run(sync_unchecked(db, world()))
    stored = _count(db, "SELECT group_concat(id || ':' || quantity) FROM pax8_subscription")
    cap_store(db, spare_pages=20)
    with caplog.at_level(logging.DEBUG, logger="trueup"):
        results = asyncio.run(sync_unchecked(db, _bigger_world()))
    pax8 = results["pax8"]
    assert pax8.status == "failed"
    assert "the disk is full" in (pax8.error or "") and "free some space" in (pax8.error or "")
    assert not [r for r in caplog.records if r.exc_info]  # said in one line, no traceback
    assert _count(db, "SELECT count(*) FROM staged_record") == 0
    assert _count(db, f"SELECT status FROM sync_run WHERE id = {pax8.run_id}") == "failed"
    assert _count(db, "SELECT group_concat(id || ':' || quantity) FROM pax8_subscription") == stored
    db.dispose()


def test_the_next_sync_empties_the_log_a_stopped_sync_grew(tmp_path):
    db = open_database(tmp_path / "trueup.sqlite")
    with db.write() as conn:  # a sync on another machine, stopped mid-way, 5 MB staged
        run_id = conn.execute(
            insert(m.table_of(m.SyncRun)).values(
                source="pax8",
                status="running",
                started_at=datetime(2026, 11, 21, tzinfo=UTC),
                pid=1,
                host="gone",
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(m.table_of(m.StagedRecord)),
            [{"run_id": run_id, "entity": "pax8_subscription", "raw": "x" * 1000}] * 5000,
        )
    log = Path(f"{db.path}-wal")
    assert log.stat().st_size > 5_000_000
    claim_sync(db)
    assert _count(db, "SELECT count(*) FROM staged_record") == 0
    assert _count(db, "SELECT status FROM sync_run") == "interrupted"
    assert log.stat().st_size == 0
    db.dispose()


def test_a_reader_on_an_older_snapshot_keeps_the_log_without_freezing_anyone(tmp_path):
    """The workbench holds read snapshots: emptying the log waits half a second, not the 15 s
    a write waits for a lock, and says it did not empty it."""
    db = open_database(tmp_path / "trueup.sqlite")
    with db.write() as conn:
        conn.execute(
            insert(m.table_of(m.LogEvent)),
            [{"at": datetime(2026, 11, 21, tzinfo=UTC), "level": "INFO", "event": "x"}] * 500,
        )
    with db.read() as reader:
        reader.exec_driver_sql("SELECT count(*) FROM log_event").scalar_one()
        with db.write() as conn:  # a commit the reader's snapshot predates
            conn.exec_driver_sql("DELETE FROM log_event")
        started = time.monotonic()
        assert db.empty_log() is False
        assert time.monotonic() - started < 2
    assert db.empty_log() is True and Path(f"{db.path}-wal").stat().st_size == 0
    db.dispose()


def test_a_run_this_process_could_not_close_does_not_block_its_next_sync(tmp_path):
    """A full disk can leave the workbench's own run open: the next `s` recovers it."""
    db = open_database(tmp_path / "trueup.sqlite")
    with db.write() as conn:
        conn.execute(
            insert(m.table_of(m.SyncRun)).values(
                source="pax8",
                status="running",
                started_at=datetime(2026, 11, 21, tzinfo=UTC),
                pid=os.getpid(),
                host=socket.gethostname(),
            )
        )
    claim_sync(db)
    assert _count(db, "SELECT status FROM sync_run") == "interrupted"
    db.dispose()
