"""`trueup sync` says the warnings its run logged, which reached only the log before: an invoice
whose stored items did not add up to its total (read again, c21613f) is named under Pax8's line,
in `--json` as the source's "warnings", and by `--quiet` (cron mails what it prints). Driven
through the simulator as tests/test_sync_short_items does: the demo synced, its big invoice cut
short, then synced again."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from test_sync_faults import BIG_INVOICE
from test_sync_short_items import DEMO, keep_only, stored_items
from trueup.cli import app
from trueup.core.store.database import open_database

READ_AGAIN = "stored ones do not add up to their invoice's total, read again"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    for name in ("TRUEUP_TODAY", "TRUEUP_PAX8_CLIENT_ID", "TRUEUP_HALO_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def sync(*args):
    return CliRunner().invoke(app, ["sync", "--sandbox", str(DEMO), "--force", *args])


def cut_short(env, kept=400):
    """The store as a sync before c440920 could leave it: the big invoice with `kept` items."""
    db = open_database(env / "trueup.sqlite")
    try:
        keep_only(db, stored_items(db)[:kept])
    finally:
        db.dispose()


@pytest.fixture
def short(env):
    first = sync("--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["ok"] is True
    cut_short(env)
    return env


def test_sync_names_the_invoice_read_again_under_pax8(short):
    result = sync()
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    at = lines.index("Pax8: 1 warning (trueup log --level warning has them)")
    assert READ_AGAIN in lines[at + 1] and f"{BIG_INVOICE} (400 items adding up to" in lines[at + 1]
    assert "against its total 138102.28)" in lines[at + 1]
    # Healed: the next sync reads nothing again and says nothing.
    again = sync()
    assert again.exit_code == 0 and "warning" not in again.stderr


def test_sync_json_has_the_runs_warnings_per_source(short):
    result = sync("--json")
    assert result.exit_code == 0, result.output
    sources = {s["source"]: s for s in json.loads(result.stdout)["sources"]}
    (warning,) = sources["pax8"]["warnings"]
    assert READ_AGAIN in warning["event"] and warning["details"]["count"] == 1
    assert BIG_INVOICE in warning["message"] and BIG_INVOICE in warning["details"]["invoices"]
    assert sources["halo"]["warnings"] == []
    # The next run's are its own: the warning logged before is not said again.
    assert json.loads(sync("--json").stdout)["sources"][0]["warnings"] == []


def test_sync_quiet_says_the_warnings_and_exits_0(short):
    result = sync("--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert BIG_INVOICE in result.stderr and READ_AGAIN in result.stderr
    assert sync("--quiet").stderr == ""  # healed: cron stays silent


def test_a_sources_warnings_are_shown_ten_and_counted_beyond(capsys):
    from trueup.cli import render
    from trueup.core.service.syncing import SourceResult
    from trueup.core.sync.run import SyncWarning

    said = [
        SyncWarning(n, "2026-11-21T00:00:00Z", "companies: record skipped", {"reason": f"r{n}"})
        for n in range(12)
    ]
    render.sync_warnings(SourceResult("pax8", "ok", 1, 0.1, warnings=said))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "Pax8: 12 warnings (trueup log --level warning has them)"
    assert lines[1] == "  companies: record skipped — r0"
    assert lines[10:] == ["  companies: record skipped — r9", "  and 2 more"]


async def test_the_workbenchs_sync_line_counts_the_warnings():
    from textual.app import App

    from trueup.core.service.syncing import SourceResult
    from trueup.core.sync.run import SyncWarning
    from trueup.tui.widgets.sync_progress import SyncProgress

    class Shown(App[None]):
        def compose(self):
            yield SyncProgress()

    warned = [SyncWarning(1, "2026-11-21T00:00:00Z", "invoice items: read again", {})]
    async with Shown().run_test() as pilot:
        progress = pilot.app.query_one(SyncProgress)
        progress.finish(
            [
                SourceResult("pax8", "ok", 1, 1.0, requests=5, warnings=warned),
                SourceResult("halo", "ok", 2, 1.0, requests=7),
            ]
        )
        assert str(progress.query_one("#what-pax8").content) == (
            "done in 1.0 s, 5 requests, 1 warning (Logs, 8)"
        )
        assert str(progress.query_one("#what-halo").content) == "done in 1.0 s, 7 requests"
