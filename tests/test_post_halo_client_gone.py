"""`trueup post` to Halo for a client Halo no longer has, or has inactive, on the hand-written
world (tests/world.py) served over loopback; Halo is read back through its API."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from test_cli_diff import map_world
from trueup.cli import app, render
from trueup.core.settings.clients import halo_from_settings
from trueup.core.settings.config import load_settings
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background
from world import ACME, BEAR, world


class Recording:
    """The Halo simulator, noting each request's method and path."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.inner(scope, receive, send)


@pytest.fixture
def served(tmp_path, monkeypatch):
    sims = build_simulators(parse_scenario(world()), rate_limits=False)
    halo = Recording(sims.halo)
    with serve_in_background(dataclasses.replace(sims, halo=halo)) as urls:
        values = {
            "TRUEUP_DB": str(tmp_path / "trueup.sqlite"),
            "TRUEUP_CONFIG": str(tmp_path / "config.toml"),
            "TRUEUP_TODAY": "2026-11-21",
            "TRUEUP_PAX8_URL": urls.pax8,
            "TRUEUP_HALO_URL": urls.halo,
            "TRUEUP_HALO_AUTH_URL": urls.halo_auth,
            "TRUEUP_CLIENT_RATE_LIMITS": "off",
        }
        for service in ("PAX8", "HALO"):
            values[f"TRUEUP_{service}_CLIENT_ID"] = "sandbox"
            values[f"TRUEUP_{service}_CLIENT_SECRET"] = "sandbox"
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(render.stdout, "_width", 200)
        assert invoke("sync").exit_code == 0
        yield tmp_path, halo


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def halo_invoices(tmp_path) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with halo_from_settings(load_settings(tmp_path / "config.toml")) as halo:
            return [row async for page in halo.invoices() for row in page]

    return asyncio.run(read())


def approved_over_client_inactive(tmp_path, client: int) -> str:
    """Acme's company mapped to `client`, the month built and approved, CLIENT_INACTIVE (and
    whatever else stands on it) overridden with a reason."""
    map_world(tmp_path / "trueup.sqlite", companies=((BEAR, 14), (ACME, client)))
    body = json.loads(invoke("batch", "--month", "2026-11", "--json").stdout)
    (invoice,) = [i for i in body["invoices"] if i["client_id"] == client]
    codes = {a["code"] for a in invoice["anomalies"] if a["severity"] == "error"}
    codes |= {
        a["code"] for li in invoice["lines"] for a in li["anomalies"] if a["severity"] == "error"
    }
    assert "CLIENT_INACTIVE" in codes
    overrides = [
        arg
        for code in sorted(codes)
        for arg in ("--override", code, "--reason", "billed on purpose")
    ]
    approved = invoke("approve", body["batch_id"], "--client", str(client), *overrides, "--json")
    assert json.loads(approved.stdout)["approved"] == [client], approved.output
    return str(body["batch_id"])


@pytest.mark.parametrize("destination", ["halo-invoice", "halo-recurring"])
def test_a_client_deleted_in_halo_is_refused_before_halo_is_asked(served, destination):
    """From a review: a client Halo no longer lists (CLIENT_INACTIVE, overridden) was posted:
    Halo refused it (a real tenant might hold an invoice for nobody). Now the plan refuses it,
    naming the client and what to do, and no request reaches Halo."""
    tmp_path, halo = served
    batch_id = approved_over_client_inactive(tmp_path, 99)
    before = halo_invoices(tmp_path)
    halo.seen.clear()
    refused = invoke(
        "post", batch_id, "--to", destination, "--client", "99", "--yes", "--unsettled"
    )
    assert refused.exit_code == 1, refused.output
    said = " ".join(refused.stderr.split())
    assert "Halo client 99 is no longer in Halo (deleted or merged" in said
    assert "whatever the override of CLIENT_INACTIVE" in said
    assert "`trueup map set --company PAX8_ID --client HALO_ID`" in said
    assert halo.seen == []  # not even a token
    assert halo_invoices(tmp_path) == before
    assert not [row for row in before if row.get("client_id") == 99]
    journal = json.loads(invoke("journal", batch_id, "--json").stdout)
    assert [e for e in journal if e["client_id"] == 99] == []


def test_a_client_inactive_in_halo_posts_once_overridden(served):
    """An inactive client Halo still has is billed there on the operator's word (Halo keeps
    an offboarded client's record, and the simulator takes an invoice for it)."""
    tmp_path, _ = served
    batch_id = approved_over_client_inactive(tmp_path, 15)
    posted = invoke(
        "post", batch_id, "--to", "halo-invoice", "--client", "15", "--yes", "--unsettled"
    )
    assert posted.exit_code == 0, posted.output
    mine = [row for row in halo_invoices(tmp_path) if row.get("reference") == "TU2611-15"]
    assert [(row["client_id"], row.get("voided", False)) for row in mine] == [(15, False)]
