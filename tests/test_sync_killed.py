"""A sync killed with SIGKILL mid-fetch: the previous data survives, the next sync recovers."""

import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import claim_sync
from world import changed, world


def _sync(tmp_path, scenario, *extra):
    env = {
        **os.environ,
        "TRUEUP_DB": str(tmp_path / "trueup.sqlite"),
        "TRUEUP_CONFIG": str(tmp_path / "config.toml"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "trueup", "sync", "--sandbox", str(scenario), "--json", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _running(tmp_path):
    db = open_database(tmp_path / "trueup.sqlite")
    try:
        with db.read() as conn:
            runs = m.table_of(m.SyncRun)
            return len(conn.execute(select(runs).where(runs.c.status == "running")).all())
    finally:
        db.dispose()


def test_sigkill_mid_sync_keeps_the_last_good_data(tmp_path):
    first = tmp_path / "first.json"
    first.write_text(json.dumps(world()))
    assert _sync(tmp_path, first).wait(60) == 0

    later = tmp_path / "later.json"
    later.write_text(json.dumps(changed(world())))
    # Half the requests hang past the client's timeout, so the fetch cannot finish before the
    # kill: the process dies mid-fetch, with its runs recorded and some records maybe staged.
    process = _sync(tmp_path, later, "--faults", "slow=0.5,seed=2,slow_seconds=60")
    deadline = time.monotonic() + 30
    while _running(tmp_path) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)

    db = open_database(tmp_path / "trueup.sqlite")
    try:
        with db.read() as conn:
            companies = conn.execute(select(m.table_of(m.Pax8Company).c.name)).scalars().all()
            runs = conn.execute(select(m.table_of(m.SyncRun).c.status)).scalars().all()
        assert "Orphan & Sons" in companies  # deleted in the later world, never applied
        assert "running" in runs
        claim_sync(db)  # what the next sync does first
        with db.read() as conn:
            runs = conn.execute(select(m.table_of(m.SyncRun))).all()
            staged = conn.execute(select(m.table_of(m.StagedRecord))).all()
        assert "running" not in {r.status for r in runs}
        assert any(r.status == "interrupted" and "killed" in r.error for r in runs)
        assert staged == []
    finally:
        db.dispose()
