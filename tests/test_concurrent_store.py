"""Two processes on one store: a command that only reads never waits for another's write (WAL
lets it read the last commit), and what must wait says so in one line."""

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import closing

import pytest

from other_process import posting_elsewhere, writing_elsewhere
from trueup.core.posting.run import PostingBusyError, posting_lock
from trueup.core.store.backup import backup_database
from trueup.core.store.database import BUSY_TIMEOUT_MS, open_database
from trueup.core.store.watch import StoreWatcher
from trueup.core.sync.lock import LockHeld, exclusive, lock_path
from world import world


def _trueup(db, *args, timeout):
    env = {**os.environ, "TRUEUP_DB": str(db), "TRUEUP_CONFIG": str(db.parent / "none.toml")}
    return subprocess.run(
        [sys.executable, "-m", "trueup", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_read_goes_on_while_another_process_writes(tmp_path):
    """`trueup status` while a sync applied its answer waited the whole busy timeout for the
    write lock the opening of the store took (nothing to migrate), then failed 'is busy:
    another trueup is writing to it'."""
    db = tmp_path / "trueup.sqlite"
    open_database(db).dispose()
    with writing_elsewhere(db):
        started = time.monotonic()
        done = _trueup(db, "status", "--json", timeout=BUSY_TIMEOUT_MS / 1000 + 10)
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert took < BUSY_TIMEOUT_MS / 2000, took


def test_a_store_in_a_folder_named_with_hash_question_mark_or_percent_is_that_file(tmp_path):
    """SQLite and SQLAlchemy read a path as a URI: a store under 'c?d' was written to the file
    'c' (0644, open to every user), one under 'e%41f' could not be opened, and under
    'Billing #2' the backups and the workbench's watcher opened (and created) the empty file
    'Billing ' instead: every backup before posting was an empty database."""
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    for folder in ("Billing #2", "c?d", "e%41f"):
        db = tmp_path / folder / "trueup.sqlite"
        db.parent.mkdir()
        done = _trueup(db, "sync", "--sandbox", str(scenario), "--quiet", timeout=120)
        assert done.returncode == 0, done.stderr
        assert _clients(db) > 0
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        store = open_database(db)
        try:
            backup = backup_database(store, "posting")
            watcher = StoreWatcher(store)
            assert (
                _trueup(db, "sync", "--sandbox", str(scenario), "--force", timeout=120).returncode
                == 0
            )
            assert watcher.changed()  # the other process's commit is seen
            watcher.close()
        finally:
            store.dispose()
        assert _clients(backup) == _clients(db)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Billing #2",
        "c?d",
        "e%41f",
        "world.json",
    ]


def _clients(path):
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT count(*) FROM halo_client").fetchone()[0]


def test_a_store_reached_through_a_link_is_locked_as_the_same_store(tmp_path):
    """The lock files were named after the path given: a post (or sync) through a link to the
    store ran beside one on the store itself."""
    real = tmp_path / "real" / "trueup.sqlite"
    real.parent.mkdir()
    open_database(real).dispose()
    (tmp_path / "other").mkdir()
    link = tmp_path / "other" / "billing.sqlite"
    link.symlink_to(real)
    linked = open_database(link)
    try:
        with posting_elsewhere(real), pytest.raises(PostingBusyError), posting_lock(linked):
            pass
    finally:
        linked.dispose()
    with exclusive(lock_path(real)), pytest.raises(LockHeld), exclusive(lock_path(link)):
        pass
