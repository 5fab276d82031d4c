"""Pax8 simulator: writes and what later reads show of them; derived pricing and draft items."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pax8_fixtures import (
    ACME,
    AZURE,
    BIRCH,
    CEDAR,
    COMMITMENT_1Y,
    M365,
    PROOFPOINT,
    S_ACME_M365,
    S_ACME_PROOF,
    S_BIRCH_ANNUAL,
    S_BIRCH_CANCELLED,
    S_CEDAR_LEAVING,
    FakeClock,
    behaviour_scenario,
    pax8_client,
    uid,
)
from trueup.sandbox.pax8 import create_pax8_app
from trueup.sandbox.scenario import parse_scenario


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_pax8_app(parse_scenario(behaviour_scenario()))
    async with pax8_client(app) as authorised:
        yield authorised


async def history(client: httpx.AsyncClient, sub_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/subscriptions/{sub_id}/history")
    assert response.status_code == 200
    return list(response.json()["content"])


# -- PUT /subscriptions/{id} --------------------------------------------------------------------


async def test_a_quantity_change_shows_in_reads_and_tops_the_history() -> None:
    clock = FakeClock()
    async with pax8_client(
        create_pax8_app(parse_scenario(behaviour_scenario()), clock=clock)
    ) as client:
        clock.advance(3600)
        response = await client.put(f"/v1/subscriptions/{S_ACME_M365}", json={"quantity": 15})
        assert response.status_code == 200
        assert response.json()["quantity"] == 15
        assert response.json()["updatedDate"] == "2026-11-21T01:00:00.000+0000"
        read = (await client.get(f"/v1/subscriptions/{S_ACME_M365}")).json()
        listed = (await client.get("/v1/subscriptions", params={"companyId": ACME})).json()
        versions = await history(client, S_ACME_M365)
    assert read == response.json()
    assert listed["content"][0]["quantity"] == 15
    assert [version["quantity"] for version in versions] == [15, 12, 10]
    assert versions[0] == read


async def test_the_first_change_keeps_the_original_as_history(client: httpx.AsyncClient):
    assert [v["quantity"] for v in await history(client, S_ACME_PROOF)] == [5]
    body = {"price": 4.5, "billingTerm": "Annual", "startDate": "2026-12-01T00:00:00Z"}
    response = await client.put(f"/v1/subscriptions/{S_ACME_PROOF}", json=body)
    assert response.status_code == 200
    versions = await history(client, S_ACME_PROOF)
    assert [(v["price"], v["billingTerm"]) for v in versions] == [(4.5, "Annual"), (4.0, "Monthly")]
    assert versions[0]["startDate"] == "2026-12-01T00:00:00Z"
    assert "updatedDate" in versions[0] and "updatedDate" not in versions[1]


async def test_an_unchanged_put_adds_no_version(client: httpx.AsyncClient) -> None:
    response = await client.put(f"/v1/subscriptions/{S_ACME_PROOF}", json={"quantity": 5})
    assert response.status_code == 200
    assert len(await history(client, S_ACME_PROOF)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "Active", "endDate": "2027-01-01"},  # nothing PUT can change
        {"quantity": 0},
        {"quantity": "5"},
        {"quantity": 2.5},
        {"price": -1},
        {"billingTerm": "Weekly"},
        {"startDate": "soon"},
    ],
)
async def test_invalid_updates_are_unprocessable(client: httpx.AsyncClient, body: dict) -> None:
    response = await client.put(f"/v1/subscriptions/{S_ACME_M365}", json=body)
    assert (response.status_code, response.json()["type"]) == (422, "UNPROCESSABLE_ENTITY")
    assert response.json()["details"]
    assert len(await history(client, S_ACME_M365)) == 2


async def test_updates_refused_for_cancelled_future_and_unknown(client: httpx.AsyncClient):
    cancelled = await client.put(f"/v1/subscriptions/{S_BIRCH_CANCELLED}", json={"quantity": 2})
    future_data = behaviour_scenario()
    future_data["pax8"]["subscriptions"][0]["startDate"] = "2027-01-01T00:00:00Z"
    async with pax8_client(create_pax8_app(parse_scenario(future_data))) as other:
        future = await other.put(f"/v1/subscriptions/{S_ACME_M365}", json={"quantity": 2})
    unknown = await client.put(f"/v1/subscriptions/{uid(99)}", json={"quantity": 2})
    malformed = await client.put(f"/v1/subscriptions/{S_ACME_M365}", content=b"{quantity: 2")
    assert (cancelled.status_code, future.status_code, unknown.status_code) == (422, 422, 404)
    assert (malformed.status_code, malformed.json()["type"]) == (400, "BAD_REQUEST")


# -- DELETE /subscriptions/{id} -----------------------------------------------------------------


async def test_cancelling_ends_the_subscription(client: httpx.AsyncClient) -> None:
    cancel_date = "2026-11-30T00:00:00Z"
    response = await client.delete(
        f"/v1/subscriptions/{S_ACME_M365}", params={"cancelDate": cancel_date}
    )
    assert (response.status_code, response.content) == (204, b"")
    read = (await client.get(f"/v1/subscriptions/{S_ACME_M365}")).json()
    assert (read["status"], read["endDate"]) == ("Cancelled", cancel_date)
    cancelled = await client.get("/v1/subscriptions", params={"status": "Cancelled"})
    assert S_ACME_M365 in [sub["id"] for sub in cancelled.json()["content"]]
    versions = await history(client, S_ACME_M365)
    assert [v["status"] for v in versions] == ["Cancelled", "Active", "Active"]
    again = await client.delete(f"/v1/subscriptions/{S_ACME_M365}")
    assert again.status_code == 422


async def test_cancelling_without_a_date_ends_now(client: httpx.AsyncClient) -> None:
    assert (await client.delete(f"/v1/subscriptions/{S_ACME_PROOF}")).status_code == 204
    read = (await client.get(f"/v1/subscriptions/{S_ACME_PROOF}")).json()
    assert read["endDate"].startswith("2026-11-21T")


async def test_cancelling_needs_a_known_subscription_and_a_real_date(client: httpx.AsyncClient):
    unknown = await client.delete(f"/v1/subscriptions/{uid(99)}")
    bad_date = await client.delete(f"/v1/subscriptions/{S_ACME_M365}?cancelDate=tomorrow")
    assert (unknown.status_code, bad_date.status_code) == (404, 400)


async def test_writes_leave_the_callers_scenario_alone() -> None:
    data = behaviour_scenario()
    scenario = parse_scenario(data)
    before = copy.deepcopy(scenario.pax8)
    async with pax8_client(create_pax8_app(scenario)) as client:
        await client.put(f"/v1/subscriptions/{S_ACME_M365}", json={"quantity": 1})
        await client.delete(f"/v1/subscriptions/{S_ACME_PROOF}")
        await client.patch(f"/v1/companies/{ACME}", json={"name": "Renamed"})
    assert scenario.pax8 == before


# -- companies ----------------------------------------------------------------------------------

NEW_COMPANY = {
    "name": "Dogwood Dental",
    "address": {"street": "1 Main St", "city": "Boise", "country": "US"},
    "phone": "555-0100",
    "website": "dogwood.test",
    "billOnBehalfOfEnabled": False,
    "selfServiceAllowed": False,
    "orderApprovalRequired": False,
}


async def test_a_new_company_is_inactive_until_it_has_primary_contacts(client):
    plain = (await client.post("/v1/companies", json=NEW_COMPANY)).json()
    types = [{"type": kind, "primary": True} for kind in ("Admin", "Billing", "Technical")]
    contact = {"firstName": "D", "lastName": "W", "email": "d@dogwood.test", "phone": "1"}
    staffed = await client.post(
        "/v1/companies", json={**NEW_COMPANY, "contacts": [contact | {"types": types}]}
    )
    assert plain["status"] == "Inactive" and plain["id"]
    assert staffed.json()["status"] == "Active"
    listed = (await client.get("/v1/companies", params={"city": "Boise"})).json()["content"]
    assert {company["id"] for company in listed} == {plain["id"], staffed.json()["id"]}
    contacts = (await client.get(f"/v1/companies/{staffed.json()['id']}/contacts")).json()
    assert contacts["content"][0]["email"] == "d@dogwood.test"


@pytest.mark.parametrize(
    "body",
    [
        {key: value for key, value in NEW_COMPANY.items() if key != "phone"},
        {**NEW_COMPANY, "address": {"country": "USA"}},
        {**NEW_COMPANY, "selfServiceAllowed": "no"},
        {**NEW_COMPANY, "contacts": "nobody"},
    ],
)
async def test_an_invalid_company_is_unprocessable(client: httpx.AsyncClient, body: dict):
    response = await client.post("/v1/companies", json=body)
    assert (response.status_code, response.json()["type"]) == (422, "UNPROCESSABLE_ENTITY")


async def test_patching_a_company_merges_the_changes(client: httpx.AsyncClient) -> None:
    body = {"name": "Acme Dental Group", "address": {"postalCode": "45403"}, "status": "Deleted"}
    response = await client.patch(f"/v1/companies/{ACME}", json=body)
    assert response.status_code == 200
    company = (await client.get(f"/v1/companies/{ACME}")).json()
    assert company["name"] == "Acme Dental Group"
    assert company["address"] == {
        "city": "Dayton",
        "stateOrProvince": "OH",
        "postalCode": "45403",
        "country": "US",
    }
    assert company["status"] == "Active"  # status is read-only
    assert (await client.patch(f"/v1/companies/{uid(99)}", json=body)).status_code == 404
    bad = await client.patch(f"/v1/companies/{ACME}", json={"website": 7})
    assert bad.status_code == 422


# -- orders -------------------------------------------------------------------------------------

ORDER = {"companyId": BIRCH, "lineItems": [{"productId": PROOFPOINT, "billingTerm": "Monthly",
                                            "quantity": 4, "lineItemNumber": 1}]}  # fmt: skip


async def test_an_order_creates_its_subscriptions(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/orders", json=ORDER)
    assert response.status_code == 200
    order = response.json()
    line = order["lineItems"][0]
    assert (order["companyId"], line["quantity"], order["orderedBy"]) == (BIRCH, 4, "Pax8Partner")
    assert (await client.get(f"/v1/orders/{order['id']}")).json() == order
    listed = (await client.get("/v1/orders", params={"companyId": BIRCH})).json()["content"]
    assert [row["id"] for row in listed] == [order["id"]]
    subscription = (await client.get(f"/v1/subscriptions/{line['subscriptionId']}")).json()
    assert (subscription["companyId"], subscription["quantity"]) == (BIRCH, 4)
    assert subscription["price"] == 4.0  # priced like the product's other Monthly subscription


async def test_an_add_on_order_makes_a_subscription_with_its_parent_and_details(
    client: httpx.AsyncClient,
) -> None:
    details = [{"key": "userEmailAddress", "values": ["joe@birch.test"]}]
    add_on = {**ORDER["lineItems"][0], "parentSubscriptionId": S_BIRCH_ANNUAL,
              "provisioningDetails": details}  # fmt: skip
    order = (await client.post("/v1/orders", json={**ORDER, "lineItems": [add_on]})).json()
    sub_id = order["lineItems"][0]["subscriptionId"]
    subscription = (await client.get(f"/v1/subscriptions/{sub_id}")).json()
    parent = (await client.get(f"/v1/subscriptions/{S_BIRCH_ANNUAL}")).json()
    assert subscription["parentSubscriptionId"] == S_BIRCH_ANNUAL
    assert subscription["provisioningDetails"] == details
    assert "parentSubscriptionId" not in parent and parent["provisioningDetails"] == []
    # The spec's LineItem takes parentSubscriptionId write-only: the order does not echo it.
    assert "parentSubscriptionId" not in order["lineItems"][0]


async def test_a_mock_order_only_validates(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/orders?isMock=true", json=ORDER)
    assert response.status_code == 200
    sub_id = response.json()["lineItems"][0]["subscriptionId"]
    assert (await client.get(f"/v1/subscriptions/{sub_id}")).status_code == 404
    assert (await client.get(f"/v1/orders/{response.json()['id']}")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {**ORDER, "companyId": uid(99)},
        {**ORDER, "lineItems": []},
        {**ORDER, "lineItems": [{**ORDER["lineItems"][0], "productId": uid(99)}]},
        {**ORDER, "lineItems": [{**ORDER["lineItems"][0], "quantity": 0}]},
        {**ORDER, "lineItems": [{**ORDER["lineItems"][0], "billingTerm": "Weekly"}]},
        {**ORDER, "lineItems": [{**ORDER["lineItems"][0], "parentSubscriptionId": S_ACME_M365}]},
    ],
)
async def test_an_invalid_order_is_unprocessable(client: httpx.AsyncClient, body: dict) -> None:
    response = await client.post("/v1/orders?isMock=true", json=body)
    assert response.status_code == 422


# -- pricing, dependencies, provisioning --------------------------------------------------------


async def test_pricing_is_derived_from_the_products_subscriptions(client: httpx.AsyncClient):
    body = (await client.get(f"/v1/products/{M365}/pricing")).json()
    by_term = {(p["billingTerm"], p.get("commitmentTerm")): p for p in body["content"]}
    assert set(by_term) == {("Monthly", "1-Year"), ("Annual", None), ("Monthly", None)}
    committed = by_term[("Monthly", "1-Year")]
    assert (committed["type"], committed["commitmentTermInMonths"]) == ("Flat", 12)
    assert committed["unitOfMeasurement"] == "Seat"  # as the invoices bill it
    assert committed["rates"] == [
        {"partnerBuyRate": 22.0, "suggestedRetailPrice": 26.4, "startQuantityRange": 1,
         "chargeType": "Per Unit"}
    ]  # fmt: skip


async def test_pricing_for_a_company_uses_its_own_price() -> None:
    data = behaviour_scenario()
    data["pax8"]["subscriptions"].append(
        {"id": uid(27), "companyId": CEDAR, "productId": PROOFPOINT, "price": 6.0,
         "partnerCost": 3.0, "billingTerm": "Monthly", "status": "Active", "quantity": 1}
    )  # fmt: skip
    async with pax8_client(create_pax8_app(parse_scenario(data))) as client:
        path = f"/v1/products/{PROOFPOINT}/pricing"
        default = (await client.get(path)).json()["content"]
        cedar = (await client.get(path, params={"companyId": CEDAR})).json()["content"]
        unknown = await client.get(path, params={"companyId": uid(99)})
    assert [p["rates"][0]["suggestedRetailPrice"] for p in default] == [4.0]
    assert [p["rates"][0]["suggestedRetailPrice"] for p in cedar] == [6.0]
    assert unknown.status_code == 404


async def test_scenario_pricing_and_dependencies_win() -> None:
    data = behaviour_scenario()
    pricing = [{"productId": AZURE, "billingTerm": "Monthly", "type": "Mark-Up", "rates": []}]
    dependencies = {"commitmentDependencies": [], "productDependencies": [{"name": "Requires"}]}
    data["pax8"] |= {"pricing": {AZURE: pricing}, "dependencies": {AZURE: dependencies}}
    async with pax8_client(create_pax8_app(parse_scenario(data))) as client:
        assert (await client.get(f"/v1/products/{AZURE}/pricing")).json() == {"content": pricing}
        served = (await client.get(f"/v1/products/{AZURE}/dependencies")).json()
        assert served == dependencies


async def test_dependencies_and_provisioning(client: httpx.AsyncClient) -> None:
    m365 = (await client.get(f"/v1/products/{M365}/dependencies")).json()
    assert [c["id"] for c in m365["commitmentDependencies"]] == [COMMITMENT_1Y]
    assert m365["commitmentDependencies"][0]["allowForQuantityDecrease"] is False
    assert m365["productDependencies"] == []
    details = (await client.get(f"/v1/products/{M365}/provision-details")).json()
    assert details == {"content": [{"label": "Domain", "key": "msDomain", "valueType": "Input"}]}
    none = (await client.get(f"/v1/products/{AZURE}/provision-details")).json()
    assert none == {"content": []}


# -- draft invoice items ------------------------------------------------------------------------


async def draft(client: httpx.AsyncClient, **params: Any) -> httpx.Response:
    return await client.get("/v1/invoices/draftItems", params={"size": 200, **params})


async def test_next_months_draft_bills_the_active_subscriptions(client: httpx.AsyncClient):
    items = (await draft(client)).json()["content"]  # monthOffset defaults to 1: December
    by_sub = {item["subscriptionId"]: item for item in items}
    # Not the cancelled one, nor the usage-billed Azure plan; the annual one is in its month.
    assert set(by_sub) == {S_ACME_M365, S_ACME_PROOF, S_BIRCH_ANNUAL, S_CEDAR_LEAVING}
    m365 = by_sub[S_ACME_M365]
    assert (m365["startPeriod"], m365["endPeriod"]) == ("2026-12-01", "2026-12-31")
    assert (m365["type"], m365["term"], m365["quantity"], m365["price"]) == (
        "subscription",
        "Monthly",
        12,
        26.4,
    )
    assert (m365["subTotal"], m365["costTotal"], m365["amountDue"]) == (316.8, 264.0, 316.8)
    assert (m365["companyName"], m365["sku"]) == ("acme Dental", "MST-BUS-PRM")
    assert by_sub[S_BIRCH_ANNUAL]["term"] == "Annual"
    assert by_sub[S_CEDAR_LEAVING]["billedByPax8"] is True
    assert (await draft(client)).json()["content"] == items  # stable ids and order


async def test_this_months_draft_and_company_filter(client: httpx.AsyncClient) -> None:
    november = (await draft(client, monthOffset=0)).json()["content"]
    assert {item["subscriptionId"] for item in november} == {
        S_ACME_M365,
        S_ACME_PROOF,
        S_CEDAR_LEAVING,
    }
    assert november[0]["startPeriod"] == "2026-11-01"
    acme = (await draft(client, companyId=ACME)).json()["content"]
    assert {item["subscriptionId"] for item in acme} == {S_ACME_M365, S_ACME_PROOF}
    assert (await draft(client, companyId=uid(99))).status_code == 403


async def test_draft_items_follow_subscription_writes(client: httpx.AsyncClient) -> None:
    before = (await draft(client)).json()["page"]["totalElements"]
    await client.put(f"/v1/subscriptions/{S_ACME_M365}", json={"quantity": 2})
    await client.delete(f"/v1/subscriptions/{S_ACME_PROOF}")
    items = (await draft(client)).json()["content"]
    assert len(items) == before - 1
    assert [item["subTotal"] for item in items if item["subscriptionId"] == S_ACME_M365] == [52.8]


@pytest.mark.parametrize("offset", ["2", "-1", "next"])
async def test_a_month_offset_other_than_0_or_1_is_unprocessable(client, offset: str) -> None:
    response = await draft(client, monthOffset=offset)
    assert (response.status_code, response.json()["type"]) == (422, "UNPROCESSABLE_ENTITY")
