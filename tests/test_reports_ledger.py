"""The reports told against the month ledger in each of its states: what `trueup export`,
`trueup evidence` and `trueup summary` say of a month with nothing in it, posted, voided,
posted again and adjusted."""

from typer.testing import CliRunner

from trueup.cli import app
from trueup.core.store.database import open_database


def test_an_empty_store_has_nothing_to_export_and_no_file_is_written(tmp_path, monkeypatch):
    """`trueup export` (and `E`, through the same service) on a store with no client wrote a
    workbook of empty sheets, which reads as a month that billed nothing."""
    open_database(tmp_path / "store.sqlite").dispose()
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-12-06")
    monkeypatch.chdir(tmp_path)
    for fmt in ("xlsx", "csv"):
        done = CliRunner().invoke(app, ["export", "--format", fmt])
        assert done.exit_code == 1
        said = " ".join(done.stderr.split())
        assert said.startswith("error: nothing to export for 2026-11: no client has an invoice")
        assert "`trueup map suggest`" in said and "Traceback" not in done.output
        assert done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]
