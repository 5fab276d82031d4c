"""A source that collapses never replaces the last good data: a far shorter answer fails the
source unless the operator accepts the shrink, and `null` where a list belongs is malformed."""

import copy
import gc
import json
import warnings
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from test_sync import TODAY, clients
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiError
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import sync_sources

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"


@pytest.fixture(scope="module")
def demo():
    return json.loads(DEMO.read_text())


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


async def sync(store, data, wrap_halo=None, wrap_pax8=None, **options):
    pax8, halo = clients(data, wrap_halo=wrap_halo, wrap_pax8=wrap_pax8)
    async with pax8, halo:
        results = await sync_sources(store, pax8=pax8, halo=halo, today=TODAY, **options)
    return {r.source: r for r in results}


def count(store, model):
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(m.table_of(model))).scalar_one()


async def test_an_empty_client_list_fails_halo_and_keeps_every_client(store, demo):
    assert all(r.status == "ok" for r in (await sync(store, demo)).values())
    before = count(store, m.HaloClient), count(store, m.Pax8Subscription)
    empty = copy.deepcopy(demo)
    empty["halo"]["clients"] = []
    results = await sync(store, empty)
    assert results["pax8"].status == "ok"
    assert results["halo"].status == "failed"
    assert results["halo"].error.startswith("clients: 0 fetched against 59 stored")
    assert "`trueup sync --accept-shrink` applies it" in results["halo"].error
    assert (count(store, m.HaloClient), count(store, m.Pax8Subscription)) == before


async def test_a_pax8_that_lost_most_subscriptions_is_refused_a_small_drop_is_not(store, demo):
    await sync(store, demo)
    stored = count(store, m.Pax8Subscription)
    shrunk = copy.deepcopy(demo)
    shrunk["pax8"]["subscriptions"] = demo["pax8"]["subscriptions"][: stored // 3]
    shrunk["pax8"]["subscription_history"] = {}
    results = await sync(store, shrunk)
    assert results["pax8"].status == "failed" and "subscriptions: " in results["pax8"].error
    assert count(store, m.Pax8Subscription) == stored
    trimmed = copy.deepcopy(demo)
    trimmed["pax8"]["subscriptions"] = demo["pax8"]["subscriptions"][: stored - 10]
    trimmed["pax8"]["subscription_history"] = {}
    assert (await sync(store, trimmed))["pax8"].status == "ok"  # 10 cancelled: a real month


async def test_the_operator_accepts_a_real_shrink(store, demo):
    await sync(store, demo)
    empty = copy.deepcopy(demo)
    empty["halo"]["clients"] = []
    results = await sync(store, empty, max_shrink_percent=None)
    assert results["halo"].status == "ok" and count(store, m.HaloClient) == 0


async def test_a_small_tenant_answered_with_no_clients_keeps_them(store, demo):
    """Below 10 stored rows no share is judged, but none at all is a collapse all the same."""
    small = copy.deepcopy(demo)
    small["halo"]["clients"] = demo["halo"]["clients"][:8]
    assert (await sync(store, small))["halo"].status == "ok"
    assert count(store, m.HaloClient) == 8
    empty = copy.deepcopy(small)
    empty["halo"]["clients"] = []
    results = await sync(store, empty)
    assert results["halo"].status == "failed"
    assert results["halo"].error.startswith("clients: 0 fetched against 8 stored")
    assert count(store, m.HaloClient) == 8
    fewer = copy.deepcopy(small)
    fewer["halo"]["clients"] = demo["halo"]["clients"][:3]  # a share of a few is not judged
    assert (await sync(store, fewer))["halo"].status == "ok"
    assert count(store, m.HaloClient) == 3


class NullLines(httpx.AsyncBaseTransport):
    """Halo as the simulator serves it, but the first recurring invoice's lines are `null`."""

    def __init__(self, inner):
        self.inner = inner

    async def handle_async_request(self, request):
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/RecurringInvoice"):
            return response
        body = json.loads(await response.aread())
        self.changed(body["invoices"][0])
        return httpx.Response(response.status_code, json=body)

    def changed(self, invoice):
        invoice["lines"] = None


class NoLines(NullLines):
    """The first recurring invoice without its `lines` key (a tenant ignoring includelines)."""

    def changed(self, invoice):
        del invoice["lines"]


@pytest.mark.parametrize(
    ("wrap", "said"), [(NullLines, "with lines null"), (NoLines, "with no lines key")]
)
async def test_lines_null_or_missing_on_a_recurring_invoice_are_malformed_not_empty(
    store, demo, wrap, said
):
    """A missing key read as no lines deleted the invoice's stored ones (a reliability pass)."""
    await sync(store, demo)
    lines = count(store, m.HaloRecurringInvoiceLine)
    results = await sync(store, demo, wrap_halo=wrap, max_shrink_percent=None)
    assert results["halo"].status == "failed"
    assert f"{said}, not a list: nothing was applied" in results["halo"].error
    assert count(store, m.HaloRecurringInvoiceLine) == lines


@pytest.mark.parametrize(
    ("body", "said"),
    [
        # From a bad-input pass: "with something other than a list of objects, not null".
        ({"clients": None, "record_count": 0}, "with null where a list of objects belongs"),
        ({"clients": "none"}, "something other than a list of objects: check"),
    ],
)
async def test_null_where_a_list_belongs_is_a_bad_answer(body, said):
    transport = httpx.MockTransport(
        lambda request: (
            httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
            if request.url.path.endswith("/token")
            else httpx.Response(200, json=body)
        )
    )
    halo = HaloClient("http://halo.test", "http://halo.test/auth", "id", "s", transport=transport)
    async with halo:
        with pytest.raises(ApiError, match=said):
            [page async for page in halo.clients()]


def test_sync_says_what_collapsed_and_accept_shrink_applies_it(tmp_path, monkeypatch, demo):
    from typer.testing import CliRunner

    from trueup.cli import app

    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("TRUEUP_TODAY", raising=False)
    empty = copy.deepcopy(demo)
    empty["halo"]["clients"] = []
    (tmp_path / "demo.json").write_text(json.dumps(demo))
    (tmp_path / "empty.json").write_text(json.dumps(empty))
    runner = CliRunner()
    assert runner.invoke(app, ["sync", "--sandbox", str(tmp_path / "demo.json")]).exit_code == 0
    refused = runner.invoke(app, ["sync", "--sandbox", str(tmp_path / "empty.json"), "--quiet"])
    assert refused.exit_code == 1
    assert "clients: 0 fetched against 59 stored" in refused.stderr
    assert "Traceback" not in refused.output
    accepted = runner.invoke(
        app, ["sync", "--sandbox", str(tmp_path / "empty.json"), "--accept-shrink", "--json"]
    )
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout)["ok"] is True


class NoVersions(httpx.AsyncBaseTransport):
    """Pax8 as the simulator serves it, but every subscription changed (so its history is
    asked) and every history answered with `body`."""

    def __init__(self, inner, body):
        self.inner, self.body = inner, body

    async def handle_async_request(self, request):
        response = await self.inner.handle_async_request(request)
        path = request.url.path
        if path.endswith("/history"):
            return httpx.Response(200, json=self.body)
        if not path.endswith("/subscriptions"):
            return response
        body = json.loads(await response.aread())
        for subscription in body["content"]:
            subscription["updatedDate"] = "2026-11-20T10:00:00.000-0600"
        return httpx.Response(response.status_code, json=body)


@pytest.mark.parametrize("body", [{"content": []}, {}])
async def test_a_history_with_no_version_fails_pax8_and_keeps_the_stored_history(store, demo, body):
    """From a boundary review: read as "no history", it deleted the stored versions of every
    subscription asked about, and the month's batch billed them without their dated seat
    changes (the demo's October total moved by $470)."""
    await sync(store, demo)
    stored = count(store, m.Pax8SubscriptionSnapshot)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        results = await sync(store, demo, wrap_pax8=lambda inner: NoVersions(inner, body))
        gc.collect()
    # The history requests the failure left unstarted are dropped, not left unawaited.
    assert not [w for w in said if "never awaited" in str(w.message)]
    assert results["pax8"].status == "failed"
    assert "/history with something other than the subscription's versions" in (
        results["pax8"].error or ""
    )
    assert count(store, m.Pax8SubscriptionSnapshot) == stored
