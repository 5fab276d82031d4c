"""Pax8 simulator: every documented filter and sort of the read routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pax8_fixtures import (
    ACME,
    AZURE,
    BIRCH,
    CEDAR,
    INVOICE_NOV,
    INVOICE_OCT,
    INVOICE_SEPT,
    M365,
    ORDER_ACME,
    ORDER_BIRCH_SCHEDULED,
    PROOFPOINT,
    S_ACME_M365,
    S_ACME_PROOF,
    S_BIRCH_ANNUAL,
    S_BIRCH_CANCELLED,
    S_CEDAR_AZURE,
    S_CEDAR_LEAVING,
    SUMMARY_ACME,
    SUMMARY_CLINIC,
    SUMMARY_LABS,
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


async def ids(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    response = await client.get(path, params={"size": 200, **params})
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json().get("content", [])]


# -- companies and contacts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [ACME, BIRCH, CEDAR]),
        ({"city": "Tacoma"}, [BIRCH]),
        ({"country": "CA"}, [CEDAR]),
        ({"stateOrProvince": "OH"}, [ACME]),
        ({"postalCode": "98402"}, [BIRCH]),
        ({"selfServiceAllowed": "true"}, [BIRCH]),
        ({"selfServiceAllowed": "FALSE"}, [ACME, CEDAR]),
        ({"billOnBehalfOfEnabled": "true"}, [CEDAR]),
        ({"orderApprovalRequired": "true"}, [CEDAR]),
        ({"status": "Inactive"}, [BIRCH]),
        ({"status": "Active", "country": "US"}, [ACME]),
        ({"status": "Deleted"}, []),
    ],
)
async def test_company_filters(client: httpx.AsyncClient, params: dict, expected: list) -> None:
    assert await ids(client, "/v1/companies", **params) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", [ACME, BIRCH, CEDAR]),  # case-insensitive: "acme Dental" first
        ("name,desc", [CEDAR, BIRCH, ACME]),
        ("city,asc", [ACME, BIRCH, CEDAR]),
        ("country,DESC", [ACME, BIRCH, CEDAR]),  # US, US, CA: a stable sort keeps ties
        ("stateOrProvince", [ACME, CEDAR, BIRCH]),
        ("postalCode,desc", [CEDAR, BIRCH, ACME]),  # "M5V" > "98402" > "45402"
        ("nonsense,desc", [ACME, BIRCH, CEDAR]),  # unknown sort fields are ignored
    ],
)
async def test_company_sorts(client: httpx.AsyncClient, sort: str, expected: list) -> None:
    assert await ids(client, "/v1/companies", sort=sort) == expected


async def test_a_bad_boolean_filter_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/companies", params={"selfServiceAllowed": "maybe"})
    assert (response.status_code, response.json()["type"]) == (400, "BAD_REQUEST")


async def test_contacts_are_paged_newest_first(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/v1/companies/{ACME}/contacts", params={"size": 1})).json()
    assert [contact["firstName"] for contact in body["content"]] == ["Bob"]
    assert body["page"]["totalElements"] == 2
    contact = (await client.get(f"/v1/companies/{ACME}/contacts/{uid(71)}")).json()
    assert contact["firstName"] == "Ann"
    assert (await client.get(f"/v1/companies/{BIRCH}/contacts")).json()["content"] == []
    assert (await client.get(f"/v1/companies/{uid(9)}/contacts")).status_code == 404


# -- products -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "PREMIUM"}, [M365]),
        ({"search": "mst-"}, [M365, AZURE]),  # sku substring
        ({"vendorName": "proofpoint"}, [PROOFPOINT]),
        ({"vendorName": "Microsoft", "search": "azure"}, [AZURE]),
        ({"sort": "name"}, [AZURE, M365, PROOFPOINT]),
        ({"sort": "vendor,desc"}, [PROOFPOINT, M365, AZURE]),
    ],
)
async def test_product_search_and_sort(client: httpx.AsyncClient, params: dict, expected: list):
    assert await ids(client, "/v1/products", **params) == expected


async def test_product_list_leaves_the_description_to_the_detail(client: httpx.AsyncClient):
    listed = (await client.get("/v1/products")).json()["content"][0]
    detail = (await client.get(f"/v1/products/{M365}")).json()
    assert "description" not in listed
    assert detail["description"] == "The long description"


# -- orders -------------------------------------------------------------------------------------


async def test_orders_filter_by_company_and_hide_scheduled_ones(client: httpx.AsyncClient):
    assert await ids(client, "/v1/orders") == [ORDER_ACME]
    assert await ids(client, "/v1/orders", companyId=ACME) == [ORDER_ACME]
    assert await ids(client, "/v1/orders", companyId=BIRCH) == []
    assert await ids(client, "/v1/orders", companyId="not-a-uuid") == [ORDER_ACME]
    scheduled = await client.get(f"/v1/orders/{ORDER_BIRCH_SCHEDULED}")
    assert scheduled.json()["isScheduled"] is True


# -- subscriptions ------------------------------------------------------------------------------

ALL_SUBSCRIPTIONS = [
    S_ACME_M365,
    S_ACME_PROOF,
    S_BIRCH_ANNUAL,
    S_BIRCH_CANCELLED,
    S_CEDAR_AZURE,
    S_CEDAR_LEAVING,
]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ALL_SUBSCRIPTIONS),
        ({"status": "Cancelled"}, [S_BIRCH_CANCELLED]),
        ({"status": "PendingCancel"}, [S_CEDAR_LEAVING]),
        ({"billingTerm": "Annual"}, [S_BIRCH_ANNUAL]),
        ({"companyId": ACME}, [S_ACME_M365, S_ACME_PROOF]),
        ({"productId": M365}, [S_ACME_M365, S_BIRCH_ANNUAL, S_CEDAR_LEAVING]),
        ({"productId": M365, "companyId": CEDAR}, [S_CEDAR_LEAVING]),
        ({"companyId": BIRCH, "status": "Active", "billingTerm": "Monthly"}, []),
        ({"productId": uid(99)}, []),
    ],
)
async def test_subscription_filters(client: httpx.AsyncClient, params: dict, expected: list):
    assert await ids(client, "/v1/subscriptions", **params) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("quantity", [S_BIRCH_ANNUAL, S_ACME_PROOF, S_ACME_M365, S_CEDAR_LEAVING]),
        ("quantity,desc", [S_CEDAR_LEAVING, S_ACME_M365, S_ACME_PROOF, S_BIRCH_ANNUAL]),
        ("price,asc", [S_ACME_PROOF, S_CEDAR_LEAVING, S_ACME_M365, S_BIRCH_ANNUAL]),
        ("startDate", [S_ACME_PROOF, S_ACME_M365, S_CEDAR_LEAVING, S_BIRCH_ANNUAL]),
        ("createdDate,desc", [S_BIRCH_ANNUAL, S_CEDAR_LEAVING, S_ACME_M365, S_ACME_PROOF]),
        ("billingStart,DESC", [S_BIRCH_ANNUAL, S_CEDAR_LEAVING, S_ACME_M365, S_ACME_PROOF]),
        # endDate: nulls last ascending, first descending, as a SQL backend orders them.
        ("endDate", [S_CEDAR_LEAVING, S_ACME_M365, S_ACME_PROOF, S_BIRCH_ANNUAL]),
        ("endDate,desc", [S_ACME_M365, S_ACME_PROOF, S_BIRCH_ANNUAL, S_CEDAR_LEAVING]),
    ],
)
async def test_subscription_sorts(client: httpx.AsyncClient, sort: str, expected: list) -> None:
    # The cancelled and the Azure rows are left out of the comparison to keep it short.
    rows = await ids(client, "/v1/subscriptions", sort=sort)
    assert [row for row in rows if row in expected] == expected


async def test_sorting_compares_instants_across_timestamp_styles() -> None:
    base = {
        "companyId": "c",
        "productId": "p",
        "quantity": 1,
        "status": "Active",
        "billingTerm": "Monthly",
    }
    subscriptions = [
        {**base, "id": "late", "createdDate": "2024-01-01T01:00:00-0600"},  # 07:00Z
        {**base, "id": "early", "createdDate": "2024-01-01T05:00:00Z"},
        {**base, "id": "date-only", "createdDate": "2024-01-01"},  # midnight UTC
    ]
    scenario = parse_scenario(
        {"as_of": "2026-01-01T00:00:00Z", "pax8": {"subscriptions": subscriptions}}
    )
    async with pax8_client(create_pax8_app(scenario)) as client:
        assert await ids(client, "/v1/subscriptions", sort="createdDate") == [
            "date-only",
            "early",
            "late",
        ]


@pytest.mark.parametrize("company_id", [uid(99), "not-a-uuid"])
async def test_an_unknown_company_is_forbidden_for_subscriptions(
    client: httpx.AsyncClient, company_id: str
) -> None:
    response = await client.get("/v1/subscriptions", params={"companyId": company_id})
    assert response.status_code == 403
    assert (response.json()["type"], response.json()["status"]) == ("FORBIDDEN", 403)


# -- usage --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [SUMMARY_CLINIC, SUMMARY_LABS, SUMMARY_ACME]),
        ({"resourceGroup": "cedar Labs"}, [SUMMARY_LABS]),
        ({"companyId": CEDAR}, [SUMMARY_CLINIC, SUMMARY_LABS]),
        ({"sort": "resourceGroup"}, [SUMMARY_ACME, SUMMARY_CLINIC, SUMMARY_LABS]),
        ({"sort": "currentCharges,desc"}, [SUMMARY_CLINIC, SUMMARY_ACME, SUMMARY_LABS]),
        ({"sort": "partnerTotal"}, [SUMMARY_LABS, SUMMARY_ACME, SUMMARY_CLINIC]),
    ],
)
async def test_usage_summary_filters_and_sorts(client: httpx.AsyncClient, params, expected):
    path = f"/v1/subscriptions/{S_CEDAR_AZURE}/usage-summaries"
    assert await ids(client, path, **params) == expected


async def test_usage_summaries_hide_their_scenario_lines(client: httpx.AsyncClient) -> None:
    listed = (await client.get(f"/v1/subscriptions/{S_CEDAR_AZURE}/usage-summaries")).json()
    single = (await client.get(f"/v1/usage-summaries/{SUMMARY_CLINIC}")).json()
    assert all("lines" not in summary for summary in listed["content"])
    assert "lines" not in single and single["currentCharges"] == 412.56
    no_usage = await client.get(f"/v1/subscriptions/{S_ACME_M365}/usage-summaries")
    assert no_usage.json()["page"]["totalElements"] == 0


async def test_usage_lines_by_date_and_product(client: httpx.AsyncClient) -> None:
    path = f"/v1/usage-summaries/{SUMMARY_CLINIC}/usage-lines"
    day = (await client.get(path, params={"usageDate": "2026-11-14"})).json()
    assert [line["currentCharges"] for line in day["content"]] == [13.82, 2.5]
    assert day["page"]["totalElements"] == 2
    one = (await client.get(path, params={"usageDate": "2026-11-14", "productId": AZURE})).json()
    assert [line["currentCharges"] for line in one["content"]] == [13.82]
    past_month = (await client.get(path, params={"usageDate": "2026-10-31"})).json()
    assert past_month["page"]["totalElements"] == 1  # closed months are served too
    quiet_day = (await client.get(path, params={"usageDate": "2026-11-01"})).json()
    assert quiet_day["content"] == [] and quiet_day["page"]["totalPages"] == 0


@pytest.mark.parametrize("params", [{}, {"usageDate": ""}, {"usageDate": "14/11/2026"}])
async def test_usage_lines_need_a_usage_date(client: httpx.AsyncClient, params: dict) -> None:
    path = f"/v1/usage-summaries/{SUMMARY_CLINIC}/usage-lines"
    response = await client.get(path, params=params)
    assert (response.status_code, response.json()["type"]) == (400, "BAD_REQUEST")
    assert response.json()["details"][0]["message"].startswith("usageDate")


# -- invoices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [INVOICE_SEPT, INVOICE_OCT, INVOICE_NOV]),
        ({"status": "Unpaid"}, [INVOICE_OCT]),
        ({"invoiceDate": "2026-11-01"}, [INVOICE_NOV]),
        ({"invoiceDateRangeStart": "2026-10-01"}, [INVOICE_OCT, INVOICE_NOV]),
        ({"invoiceDateRangeEnd": "2026-10-01"}, [INVOICE_SEPT, INVOICE_OCT]),
        (
            {"invoiceDateRangeStart": "2026-10-01", "invoiceDateRangeEnd": "2026-10-01"},
            [INVOICE_OCT],
        ),
        ({"dueDate": "2026-09-15"}, [INVOICE_SEPT]),
        ({"total": "250.50"}, [INVOICE_OCT]),
        ({"balance": "80"}, [INVOICE_NOV]),
        ({"carriedBalance": "0"}, [INVOICE_SEPT]),
        ({"companyId": ACME}, [INVOICE_SEPT, INVOICE_OCT]),
        ({"companyId": CEDAR}, []),
    ],
)
async def test_invoice_filters(client: httpx.AsyncClient, params: dict, expected: list) -> None:
    assert await ids(client, "/v1/invoices", **params) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("invoiceDate,desc", [INVOICE_NOV, INVOICE_OCT, INVOICE_SEPT]),
        ("dueDate", [INVOICE_SEPT, INVOICE_OCT, INVOICE_NOV]),
        ("status", [INVOICE_NOV, INVOICE_SEPT, INVOICE_OCT]),
        ("partnerName", [INVOICE_NOV, INVOICE_SEPT, INVOICE_OCT]),
        ("total,desc", [INVOICE_OCT, INVOICE_SEPT, INVOICE_NOV]),
        ("balance", [INVOICE_SEPT, INVOICE_NOV, INVOICE_OCT]),
        ("carriedBalance,desc", [INVOICE_NOV, INVOICE_OCT, INVOICE_SEPT]),
    ],
)
async def test_invoice_sorts(client: httpx.AsyncClient, sort: str, expected: list) -> None:
    assert await ids(client, "/v1/invoices", sort=sort) == expected


async def test_an_unknown_company_is_not_found_for_invoices(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/invoices", params={"companyId": uid(99)})
    assert response.status_code == 404
    assert response.json()["message"] == f"Company Not Found: {uid(99)}"


@pytest.mark.parametrize(
    "params", [{"invoiceDate": "2026-13-01"}, {"invoiceDateRangeEnd": "yesterday"}, {"total": "x"}]
)
async def test_malformed_invoice_filters_are_bad_requests(client: httpx.AsyncClient, params):
    response = await client.get("/v1/invoices", params=params)
    assert (response.status_code, response.json()["details"][0]["type"]) == (400, "INVALID_PARAM")


async def test_an_invoice_is_served_without_its_items(client: httpx.AsyncClient) -> None:
    invoice = (await client.get(f"/v1/invoices/{INVOICE_OCT}")).json()
    items = (await client.get(f"/v1/invoices/{INVOICE_OCT}/items", params={"size": 200})).json()
    assert "items" not in invoice and invoice["status"] == "Unpaid"
    assert len(items["content"]) == 25 and items["content"][0]["unitOfMeasure"] == "Seat"
