"""Issue 23 items 4 and 5: bad data never bills silently, and no revenue drops out of sight.

A Halo line naming an item Halo no longer has is shown but blocks approval (MISSING_HALO_ITEM);
a Pax8 subscription of a company Pax8 does not list, or with a status Pax8 does not document,
is flagged (UNKNOWN_COMPANY, UNKNOWN_STATUS); a record listed twice in one sync keeps its first
copy and the log names it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from billing_builders import bill, client, codes, manual, only_line, snap, sub
from case_scenarios import (
    BP,
    CLIENT,
    COMPANY,
    ITEMS,
    at,
    history,
    scenario,
    sid,
    subscription,
)
from test_billing_store_cases import FAST, batch, client_invoice, sub_lines
from trueup.core.batch.approval import approve
from trueup.core.batch.build import build_batch
from trueup.core.mapping.engine import map_company, map_product
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from trueup.core.sync.run import sync_sources
from trueup.core.sync.staging import Stager, apply_run, start_run
from trueup.sandbox.scenario import Scenario
from trueup.sandbox.serve import build_simulators, in_process_transports

S1, S2 = sid(1), sid(2)
JUNE, TODAY = "2025-06", date(2025, 6, 30)
GONE_ITEM, STRAY_LINE = 9999, 25000
NOWHERE = "c0000000-0000-4000-8000-00000000dead"


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


async def sync(db, data: dict[str, Any], *, wrap=None, page_size: int = 200) -> dict[str, Any]:
    """Sync `data` unvalidated (the real APIs send what the scenario checker refuses), then
    map Contoso and its products as the operator would. `wrap` rewraps the Pax8 transport."""
    world = Scenario(as_of=datetime(2025, 6, 30, tzinfo=UTC), pax8=data["pax8"], halo=data["halo"])
    transports = in_process_transports(build_simulators(world))
    pax8_transport = wrap(transports["pax8"]) if wrap else transports["pax8"]
    pax8 = Pax8Client(
        "http://pax8.test/v1",
        "sandbox",
        "sandbox",
        transport=pax8_transport,
        retry=FAST,
        page_size=page_size,
    )
    halo = HaloClient(
        "http://halo.test",
        "http://halo.test/auth",
        "sandbox",
        "sandbox",
        transport=transports["halo"],
        retry=FAST,
    )
    async with pax8, halo:
        results = {r.source: r for r in await sync_sources(db, pax8=pax8, halo=halo, today=TODAY)}
    if results["pax8"].status == "ok":
        map_company(db, COMPANY, CLIENT)
        for product in sorted({s["productId"] for s in data["pax8"]["subscriptions"]}):
            map_product(db, product, ITEMS[product])
    return results


def contoso(*subscriptions: dict[str, Any], halo_lines: dict[str, float] | None = None) -> dict:
    return scenario(
        TODAY.isoformat(),
        list(subscriptions) or [subscription(S1, 10, "2025-01-01")],
        halo_lines={BP: 10} if halo_lines is None else halo_lines,
    )


def batch_anomalies(body: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [a for a in body["anomalies"] if a["code"] == code]


# --- item 4: a Halo line naming an item that is gone --------------------------------------------


def with_dangling_line(data: dict[str, Any]) -> dict[str, Any]:
    """Contoso's recurring invoice also bills 2 × 24.00 under item 9999, which Halo no longer
    lists (deleted, or merged into the BP item): the same seats billed twice."""
    data["halo"]["recurring_invoices"][0]["lines"].append(
        {
            "id": STRAY_LINE,
            "ihid": -90,
            "_itemid": GONE_ITEM,
            "qty_order": 2.0,
            "unit_price": 24.00,
            "item_shortdescription": "M365 Business Premium (old item)",
            "isinactive": False,
        }
    )
    return data


async def test_a_line_naming_a_missing_halo_item_is_shown_with_an_error(store):
    await sync(store, with_dangling_line(contoso()))
    invoice = client_invoice(batch(store, JUNE, TODAY))
    (line,) = [li for li in invoice["lines"] if li["kind"] == "manual"]
    assert (line["quantity"], line["amount"]) == ("2.0000", "48.00")
    (flag,) = [a for a in line["anomalies"] if a["code"] == "MISSING_HALO_ITEM"]
    assert flag["severity"] == "error"
    assert str(STRAY_LINE) in flag["message"] and str(GONE_ITEM) in flag["message"]
    assert "MISSING_HALO_ITEM" in {a["code"] for a in invoice["anomalies"]}


async def test_a_missing_halo_item_blocks_approval_until_overridden_with_a_reason(store):
    await sync(store, with_dangling_line(contoso()))
    batch_id = build_batch(store, JUNE, today=TODAY, by="test").batch_id
    refused = approve(store, batch_id, [CLIENT], by="ann")
    assert refused.approved == [] and "MISSING_HALO_ITEM" in refused.skipped[0].reason
    reason = "old item still on the recurring invoice; credit next month"
    allowed = approve(store, batch_id, [CLIENT], overrides=[("MISSING_HALO_ITEM", reason)])
    assert allowed.approved == [CLIENT]


async def test_a_line_with_no_item_at_all_is_still_a_plain_manual_line(store):
    """A free-text line (no item) is labour or a service: nothing is missing."""
    data = with_dangling_line(contoso())
    data["halo"]["recurring_invoices"][0]["lines"][-1]["_itemid"] = None
    await sync(store, data)
    invoice = client_invoice(batch(store, JUNE, TODAY))
    (line,) = [li for li in invoice["lines"] if li["kind"] == "manual"]
    assert line["amount"] == "48.00" and line["anomalies"] == []


def test_the_engine_flags_a_manual_line_whose_item_is_missing():
    gone = replace(manual("Old backup", "3", "5.00", line_id=77), item_id=404, item_missing=True)
    line = only_line(bill(client(manual_lines=(gone,)), JUNE))
    assert codes(line) == {"MISSING_HALO_ITEM"} and line.amount == 15
    assert "line 77" in line.anomalies[0].message and "item 404" in line.anomalies[0].message


# --- item 5a: a subscription of a company Pax8 does not list ------------------------------------


async def test_a_subscription_of_an_unknown_company_is_a_batch_error(store):
    stray = subscription(S2, 5, "2025-01-01", companyId=NOWHERE)
    await sync(store, contoso(subscription(S1, 10, "2025-01-01"), stray))
    body = batch(store, JUNE, TODAY)
    (flag,) = batch_anomalies(body, "UNKNOWN_COMPANY")
    assert flag["severity"] == "error"
    assert (flag["subscription_id"], flag["company_id"]) == (S2, NOWHERE)
    assert S2 in flag["message"] and NOWHERE in flag["message"] and "5 seats" in flag["message"]
    # It cannot be mapped (the company is not in the store): not an UNMAPPED_CLIENT to map.
    assert batch_anomalies(body, "UNMAPPED_CLIENT") == []
    assert body["totals"]["anomalies"]["error"] >= 1


async def test_a_subscription_with_no_company_is_a_batch_error(store):
    stray = subscription(S2, 5, "2025-01-01", companyId=None)
    await sync(store, contoso(subscription(S1, 10, "2025-01-01"), stray))
    (flag,) = batch_anomalies(batch(store, JUNE, TODAY), "UNKNOWN_COMPANY")
    assert flag["subscription_id"] == S2 and "no company" in flag["message"]


async def test_a_cancelled_subscription_of_an_unknown_company_loses_nothing(store):
    gone = subscription(S2, 5, "2025-01-01", companyId=NOWHERE, status="Cancelled")
    await sync(store, contoso(subscription(S1, 10, "2025-01-01"), gone))
    assert batch_anomalies(batch(store, JUNE, TODAY), "UNKNOWN_COMPANY") == []


# --- item 5b: a status Pax8 does not document ---------------------------------------------------


async def test_an_unknown_status_bills_nothing_and_is_an_error_on_the_line(store):
    """No Halo line either: before, the subscription left no trace on the invoice at all."""
    odd = subscription(S1, 10, "2025-01-01", status="Exploded")
    await sync(store, contoso(odd, halo_lines={}))
    (line,) = sub_lines(batch(store, JUNE, TODAY))
    assert (line["subscription_id"], line["amount"]) == (S1, "0.00")
    (flag,) = [a for a in line["anomalies"] if a["code"] == "UNKNOWN_STATUS"]
    assert flag["severity"] == "error"
    assert '"Exploded"' in flag["message"] and "10 seats" in flag["message"]
    assert S1 in flag["message"] and "30 days" in flag["message"]


async def test_an_unknown_status_mid_month_bills_the_days_before_it(store):
    first = subscription(S1, 10, "2025-01-01")
    states = history(first, {"status": "Exploded", "updatedDate": at("2025-06-16")})
    data = contoso(states[0])
    data["pax8"]["subscription_history"] = {S1: states}
    await sync(store, data)
    (line,) = sub_lines(batch(store, JUNE, TODAY))
    assert line["amount"] == "110.00"  # 15 of 30 days at 10 × 22.00
    (flag,) = [a for a in line["anomalies"] if a["code"] == "UNKNOWN_STATUS"]
    assert "15 days" in flag["message"] and "16 Jun" in flag["message"]


async def test_every_documented_status_is_known(store):
    """Trial, Converted, Pending* … bill nothing by the rules: no UNKNOWN_STATUS for them."""
    documented = (
        "Cancelled",
        "PendingManual",
        "PendingAutomated",
        "WaitingForDetails",
        "Trial",
        "Converted",
        "PendingActivation",
    )
    subs = [
        subscription(sid(n), 1, "2025-01-01", status=status)
        for n, status in enumerate(documented, 1)
    ]
    await sync(store, contoso(*subs, halo_lines={}))
    body = batch(store, JUNE, TODAY)
    found = client_invoice(body)
    assert "UNKNOWN_STATUS" not in json.dumps(body) and (found is None or found["lines"] == [])


def test_the_engine_flags_days_under_an_unknown_status():
    facts = client(sub(snap("2025-01-01", 4), snap("2025-06-21", 4, status="Suspended")))
    line = only_line(bill(facts, JUNE))
    assert str(line.amount) == "58.67"  # 20 of 30 days at 4 × 22.00
    assert "UNKNOWN_STATUS" in codes(line)


async def test_an_unknown_status_of_an_unmapped_company_is_a_batch_error(store):
    other = "c0000000-0000-4000-8000-0000000000c2"
    data = contoso(
        subscription(S1, 10, "2025-01-01"),
        subscription(S2, 3, "2025-01-01", companyId=other, status="Exploded"),
    )
    data["pax8"]["companies"].append({**data["pax8"]["companies"][0], "id": other, "name": "Fab"})
    await sync(store, data)
    (flag,) = batch_anomalies(batch(store, JUNE, TODAY), "UNKNOWN_STATUS")
    assert (flag["subscription_id"], flag["company_id"]) == (S2, other)
    assert "Fab" in flag["message"] and '"Exploded"' in flag["message"]


# --- item 5c: a record listed twice in one sync ------------------------------------------------


def _copies() -> list[dict[str, Any]]:
    first = {"id": S1, "companyId": COMPANY, "productId": BP, "quantity": 10, "status": "Active"}
    return [first, {**first, "quantity": 3}]


def test_a_record_listed_twice_keeps_the_first_copy_and_says_so(store):
    run_id = start_run(store, "pax8")
    stager = Stager(store, run_id)
    stager.add("pax8_subscription", _copies())
    apply_run(store, run_id, "pax8", stager, stats={})
    with store.read() as conn:
        stored = conn.exec_driver_sql(
            f"SELECT quantity FROM {m.table_of(m.Pax8Subscription)} WHERE id = ?", (S1,)
        ).scalar_one()
    assert stored == "10"
    (warning,) = [e for e in read_log(store) if "twice" in e["event"]]
    assert warning["level"] == "WARNING" and warning["details"]["id"] == S1
    assert "first" in json.dumps(warning["details"]) and warning["details"]["copies_differ"]


def _pax8_listing_twice(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
    """Pax8 answering /subscriptions with S1 twice on its one page, counted in totalElements
    (the simulator keys subscriptions by id, so it never sends a duplicate itself)."""

    class Twice(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await inner.handle_async_request(request)
            if request.method != "GET" or request.url.path != "/v1/subscriptions":
                return response
            body = json.loads(await response.aread())
            body["content"].append({**body["content"][0], "quantity": 3})
            body["page"]["totalElements"] += 1
            return httpx.Response(200, json=body)

    return Twice()


async def test_a_subscription_listed_twice_by_pax8_keeps_the_first_and_logs_it(store):
    """Changed in June, so its history is fetched too: once, so the log names it once."""
    data = contoso(subscription(S1, 10, "2025-06-10"))
    results = await sync(store, data, wrap=_pax8_listing_twice)
    assert results["pax8"].status == "ok", results["pax8"].error
    (line,) = sub_lines(batch(store, JUNE, TODAY))
    assert line["amount"] == "220.00"  # the first copy's 10 seats, not the second's 3
    (warning,) = [e for e in read_log(store) if "twice" in e["event"]]
    assert (warning["level"], warning["details"]["id"]) == ("WARNING", S1)


def _pax8_shifting(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
    """Pax8's second page of /subscriptions repeating the first's row, as when a row shifts
    between pages while they are fetched: the row it pushed away is never listed."""

    class Shifting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "GET" and request.url.path == "/v1/subscriptions":
                request.url = request.url.copy_set_param("page", "0")
            return await inner.handle_async_request(request)

    return Shifting()


async def test_a_row_repeated_across_pages_still_refuses_the_sync_naming_it(store):
    data = contoso(subscription(S1, 10, "2025-01-01"), subscription(S2, 5, "2025-01-01"))
    results = await sync(store, data, wrap=_pax8_shifting, page_size=1)
    assert results["pax8"].status == "failed"
    assert "listed 1 of 2 subscriptions" in results["pax8"].error
    assert f"listed twice: {S1}" in results["pax8"].error
