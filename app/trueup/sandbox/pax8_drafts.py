"""Draft invoice items (`GET /invoices/draftItems`): what the next invoice will bill, derived from
the subscriptions as they stand now."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable
from datetime import date

from trueup.sandbox.pax8_query import Json, instant
from trueup.sandbox.pax8_store import Pax8Store

# Statuses still billed for the month (PendingCancel is billed until its endDate).
BILLED_STATUSES = frozenset({"Active", "PendingCancel"})
# Months between charges per billingTerm; other terms (One-Time, Trial, Activation) never recur.
TERM_MONTHS = {"Monthly": 1, "Annual": 12, "2-Year": 24, "3-Year": 36}
# Invoice items spell multi-year terms with a space, subscriptions with a hyphen.
ITEM_TERMS = {"Monthly": "Monthly", "Annual": "Annual", "2-Year": "2 Year", "3-Year": "3 Year"}


def draft_month(store: Pax8Store, month_offset: int) -> tuple[date, date]:
    """First and last day of the current (offset 0) or next (offset 1) month."""
    now = store.now()
    month_index = now.year * 12 + now.month - 1 + month_offset
    year, month = divmod(month_index, 12)
    first = date(year, month + 1, 1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def draft_items(
    store: Pax8Store, subscriptions: Iterable[Json], month: tuple[date, date]
) -> list[Json]:
    """One `subscription` item per subscription charged in `month`, at price × quantity.

    Usage products are billed in arrears and so excluded (DEVX-DRAFT); multi-month billing terms
    are charged in the anniversary month of their billingStart. Proration is not simulated.
    """
    first, last = month
    usage_billed = store.summaries_by_subscription
    return [
        _draft_item(store, sub, first, last)
        for sub in subscriptions
        if sub["id"] not in usage_billed and _charged_in(sub, first, last)
    ]


def _charged_in(sub: Json, first: date, last: date) -> bool:
    term_months = TERM_MONTHS.get(sub.get("billingTerm", ""))
    if sub.get("status") not in BILLED_STATUSES or term_months is None:
        return False
    start = _day(sub.get("billingStart") or sub.get("startDate"))
    end = _day(sub.get("endDate"))
    if start is None or start > last or (end is not None and end < first):
        return False
    months_since_start = (first.year - start.year) * 12 + first.month - start.month
    return months_since_start % term_months == 0


def _day(text: str | None) -> date | None:
    if not text or instant(text) is None:
        return None
    return date.fromisoformat(text[:10])


def _draft_item(store: Pax8Store, sub: Json, first: date, last: date) -> Json:
    company = store.companies.get(sub.get("companyId", ""), {})
    product = store.products.get(sub.get("productId", ""), {})
    quantity = sub.get("quantity", 0)
    price = sub.get("price", 0)
    cost = sub.get("partnerCost", 0)
    sub_total = round(price * quantity, 2)
    item = {
        # Stable per subscription and month, so repeated reads agree.
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pax8-draft/{sub['id']}/{first}")),
        "type": "subscription",
        "companyId": sub.get("companyId"),
        "companyName": company.get("name"),
        "externalId": company.get("externalId"),
        "startPeriod": first.isoformat(),
        "endPeriod": last.isoformat(),
        "quantity": quantity,
        "unitOfMeasure": store.unit_of_measure.get(sub.get("productId", ""), "User"),
        "term": ITEM_TERMS[sub["billingTerm"]],
        "sku": product.get("sku"),
        "description": sub.get("productName") or product.get("name"),
        "rateType": "single",
        "chargeType": "per",
        "price": price,
        "subTotal": sub_total,
        "cost": cost,
        "costTotal": round(cost * quantity, 2),
        "offeredBy": "Pax8",
        "billedByPax8": bool(company.get("billOnBehalfOfEnabled")),
        "total": sub_total,
        "productId": sub.get("productId"),
        "productName": sub.get("productName") or product.get("name"),
        "vendorName": product.get("vendorName"),
        "billingFee": 0,
        "billingFeeRate": 0,
        "amountDue": sub_total,
        "currencyCode": sub.get("currencyCode", "USD"),
        "salesTax": 0,
        "subscriptionId": sub["id"],
    }
    return {name: value for name, value in item.items() if value is not None}
