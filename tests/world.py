"""A small, hand-written Pax8 + Halo world for sync tests (wire shapes as the APIs send them)."""

from __future__ import annotations

import copy
from typing import Any

ACME, BEAR, ORPHAN = (
    "c0000000-0000-4000-8000-00000000000a",
    "c0000000-0000-4000-8000-00000000000b",
    "c0000000-0000-4000-8000-00000000000c",
)
M365, AZURE = "p0000000-0000-4000-8000-000000000001", "p0000000-0000-4000-8000-000000000002"
SUB_BEAR, SUB_ACME, SUB_AZURE, SUB_OLD = (
    f"s0000000-0000-4000-8000-00000000000{i}" for i in range(1, 5)
)


def _sub(
    sub_id: str, company: str, product: str, name: str, qty: int, updated: str, **more: Any
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "companyId": company,
        "productId": product,
        "productName": name,
        "quantity": qty,
        "startDate": "2025-03-15T00:00:00Z",
        "createdDate": "2025-03-15",
        "updatedDate": updated,
        "billingStart": "2025-03-15",
        "status": "Active",
        "price": 12.50,
        "partnerCost": 10.63,
        "currencyCode": "USD",
        "billingTerm": "Monthly",
        "commitmentTerm": None,
        "provisioningDetails": [],
        **more,
    }


def world() -> dict[str, Any]:
    bear_now = _sub(
        SUB_BEAR,
        BEAR,
        M365,
        "Microsoft 365 Business Standard",
        18,
        "2026-11-14T10:00:00.000-0600",
        commitmentTerm={"id": "t1", "term": "1-Year", "endDate": "2027-03-14T23:59:59Z"},
    )
    bear_history = [
        bear_now,
        {**bear_now, "quantity": 19, "updatedDate": "2026-11-12T09:00:00.000-0600"},
        {**bear_now, "quantity": 17, "updatedDate": "2026-10-02T09:00:00.000-0600"},
    ]
    item = {
        "type": "subscription",
        "companyId": BEAR,
        "companyName": "Bear Creek Winery",
        "startPeriod": "2026-11-01",
        "endPeriod": "2026-11-30",
        "quantity": 17,
        "term": "Monthly",
        "sku": "MST-365-BUS-STD",
        "price": 12.50,
        "subTotal": 212.50,
        "cost": 10.63,
        "costTotal": 180.71,
        "total": 212.50,
        "amountDue": 212.50,
        "currencyCode": "USD",
        "subscriptionId": SUB_BEAR,
        "productId": M365,
    }
    return {
        "as_of": "2026-11-21T00:00:00Z",
        "pax8": {
            "companies": [
                {
                    "id": ACME,
                    "name": "Acme Dental",
                    "status": "Active",
                    "externalId": "12",
                    "billOnBehalfOfEnabled": False,
                    "selfServiceAllowed": False,
                    "orderApprovalRequired": False,
                    "updatedDate": "2024-08-11T11:33:12.314-0600",
                },
                {
                    "id": BEAR,
                    "name": "Bear Creek Winery",
                    "status": "Active",
                    "billOnBehalfOfEnabled": False,
                    "selfServiceAllowed": False,
                    "orderApprovalRequired": False,
                    "updatedDate": "2024-08-11T11:33:12.314-0600",
                },
                {
                    "id": ORPHAN,
                    "name": "Orphan & Sons",
                    "status": "Active",
                    "billOnBehalfOfEnabled": False,
                    "selfServiceAllowed": False,
                    "orderApprovalRequired": False,
                },
            ],
            "products": [
                {
                    "id": M365,
                    "name": "Microsoft 365 Business Standard",
                    "vendorName": "Microsoft",
                    "sku": "MST-365-BUS-STD",
                    "vendorSku": "CFQ7TTC0LDPB:0001",
                },
                {
                    "id": AZURE,
                    "name": "Azure plan",
                    "vendorName": "Microsoft",
                    "sku": "MST-AZR-PLAN",
                    "vendorSku": "DZH318Z0BPS6:0001",
                },
                {
                    "id": "p-unused",
                    "name": "Keeper Business",
                    "vendorName": "Keeper",
                    "sku": "KPR-BUS",
                },
            ],
            "subscriptions": [
                bear_now,
                _sub(
                    SUB_ACME,
                    ACME,
                    M365,
                    "Microsoft 365 Business Standard",
                    5,
                    "2024-06-03T09:12:00.000-0600",
                ),
                _sub(
                    SUB_AZURE,
                    ACME,
                    AZURE,
                    "Azure plan",
                    1,
                    "2024-06-03T09:12:00.000-0600",
                    price=0,
                    partnerCost=0,
                ),
                _sub(
                    SUB_OLD,
                    ACME,
                    M365,
                    "Microsoft 365 Business Standard",
                    2,
                    "2026-09-30T09:12:00.000-0600",
                    status="Cancelled",
                    endDate="2026-09-30T00:00:00Z",
                ),
            ],
            "subscription_history": {SUB_BEAR: bear_history},
            "invoices": [
                {
                    "id": "inv-2026-10",
                    "invoiceDate": "2026-10-04",
                    "dueDate": "2026-10-15",
                    "status": "Paid",
                    "total": 212.50,
                    "balance": 0,
                    "carriedBalance": 0,
                    "currencyCode": "USD",
                    "partnerName": "Northwind MSP",
                    "items": [
                        {
                            **item,
                            "id": "ii-1",
                            "startPeriod": "2026-10-01",
                            "endPeriod": "2026-11-01",
                        }
                    ],
                },
                {
                    "id": "inv-2026-11",
                    "invoiceDate": "2026-11-04",
                    "dueDate": "2026-11-15",
                    "status": "Unpaid",
                    "total": 254.20,
                    "balance": 254.20,
                    "carriedBalance": 0,
                    "currencyCode": "USD",
                    "partnerName": "Northwind MSP",
                    "items": [
                        {**item, "id": "ii-2"},
                        {
                            **item,
                            "id": "ii-3",
                            "type": "subscription",
                            "term": "Arrears",
                            "subscriptionId": SUB_AZURE,
                            "productId": AZURE,
                            "companyId": ACME,
                            "sku": "MST-AZR-PLAN",
                            "quantity": 1,
                            "price": 41.70,
                            "subTotal": 41.70,
                            "total": 41.70,
                            "cost": 36.20,
                            "costTotal": 36.20,
                            "startPeriod": "2026-10-01",
                            "endPeriod": "2026-10-31",
                        },
                    ],
                },
                {
                    "id": "inv-2026-07",
                    "invoiceDate": "2026-07-04",
                    "dueDate": "2026-07-15",
                    "status": "Paid",
                    "total": 0,
                    "balance": 0,
                    "carriedBalance": 0,
                    "currencyCode": "USD",
                    "partnerName": "Northwind MSP",
                    "items": [],
                },
            ],
            "usage_summaries": [
                {
                    "id": "u-1",
                    "companyId": ACME,
                    "subscriptionId": SUB_AZURE,
                    "productId": AZURE,
                    "resourceGroup": "Acme Dental",
                    "vendorName": "Microsoft",
                    "currentCharges": 28.15,
                    "currencyCode": "USD",
                    "partnerTotal": 24.40,
                    "isTrial": False,
                    "lines": [],
                },
                {
                    "id": "u-2",
                    "companyId": None,
                    "subscriptionId": SUB_AZURE,
                    "productId": AZURE,
                    "resourceGroup": "rg-unassigned-lab",
                    "vendorName": "Microsoft",
                    "currentCharges": 3.10,
                    "currencyCode": "USD",
                    "partnerTotal": 2.70,
                    "isTrial": False,
                    "lines": [],
                },
            ],
        },
        "halo": {
            "clients": [
                {"id": 12, "name": "Acme Dental", "inactive": False, "toplevel_id": 1},
                {"id": 14, "name": "Bear Creek Winery LLC", "inactive": False, "toplevel_id": 1},
                {"id": 15, "name": "Gone Ltd", "inactive": True, "toplevel_id": 1},
            ],
            "sites": [
                {"id": 120, "name": "Main", "client_id": 12},
                {"id": 140, "name": "Main", "client_id": 14},
            ],
            "items": [
                {
                    "id": 1000,
                    "name": "M365 Business Standard",
                    "supplier_part_code": "MST-365-BUS-STD",
                    "recurringprice": 12.50,
                    "recurringcost": 10.63,
                }
            ],
            "recurring_invoices": [
                {
                    "id": -94,
                    "client_id": 14,
                    "client_name": "Bear Creek Winery LLC",
                    "disabled": False,
                    "reference": "Monthly",
                    "lines": [
                        {
                            "id": 24967,
                            "ihid": -94,
                            "_itemid": 1000,
                            "qty_order": 17.0,
                            "unit_price": 12.50,
                            "item_shortdescription": "M365 Business Standard [monthly]",
                            "isinactive": False,
                        }
                    ],
                },
                {
                    "id": -95,
                    "client_id": 12,
                    "client_name": "Acme Dental",
                    "disabled": False,
                    "lines": [
                        {
                            "id": 24970,
                            "ihid": -95,
                            "_itemid": 1000,
                            "qty_order": 5.0,
                            "unit_price": 12.50,
                            "isinactive": False,
                        }
                    ],
                },
            ],
            "licences": [
                {
                    "id": 507,
                    "name": "Microsoft-365-Business-Standard",
                    "client_id": 14,
                    "count": 18,
                    "is_active": True,
                    "third_party_product": M365,
                    "thirdparty_client_id": BEAR,
                }
            ],
            "external_links": [
                {
                    "id": 9001,
                    "table_id": 1,
                    "halo_id": 12,
                    "third_party_id": ACME,
                    "third_party_type": "Pax8",
                }
            ],
            "invoices": [],
        },
        "qbo": {"customers": [], "items": [], "invoices": []},
    }


def changed(base: dict[str, Any]) -> dict[str, Any]:
    """The same world a day later: a seat added at Acme, one company gone, a Halo line edited."""
    data = copy.deepcopy(base)
    data["pax8"]["companies"] = [c for c in data["pax8"]["companies"] if c["id"] != ORPHAN]
    for sub in data["pax8"]["subscriptions"]:
        if sub["id"] == SUB_ACME:
            sub.update(quantity=6, updatedDate="2026-11-21T08:00:00.000-0600")
    data["pax8"]["subscription_history"][SUB_ACME] = [
        next(s for s in data["pax8"]["subscriptions"] if s["id"] == SUB_ACME),
        {**next(s for s in base["pax8"]["subscriptions"] if s["id"] == SUB_ACME)},
    ]
    data["halo"]["recurring_invoices"][0]["lines"][0]["qty_order"] = 18.0
    return data
