"""Two processes on one store: a command that only reads never waits for another's write (WAL
lets it read the last commit), and what must wait says so in one line."""

import os
import subprocess
import sys
import time

from other_process import writing_elsewhere
from trueup.core.store.database import BUSY_TIMEOUT_MS, open_database


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
