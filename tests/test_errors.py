"""One error base: every failure a user can act on is a TrueupError, and both fronts show it as
its one line; anything else is shown as the bug it is."""

import importlib
import inspect
import pkgutil

import pytest
from typer.testing import CliRunner

import trueup
from trueup.cli import app
from trueup.core.errors import TrueupError
from trueup.core.store.database import open_database
from trueup.tui.formatting import error_text

# Raised and caught inside trueup, never shown as they are: a bad record becomes a rejected-record
# log entry, a bad cell of an imported file one of the file's listed problems, a renamed column
# with no field a config error; the sandbox's own are answered as HTTP errors by the simulators.
INTERNAL = {
    "trueup.core.sync.records.RecordError",
    "trueup.core.sources.files.cells.CellError",
    "trueup.core.sources.files.columns.ColumnsError",
    "trueup.sandbox.pax8_query.Pax8Error",
    "trueup.sandbox.halo_store.HaloError",
    "trueup.sandbox.qbo_query.QueryError",
    "trueup.sandbox.xero_where.WhereError",
    "trueup.sandbox.xero_wire.XeroError",
}


def _error_classes():
    for info in pkgutil.walk_packages(trueup.__path__, "trueup."):
        if info.name.startswith(("trueup.tui", "trueup.cli")) or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == info.name and name.endswith("Error"):
                yield f"{info.name}.{name}", cls


def test_every_error_a_user_can_meet_is_a_trueup_error():
    errors = dict(_error_classes())
    assert len(errors) > 15  # the walk found the core's and the sandbox's errors
    outside = sorted(n for n, c in errors.items() if not issubclass(c, TrueupError))
    assert outside == sorted(INTERNAL)


def _status_raising(monkeypatch, tmp_path, error):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("TRUEUP_DEBUG", raising=False)
    open_database(tmp_path / "trueup.sqlite").dispose()  # status reads a store, never makes one

    def status(self):
        raise error

    monkeypatch.setattr("trueup.core.service.syncing.Syncing.status", status)
    return CliRunner().invoke(app, ["status"])


def test_the_cli_shows_a_trueup_error_as_its_line(monkeypatch, tmp_path):
    class Odd(TrueupError):
        pass

    result = _status_raising(monkeypatch, tmp_path, Odd("the store is odd; run trueup doctor"))
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("the store is odd; run trueup doctor")
    assert "unexpected" not in result.stderr and "Traceback" not in result.output


def test_the_cli_calls_anything_else_unexpected(monkeypatch, tmp_path):
    result = _status_raising(monkeypatch, tmp_path, KeyError("counts"))
    assert result.exit_code == 1
    assert "unexpected KeyError" in result.stderr and "TRUEUP_DEBUG=1" in result.stderr


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (TrueupError("no batch abc; `trueup batch --month YYYY-MM` builds one"), "no batch abc"),
        (PermissionError(13, "Permission denied"), "Permission denied"),
        (KeyError("counts"), "unexpected KeyError: 'counts'"),
    ],
)
def test_the_workbench_shows_the_same_line(error, shown):
    assert error_text(error).startswith(shown) or shown in error_text(error)


@pytest.mark.parametrize(
    "args",
    [
        ["month"],
        ["batches"],
        ["batch", "--month", "2026-11"],
        ["approve", "2026-11"],
        ["post", "2026-11", "--yes"],
        ["summary"],
        ["diff", "--month", "2026-11"],
        # From an operations pass: these made an empty store and read it as "none".
        ["unmapped"],
        ["map", "suggest"],
        ["map", "set", "--company", "c1", "--client", "12"],
        ["rules", "show"],
        ["xero", "unmapped"],
    ],
)
def test_a_mistyped_store_is_named_not_made_empty(tmp_path, monkeypatch, args):
    """A --db that names no store read as an empty month ("0 clients"), and approve and post
    did nothing with exit 0, leaving an empty file behind: now it is said, and nothing is made."""
    monkeypatch.setenv("TRUEUP_TODAY", "2026-12-06")
    missing = tmp_path / "typo" / "store.sqlite"
    result = CliRunner().invoke(app, ["--db", str(missing), *args])
    assert result.exit_code == 1, result.output
    assert f"no store at {missing}" in " ".join(result.output.split())
    assert not missing.parent.exists()


def test_a_store_that_is_no_file_is_named(monkeypatch):
    """--db /dev/null read as SQLite's "disk I/O error"."""
    monkeypatch.setenv("TRUEUP_TODAY", "2026-12-06")
    result = CliRunner().invoke(app, ["--db", "/dev/null", "status"])
    assert result.exit_code == 1
    assert "/dev/null is not a regular file; give --db a file name" in result.output


def test_an_interrupt_says_how_to_read_the_log_of_the_store_it_was_on(monkeypatch, tmp_path):
    result = _status_raising(monkeypatch, tmp_path, KeyboardInterrupt())
    assert result.exit_code == 130
    assert "`trueup log` lists what finished" in result.stderr  # TRUEUP_DB: a bare log reads it

    other = tmp_path / "other store.sqlite"
    open_database(other).dispose()
    monkeypatch.delenv("TRUEUP_DB")
    result = CliRunner().invoke(app, ["--db", str(other), "status"])
    assert result.exit_code == 130
    assert f"`trueup --db '{other}' log` lists what finished" in result.stderr
