"""Sync from the simulators: in-process and over loopback HTTP, with faults and interruptions."""

import asyncio
from datetime import date

import pytest
from sqlalchemy import select

from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import RetryPolicy
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import SyncBusyError, claim_sync, sync_sources
from trueup.sandbox.common import FaultSpec
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports, serve_in_background
from world import ACME, BEAR, ORPHAN, SUB_ACME, SUB_AZURE, SUB_BEAR, changed, world

TODAY = date(2026, 11, 21)
FAST = RetryPolicy(max_attempts=8, backoff_base=0.001, backoff_cap=0.01, max_retry_after=0.01)


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def clients(data, *, faults=None, secret="sandbox", wrap_halo=None, wrap_pax8=None, **options):
    """Pax8 and Halo clients on in-process simulators; `wrap_halo` wraps Halo's transport,
    `wrap_pax8` Pax8's."""
    sims = build_simulators(parse_scenario(data), faults=faults)
    transports = in_process_transports(sims)
    if wrap_halo is not None:
        transports["halo"] = wrap_halo(transports["halo"])
    if wrap_pax8 is not None:
        transports["pax8"] = wrap_pax8(transports["pax8"])
    return (
        Pax8Client(
            "http://pax8.test/v1",
            "sandbox",
            secret,
            transport=transports["pax8"],
            retry=FAST,
            **options,
        ),
        HaloClient(
            "http://halo.test",
            "http://halo.test/auth",
            "sandbox",
            "sandbox",
            transport=transports["halo"],
            retry=FAST,
            **options,
        ),
    )


async def run(store, pax8, halo):
    async with pax8, halo:
        return {r.source: r for r in await sync_sources(store, pax8=pax8, halo=halo, today=TODAY)}


def rows(store, model):
    with store.read() as conn:
        return conn.execute(select(model.__table__)).all()


async def test_first_sync_stores_everything_the_month_needs(store):
    results = await run(store, *clients(world()))
    assert {s: r.status for s, r in results.items()} == {"pax8": "ok", "halo": "ok"}
    assert {r.id for r in rows(store, m.Pax8Company)} == {ACME, BEAR, ORPHAN}
    assert len(rows(store, m.Pax8Subscription)) == 4
    # products in use only: the unused catalogue entry is not stored
    assert {r.name for r in rows(store, m.Pax8Product)} == {
        "Microsoft 365 Business Standard",
        "Azure plan",
    }
    # history only for subscriptions that changed inside the reconciled months
    history = {
        (r.subscription_id, r.position): r.quantity for r in rows(store, m.Pax8SubscriptionSnapshot)
    }
    assert history == {(SUB_BEAR, 0): 18, (SUB_BEAR, 1): 19, (SUB_BEAR, 2): 17}
    # invoices of the last three months (July is older) and their items
    assert {r.id for r in rows(store, m.Pax8Invoice)} == {"inv-2026-10", "inv-2026-11"}
    assert {r.id for r in rows(store, m.Pax8InvoiceItem)} == {"ii-1", "ii-2", "ii-3"}
    # usage of the arrears subscription, stamped with the month it was seen in
    assert {(r.id, r.month, r.company_id) for r in rows(store, m.Pax8UsageSummary)} == {
        ("u-1", "2026-11", ACME),
        ("u-2", "2026-11", None),
    }
    assert {r.id for r in rows(store, m.HaloClient)} == {12, 14, 15}  # inactive too
    assert [
        (r.id, r.invoice_id, r.quantity)
        for r in rows(store, m.HaloRecurringInvoiceLine)
        if r.id == 24967
    ] == [(24967, -94, 17)]
    assert "lines" not in rows(store, m.HaloRecurringInvoice)[0].raw
    assert len(rows(store, m.HaloLicence)) == 1 and len(rows(store, m.HaloExternalLink)) == 1
    assert results["pax8"].counts["pax8_company"].created == 3


async def test_a_second_sync_fetches_only_what_changed(store):
    first = await run(store, *clients(world()))
    second = await run(store, *clients(changed(world())))
    pax8 = second["pax8"]
    assert pax8.status == "ok"
    assert pax8.counts["pax8_company"].deleted == 1
    assert pax8.counts["pax8_subscription"].updated == 1
    # items of invoices already stored are immutable: not fetched again
    assert "pax8_invoice_item" not in pax8.counts or pax8.counts["pax8_invoice_item"].created == 0
    assert pax8.requests < first["pax8"].requests
    history = {(r.subscription_id, r.position) for r in rows(store, m.Pax8SubscriptionSnapshot)}
    assert (SUB_ACME, 1) in history and (SUB_BEAR, 2) in history  # Bear's kept, Acme's added
    line = next(r for r in rows(store, m.HaloRecurringInvoiceLine) if r.id == 24967)
    assert line.quantity == 18
    assert second["halo"].counts["halo_recurring_invoice_line"].updated == 1


async def test_wrong_secret_fails_that_source_only_and_keeps_its_data(store):
    await run(store, *clients(world()))
    pax8, halo = clients(changed(world()), secret="wrong")
    results = await run(store, pax8, halo)
    assert results["pax8"].status == "failed"
    assert "rejected" in results["pax8"].error and "wrong" not in results["pax8"].error
    assert results["halo"].status == "ok"
    assert ORPHAN in {r.id for r in rows(store, m.Pax8Company)}  # previous Pax8 data intact
    runs = rows(store, m.SyncRun)
    assert [r.status for r in runs if r.source == "pax8"] == ["ok", "failed"]
    assert rows(store, m.StagedRecord) == []


async def test_faults_are_retried_and_the_result_is_the_same(store, tmp_path):
    clean = open_database(tmp_path / "clean.sqlite")
    await run(clean, *clients(world()))
    spec = FaultSpec.parse(
        "429=0.1,429-bare=0.05,500=0.05,503=0.05,reset=0.05,malformed=0.05,seed=11"
    )
    results = await run(store, *clients(world(), faults=spec))
    assert all(r.status == "ok" for r in results.values())
    assert sum(r.retries for r in results.values()) > 0
    for model in (m.Pax8Subscription, m.Pax8InvoiceItem, m.HaloRecurringInvoiceLine):
        assert sorted(r.raw for r in rows(store, model)) == sorted(
            r.raw for r in rows(clean, model)
        )
    clean.dispose()


async def test_slow_responses_past_the_timeout_are_retried(store):
    import httpx

    spec = FaultSpec.parse("slow=0.2,seed=3,slow_seconds=0.3")
    timeout = httpx.Timeout(0.1)
    results = await run(store, *clients(world(), faults=spec, timeout=timeout))
    assert all(r.status == "ok" for r in results.values())
    assert sum(r.retries for r in results.values()) > 0


async def test_an_interrupted_sync_leaves_the_previous_data(store):
    await run(store, *clients(world()))
    before = sorted(r.raw for r in rows(store, m.Pax8Subscription))
    spec = FaultSpec.parse("slow=1,seed=1,slow_seconds=5")  # every request hangs
    pax8, halo = clients(changed(world()), faults=spec)
    task = asyncio.ensure_future(run(store, pax8, halo))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(r.raw for r in rows(store, m.Pax8Subscription)) == before
    statuses = [r.status for r in rows(store, m.SyncRun)]
    assert statuses[-2:] == ["interrupted", "interrupted"]
    assert rows(store, m.StagedRecord) == []


def test_a_live_sync_elsewhere_blocks_a_second_one(store):
    from trueup.core.sync.staging import start_run

    # Another live process on this host: the one that started this one. (This process's own
    # run is one it could not close, which its next sync recovers: test_full_disk_sync.)
    start_run(
        store, "pax8", pid=__import__("os").getppid(), host=__import__("socket").gethostname()
    )
    with pytest.raises(SyncBusyError, match="another trueup"):
        claim_sync(store)


def test_sync_over_loopback_http(store):
    sims = build_simulators(parse_scenario(world()))
    with serve_in_background(sims) as urls:
        pax8 = Pax8Client(urls.pax8, "sandbox", "sandbox", retry=FAST)
        halo = HaloClient(urls.halo, urls.halo_auth, "sandbox", "sandbox", retry=FAST)
        results = asyncio.run(run(store, pax8, halo))
    assert all(r.status == "ok" for r in results.values())
    assert len(rows(store, m.Pax8Subscription)) == 4
    assert len(rows(store, m.HaloRecurringInvoiceLine)) == 2


def test_usage_is_found_for_arrears_subscriptions(store):
    asyncio.run(run(store, *clients(world())))
    assert {r.subscription_id for r in rows(store, m.Pax8UsageSummary)} == {SUB_AZURE}


async def test_nulls_and_unknown_fields_from_the_api_are_kept_not_fatal(store):
    from datetime import UTC, datetime

    from trueup.sandbox.scenario import Scenario

    data = world()
    sub = data["pax8"]["subscriptions"][1]
    sub.update(quantity=None, price=None, updatedDate=None, brandNewField={"nested": [1, 2]})
    data["halo"]["clients"][0]["name"] = None
    # Built directly: the scenario validator would refuse these, the real APIs may not.
    scenario = Scenario(
        as_of=datetime(2026, 11, 21, tzinfo=UTC), pax8=data["pax8"], halo=data["halo"]
    )
    sims = build_simulators(scenario)
    transports = in_process_transports(sims)
    pax8 = Pax8Client("http://pax8.test/v1", "sandbox", "sandbox", transport=transports["pax8"])
    halo = HaloClient(
        "http://halo.test",
        "http://halo.test/auth",
        "sandbox",
        "sandbox",
        transport=transports["halo"],
    )
    results = await run(store, pax8, halo)
    assert all(r.status == "ok" for r in results.values())
    row = next(r for r in rows(store, m.Pax8Subscription) if r.id == SUB_ACME)
    assert (row.quantity, row.price, row.updated_at) == (None, None, None)
    assert '"brandNewField":{"nested":[1,2]}' in row.raw
    assert next(r for r in rows(store, m.HaloClient) if r.id == 12).name is None


async def test_one_failing_fetch_stops_its_siblings():
    from trueup.core.sync.run import _all

    finished = []

    async def fails():
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    async def slow():
        await asyncio.sleep(0.5)
        finished.append(True)  # would stage records for a run already marked failed

    with pytest.raises(ValueError, match="boom"):
        await _all(fails(), slow())
    await asyncio.sleep(0.6)
    assert finished == []
