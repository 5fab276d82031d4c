"""Scenario validation: a bad scenario is refused with a message naming the object and the field;
a good one, extra fields and all, passes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from trueup.sandbox.generate import generate_scenario
from trueup.sandbox.scenario import ScenarioError, load_scenario, parse_scenario


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return generate_scenario(12, seed=4, month="2026-11")


@pytest.fixture
def data(base: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(base)


def refused(data: Any) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data)
    return str(caught.value)


def short(ident: str) -> str:
    return ident[:8] + "…"


def test_a_generated_scenario_passes_and_keeps_its_sections(data: dict[str, Any]) -> None:
    scenario = parse_scenario(data)
    assert scenario.as_of.isoformat() == "2026-11-21T00:00:00+00:00"
    assert scenario.pax8["subscriptions"] is data["pax8"]["subscriptions"]
    assert scenario.credentials_for("halo") == {"client_id": "sandbox", "client_secret": "sandbox"}


def test_absent_lists_and_unknown_fields_are_fine(data: dict[str, Any]) -> None:
    assert parse_scenario({"as_of": "2026-11-21T00:00:00Z"}).pax8 == {}
    data["pax8"]["subscriptions"][0]["someNewField"] = {"nested": True}
    data["pax8"]["contacts"] = [{"whatever": 1}]
    data["halo"]["clients"][0]["colour"] = "#ff0000"
    data["halo"]["tickets"] = []
    data["extra"] = "ignored"
    del data["pax8"]["orders"], data["qbo"]
    parse_scenario(data)


def test_a_subscription_quantity_must_be_a_number(data: dict[str, Any]) -> None:
    sub = data["pax8"]["subscriptions"][12]
    sub["quantity"] = "abc"
    assert refused(data) == (
        f"pax8.subscriptions[12] (id {short(sub['id'])}): 'quantity' must be a number, got \"abc\""
    )


def test_identity_fields_are_required(data: dict[str, Any]) -> None:
    sub = data["pax8"]["subscriptions"][3]
    del sub["companyId"]
    assert refused(data) == (
        f"pax8.subscriptions[3] (id {short(sub['id'])}): 'companyId' is required (a string)"
    )


def test_a_halo_id_must_be_an_integer(data: dict[str, Any]) -> None:
    data["halo"]["clients"][0]["id"] = "12"
    assert refused(data) == "halo.clients[0] (id 12): 'id' must be an integer, got \"12\""


def test_a_nested_line_is_named_through_its_parent(data: dict[str, Any]) -> None:
    recurring = data["halo"]["recurring_invoices"][1]
    line = recurring["lines"][1]
    line["_itemid"] = "1000"
    assert refused(data) == (
        f"halo.recurring_invoices[1] (id {recurring['id']}).lines[1] (id {line['id']}): "
        "'_itemid' must be an integer, got \"1000\""
    )


def test_a_free_text_line_needs_no_item(data: dict[str, Any]) -> None:
    del data["halo"]["recurring_invoices"][1]["lines"][1]["_itemid"]
    parse_scenario(data)


def test_an_invoice_item_price_must_be_a_number(data: dict[str, Any]) -> None:
    invoice = data["pax8"]["invoices"][-1]
    item = invoice["items"][2]
    item["price"] = "12.50"
    assert refused(data) == (
        f"pax8.invoices[{len(data['pax8']['invoices']) - 1}] (id {short(invoice['id'])})"
        f".items[2] (id {short(item['id'])}): 'price' must be a number, got \"12.50\""
    )


def test_dates_must_parse(data: dict[str, Any]) -> None:
    company = data["pax8"]["companies"][0]
    company["updatedDate"] = "yesterday"
    assert refused(data) == (
        f"pax8.companies[0] (id {short(company['id'])}): "
        "'updatedDate' must be a date or timestamp, got \"yesterday\""
    )


def test_every_wire_date_style_parses(data: dict[str, Any]) -> None:
    sub = data["pax8"]["subscriptions"][0]
    for stamp in ("2026-11-03T09:12:00.000-0600", "2026-11-03T09:12:00Z", "2026-11-03"):
        sub["updatedDate"] = stamp
        parse_scenario(data)
    data["halo"]["invoices"][0]["duedate"] = "1899-12-30T00:00:00"
    parse_scenario(data)


def test_a_status_must_be_one_pax8_knows(data: dict[str, Any]) -> None:
    data["pax8"]["subscriptions"][0]["status"] = "Actve"
    assert "'status' must be one of Active, Cancelled, PendingManual" in refused(data)


def test_a_commitment_is_an_object_or_null(data: dict[str, Any]) -> None:
    subs = data["pax8"]["subscriptions"]
    assert any(sub["commitmentTerm"] is None for sub in subs)
    subs[0]["commitmentTerm"] = "1-Year"
    assert "'commitmentTerm' must be an object whose 'endDate' is a timestamp" in refused(data)


def test_lists_must_hold_objects(data: dict[str, Any]) -> None:
    data["pax8"]["companies"] = {"id": "x"}
    assert refused(data) == 'pax8.companies must be a list of objects, got {"id": "x"}'
    data["pax8"]["companies"] = [5]
    assert refused(data) == "pax8.companies[0] must be an object, got 5"
    data["pax8"]["companies"] = []
    data["halo"] = []
    assert refused(data) == "scenario: 'halo' must be an object, got []"


def test_history_keys_name_existing_subscriptions(data: dict[str, Any]) -> None:
    history = data["pax8"]["subscription_history"]
    sub_id, snapshots = next(iter(history.items()))
    history["05c587df-0000"] = snapshots
    assert refused(data) == (
        'pax8.subscription_history["05c587df-0000"]: names no subscription in pax8.subscriptions'
    )
    del history["05c587df-0000"]
    snapshots[1]["id"] = "someone-else"
    message = refused(data)
    assert message.startswith(f'pax8.subscription_history["{sub_id}"][1] (id someone-…)')
    assert message.endswith(f"'id' must be the subscription's, \"{sub_id}\"")
    snapshots[1]["id"] = sub_id
    snapshots[1]["quantity"] = None
    assert "][1] (id " in refused(data) and "'quantity' is required" in refused(data)


def test_a_usage_summary_may_belong_to_no_company(data: dict[str, Any]) -> None:
    summaries = data["pax8"]["usage_summaries"]
    summaries[0]["companyId"] = None
    parse_scenario(data)
    summaries[0]["lines"][0]["quantity"] = "lots"
    assert "'quantity' must be a number" in refused(data)


def test_credentials_need_an_id_and_secret(data: dict[str, Any]) -> None:
    data["credentials"] = {"pax8": {"client_id": "me", "client_secret": "s3cret"}}
    assert parse_scenario(data).credentials_for("pax8")["client_id"] == "me"
    data["credentials"] = {"halo": {"client_id": 7}}
    assert refused(data) == "credentials.halo: 'client_id' must be a string, got 7"


def test_load_scenario_reports_unreadable_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"as_of": ', encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "missing.json")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"as_of": "2026-11-21T00:00:00Z", "qbo": {"customers": []}}))
    assert load_scenario(good).qbo == {"customers": []}
