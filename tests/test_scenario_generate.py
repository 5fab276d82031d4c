"""The scenario generator: deterministic, realistic, in the APIs' own wire shapes, and telling the
Bear Creek Winery story (gen_story)."""

from __future__ import annotations

import calendar
import copy
import functools
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from trueup.sandbox.generate import DEMO_PATH, demo_text, dump_scenario, generate_scenario
from trueup.sandbox.scenario import parse_scenario

SPEC_DIR = Path(__file__).parent / "specs"
PAX8_URI, HALO_URI = "urn:pax8:partner-endpoints", "urn:halo:swagger"
PAX8_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[67]00$")
HALO_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
DAY = re.compile(r"\d{4}-\d\d-\d\d$")


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return generate_scenario(60, seed=1, month="2026-11")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money(value: float) -> Decimal:
    return Decimal(str(value))


def one(objects: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [o for o in objects if all(o.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} objects match {match}"
    return found[0]


def company_subs(data: dict[str, Any], name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    company = one(data["pax8"]["companies"], name=name)
    subs = [s for s in data["pax8"]["subscriptions"] if s["companyId"] == company["id"]]
    return company, subs


def ri_lines(data: dict[str, Any], client_name: str) -> dict[str, dict[str, Any]]:
    """The client's active recurring-invoice lines, by item name."""
    client = one(data["halo"]["clients"], name=client_name)
    recurring = one(data["halo"]["recurring_invoices"], client_id=client["id"])
    return {
        line["item_shortdescription"]: line for line in recurring["lines"] if not line["isinactive"]
    }


def items_for(data: dict[str, Any], sub_id: str, invoice_date_prefix: str) -> list[dict[str, Any]]:
    return [
        item
        for invoice in data["pax8"]["invoices"]
        if invoice["invoiceDate"].startswith(invoice_date_prefix)
        and invoice["status"] != "Credited"
        for item in invoice["items"]
        if item["subscriptionId"] == sub_id
    ]


# --- determinism and the bundled demo ---


def test_same_inputs_give_the_same_bytes_and_another_seed_differs() -> None:
    first = dump_scenario(generate_scenario(30, seed=5, month="2026-11"))
    assert dump_scenario(generate_scenario(30, seed=5, month="2026-11")) == first
    assert dump_scenario(generate_scenario(30, seed=6, month="2026-11")) != first
    assert json.loads(first)["as_of"] == "2026-11-21T00:00:00Z"


def test_the_bundled_demo_is_the_generator_output_byte_for_byte() -> None:
    assert DEMO_PATH.read_bytes() == demo_text().encode("utf-8")
    parse_scenario(json.loads(DEMO_PATH.read_text(encoding="utf-8")))


def test_the_month_defaults_to_trueup_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUEUP_TODAY", "2027-02-03")
    assert generate_scenario(3)["as_of"] == "2027-02-21T00:00:00Z"
    monkeypatch.delenv("TRUEUP_TODAY")
    assert generate_scenario(3)["as_of"].endswith("-21T00:00:00Z")


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "Nov 2026"])
def test_a_bad_month_is_refused(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        generate_scenario(3, month=month)


def test_counts_scale_with_the_number_of_clients() -> None:
    small, large = generate_scenario(20, seed=2), generate_scenario(200, seed=2)
    for data, clients in ((small, 20), (large, 200)):
        companies = len(data["pax8"]["companies"])
        assert clients * 0.85 <= companies <= clients
        assert clients * 0.85 <= len(data["halo"]["clients"]) <= clients
        assert len(data["halo"]["recurring_invoices"]) == len(data["halo"]["clients"])
    per_company = len(large["pax8"]["subscriptions"]) / len(large["pax8"]["companies"])
    assert 17 <= per_company <= 23
    assert len(large["pax8"]["subscriptions"]) > 8 * len(small["pax8"]["subscriptions"])


# --- the Bear Creek Winery story ---


def bear_creek_checks(data: dict[str, Any], month: str) -> None:
    """Names, quantities, the history timeline and the Halo line, for any scenario month."""
    company, subs = company_subs(data, "Bear Creek Winery")
    assert "externalId" not in company
    client = one(data["halo"]["clients"], name="Bear Creek Winery LLC")
    assert all(link["halo_id"] != client["id"] for link in data["halo"]["external_links"])
    standard = one(subs, productName="Microsoft 365 Business Standard")
    assert standard["quantity"] == 18
    assert (standard["billingTerm"], standard["commitmentTerm"]["term"]) == ("Monthly", "1-Year")
    assert (standard["price"], standard["partnerCost"]) == (12.5, 10.63)
    history = data["pax8"]["subscription_history"][standard["id"]]
    assert history[0] == standard
    offset = "-0700" if month[5:] in ("11", "12", "01", "02") else "-0600"
    assert [(s["updatedDate"], s["quantity"]) for s in history[:4]] == [
        (f"{month}-15T16:05:00.000{offset}", 18),  # Sandra leaves
        (f"{month}-12T10:32:00.000{offset}", 19),  # Carla, the mid-month hire
        (f"{month}-05T09:14:00.000{offset}", 18),  # Diego, Sandra's replacement
        (history[3]["updatedDate"], 17),  # all of last month
    ]
    assert history[3]["updatedDate"] < f"{month}-01"
    # Pax8 billed 17 for this month on the 1st; the Halo line is still at 17
    (this_month,) = items_for(data, standard["id"], month)
    assert (this_month["type"], this_month["quantity"], this_month["subTotal"]) == (
        "subscription",
        17,
        212.5,
    )
    line = ri_lines(data, "Bear Creek Winery LLC")["M365 Business Standard"]
    assert (line["qty_order"], line["unit_price"]) == (17.0, 12.5)
    item = one(data["halo"]["items"], id=line["_itemid"])
    assert (
        item["supplier_part_code"] == one(data["pax8"]["products"], id=standard["productId"])["sku"]
    )


def test_bear_creek_in_the_demo(demo: dict[str, Any]) -> None:
    bear_creek_checks(demo, "2026-11")


def test_bear_creek_moves_with_the_month() -> None:
    bear_creek_checks(generate_scenario(12, seed=9, month="2027-05"), "2027-05")


def test_the_other_named_clients_tell_their_stories(demo: dict[str, Any]) -> None:
    pax8, halo = demo["pax8"], demo["halo"]
    # a cancelled subscription still billed on an active Halo line
    _, subs = company_subs(demo, "Hollis & Crane Law")
    acrobat = one(subs, productName="Adobe Acrobat Pro for teams")
    assert (acrobat["status"], acrobat["endDate"]) == ("Cancelled", "2026-10-18T00:00:00Z")
    assert ri_lines(demo, "Hollis and Crane Law, PLLC")["Adobe Acrobat Pro"]["qty_order"] == 6.0
    # a price rise at renewal: the history has the old price, Halo still bills it
    _, subs = company_subs(demo, "Pinecrest Family Dental")
    premium = one(subs, productName="Microsoft 365 Business Premium")
    prices = [s["price"] for s in pax8["subscription_history"][premium["id"]]]
    assert prices[:2] == [23.1, 22.0]
    assert (
        ri_lines(demo, "Pinecrest Family Dental, P.C.")["M365 Business Premium"]["unit_price"]
        == 22.0
    )
    # a possible duplicate: same company, product and term twice
    _, subs = company_subs(demo, "Harbor Light Food Bank")
    basics = [s for s in subs if s["productName"] == "Microsoft 365 Business Basic"]
    assert len({(s["billingTerm"], s["commitmentTerm"]["term"]) for s in basics}) == 1 < len(basics)
    # over-billing, a trial, a pending cancel, a zero-quantity active subscription, a 3-year term
    _, subs = company_subs(demo, "Lakeside Accounting")
    assert one(subs, productName="Microsoft 365 Business Standard")["quantity"] == 22
    assert ri_lines(demo, "Lakeside Accounting, Inc.")["M365 Business Standard"]["qty_order"] == 26
    statuses = Counter(s["status"] for s in pax8["subscriptions"])
    assert statuses["Trial"] and statuses["PendingCancel"] and statuses["Cancelled"]
    assert any(s["status"] == "Active" and s["quantity"] == 0 for s in pax8["subscriptions"])
    terms = {i["term"] for inv in pax8["invoices"] for i in inv["items"]}
    assert {"Monthly", "Annual", "3 Year", "Arrears"} <= terms
    # one side only
    assert all(c["name"] != "Copper Kettle Bakery" for c in halo["clients"])
    assert all(c["name"] != "Riverbend Montessori School" for c in pax8["companies"])
    # usage on a resource group assigned to no company
    assert [s["resourceGroup"] for s in pax8["usage_summaries"] if s["companyId"] is None] == [
        "rg-dev-sandbox"
    ]


def test_a_credited_invoice_is_reissued_for_the_same_period(demo: dict[str, Any]) -> None:
    credited = one(demo["pax8"]["invoices"], status="Credited")
    company = one(demo["pax8"]["companies"], id=credited["companyId"])
    assert company["billOnBehalfOfEnabled"]
    (reissue,) = [
        i
        for i in demo["pax8"]["invoices"]
        if i.get("companyId") == company["id"] and i["invoiceDate"] > credited["invoiceDate"]
    ]
    assert reissue["id"] != credited["id"] and reissue["total"] < credited["total"]
    periods = {(i["startPeriod"], i["endPeriod"]) for i in credited["items"] + reissue["items"]}
    assert periods == {("2026-11-01", "2026-11-30")}


# --- wire details and arithmetic ---


def test_pax8_values_come_in_their_mixed_wire_styles(demo: dict[str, Any]) -> None:
    subs = demo["pax8"]["subscriptions"]
    assert all(PAX8_STAMP.match(s["updatedDate"]) for s in subs)
    assert all(s["startDate"].endswith("T00:00:00Z") and DAY.match(s["billingStart"]) for s in subs)
    created = Counter(bool(DAY.match(s["createdDate"])) for s in subs)
    assert created[True] and created[False]
    no_commitment = [s for s in subs if s["commitmentTerm"] is None]
    assert no_commitment and {s["billingTerm"] for s in no_commitment} == {"Monthly", "Trial"}
    assert {s["currencyCode"] for s in subs} >= {"USD", "CAD"}
    ends = {inv["status"]: inv["items"][0]["endPeriod"] for inv in demo["pax8"]["invoices"]}
    assert (ends["Paid"][-2:], ends["Unpaid"][-2:]) == ("01", "30")  # exclusive and inclusive
    assert all(DAY.match(inv["invoiceDate"]) for inv in demo["pax8"]["invoices"])


def prorated_share(item: dict[str, Any]) -> Decimal:
    """Days covered over days in the month, whichever style the period end is written in."""
    first, end = date.fromisoformat(item["startPeriod"]), date.fromisoformat(item["endPeriod"])
    last = end - timedelta(days=1) if end.day == 1 else end
    assert (last.year, last.month) == (first.year, first.month)
    return Decimal((last - first).days + 1) / calendar.monthrange(first.year, first.month)[1]


def test_invoice_items_add_up(demo: dict[str, Any]) -> None:
    kinds: Counter[tuple[str, bool]] = Counter()
    for invoice in demo["pax8"]["invoices"]:
        for item in invoice["items"]:
            kinds[item["type"], item["quantity"] > 0] += 1
            share = prorated_share(item) if item["type"] == "prorate" else Decimal(1)
            price, cost, quantity = money(item["price"]), money(item["cost"]), item["quantity"]
            assert money(item["subTotal"]) == cents(price * quantity * share), item
            assert money(item["costTotal"]) == cents(cost * quantity * share), item
            assert item["total"] == item["amountDue"] == item["subTotal"]
        owed = "total" if "companyId" in invoice else "costTotal"
        assert money(invoice["total"]) == sum(money(i[owed]) for i in invoice["items"])
    assert kinds["prorate", True] and kinds["prorate", False]  # adds and credits


def test_usage_adds_up(demo: dict[str, Any]) -> None:
    for summary in demo["pax8"]["usage_summaries"]:
        assert summary["lines"]
        for line in summary["lines"]:
            charges = cents(money(line["unitPrice"]) * money(line["quantity"]))
            assert money(line["currentCharges"]) == charges
            profit = money(line["currentCharges"]) - money(line["partnerTotal"])
            assert money(line["currentProfit"]) == profit
        lines = summary["lines"]
        assert money(summary["currentCharges"]) == sum(
            money(line["currentCharges"]) for line in lines
        )
        assert money(summary["partnerTotal"]) == sum(money(line["partnerTotal"]) for line in lines)


def test_history_is_recent_and_newest_first(demo: dict[str, Any]) -> None:
    subs = {s["id"]: s for s in demo["pax8"]["subscriptions"]}
    history = demo["pax8"]["subscription_history"]
    assert 0.04 <= len(history) / len(subs) <= 0.09
    for sub_id, snapshots in history.items():
        assert snapshots[0] == subs[sub_id]
        assert {s["id"] for s in snapshots} == {sub_id}
        moments = [datetime.strptime(s["updatedDate"], "%Y-%m-%dT%H:%M:%S.%f%z") for s in snapshots]
        assert moments == sorted(moments, reverse=True)
        assert moments[0] >= datetime.fromisoformat("2026-09-21T00:00:00+00:00")
    settled = [s for sid, s in subs.items() if sid not in history]
    assert all(s["updatedDate"] < "2026-09" for s in settled)


def test_halo_values_follow_halo_conventions(demo: dict[str, Any]) -> None:
    halo = demo["halo"]
    for recurring in halo["recurring_invoices"]:
        assert recurring["id"] < 0 and HALO_STAMP.match(recurring["nextcreationdate"])
        active = [line for line in recurring["lines"] if not line["isinactive"]]
        assert money(recurring["total"]) == sum(money(line["net_amount"]) for line in active)
        for line in recurring["lines"]:
            assert line["id"] > 0 and line["ihid"] == recurring["id"]
            assert money(line["net_amount"]) == cents(
                money(line["qty_order"]) * money(line["unit_price"])
            )
            assert line["enddate"] == "1899-12-30T00:00:00"
    # some companies are linked, some carry externalId, the rest only share a name
    companies = demo["pax8"]["companies"]
    linked = {link["third_party_id"] for link in halo["external_links"]}
    with_id = {c["id"] for c in companies if "externalId" in c}
    assert linked and with_id and not linked & with_id
    assert len(linked | with_id) < len(companies)
    assert all(
        line["distributor"] == "Pax8" and line["thirdparty_client_id"] in linked
        for line in halo["licences"]
    )
    renamed = [c for c in halo["clients"] if c["name"] not in {p["name"] for p in companies}]
    assert len(renamed) >= 10


# --- against the official specs ---


def _pax8_spec() -> dict[str, Any]:
    """The Pax8 spec, with the documented wire differences the generator reproduces allowed."""
    spec: dict[str, Any] = json.loads(
        (SPEC_DIR / "pax8-partner-endpoints-openapi.json").read_text()
    )
    schemas = spec["components"]["schemas"]
    commitment = schemas["Subscription"]["properties"]["commitmentTerm"]
    # Monthly subscriptions with no commitment carry `commitmentTerm: null` [CLI types.ts].
    schemas["Subscription"]["properties"]["commitmentTerm"] = {
        "anyOf": [commitment, {"enum": [None]}]
    }
    # LineItem requires companyId, which it does not define; order examples lack it.
    schemas["LineItem"]["required"].remove("companyId")
    # The wire adds `status` to invoices and `subscriptionId` to usage summaries.
    schemas["Invoice"]["properties"]["status"] = {"type": "string"}
    schemas["UsageSummary"]["properties"]["subscriptionId"] = {"type": "string", "format": "uuid"}
    # A usage summary on a resource group assigned to no company has a null companyId.
    schemas["UsageSummary"]["properties"]["companyId"]["nullable"] = True
    return spec


@functools.cache
def registry() -> Registry:
    halo = json.loads((SPEC_DIR / "halopsa-swagger.json").read_text())  # 3.6 MB: load once
    return Registry().with_resources(
        [
            (PAX8_URI, Resource.from_contents(_pax8_spec(), default_specification=DRAFT4)),
            (HALO_URI, Resource.from_contents(halo, default_specification=DRAFT4)),
        ]
    )


def check(objects: list[dict[str, Any]], uri: str, schema: str, strip: str = "") -> None:
    """Every object validates against the component schema and uses only its properties."""
    contents = registry().contents(uri)
    declared = set(contents["components"]["schemas"][schema]["properties"])
    validator = OAS30Validator({"$ref": f"{uri}#/components/schemas/{schema}"}, registry=registry())
    for obj in objects:
        obj = {k: v for k, v in obj.items() if k != strip}
        validator.validate(obj)
        assert set(obj) <= declared, f"{schema} has no {set(obj) - declared}"


pytestmark_specs = pytest.mark.skipif(
    not (SPEC_DIR / "halopsa-swagger.json").exists(), reason=f"the specs are not in {SPEC_DIR}"
)


@pytestmark_specs
def test_pax8_objects_match_the_pax8_spec(demo: dict[str, Any]) -> None:
    pax8 = copy.deepcopy(demo["pax8"])
    check(pax8["companies"], PAX8_URI, "Company")
    check(pax8["products"], PAX8_URI, "Product")
    snapshots = [s for history in pax8["subscription_history"].values() for s in history]
    check(pax8["subscriptions"] + snapshots, PAX8_URI, "Subscription")
    check(pax8["orders"], PAX8_URI, "Order")
    check([line for o in pax8["orders"] for line in o["lineItems"]], PAX8_URI, "LineItem")
    check(pax8["invoices"], PAX8_URI, "Invoice", strip="items")
    check([i for inv in pax8["invoices"] for i in inv["items"]], PAX8_URI, "InvoiceItem")
    check(pax8["usage_summaries"], PAX8_URI, "UsageSummary", strip="lines")
    check([line for s in pax8["usage_summaries"] for line in s["lines"]], PAX8_URI, "UsageLine")


@pytestmark_specs
def test_halo_objects_match_the_halo_swagger(demo: dict[str, Any]) -> None:
    halo = demo["halo"]
    check(halo["clients"], HALO_URI, "Area")
    check(halo["sites"], HALO_URI, "Site")
    check(halo["items"], HALO_URI, "Item")
    check(halo["recurring_invoices"] + halo["invoices"], HALO_URI, "InvoiceHeader")
    lines = [line for ri in halo["recurring_invoices"] + halo["invoices"] for line in ri["lines"]]
    check(lines, HALO_URI, "InvoiceDetail")
    check(halo["licences"], HALO_URI, "Licence_List")
    check(halo["external_links"], HALO_URI, "ExternalLink_List")


# --- scale ---


@pytest.mark.slow
def test_two_thousand_clients_are_valid() -> None:
    """How long this takes is bench/generate_bench.py's to measure (goal < 60 s)."""
    data = generate_scenario(2000, seed=11, month="2026-11")
    text = dump_scenario(data)
    assert 36_000 <= len(data["pax8"]["subscriptions"]) <= 44_000
    sizes = Counter(s["companyId"] for s in data["pax8"]["subscriptions"])
    assert min(sizes.values()) >= 3 and max(sizes.values()) <= 60
    scenario = parse_scenario(json.loads(text))
    assert len(scenario.halo["clients"]) > 1900
