"""Answers no API should send, each met with one clear line and the last good data kept: NaN or
Infinity in JSON, JSON nested past any record, an id past SQLite's integer, a page cut short;
and no traceback reaches the operator's terminal, also under --quiet."""

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from test_sync import TODAY, clients
from trueup.cli import app
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import sync_sources
from world import world


class Mangled(httpx.AsyncBaseTransport):
    """Halo as the simulator serves it, with the body of `/api/Client` changed by `change`."""

    def __init__(self, inner, change):
        self.inner, self.change = inner, change

    async def handle_async_request(self, request):
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/Client"):
            return response
        text = self.change((await response.aread()).decode())
        return httpx.Response(
            200, content=text.encode(), headers={"content-type": "application/json"}
        )


def first_client_id(text, value):
    return text.replace('"id":', f'"id":{value},"was":', 1)


CASES = {
    "NaN": (lambda t: first_client_id(t, "NaN"), "with NaN in its JSON, which JSON does not allow"),
    "Infinity": (
        lambda t: t.replace('"inactive":false', '"inactive":false,"x":-Infinity', 1),
        "with -Infinity in its JSON, which JSON does not allow",
    ),
    "deep": (
        lambda t: '{"clients":[' + "[" * 50_000 + "]" * 50_000 + "]}",
        "with JSON nested deeper than any record is",
    ),
    "cut short": (lambda t: t[: len(t) // 2], "kept sending malformed JSON for GET /api/Client"),
}


def halo_clients(store):
    with store.read() as conn:
        return sorted(conn.execute(select(m.table_of(m.HaloClient).c.id)).scalars())


async def sync(store, change=None):
    pax8, halo = clients(world(), wrap_halo=change and (lambda t: Mangled(t, change)))
    async with pax8, halo:
        return {r.source: r for r in await sync_sources(store, pax8=pax8, halo=halo, today=TODAY)}


@pytest.mark.parametrize("case", list(CASES))
def test_an_answer_json_cannot_hold_fails_halo_in_one_line_and_keeps_its_data(tmp_path, case):
    change, said = CASES[case]
    store = open_database(tmp_path / "s.sqlite")
    asyncio.run(sync(store))
    before = halo_clients(store)
    results = asyncio.run(sync(store, change))
    assert results["pax8"].status == "ok" and results["halo"].status == "failed"
    assert said in results["halo"].error and "unexpected" not in results["halo"].error
    assert "\n" not in results["halo"].error
    assert halo_clients(store) == before


def test_an_id_past_sqlites_integer_refuses_that_record_alone(tmp_path):
    store = open_database(tmp_path / "s.sqlite")
    asyncio.run(sync(store))
    before = halo_clients(store)
    results = asyncio.run(sync(store, lambda t: first_client_id(t, 2**63)))
    assert results["halo"].status == "ok" and results["halo"].counts["halo_client"].failed == 1
    assert halo_clients(store) == before  # the refused record's stored row is kept, none is lost


def test_no_traceback_reaches_the_terminal_under_quiet(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "s.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("TRUEUP_TODAY", raising=False)
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    sandbox = ["sync", "--sandbox", str(scenario), "--quiet", "--faults"]
    result = CliRunner().invoke(app, [*sandbox, "malformed=1,seed=3"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "malformed JSON" in result.stderr
