"""An export named like the store (one tab away: trueup.sqlite beside mappings.toml) is refused:
written over, the store would be a TOML file and every client's billing gone."""

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from trueup.cli import app
from trueup.core.store.replaced import write_private
from world import world


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "trueup.sqlite"
    monkeypatch.setenv("TRUEUP_DB", str(path))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2025-08-04")
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    assert invoke("sync", "--sandbox", str(scenario), "--json").exit_code == 0
    assert invoke("map", "accept").exit_code == 0  # a month with invoices to export
    return path


def invoke(*args):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize(
    "command",
    [
        ("map", "export"),
        ("rules", "export"),
        ("qbo", "tax", "export"),
        ("export", "--month", "2025-07", "--format", "xlsx", "--out"),
    ],
)
def test_an_export_over_the_store_is_refused_and_the_store_kept(store, command):
    result = invoke(*command, str(store))
    assert result.exit_code == 1, result.output
    assert "a SQLite file (a trueup store or its backup?): not written over" in result.output
    assert "Traceback" not in result.output
    assert store.read_bytes().startswith(b"SQLite format 3\x00")
    status = json.loads(invoke("status", "--json").stdout)  # the store opens, whole
    assert status["entities"]["pax8_subscription"] > 0


def test_a_backup_or_a_write_ahead_log_is_not_written_over_either(tmp_path):
    backup = tmp_path / "backup.sqlite"
    sqlite3.connect(backup).execute("create table t (x)").connection.commit()
    log = tmp_path / "trueup.sqlite-wal"
    log.write_bytes(b"\x37\x7f\x06\x82" + bytes(28))
    for path in (backup, log):
        before = path.read_bytes()
        with pytest.raises(FileExistsError, match="not written over"):
            write_private(path, "version = 1\n")
        assert path.read_bytes() == before
    plain = tmp_path / "mappings.toml"  # a file of our own is replaced as ever
    plain.write_text("old")
    write_private(plain, "new")
    assert plain.read_text() == "new"
