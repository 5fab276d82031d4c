"""`trueup sync` on a schedule: --quiet, exit codes, the lock, the minimum interval, the log."""

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from store_damage import damage_page_of
from trueup.cli import app
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from trueup.core.sync.lock import exclusive, lock_path
from trueup.core.sync.run import prune_log
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background
from world import world

CREDENTIAL_ENVS = (
    "TRUEUP_PAX8_URL",
    "TRUEUP_HALO_URL",
    "TRUEUP_HALO_AUTH_URL",
    "TRUEUP_PAX8_CLIENT_ID",
    "TRUEUP_PAX8_CLIENT_SECRET",
    "TRUEUP_HALO_CLIENT_ID",
    "TRUEUP_HALO_CLIENT_SECRET",
    "TRUEUP_TODAY",
)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    for name in CREDENTIAL_ENVS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "world.json").write_text(json.dumps(world()))
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def sandbox_sync(env, *extra):
    return invoke("sync", "--sandbox", str(env / "world.json"), *extra)


def entries(env):
    db = open_database(env / "trueup.sqlite")
    try:
        return read_log(db, limit=1000)
    finally:
        db.dispose()


def test_quiet_success_prints_nothing_at_all(env):
    result = sandbox_sync(env, "--quiet")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def test_quiet_failure_is_one_line_on_stderr_and_exit_1(env, monkeypatch):
    sims = build_simulators(parse_scenario(world()))
    with serve_in_background(sims) as urls:
        for name, value in {
            "TRUEUP_PAX8_URL": urls.pax8,
            "TRUEUP_HALO_URL": urls.halo,
            "TRUEUP_HALO_AUTH_URL": urls.halo_auth,
            "TRUEUP_PAX8_CLIENT_ID": "sandbox",
            "TRUEUP_PAX8_CLIENT_SECRET": "sandbox",
            "TRUEUP_HALO_CLIENT_ID": "sandbox",
            "TRUEUP_HALO_CLIENT_SECRET": "not-the-secret",
        }.items():
            monkeypatch.setenv(name, value)
        result = invoke("sync", "--quiet")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: sync failed: HaloPSA failed:")
    assert "not-the-secret" not in result.output
    failed = next(e for e in entries(env) if e["event"] == "halo sync failed")
    assert (
        failed["level"] == "ERROR"
        and "rejected the client id or secret" in failed["details"]["error"]
    )
    assert failed["details"]["duration_ms"] >= 0


def test_quiet_configuration_error_is_one_line_too(env):
    result = invoke("sync", "--quiet")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "trueup connect pax8" in result.stderr


def test_quiet_and_json_together_is_bad_usage(env):
    assert sandbox_sync(env, "--quiet", "--json").exit_code == 2


def test_the_exit_codes_are_documented_in_help(env):
    text = " ".join(invoke("sync", "--help").stdout.split())
    for code in ("0", "1", "2", "3", "4"):
        assert f"{code} " in text
    assert "sync in progress" in text and "min_interval_minutes" in text


def test_json_is_one_document_even_when_the_sync_is_skipped_or_cannot_start(env):
    """From an operations pass: `--json` printed nothing when the sync was skipped."""
    (env / "config.toml").write_text("[sync]\nmin_interval_minutes = 60\n")
    assert sandbox_sync(env, "--quiet").exit_code == 0
    too_soon = sandbox_sync(env, "--json")
    assert too_soon.exit_code == 4
    said = json.loads(too_soon.stdout)
    assert (said["ok"], said["skipped"], said["reason"], said["sources"]) == (
        True, True, "too_soon", []
    )  # fmt: skip
    assert "min_interval_minutes = 60" in said["message"] and "--force" in said["message"]
    with exclusive(lock_path(env / "trueup.sqlite")):
        busy = sandbox_sync(env, "--json", "--force")
    assert busy.exit_code == 3
    said = json.loads(busy.stdout)
    assert (said["skipped"], said["reason"]) == (True, "in_progress")
    assert said["message"].startswith("sync in progress")
    synced = json.loads(sandbox_sync(env, "--json", "--force").stdout)
    assert (synced["ok"], synced["skipped"], synced["reason"]) == (True, False, None)
    assert [s["source"] for s in synced["sources"]] == ["pax8", "halo"]
    (env / "config.toml").write_text("")
    failed = invoke("sync", "--json")  # nothing configured
    assert failed.exit_code == 1
    said = json.loads(failed.stdout)
    assert (said["ok"], said["skipped"], said["sources"]) == (False, False, [])
    assert "trueup connect pax8" in said["error"] and "trueup connect pax8" in failed.stderr


def test_a_sync_within_the_minimum_interval_is_skipped_unless_forced(env):
    (env / "config.toml").write_text("[sync]\nmin_interval_minutes = 60\n")
    assert sandbox_sync(env).exit_code == 0
    skipped = sandbox_sync(env)
    assert skipped.exit_code == 4
    assert "min_interval_minutes = 60" in skipped.stderr and "--force" in skipped.stderr
    quiet = sandbox_sync(env, "--quiet")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (4, "", "")
    runs_before = len([e for e in entries(env) if e["event"] == "pax8 sync completed"])
    assert sandbox_sync(env, "--force", "--quiet").exit_code == 0
    runs_after = len([e for e in entries(env) if e["event"] == "pax8 sync completed"])
    assert runs_after == runs_before + 1


def test_the_interval_counts_from_the_last_good_sync_of_both_sources(env):
    (env / "config.toml").write_text("[sync]\nmin_interval_minutes = 60\n")
    assert sandbox_sync(env).exit_code == 0
    db = open_database(env / "trueup.sqlite")
    try:
        runs = m.table_of(m.SyncRun)
        with db.write() as conn:  # Halo last succeeded two hours ago: a sync is due
            conn.execute(
                runs.update()
                .where(runs.c.source == "halo")
                .values(ended_at=datetime.now(UTC) - timedelta(hours=2))
            )
    finally:
        db.dispose()
    assert sandbox_sync(env, "--quiet").exit_code == 0


def test_a_sync_logs_start_completion_with_counts_per_entity_and_duration(env):
    assert sandbox_sync(env, "--quiet").exit_code == 0
    log = entries(env)
    events = {e["event"]: e for e in log}
    assert {"pax8 sync started", "halo sync started"} <= set(events)
    done = events["pax8 sync completed"]["details"]
    assert done["duration_ms"] >= 0
    assert done["entities"]["pax8_subscription"]["created"] == 4
    assert set(done["entities"]["pax8_subscription"]) >= {"created", "updated", "failed"}
    assert done["created"] == sum(c["created"] for c in done["entities"].values())


def _add_entry(db, days_old, event):
    with db.write() as conn:
        conn.execute(
            insert(m.table_of(m.LogEvent)).values(
                at=datetime.now(UTC) - timedelta(days=days_old),
                level="INFO",
                event=event,
                details="{}",
            )
        )


def test_log_entries_older_than_the_retention_are_deleted_at_the_end_of_a_sync(env):
    (env / "config.toml").write_text("[log]\nretention_days = 30\n")
    db = open_database(env / "trueup.sqlite")
    try:
        _add_entry(db, 45, "old")
        _add_entry(db, 20, "recent")
    finally:
        db.dispose()
    assert sandbox_sync(env, "--quiet").exit_code == 0
    events = {e["event"] for e in entries(env)}
    assert "recent" in events and "old" not in events


def test_retention_is_90_days_by_default_and_never_under_30(tmp_path):
    db = open_database(tmp_path / "trueup.sqlite")
    try:
        for days in (100, 60, 25):
            _add_entry(db, days, f"{days} days")
        assert prune_log(db, 90) == 1
        assert prune_log(db, 7) == 1  # clamped to 30
        with db.read() as conn:
            left = conn.execute(select(m.table_of(m.LogEvent).c.event)).scalars().all()
        assert left == ["25 days"]
    finally:
        db.dispose()


def test_a_retention_under_30_days_is_a_config_error(env):
    (env / "config.toml").write_text("[log]\nretention_days = 7\n")
    result = sandbox_sync(env)
    assert result.exit_code == 1
    assert "[log] retention_days must be between 30 and 36600" in result.stderr


def test_a_damaged_store_is_refused_before_anything_is_synced_into_it(env):
    """From an operations pass: the doctor found the store corrupt, yet a sync applied Halo's
    answer into it (Pax8's failed 'malformed')."""
    assert sandbox_sync(env, "--quiet").exit_code == 0
    path = env / "trueup.sqlite"
    damage_page_of(path, "sqlite_autoindex_pax8_company_1")
    before = path.read_bytes()
    result = sandbox_sync(env, "--force")
    assert result.exit_code == 1 and result.stdout == ""
    said = " ".join(result.stderr.split())
    assert said.startswith(f"error: {path} is damaged (SQLite found: Page ")
    assert "so nothing was synced into it: `trueup doctor` examines it" in said
    assert "no backup of it exists" in said
    assert path.read_bytes() == before


# -- two processes ---------------------------------------------------------------------------


def _process(env, *extra):
    variables = {
        **os.environ,
        "TRUEUP_DB": str(env / "trueup.sqlite"),
        "TRUEUP_CONFIG": str(env / "config.toml"),
    }
    command = [sys.executable, "-m", "trueup", "sync", "--sandbox", str(env / "world.json")]
    return subprocess.Popen(
        [*command, "--quiet", *extra],
        env=variables,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ok_runs(env):
    db = open_database(env / "trueup.sqlite")
    try:
        runs = m.table_of(m.SyncRun)
        with db.read() as conn:
            return conn.execute(select(runs).where(runs.c.status == "ok")).all()
    finally:
        db.dispose()


def _runs(env):
    db = open_database(env / "trueup.sqlite")
    try:
        with db.read() as conn:
            return conn.execute(select(m.table_of(m.SyncRun))).all()
    finally:
        db.dispose()


def test_a_second_sync_while_one_runs_says_sync_in_progress_and_exits_3(env):
    # Every request of the first hangs: it holds the lock however slowly the second starts.
    first = _process(env, "--faults", "slow=1,slow_seconds=600,seed=1")
    try:
        lock = lock_path(env / "trueup.sqlite")
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
            assert time.monotonic() < deadline and first.poll() is None, first.communicate()
            time.sleep(0.02)
        second = _process(env)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 3, err
        assert out == "" and err.startswith("sync in progress") and f"pid {first.pid}" in err
        assert {r.pid for r in _runs(env)} == {first.pid}  # the second started nothing
        skipped = [e for e in entries(env) if e["event"] == "sync skipped"]
        assert skipped and "in progress" in skipped[0]["details"]["reason"]
    finally:
        first.kill()
        first.communicate()


def test_syncs_started_together_never_overlap(env):
    processes = [_process(env, "--faults", "slow=0.5,slow_seconds=0.1,seed=3") for _ in range(3)]
    codes = [p.wait(120) for p in processes]
    assert set(codes) <= {0, 3} and 0 in codes
    spans = {}
    for run in _ok_runs(env):
        start, end = spans.get(run.pid, (run.started_at, run.ended_at))
        spans[run.pid] = (min(start, run.started_at), max(end, run.ended_at))
    ordered = sorted(spans.values())
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(ordered))
    assert len(spans) == codes.count(0)
