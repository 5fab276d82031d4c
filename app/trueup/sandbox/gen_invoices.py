"""Pax8's invoices and their items (reference/pax8-api.md §4 Invoices, §6).

The partner's monthly invoice (one per currency) for last month (Paid, period ends written
exclusive: 2026-10-01 to 2026-11-01) and this month (Unpaid, inclusive: 2026-11-01 to 2026-11-30).
Each bills Monthly subscriptions ahead at the quantity of the 1st, prorates last month's changes
(credits are negative in quantity and amounts; amount = price × quantity × days left / days in the
month), bills Annual and 3-Year terms renewing that month, and last month's Azure usage in arrears.
Items carry the customer price, subTotal and total, and the partner cost and costTotal; the
partner's invoice total is what it owes Pax8 (the cost).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from trueup.sandbox.gen_catalog import AZURE
from trueup.sandbox.gen_world import (
    AZURE_COST_SHARE,
    MSP_NAME,
    Account,
    Calendar,
    Meter,
    Sub,
    Version,
    add_months,
    cents,
    days_in,
    month_end,
    new_id,
)

Json = dict[str, Any]
ITEM_TERMS = {"Monthly": "Monthly", "Annual": "Annual", "3-Year": "3 Year", "Trial": "Trial"}
TERM_MONTHS = {"Annual": 12, "3-Year": 36}
WHOLE = Decimal(1)


class Charge(NamedTuple):
    kind: str  # the item type: subscription or prorate
    first: date
    last: date  # inclusive
    quantity: int
    price: Decimal
    cost: Decimal
    share: Decimal = WHOLE  # the part of the period billed


def usage_for(rng: random.Random, meters: list[Meter], month: date) -> tuple[Decimal, Decimal]:
    """A whole month's assigned usage: customer charges and partner cost."""
    typical = sum((m.unit_price * m.daily for m in meters if m.assigned), Decimal(0))
    charges = cents(typical * days_in(month) * Decimal(rng.randint(85, 115)) / 100)
    return charges, cents(charges * AZURE_COST_SHARE)


class Invoicer:
    """Builds the invoices; keeps the rng and product ids every item needs."""

    def __init__(self, rng: random.Random, product_ids: dict[str, str]) -> None:
        self.rng = rng
        self.product_ids = product_ids

    def invoices(self, cal: Calendar, companies: list[Account]) -> list[Json]:
        invoices = []
        for month, status, exclusive in ((cal.prev, "Paid", True), (cal.month, "Unpaid", False)):
            partner: dict[str, list[Json]] = {}
            for account in companies:
                if account.bill_on_behalf:
                    invoices += self._billed_on_behalf(cal, account, month, status, exclusive)
                else:
                    items = self._items(account, month, exclusive, billed_by_pax8=False)
                    partner.setdefault(account.currency, []).extend(items)
            for currency in sorted(partner, key=lambda code: (code != "USD", code)):
                day = month.replace(day=self.rng.randint(1, 4))
                invoices.append(self._invoice(day, status, currency, partner[currency], None))
        return invoices

    def _billed_on_behalf(
        self, cal: Calendar, account: Account, month: date, status: str, exclusive: bool
    ) -> list[Json]:
        """Pax8 invoices the client itself. This month's first invoice billed one seat too many;
        Pax8 credited it in full and re-issued it with a new id for the same period."""
        items = self._items(account, month, exclusive, billed_by_pax8=True)
        day = month.replace(day=4)
        if month != cal.month or not items:
            return [self._invoice(day, status, account.currency, items, account)]
        wrong = dict(items[0], id=new_id(self.rng), quantity=items[0]["quantity"] + 1)
        for field in ("subTotal", "total", "amountDue"):
            wrong[field] = float(cents(Decimal(str(wrong["price"])) * wrong["quantity"]))
        wrong["costTotal"] = float(cents(Decimal(str(wrong["cost"])) * wrong["quantity"]))
        credited = self._invoice(day, "Credited", account.currency, [wrong, *items[1:]], account)
        reissue = [dict(item, id=new_id(self.rng)) for item in items]
        corrected = self._invoice(month.replace(day=9), status, account.currency, reissue, account)
        return [credited, corrected]

    def _invoice(
        self, day: date, status: str, currency: str, items: list[Json], company: Account | None
    ) -> Json:
        owed = "total" if company else "costTotal"  # the end client pays list, the partner cost
        total = float(sum((Decimal(str(item[owed])) for item in items), Decimal(0)))
        invoice: Json = {
            "id": new_id(self.rng),
            "invoiceDate": f"{day}",
            "dueDate": f"{day + timedelta(days=14)}",
            "status": status,
            "balance": total if status == "Unpaid" else 0,
            "carriedBalance": 0,
            "total": total,
            "currencyCode": currency,
            "partnerName": MSP_NAME,
        }
        if company:
            invoice["companyId"] = company.company_id
            if company.link == "external_id" and company.halo_name:
                invoice["externalId"] = str(company.halo_id)
        invoice["items"] = items
        return invoice

    def _items(
        self, account: Account, month: date, exclusive: bool, billed_by_pax8: bool
    ) -> list[Json]:
        items = []
        for sub in account.subs:
            term = "Arrears" if sub.product is AZURE else ITEM_TERMS[sub.billing_term]
            for charge in self._charges(sub, month):
                amount = cents(charge.price * charge.quantity * charge.share)
                end = charge.last + timedelta(days=1) if exclusive else charge.last
                item: Json = {
                    "id": new_id(self.rng),
                    "type": charge.kind,
                    "companyId": account.company_id,
                    "companyName": account.pax8_name,
                }
                if account.link == "external_id" and account.halo_name:
                    item["externalId"] = str(account.halo_id)
                item |= {
                    "startPeriod": f"{charge.first}",
                    "endPeriod": f"{end}",
                    "quantity": charge.quantity,
                    "unitOfMeasure": sub.product.unit,
                    "term": term,
                    "sku": sub.product.sku,
                    "description": sub.product.name,
                    "price": float(charge.price),
                    "subTotal": float(amount),
                    "cost": float(charge.cost),
                    "costTotal": float(cents(charge.cost * charge.quantity * charge.share)),
                    "billedByPax8": billed_by_pax8,
                    "total": float(amount),
                    "productId": self.product_ids[sub.product.key],
                    "productName": sub.product.name,
                    "billingFee": 0,
                    "amountDue": float(amount),
                    "currencyCode": account.currency,
                    "salesTax": 0,
                    "subscriptionId": sub.id,
                    "vendorName": sub.product.vendor,
                }
                items.append(item)
        return items

    def _charges(self, sub: Sub, month: date) -> Iterator[Charge]:
        """Every item the invoice dated in `month` carries for `sub`."""
        last_month = add_months(month, -1)
        if sub.product is AZURE:
            if sub.start < last_month:
                charges, cost = usage_for(self.rng, sub.meters, last_month)
                yield Charge("subscription", last_month, month_end(last_month), 1, charges, cost)
        elif sub.billing_term in TERM_MONTHS:
            months = TERM_MONTHS[sub.billing_term]
            elapsed = (month.year - sub.start.year) * 12 + month.month - sub.start.month
            renewal = month.replace(day=sub.start.day)
            version = sub.version_on(renewal)
            if elapsed > 0 and elapsed % months == 0 and version and version.billable:
                end = add_months(renewal, months) - timedelta(days=1)
                yield Charge(
                    "subscription", renewal, end, version.billable, version.price, version.cost
                )
        elif sub.billing_term == "Monthly":
            version = sub.version_on(month)
            if version and version.billable:
                yield Charge(
                    "subscription",
                    month,
                    month_end(month),
                    version.billable,
                    version.price,
                    version.cost,
                )
            before: Version | None = None
            for after in sub.versions:
                if last_month <= after.at.date() < month:
                    yield from _prorates(before, after)
                before = after


def _prorates(before: Version | None, after: Version) -> Iterator[Charge]:
    """Prorate items for a change, to the end of its month: the difference in seats, or a
    credit of the old price and a charge of the new one when the price moved."""
    day = after.at.date()
    end = month_end(day)
    share = Decimal((end - day).days + 1) / days_in(day)
    old = before.billable if before else 0
    new = after.billable
    if before and old and new and before.price != after.price:
        yield Charge("prorate", day, end, -old, before.price, before.cost, share)
        yield Charge("prorate", day, end, new, after.price, after.cost, share)
    elif old != new:
        priced = after if new or before is None else before
        yield Charge("prorate", day, end, new - old, priced.price, priced.cost, share)
