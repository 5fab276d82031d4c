"""Pax8's side of the world in its wire shapes (reference/pax8-api.md §4-§7, specs/pax8-*):
companies, products, subscriptions and their history, orders, invoices (gen_invoices) and this
month's usage summaries."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

from trueup.sandbox.gen_catalog import AZURE, PRODUCTS, Product
from trueup.sandbox.gen_invoices import Invoicer
from trueup.sandbox.gen_world import (
    AZURE_COST_SHARE,
    MSP_DOMAIN,
    MSP_STAFF,
    Account,
    Calendar,
    Meter,
    Sub,
    Version,
    business_moment,
    cents,
    new_id,
    pax8_timestamp,
)

Json = dict[str, Any]
QUANTITY = Decimal("0.0001")


def render_pax8(
    rng: random.Random, cal: Calendar, accounts: list[Account], product_ids: dict[str, str]
) -> Json:
    companies = [account for account in accounts if account.pax8_name]
    subscriptions: list[Json] = []
    history: dict[str, list[Json]] = {}
    for account in companies:
        for sub in account.subs:
            snapshots = [
                _subscription(account, sub, v, cal.today, product_ids) for v in sub.versions
            ]
            subscriptions.append(snapshots[-1])
            if sub.current.at.date() >= cal.settled:
                history[sub.id] = [dict(snapshot) for snapshot in reversed(snapshots)]
    return {
        "companies": [_company(rng, account) for account in companies],
        "products": [_product(product, product_ids) for product in PRODUCTS],
        "subscriptions": subscriptions,
        "subscription_history": history,
        "orders": _orders(rng, cal, companies, product_ids),
        "invoices": Invoicer(rng, product_ids).invoices(cal, companies),
        "usage_summaries": _usage_summaries(rng, cal, companies, product_ids),
    }


def _company(rng: random.Random, account: Account) -> Json:
    town = account.town
    address = {
        "street": account.street,
        "city": town.city,
        "stateOrProvince": town.state,
        "postalCode": town.postal,
        "country": town.country,
    }
    if not town.state:
        del address["stateOrProvince"]
    company: Json = {
        "id": account.company_id,
        "name": account.pax8_name,
        "address": address,
        "phone": account.phone,
        "website": account.website,
    }
    if account.link == "external_id" and account.halo_name:
        company["externalId"] = str(account.halo_id)
    company |= {
        "billOnBehalfOfEnabled": account.bill_on_behalf,
        "selfServiceAllowed": account.self_service,
        "orderApprovalRequired": account.self_service,
        "status": "Active",
        "updatedDate": pax8_timestamp(business_moment(rng, account.since)),
    }
    return company


def _product(product: Product, product_ids: dict[str, str]) -> Json:
    return {
        "id": product_ids[product.key],
        "name": product.name,
        "vendorName": product.vendor,
        "shortDescription": product.description,
        "sku": product.sku,
        "vendorSku": product.vendor_sku,
        "requiresCommitment": all(commitment for _, commitment, _ in product.terms),
    }


def _subscription(
    account: Account, sub: Sub, version: Version, today: date, product_ids: dict[str, str]
) -> Json:
    product = sub.product
    created = sub.versions[0].at
    snapshot: Json = {
        "id": sub.id,
        "companyId": account.company_id,
        "productId": product_ids[product.key],
        "productName": product.name,
        "vendorSubscriptionId": sub.vendor_id,
        "vendorSkuId": product.vendor_sku,
        "quantity": version.quantity,
        "startDate": f"{sub.start}T00:00:00Z",
    }
    if sub.end and version.status in ("Cancelled", "PendingCancel"):
        snapshot["endDate"] = f"{sub.end}T00:00:00Z"
    # the newest snapshot shows the term running now: renewals change nothing else
    term_end = sub.term_end(today if version is sub.current else version.at.date())
    commitment = sub.commitment and {
        "id": sub.commitment_id,
        "term": sub.commitment,
        "endDate": f"{term_end}T23:59:59Z",
    }
    return snapshot | {
        "createdDate": f"{created.date()}" if sub.created_date_only else pax8_timestamp(created),
        "updatedDate": pax8_timestamp(version.at),
        "billingStart": f"{sub.start}",
        "status": version.status,
        "price": float(version.price),
        "partnerCost": float(version.cost),
        "currencyCode": account.currency,
        "billingTerm": sub.billing_term,
        "commitmentTerm": commitment or None,
    }


def _orders(
    rng: random.Random, cal: Calendar, companies: list[Account], product_ids: dict[str, str]
) -> list[Json]:
    """One order per subscription bought since last month began, newest first."""
    orders = []
    for account in companies:
        for sub in account.subs:
            created = sub.versions[0]
            if created.at.date() < cal.prev:
                continue
            by_customer = sub.ordered_by == "Customer"
            email = (
                f"office@{account.website}"
                if by_customer
                else f"{rng.choice(MSP_STAFF)}@{MSP_DOMAIN}"
            )
            line: Json = {
                "id": new_id(rng),
                "productId": product_ids[sub.product.key],
                "subscriptionId": sub.id,
            }
            if sub.commitment_id:
                line["commitmentTermId"] = sub.commitment_id
            line |= {
                "provisionStartDate": f"{sub.start}T00:00:00Z",
                "billingTerm": sub.billing_term,
                "quantity": created.quantity,
            }
            orders.append(
                {
                    "id": new_id(rng),
                    "companyId": account.company_id,
                    "createdDate": f"{created.at.date()}",
                    "orderedBy": sub.ordered_by,
                    "orderedByUserEmail": email,
                    "isScheduled": False,
                    "lineItems": [line],
                }
            )
    return sorted(orders, key=lambda order: order["createdDate"], reverse=True)


def _usage_summaries(
    rng: random.Random, cal: Calendar, companies: list[Account], product_ids: dict[str, str]
) -> list[Json]:
    """This month's usage so far: one summary per (Azure subscription, resource group), with a
    line per meter per day up to yesterday."""
    summaries = []
    days = [cal.month.replace(day=d) for d in range(1, cal.today.day)]
    for account in companies:
        for sub in account.subs:
            groups: dict[str, list[Meter]] = {}
            for meter in sub.meters:
                groups.setdefault(meter.resource_group, []).append(meter)
            for group, meters in groups.items():
                summary_id = new_id(rng)
                lines = [
                    _usage_line(rng, summary_id, m, day, account.currency, product_ids)
                    for day in days
                    for m in meters
                ]
                charges = sum((Decimal(str(line["currentCharges"])) for line in lines), Decimal(0))
                partner = sum((Decimal(str(line["partnerTotal"])) for line in lines), Decimal(0))
                summaries.append(
                    {
                        "id": summary_id,
                        "companyId": account.company_id if meters[0].assigned else None,
                        "subscriptionId": sub.id,
                        "productId": product_ids[AZURE.key],
                        "resourceGroup": group,
                        "vendorName": "Microsoft",
                        "currentCharges": float(charges),
                        "currencyCode": account.currency,
                        "partnerTotal": float(partner),
                        "isTrial": False,
                        "lines": lines,
                    }
                )
    return summaries


def _usage_line(
    rng: random.Random,
    summary_id: str,
    meter: Meter,
    day: date,
    currency: str,
    product_ids: dict[str, str],
) -> Json:
    wobble = Decimal(1) if meter.unit == "Hour" else Decimal(rng.randint(80, 120)) / 100
    quantity = (meter.daily * wobble).quantize(QUANTITY)
    charges = cents(meter.unit_price * quantity)
    partner = cents(charges * AZURE_COST_SHARE)
    return {
        "usageSummaryId": summary_id,
        "usageDate": f"{day}",
        "productName": meter.name,
        "productId": product_ids[AZURE.key],
        "unitOfMeasure": meter.unit,
        "quantity": float(quantity),
        "currentCharges": float(charges),
        "currentProfit": float(charges - partner),
        "partnerTotal": float(partner),
        "unitPrice": float(meter.unit_price),
        "currencyCode": currency,
        "isTrial": False,
    }
