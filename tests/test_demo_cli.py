"""`trueup demo` with no terminal (scripts, CI): the bundled Partner Center file imported beside
the Pax8 sync, once (a second demo changes nothing), and the status counting it apart."""

import json

from typer.testing import CliRunner

from trueup.cli import app


def test_the_demo_imports_its_partner_center_file_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    store = str(tmp_path / "demo.sqlite")
    first = CliRunner().invoke(app, ["--db", store, "demo"])
    assert first.exit_code == 0, first.output
    assert "Imported demo-partner-center.csv (Partner Center): 10 rows" in first.stderr
    again = CliRunner().invoke(app, ["--db", store, "demo"])
    assert "Imported demo-partner-center.csv (Partner Center): nothing changed" in again.stderr
    status = CliRunner().invoke(app, ["--db", store, "status", "--json"])
    imported = json.loads(status.stdout)["imported"]
    assert imported and "partner-center" in json.dumps(imported)


def test_the_demo_never_writes_into_the_store_trueup_db_names(tmp_path, monkeypatch):
    # TRUEUP_DB is set for the real store: the demo keeps to its own file (--db alone moves it).
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "real.sqlite"))
    done = CliRunner().invoke(app, ["demo"])
    assert done.exit_code == 0, done.output
    assert "The demo keeps to its own store; TRUEUP_DB is left alone." in done.stderr
    assert not (tmp_path / "real.sqlite").exists()
    assert (tmp_path / "data" / "trueup" / "demo.sqlite").exists()


def test_an_empty_trueup_db_is_refused_not_read_as_the_default_store(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("TRUEUP_DB", "")
    refused = CliRunner().invoke(app, ["status"])
    assert refused.exit_code == 2
    assert "TRUEUP_DB: is set but empty" in " ".join(refused.output.replace("│", " ").split())
    assert not (tmp_path / "data").exists()
