"""Small sandbox scenarios (contract.md §4) for the worked cases of billing-semantics §6.

One Pax8 company ("Contoso") billed to one Halo client, the products it buys and the Halo
recurring invoice that bills them, in the wire shapes the simulators serve. History entries are
full subscription objects, newest first, each taking effect on the UTC date of `updatedDate`.
"""

from __future__ import annotations

from typing import Any

COMPANY = "c0000000-0000-4000-8000-0000000000c1"
CLIENT = 14
BP = "p0000000-0000-4000-8000-0000000000b1"  # M365 Business Premium
EXO = "p0000000-0000-4000-8000-0000000000e1"  # Exchange Online (Plan 1)
SEATS = "p0000000-0000-4000-8000-0000000000f1"  # a non-NCE monthly seat product
AZURE = "p0000000-0000-4000-8000-0000000000a1"
ITEMS = {BP: 1001, EXO: 1002, SEATS: 1003, AZURE: 1004}
PRODUCTS = {
    BP: ("M365 Business Premium", "MST-BP"),
    EXO: ("Exchange Online (Plan 1)", "MST-EXO-P1"),
    SEATS: ("Backup seats", "BKP-SEAT"),
    AZURE: ("Azure plan", "MST-AZR-PLAN"),
}


def sid(n: int) -> str:
    return f"s0000000-0000-4000-8000-{n:012d}"


def subscription(
    sub_id: str,
    quantity: int,
    updated: str,
    *,
    product: str = BP,
    start: str = "2025-01-01",
    price: float = 22.00,
    cost: float = 19.80,
    status: str = "Active",
    term: str = "Monthly",
    commitment: str | None = "1-Year",
    commitment_end: str = "2025-12-31",
    currency: str = "USD",
    **more: Any,
) -> dict[str, Any]:
    """A Pax8 subscription object; `updated` is a day (09:00 UTC) or a full instant."""
    name, _ = PRODUCTS[product]
    return {
        "id": sub_id,
        "companyId": COMPANY,
        "productId": product,
        "productName": name,
        "quantity": quantity,
        "startDate": f"{start}T00:00:00Z",
        "createdDate": start,
        "updatedDate": updated if "T" in updated else f"{updated}T09:00:00Z",
        "billingStart": start,
        "status": status,
        "price": price,
        "partnerCost": cost,
        "currencyCode": currency,
        "billingTerm": term,
        "commitmentTerm": (
            {"id": "t1", "term": commitment, "endDate": f"{commitment_end}T23:59:59Z"}
            if commitment
            else None
        ),
        "provisioningDetails": [],
        **more,
    }


def history(first: dict[str, Any], *changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The history newest first: `first` (the oldest state) then each change, as full objects
    (each change is a dict of fields changed, with its `updatedDate`)."""
    states = [first]
    for change in changes:
        states.append({**states[-1], **change})
    return list(reversed(states))


def at(day: str, time: str = "09:00:00") -> str:
    return f"{day}T{time}Z"


def invoice_item(
    item_id: str,
    sub: dict[str, Any],
    cost_total: float,
    start: str,
    end: str,
    *,
    term: str = "Monthly",
    quantity: int | None = None,
    total: float | None = None,
) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "subscription",
        "companyId": COMPANY,
        "companyName": "Contoso",
        "startPeriod": start,
        "endPeriod": end,
        "quantity": quantity if quantity is not None else sub["quantity"],
        "term": term,
        "sku": PRODUCTS[sub["productId"]][1],
        "price": sub["price"],
        "subTotal": total if total is not None else cost_total,
        "cost": sub["partnerCost"],
        "costTotal": cost_total,
        "total": total if total is not None else cost_total,
        "amountDue": total if total is not None else cost_total,
        "currencyCode": sub["currencyCode"],
        "subscriptionId": sub["id"],
        "productId": sub["productId"],
    }


def invoice(
    invoice_id: str, date: str, items: list[dict[str, Any]], *, status: str = "Unpaid"
) -> dict[str, Any]:
    total = round(sum(i["total"] for i in items), 2)
    return {
        "id": invoice_id,
        "invoiceDate": date,
        "dueDate": date,
        "status": status,
        "total": total,
        "balance": 0 if status in ("Paid", "Credited") else total,
        "carriedBalance": 0,
        "currencyCode": items[0]["currencyCode"] if items else "USD",
        "partnerName": "Northwind MSP",
        "items": items,
    }


def usage_summary(
    summary_id: str,
    sub: dict[str, Any],
    group: str,
    cost: float,
    charge: float,
    *,
    company: str | None = COMPANY,
) -> dict[str, Any]:
    return {
        "id": summary_id,
        "companyId": company,
        "subscriptionId": sub["id"],
        "productId": sub["productId"],
        "resourceGroup": group,
        "vendorName": "Microsoft",
        "currentCharges": charge,
        "currencyCode": sub["currencyCode"],
        "partnerTotal": cost,
        "isTrial": False,
        "lines": [],
    }


def scenario(
    as_of: str,
    subscriptions: list[dict[str, Any]],
    *,
    histories: dict[str, list[dict[str, Any]]] | None = None,
    halo_lines: dict[str, float] | None = None,
    invoices: list[dict[str, Any]] | None = None,
    usage: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A world of one company and one Halo client; `halo_lines` is Halo's quantity per Pax8
    product on the client's recurring invoice (at the Pax8 price of the product's first
    subscription)."""
    used = {s["productId"] for s in subscriptions}
    prices = {s["productId"]: s["price"] for s in reversed(subscriptions)}
    lines = [
        {
            "id": 24000 + n,
            "ihid": -90,
            "_itemid": ITEMS[product],
            "qty_order": float(quantity),
            "unit_price": prices.get(product, 0),
            "item_shortdescription": PRODUCTS[product][0],
            "isinactive": False,
        }
        for n, (product, quantity) in enumerate(sorted((halo_lines or {}).items()))
    ]
    return {
        "as_of": f"{as_of}T00:00:00Z",
        "pax8": {
            "companies": [
                {
                    "id": COMPANY,
                    "name": "Contoso",
                    "status": "Active",
                    "billOnBehalfOfEnabled": False,
                    "selfServiceAllowed": False,
                    "orderApprovalRequired": False,
                    "updatedDate": "2024-08-11T11:33:12.314-0600",
                }
            ],
            "products": [
                {"id": p, "name": PRODUCTS[p][0], "vendorName": "Microsoft", "sku": PRODUCTS[p][1]}
                for p in sorted(used)
            ],
            "subscriptions": subscriptions,
            "subscription_history": histories or {},
            "invoices": invoices or [],
            "usage_summaries": usage or [],
        },
        "halo": {
            "clients": [{"id": CLIENT, "name": "Contoso Ltd", "inactive": False, "toplevel_id": 1}],
            "sites": [{"id": 140, "name": "Main", "client_id": CLIENT}],
            "items": [
                {
                    "id": ITEMS[p],
                    "name": PRODUCTS[p][0],
                    "supplier_part_code": PRODUCTS[p][1],
                    "recurringprice": prices[p],
                    "recurringcost": 0,
                }
                for p in sorted(used)
            ],
            "recurring_invoices": [
                {
                    "id": -90,
                    "client_id": CLIENT,
                    "client_name": "Contoso Ltd",
                    "disabled": False,
                    "reference": "Monthly",
                    "lines": lines,
                }
            ],
            "licences": [],
            "external_links": [],
            "invoices": [],
        },
        "qbo": {"customers": [], "items": [], "invoices": []},
    }
