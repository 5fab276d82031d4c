"""Helpers shared by the Pax8 simulator tests: an authorised client, a fake clock, fixed ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp

from trueup.sandbox.transport import SandboxTransport

BASE_URL = "http://pax8.test"
TOKEN_REQUEST = {
    "client_id": "sandbox",
    "client_secret": "sandbox",
    "audience": "https://api.pax8.com",
    "grant_type": "client_credentials",
}


def uid(number: int) -> str:
    """A readable fixed uuid: uid(7) == '00000000-0000-4000-8000-000000000007'."""
    return f"00000000-0000-4000-8000-{number:012d}"


class FakeClock:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def pax8_client(
    app: ASGIApp, *, authorised: bool = True, **client_options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the in-process transport, holding a bearer token unless told not to."""
    transport = SandboxTransport(app)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, **client_options
    ) as client:
        if authorised:
            response = await client.post("/v1/token", json=TOKEN_REQUEST)
            response.raise_for_status()
            client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client


async def all_pages(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a paged list, looping as Pax8's own CLI does (until number+1 >= totalPages)."""
    rows: list[dict[str, Any]] = []
    page = 0
    while True:
        response = await client.get(path, params={**params, "page": page})
        response.raise_for_status()
        body = response.json()
        rows += body.get("content", [])
        if body["page"]["number"] + 1 >= body["page"]["totalPages"]:
            return rows
        page += 1


# The behaviour tests' world: three companies, three products, six subscriptions, two orders,
# three invoices and three usage summaries, as_of 2026-11-21 (so "next month" is December).
ACME, BIRCH, CEDAR = uid(1), uid(2), uid(3)
M365, AZURE, PROOFPOINT = uid(11), uid(12), uid(13)
S_ACME_M365, S_ACME_PROOF, S_BIRCH_ANNUAL, S_BIRCH_CANCELLED = uid(21), uid(22), uid(23), uid(24)
S_CEDAR_AZURE, S_CEDAR_LEAVING = uid(25), uid(26)
ORDER_ACME, ORDER_BIRCH_SCHEDULED = uid(31), uid(32)
INVOICE_SEPT, INVOICE_OCT, INVOICE_NOV = uid(41), uid(42), uid(43)
SUMMARY_CLINIC, SUMMARY_LABS, SUMMARY_ACME = uid(51), uid(52), uid(53)
COMMITMENT_1Y = uid(61)


def _company(company_id: str, name: str, address: dict[str, str], **fields: Any) -> dict[str, Any]:
    flags = {"selfServiceAllowed": False, "billOnBehalfOfEnabled": False}
    flags["orderApprovalRequired"] = False
    return {"id": company_id, "name": name, "address": address, **flags, **fields}


def _subscription(sub_id: str, company_id: str, product_id: str, **fields: Any) -> dict[str, Any]:
    base = {"id": sub_id, "companyId": company_id, "productId": product_id}
    base |= {"currencyCode": "USD", "billingTerm": "Monthly", "status": "Active"}
    return base | fields


def _items(invoice_id: str, count: int) -> list[dict[str, Any]]:
    return [
        {"id": uid(1000 + number), "type": "subscription", "subscriptionId": S_ACME_M365,
         "productId": M365, "quantity": number + 1, "unitOfMeasure": "Seat", "price": 26.4}
        for number in range(count)
    ]  # fmt: skip


def behaviour_scenario() -> dict[str, Any]:
    acme_address = {"city": "Dayton", "stateOrProvince": "OH", "postalCode": "45402"}
    contacts = [
        {"id": uid(71), "firstName": "Ann", "lastName": "Old", "email": "ann@acme.test",
         "phone": "555", "createdDate": "2023-01-05"},
        {"id": uid(72), "firstName": "Bob", "lastName": "New", "email": "bob@acme.test",
         "phone": "555", "createdDate": "2025-06-01"},
    ]  # fmt: skip
    companies = [
        _company(ACME, "acme Dental", acme_address | {"country": "US"}, status="Active",
                 contacts=contacts),
        _company(BIRCH, "Birch Legal",
                 {"city": "Tacoma", "stateOrProvince": "WA", "postalCode": "98402",
                  "country": "US"},
                 status="Inactive", selfServiceAllowed=True),
        _company(CEDAR, "Cedar Clinic",
                 {"city": "Toronto", "stateOrProvince": "ON", "postalCode": "M5V", "country": "CA"},
                 status="Active", billOnBehalfOfEnabled=True, orderApprovalRequired=True),
    ]  # fmt: skip
    products = [
        {"id": M365, "name": "Microsoft 365 Business Premium", "vendorName": "Microsoft",
         "sku": "MST-BUS-PRM", "description": "The long description"},
        {"id": AZURE, "name": "Azure Plan", "vendorName": "Microsoft", "sku": "MST-AZR-PLN"},
        {"id": PROOFPOINT, "name": "Proofpoint Essentials", "vendorName": "Proofpoint",
         "sku": "PPT-ESS-BUS"},
    ]  # fmt: skip
    commitment = {"id": COMMITMENT_1Y, "term": "1-Year", "endDate": "2025-03-14T23:59:59Z"}
    subscriptions = [
        _subscription(S_ACME_M365, ACME, M365, quantity=12, price=26.4, partnerCost=22.0,
                      startDate="2024-03-15T00:00:00Z", billingStart="2024-03-15",
                      createdDate="2024-03-15T14:02:11.000-0600", commitmentTerm=commitment),
        _subscription(S_ACME_PROOF, ACME, PROOFPOINT, quantity=5, price=4.0, partnerCost=3.0,
                      startDate="2023-01-10T00:00:00Z", billingStart="2023-01-10",
                      createdDate="2023-01-09", commitmentTerm=None),
        _subscription(S_BIRCH_ANNUAL, BIRCH, M365, quantity=3, price=300.0, partnerCost=250.0,
                      billingTerm="Annual", startDate="2025-12-05T08:30:00Z",
                      billingStart="2025-12-05", createdDate="2025-12-04"),
        _subscription(S_BIRCH_CANCELLED, BIRCH, PROOFPOINT, quantity=1, price=4.5,
                      partnerCost=3.0, status="Cancelled", startDate="2024-01-01T00:00:00Z",
                      endDate="2025-06-30T00:00:00Z", billingStart="2024-01-01",
                      createdDate="2023-12-20"),
        _subscription(S_CEDAR_AZURE, CEDAR, AZURE, quantity=1, price=0, partnerCost=0,
                      startDate="2024-06-01T00:00:00Z", billingStart="2024-06-01",
                      createdDate="2024-05-31"),
        _subscription(S_CEDAR_LEAVING, CEDAR, M365, quantity=20, price=25.0, partnerCost=21.0,
                      status="PendingCancel", startDate="2024-05-01T02:00:00-0600",
                      endDate="2026-12-15T00:00:00Z", billingStart="2024-05-01",
                      createdDate="2024-04-30"),
    ]  # fmt: skip
    history = {S_ACME_M365: [subscriptions[0], {**subscriptions[0], "quantity": 10}]}
    orders = [
        {"id": ORDER_ACME, "companyId": ACME, "createdDate": "2024-03-15", "isScheduled": False,
         "lineItems": [{"id": uid(81), "productId": M365, "subscriptionId": S_ACME_M365,
                        "billingTerm": "Monthly", "quantity": 12}]},
        {"id": ORDER_BIRCH_SCHEDULED, "companyId": BIRCH, "createdDate": "2026-11-20",
         "isScheduled": True, "lineItems": []},
    ]  # fmt: skip
    invoices = [
        {"id": INVOICE_SEPT, "companyId": ACME, "status": "Paid", "invoiceDate": "2026-09-01",
         "dueDate": "2026-09-15", "total": 100.0, "balance": 0, "carriedBalance": 0,
         "partnerName": "My Partner", "currencyCode": "USD", "items": _items(INVOICE_SEPT, 2)},
        {"id": INVOICE_OCT, "companyId": ACME, "status": "Unpaid", "invoiceDate": "2026-10-01",
         "dueDate": "2026-10-15", "total": 250.5, "balance": 250.5, "carriedBalance": 100.0,
         "partnerName": "my partner", "currencyCode": "USD", "items": _items(INVOICE_OCT, 25)},
        {"id": INVOICE_NOV, "companyId": BIRCH, "status": "Carried", "invoiceDate": "2026-11-01",
         "dueDate": "2026-11-15", "total": 80.0, "balance": 80.0, "carriedBalance": 350.5,
         "partnerName": "A Child Partner", "currencyCode": "USD", "items": []},
    ]  # fmt: skip

    def line(day: str, product_id: str, charges: float) -> dict[str, Any]:
        fields = {"usageSummaryId": SUMMARY_CLINIC, "usageDate": day, "productId": product_id}
        return fields | {"productName": "Virtual Machines", "currentCharges": charges}

    summaries = [
        {"id": SUMMARY_CLINIC, "companyId": CEDAR, "subscriptionId": S_CEDAR_AZURE,
         "productId": AZURE, "resourceGroup": "Cedar Clinic", "vendorName": "Microsoft",
         "currentCharges": 412.56, "partnerTotal": 358.75, "currencyCode": "USD",
         "isTrial": False,
         "lines": [line("2026-11-14", AZURE, 13.82), line("2026-11-14", uid(14), 2.5),
                   line("2026-11-15", AZURE, 13.9), line("2026-10-31", AZURE, 12.0)]},
        {"id": SUMMARY_LABS, "companyId": CEDAR, "subscriptionId": S_CEDAR_AZURE,
         "productId": AZURE, "resourceGroup": "cedar Labs", "currentCharges": 50.0,
         "partnerTotal": 40.0, "lines": []},
        {"id": SUMMARY_ACME, "companyId": ACME, "subscriptionId": S_CEDAR_AZURE,
         "productId": AZURE, "resourceGroup": "Acme Azure", "currentCharges": 100.0,
         "partnerTotal": 90.0, "lines": []},
    ]  # fmt: skip
    return {
        "as_of": "2026-11-21T00:00:00Z",
        "pax8": {
            "companies": companies,
            "products": products,
            "subscriptions": subscriptions,
            "subscription_history": history,
            "orders": orders,
            "invoices": invoices,
            "usage_summaries": summaries,
            "provision_details": {M365: [{"label": "Domain", "key": "msDomain",
                                          "valueType": "Input"}]},
        },
    }  # fmt: skip
