"""`trueup diff`: exit codes, JSON keys (contract §3), the readable table."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from trueup.cli import app
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from world import ACME, BEAR, M365, SUB_ACME, SUB_AZURE, SUB_BEAR, world

ROW_KEYS = {
    "client_id",
    "client_name",
    "company_id",
    "subscription_id",
    "product_id",
    "sku",
    "pax8_qty",
    "halo_qty",
    "delta",
    "status",
    "unit_price",
    "monthly_impact",
    "currency",
}


def invoke(*args):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-11-21")
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    assert invoke("sync", "--sandbox", str(scenario)).exit_code == 0
    return tmp_path


def map_world(path: Path, companies=((BEAR, 14), (ACME, 12))) -> None:
    database = open_database(path)
    now = datetime.now(UTC)
    with database.write() as conn:
        for company, client in companies:
            conn.execute(
                insert(m.table_of(m.CompanyMapping)).values(
                    company_id=company, client_id=client, created_at=now, created_by="test"
                )
            )
        conn.execute(
            insert(m.table_of(m.ProductMapping)).values(
                product_id=M365, item_id=1000, created_at=now, created_by="test"
            )
        )
    database.dispose()


def test_json_has_the_contract_keys_and_exact_strings(env):
    map_world(env / "trueup.sqlite")
    result = invoke("diff", "--month", "2026-11", "--json")
    assert result.exit_code == 0, result.output
    shape = json.loads(result.stdout)
    assert set(shape) >= {"month", "rows"} and shape["month"] == "2026-11"
    assert all(set(row) == ROW_KEYS for row in shape["rows"])
    rows = {row["subscription_id"]: row for row in shape["rows"]}
    assert set(rows) == {SUB_BEAR, SUB_ACME, SUB_AZURE}  # the cancelled one bills nothing
    bear = rows[SUB_BEAR]
    assert (bear["status"], bear["pax8_qty"], bear["halo_qty"], bear["delta"]) == (
        "under",
        "18.0000",
        "17.0000",
        "-1.0000",
    )
    assert (bear["unit_price"], bear["monthly_impact"], bear["currency"]) == (
        "12.50",
        "-12.50",
        "USD",
    )
    assert (bear["client_id"], bear["client_name"], bear["company_id"]) == (
        14,
        "Bear Creek Winery LLC",
        BEAR,
    )
    assert rows[SUB_ACME]["status"] == "match"
    assert (rows[SUB_AZURE]["status"], rows[SUB_AZURE]["monthly_impact"]) == (
        "missing_in_halo",
        "0.00",
    )


def test_the_month_defaults_to_the_one_trueup_takes_as_today(env):
    map_world(env / "trueup.sqlite")
    assert json.loads(invoke("diff", "--json").stdout)["month"] == "2026-11"
    october = json.loads(invoke("diff", "--month", "2026-10", "--json").stdout)
    bear = next(r for r in october["rows"] if r["subscription_id"] == SUB_BEAR)
    assert (bear["pax8_qty"], bear["status"]) == ("17.0000", "match")


def test_the_table_shows_mismatches_by_client_and_totals(env):
    map_world(env / "trueup.sqlite")
    result = invoke("diff", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Bear Creek Winery LLC" in out and "under" in out and "-12.50" in out
    assert "Acme Dental" in out and "no Halo" in out  # the Azure plan has no item
    assert "USD a month: under-billed 12.50, over-billed 0.00" in out
    assert "1 match hidden" in out
    # Acme's 5 seats of M365 match: hidden unless --all
    assert not any(" match " in line for line in table_lines(out))
    every = invoke("diff", "--month", "2026-11", "--all").stdout
    assert any(" match " in line for line in table_lines(every))
    assert "matches hidden" not in every


def table_lines(out):
    lines = out.splitlines()
    return lines[: next(i for i, line in enumerate(lines) if line.startswith("3 rows:"))]


def test_a_bad_month_is_a_usage_error(env):
    result = invoke("diff", "--month", "2026-13")
    assert result.exit_code == 2
    assert "not a month like 2026-11" in result.stderr and "Traceback" not in result.output


def test_a_bad_today_is_one_line_and_exit_1(env, monkeypatch):
    monkeypatch.setenv("TRUEUP_TODAY", "21/11/2026")
    result = invoke("diff")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "TRUEUP_TODAY" in result.stderr


def test_nothing_mapped_says_so(env):
    result = invoke("diff", "--month", "2026-11")
    assert result.exit_code == 0
    assert result.stdout == "" and "no Pax8 company" in result.stderr
    assert json.loads(invoke("diff", "--month", "2026-11", "--json").stdout)["rows"] == []


def test_a_month_without_mismatches_says_so(env):
    map_world(env / "trueup.sqlite", companies=((BEAR, 14),))
    result = invoke("diff", "--month", "2026-10")  # 17 seats on 31 October, 17 billed
    assert result.exit_code == 0
    assert "no mismatches" in result.stdout and "1 match hidden" in result.stdout


def test_names_with_brackets_print_as_they_are(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-11-21")
    data = world()
    data["halo"]["clients"][1]["name"] = "Bear [bold]Creek[/] [Winery]"
    (tmp_path / "world.json").write_text(json.dumps(data))
    assert invoke("sync", "--sandbox", str(tmp_path / "world.json")).exit_code == 0
    map_world(tmp_path / "trueup.sqlite")
    assert "Bear [bold]Creek[/] [Winery]" in invoke("diff").stdout


def test_a_zero_width_space_in_a_name_is_shown_written_out(tmp_path, monkeypatch):
    """A client synced as "Bear Creek\u200b Winery" printed as "Bear Creek Winery": a second
    client that reads as the first. The table shows the escape; --json keeps the name as
    stored, the same."""
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-11-21")
    data = world()
    data["halo"]["clients"][1]["name"] = "Bear Creek\u200b Winery\u2060"
    (tmp_path / "world.json").write_text(json.dumps(data))
    assert invoke("sync", "--sandbox", str(tmp_path / "world.json")).exit_code == 0
    map_world(tmp_path / "trueup.sqlite")
    out = invoke("diff").stdout
    assert "Bear Creek\\u200b Winery\\u2060" in out
    assert "\u200b" not in out and "\u2060" not in out
    rows = json.loads(invoke("diff", "--json").stdout)["rows"]
    assert "Bear Creek\\u200b Winery\\u2060" in {r["client_name"] for r in rows}


@pytest.mark.parametrize(
    ("today", "config", "month"),
    [
        ("2026-12-06", "", "2026-11"),  # through the 10th: the month being closed is November
        ("2026-12-11", "", "2026-12"),
        ("2026-12-06", "[billing]\nclose_day = 0\n", "2026-12"),
        ("2026-12-20", "[billing]\nclose_day = 25\n", "2026-11"),
    ],
)
def test_the_default_month_is_the_month_being_closed(env, monkeypatch, today, config, month):
    (env / "config.toml").write_text(config)
    monkeypatch.setenv("TRUEUP_TODAY", today)
    shape = json.loads(invoke("diff", "--json").stdout)
    assert shape["month"] == month
    listing = invoke("batch").stdout.splitlines()[0]
    assert listing.startswith("Batch ") and f" · {month} " in listing
