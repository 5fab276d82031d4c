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
