"""Months trueup can bill: from February 2000 up to next month. Anything else is one line (exit
2 for a flag), never a traceback, and nothing is built or stored for it."""

import pytest
from typer.testing import CliRunner

from trueup.cli import app
from trueup.core.store.database import open_database


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-11-21")
    return tmp_path


@pytest.mark.parametrize(
    ("month", "said"),
    [
        ("9999-12", "'9999-12' is outside the years trueup bills (2000-9998)"),
        ("1999-01", "'1999-01' is outside the years trueup bills (2000-9998)"),
        # Its month before is out of the years: said of the month given, not of 1999-12.
        ("2000-01", "2000-01 is before 2000-02, the first month trueup bills"),
        ("2027-01", "2027-01 is after next month (2026-12)"),
        ("2026-13", "'2026-13' is not a month like 2026-11"),
        # From a boundary review: read as 2026-10, it was said to be after next month.
        ("２０２６-10", "'２０２６-10' is not a month like 2026-11"),
    ],
)
@pytest.mark.parametrize("command", ["batch", "diff", "month", "export", "summary"])
def test_a_month_out_of_reach_is_refused_in_one_line(env, command, month, said):
    result = CliRunner().invoke(app, [command, "--month", month])
    assert result.exit_code == 2
    assert said in " ".join(result.stderr.replace("│", " ").split())
    assert "Traceback" not in result.output
    assert not (env / "trueup.sqlite").exists()  # nothing opened, nothing stored


def test_next_month_is_in_reach(env):
    open_database(env / "trueup.sqlite").dispose()  # an empty store: `month` names a missing one
    result = CliRunner().invoke(app, ["month", "--month", "2026-12", "--json"])
    assert result.exit_code == 0, result.output


def test_a_today_outside_the_years_is_one_line(env, monkeypatch):
    monkeypatch.setenv("TRUEUP_TODAY", "0001-01-01")
    result = CliRunner().invoke(app, ["month"])
    assert result.exit_code == 1
    assert "TRUEUP_TODAY='0001-01-01' is outside the years trueup bills" in result.stderr


def test_an_empty_month_says_what_to_do_first(env):
    open_database(env / "trueup.sqlite").dispose()  # nothing mapped: no client to bill
    result = CliRunner().invoke(app, ["month", "--month", "2026-11"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "0 clients: none" in said and "`trueup map suggest`, then `trueup map accept`" in said
