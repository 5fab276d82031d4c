"""`trueup post` to Halo on the hand-written world (tests/world.py) served over loopback: a
client Halo no longer has, or has inactive, and what Halo says back; Halo is read back through
its API."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest
from starlette.responses import JSONResponse
from typer.testing import CliRunner

from test_cli_diff import map_world
from trueup.cli import app, render
from trueup.core.settings.clients import halo_from_settings
from trueup.core.settings.config import load_settings
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background
from world import ACME, BEAR, world


class Recording:
    """The Halo simulator, noting each request's method and path; with `refusal` set, a POST
    /api/Invoice is answered 400 with that body instead."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str]] = []
        self.refusal: dict[str, Any] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
            if self.refusal and (scope["method"], scope["path"]) == ("POST", "/api/Invoice"):
                await JSONResponse(self.refusal, status_code=400)(scope, receive, send)
                return
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


def test_halos_words_reach_the_terminal_with_their_control_characters_written_out(served):
    """From a review: Halo's refusal was kept and printed as Halo wrote it, so an escape
    sequence in it (a name pasted into Halo, an error page) cleared the operator's screen in
    `trueup post` and `trueup journal`. Written out now, as every other text an API sends."""
    tmp_path, halo = served
    map_world(tmp_path / "trueup.sqlite")
    body = json.loads(invoke("batch", "--month", "2026-11", "--json").stdout)
    batch_id = body["batch_id"]
    assert json.loads(invoke("approve", batch_id, "--client", "14", "--json").stdout)["approved"]
    halo.refusal = {"Message": "Client \x1b[2J\x1b[Hcleared\x07 is on hold"}
    posted = invoke(
        "post", batch_id, "--to", "halo-invoice", "--client", "14", "--yes", "--unsettled"
    )
    journal = invoke("journal", batch_id)
    listed = json.loads(invoke("journal", batch_id, "--json").stdout)
    assert posted.exit_code == 1 and journal.exit_code == 0
    for shown in (posted.stdout, posted.stderr, journal.stdout):
        assert "\x1b" not in shown and "\x07" not in shown
    assert "Client \\x1b[2J\\x1b[Hcleared\\x07 is on hold" in journal.stdout
    (entry,) = listed
    assert entry["state"] == "REJECTED" and "\x1b" not in entry["error"]
    assert [row for row in halo_invoices(tmp_path) if row.get("client_id") == 14] == []
