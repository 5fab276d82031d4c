"""`trueup map create-item` on the demo served over loopback: what it will create is shown and
confirmed first (or `--yes`), the item is then in Halo, read back through its API, and the
product no longer unmapped."""

from __future__ import annotations

import asyncio
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueup.cli import app, render
from trueup.core.settings.clients import halo_from_settings
from trueup.core.settings.config import load_settings
from trueup.sandbox.scenario import load_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"


def environment(served, workdir: Path) -> dict[str, str]:
    values = {
        "TRUEUP_DB": str(workdir / "trueup.sqlite"),
        "TRUEUP_CONFIG": str(workdir / "config.toml"),
        "TRUEUP_TODAY": "2026-11-21",
        "TRUEUP_PAX8_URL": served.pax8,
        "TRUEUP_HALO_URL": served.halo,
        "TRUEUP_HALO_AUTH_URL": served.halo_auth,
        "TRUEUP_CLIENT_RATE_LIMITS": "off",
    }
    for service in ("PAX8", "HALO"):
        values[f"TRUEUP_{service}_CLIENT_ID"] = "sandbox"
        values[f"TRUEUP_{service}_CLIENT_SECRET"] = "sandbox"
    return values


@pytest.fixture(scope="module")
def served():
    sims = build_simulators(load_scenario(DEMO), rate_limits=False)
    with serve_in_background(sims) as urls:
        yield urls


@pytest.fixture(scope="module")
def synced(served, tmp_path_factory):
    """The demo synced once; each test works on a copy."""
    workdir = tmp_path_factory.mktemp("synced")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment(served, workdir).items():
            patch.setenv(name, value)
        assert invoke("sync").exit_code == 0
    return workdir / "trueup.sqlite"


@pytest.fixture
def env(served, synced, tmp_path, monkeypatch):
    shutil.copy(synced, tmp_path / "trueup.sqlite")
    for name, value in environment(served, tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(render.stdout, "_width", 200)
    return tmp_path


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def unmapped(name: str) -> dict:
    result = invoke("unmapped", "--json")
    assert result.exit_code == 0, result.output
    products = json.loads(result.stdout)["products"]
    return next(p for p in products if p["name"] == name)


def halo_items(workdir: Path, sku: str) -> list[dict]:
    async def read() -> list[dict]:
        async with halo_from_settings(load_settings(workdir / "config.toml")) as halo:
            return [row async for page in halo.items() for row in page]

    return [row for row in asyncio.run(read()) if row.get("supplier_part_code") == sku]


def test_it_shows_what_it_creates_and_asks_first(env, monkeypatch) -> None:
    monkeypatch.setattr("trueup.cli.item_create._interactive", lambda: True)
    product = unmapped("Power BI Pro")
    declined = invoke("map", "create-item", "--product", product["product_id"], input="n\n")
    assert declined.exit_code == 1
    assert "Create in HaloPSA the item Power BI Pro" in declined.stderr
    assert "supplier part code  MST-PBI-PRO-C100" in declined.stderr
    assert "cost                11.90 USD a month (Pax8 partner cost)" in declined.stderr
    assert "price               14.00 USD a month (Pax8 price)" in declined.stderr
    assert "Create it? [y/N]" in declined.stderr
    assert "error: not confirmed: nothing was created" in declined.stderr
    assert halo_items(env, "MST-PBI-PRO-C100") == []

    accepted = invoke("map", "create-item", "--product", product["product_id"], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    (item,) = halo_items(env, "MST-PBI-PRO-C100")
    assert (item["name"], item["recurringprice"], item["recurringcost"]) == (
        "Power BI Pro",
        Decimal("14.00"),
        Decimal("11.90"),
    )
    assert f"created Halo item {item['id']} (Power BI Pro) and mapped Power BI Pro" in (
        accepted.stderr
    )
    assert "Power BI Pro" not in {p["name"] for p in unmapped_products()}


def test_yes_creates_without_asking_even_without_a_terminal(env) -> None:
    product = unmapped("Duo Essentials")
    asked = invoke("map", "create-item", "--product", product["product_id"])
    assert asked.exit_code == 1
    assert "run it in a terminal to confirm, or add --yes" in asked.stderr
    done = invoke("map", "create-item", "--product", product["product_id"], "--yes")
    assert done.exit_code == 0, done.output
    assert len(halo_items(env, "DUO-ESS")) == 1
    again = invoke("map", "create-item", "--product", product["product_id"], "--yes")
    assert again.exit_code == 1 and "already billed as Halo item" in again.stderr
    assert len(halo_items(env, "DUO-ESS")) == 1


def test_an_unknown_product_exits_1_with_one_line(env) -> None:
    result = invoke("map", "create-item", "--product", "no-such-product", "--yes")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: unknown Pax8 product no-such-product: sync, or check the id"
    )


def unmapped_products() -> list[dict]:
    result = invoke("unmapped", "--json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout)["products"])


def test_a_price_given_is_shown_sent_and_read_back(env) -> None:
    product = unmapped("Intermedia SecuriSync")
    done = invoke(
        "map", "create-item", "--product", product["product_id"], "--price", "19.50", "--yes"
    )
    assert done.exit_code == 0, done.output
    assert "price               19.50 USD a month (price given)" in done.stderr
    (item,) = halo_items(env, "INT-SSY")
    assert item["recurringprice"] == Decimal("19.50")
    refused = invoke("map", "create-item", "--product", product["product_id"], "--price", "x")
    assert refused.exit_code == 1
    assert refused.stderr == "error: price 'x' is not an amount, like 12.50\n"
