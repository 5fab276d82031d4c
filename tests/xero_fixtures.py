"""A small Xero organisation for the simulator's tests: a US-edition chart, tax rates (one
expense-only, one liabilities-only), 205 contacts for paging, items, and the means to connect."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.transport import SandboxTransport
from trueup.sandbox.xero import create_xero_app

TENANT = "b8e3b6f6-1f3a-4c1e-9a61-0c2f5d8e7a11"
CREDENTIALS = {"client_id": "CC-client", "client_secret": "cc-secret",
               "pkce_client_id": "PKCE-client", "refresh_token": "RT-seed"}  # fmt: skip
BASE = "http://xero.test"
API = "/api.xro/2.0"


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.xero.test"))


ACME = _id("acme")
BETA = _id("beta")
ARCHIVED = _id("closed")
CONTACTS = [
    {"ContactID": ACME, "Name": "Acme Dental LLC", "AccountNumber": "58", "ContactStatus": "ACTIVE",
     "IsCustomer": True, "EmailAddress": "accounts@acmedental.com"},
    {"ContactID": BETA, "Name": "Beta Logistics", "AccountNumber": "59", "ContactStatus": "ACTIVE",
     "IsCustomer": True, "DefaultCurrency": "CAD"},
    {"ContactID": ARCHIVED, "Name": "Closed Co", "ContactStatus": "ARCHIVED"},
    *({"ContactID": _id(f"client-{n}"), "Name": f"Client {n:03d}", "ContactStatus": "ACTIVE",
       "AccountNumber": str(1000 + n)} for n in range(202)),
]  # fmt: skip
ITEMS = [
    {"ItemID": _id("item-seat"), "Code": "MST-365-BUS-PRM", "Name": "M365 Business Premium",
     "Description": "Microsoft 365 Business Premium (monthly)", "IsSold": True,
     "SalesDetails": {"UnitPrice": 22.0, "AccountCode": "200", "TaxType": "NONE"}},
    {"ItemID": _id("item-labour"), "Code": "MSP-USER", "Name": "Managed Services - Per User",
     "IsSold": True, "SalesDetails": {"UnitPrice": 95.0, "AccountCode": "200"}},
]  # fmt: skip
ACCOUNTS = [
    {"AccountID": _id("acc-090"), "Code": "090", "Name": "Business Bank Account", "Type": "BANK",
     "TaxType": "NONE", "BankAccountNumber": "4417038291", "CurrencyCode": "USD"},
    {"AccountID": _id("acc-200"), "Code": "200", "Name": "Sales", "Type": "REVENUE",
     "TaxType": "NONE"},
    {"AccountID": _id("acc-260"), "Code": "260", "Name": "Other Revenue", "Type": "REVENUE",
     "TaxType": "TAX001"},
    {"AccountID": _id("acc-299"), "Code": "299", "Name": "Old Sales", "Type": "REVENUE",
     "TaxType": "NONE", "Status": "ARCHIVED"},
    {"AccountID": _id("acc-400"), "Code": "400", "Name": "Advertising", "Type": "EXPENSE",
     "TaxType": "INPUT"},
    {"AccountID": _id("acc-610"), "Code": "610", "Name": "Accounts Receivable",
     "Type": "CURRENT", "TaxType": "NONE", "SystemAccount": "DEBTORS"},
]  # fmt: skip
NOWHERE = dict.fromkeys(("CanApplyToAssets", "CanApplyToEquity", "CanApplyToExpenses",
                         "CanApplyToLiabilities", "CanApplyToRevenue"), False)  # fmt: skip
TAX_RATES = [
    {"TaxType": "NONE", "Name": "Tax Exempt", "EffectiveRate": 0.0},
    {"TaxType": "OUTPUT", "Name": "Tax on Sales", "EffectiveRate": 0.0},
    {"TaxType": "TAX001", "Name": "City Sales Tax", "EffectiveRate": 8.875,
     "DisplayTaxRate": 8.875},
    {"TaxType": "INPUT", "Name": "Tax on Purchases", "EffectiveRate": 0.0, **NOWHERE,
     "CanApplyToExpenses": True, "CanApplyToAssets": True},
    {"TaxType": "GSTONIMPORTS", "Name": "Sales Tax on Imports", "EffectiveRate": 0.0, **NOWHERE,
     "CanApplyToLiabilities": True},
    {"TaxType": "TAX002", "Name": "Retired Rate", "EffectiveRate": 5.0, "Status": "DELETED"},
]  # fmt: skip
ORGANISATION = {"tenant_id": TENANT, "name": "Trailhead Technology Partners",
                "base_currency": "USD", "currencies": [{"Code": "CAD"}, "GBP"]}  # fmt: skip


def xero_world(**sections: Any) -> dict[str, Any]:
    return {
        "as_of": "2026-11-21T00:00:00Z",
        "credentials": {"xero": CREDENTIALS},
        "xero": {
            "organisation": ORGANISATION,
            "contacts": CONTACTS,
            "items": ITEMS,
            "accounts": ACCOUNTS,
            "tax_rates": TAX_RATES,
            "invoices": [],
            "credit_notes": [],
            **sections,
        },
    }


def xero_app(**options: Any) -> Any:
    options.setdefault("rate_limit", None)
    return create_xero_app(parse_scenario(xero_world()), **options)


def basic(client_id: str = "CC-client", secret: str = "cc-secret") -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


async def custom_connection_token(client: httpx.AsyncClient) -> str:
    answer = await client.post(
        "/identity/connect/token", data={"grant_type": "client_credentials"}, headers=basic()
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@asynccontextmanager
async def plain(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=SandboxTransport(app=app), base_url=BASE) as client:
        yield client


@asynccontextmanager
async def connected(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client with a Custom Connection's token and the tenant header on every call."""
    async with plain(app) as client:
        token = await custom_connection_token(client)
        client.headers.update({"Authorization": f"Bearer {token}", "xero-tenant-id": TENANT,
                               "Accept": "application/json"})  # fmt: skip
        yield client


def invoice(number: str = "TU2611-58", **fields: Any) -> dict[str, Any]:
    """An invoice as trueup's client sends one (the wire contract of issue 19)."""
    lines = fields.pop("LineItems", None) or [
        {"Description": "M365 Business Premium, 18.6333 seats", "Quantity": 18.6333,
         "UnitAmount": 22.1234, "ItemCode": "MST-365-BUS-PRM", "AccountCode": "200",
         "TaxType": "NONE", "LineAmount": 412.23},
        {"Description": "Managed services", "Quantity": 3, "UnitAmount": 95,
         "ItemCode": "MSP-USER", "AccountCode": "200", "TaxType": "TAX001", "LineAmount": 285.0},
    ]  # fmt: skip
    return {
        "Type": "ACCREC", "Contact": {"ContactID": ACME}, "InvoiceNumber": number,
        "Reference": "2026-11", "Date": "2026-11-30", "DueDate": "2026-12-30",
        "CurrencyCode": "USD", "Status": "AUTHORISED", "LineAmountTypes": "Exclusive",
        "LineItems": lines, **fields,
    }  # fmt: skip


def credit_note(number: str = "TU2611-58-A1", **fields: Any) -> dict[str, Any]:
    document = invoice(number, **fields)
    document["Type"] = "ACCRECCREDIT"
    document["CreditNoteNumber"] = document.pop("InvoiceNumber")
    document.pop("DueDate")
    return document
