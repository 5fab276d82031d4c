"""Usage of one month (billing-rules §6), per subscription and resource group, from the store.

A closed month's usage comes from the Pax8 arrears invoice items for it (`term` Arrears, period
inside the month, the end inclusive or exclusive) on an invoice neither credited nor voided. A
subscription with no such item yet is taken from the usage summaries synced during that month:
each summary is a resource group's latest running total, so they are added across resource
groups, never across days.
A usage subscription of a mapped client with neither is billed 0.00 as an estimate (source
"none", USAGE_ESTIMATED) while its usage may still come: the invoice that billed it was
credited and its re-issue is not in, or no live invoice billing the month's usage is in yet.
Left out, its usage vanished from the month, which then read as settled.
Usage with no company, or with a company mapped to no client, is held out of every invoice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from trueup.core.billing.cost import REPLACED_STATUSES
from trueup.core.billing.facts import UsageFacts
from trueup.core.mapping.index import MappingIndex
from trueup.core.store import tables as m
from trueup.core.sync.pax8_again import USAGE_NAME_WORDS
from trueup.core.values.distributors import PAX8
from trueup.core.values.months import Month

ZERO = Decimal(0)
# An invoice Pax8 credited or voided owes nothing: its usage is billed by its re-issue, as its
# other items' cost is (billing/cost.py), or by the summaries until one is synced.
_REPLACED = json.dumps(sorted(REPLACED_STATUSES))


@dataclass(frozen=True)
class UsageRow:
    usage_month: str
    client_id: int | None  # None: held out (UNASSIGNED_USAGE)
    company_id: str | None
    subscription_id: str
    product_id: str | None
    product_name: str
    resource_group: str | None  # None on an invoice item: Pax8 bills a subscription's total
    charge: Decimal  # what Pax8 would charge the client (currentCharges, the item's total)
    cost: Decimal  # what Pax8 charges the partner
    currency: str
    source: str  # "invoice" (final) | "summary" (an estimate) | "none" (0.00, an estimate)
    credited: tuple[tuple[str, Decimal], ...] = ()  # credited invoices that billed it, and cost
    sku: str | None = None  # the product's: a [[lines]] entry may name the product by it

    def facts(self) -> UsageFacts:
        return UsageFacts(
            subscription_id=self.subscription_id,
            resource_group=self.resource_group,
            product_id=self.product_id,
            product_name=self.product_name,
            charge=self.charge,
            cost=self.cost,
            currency=self.currency,
            source=self.source,
            credited=self.credited,
            sku=self.sku,
        )

    @property
    def held_out_because(self) -> str:
        return "no company" if self.company_id is None else "company not mapped to a client"


def load_usage(
    conn: Connection,
    index: MappingIndex,
    usage_month: str,
    products: dict[str, tuple[str | None, str | None]],
) -> list[UsageRow]:
    """Every usage row of the month: by subscription, then resource group."""
    first, last = Month(usage_month).bounds
    found: list[UsageRow] = []
    invoiced: set[str] = set()
    period = (first.isoformat(), last.isoformat(), (last + timedelta(days=1)).isoformat())
    arrears = (
        f"FROM {m.table_of(m.Pax8InvoiceItem)} i JOIN {m.table_of(m.Pax8Invoice)} v "
        "ON v.id = i.invoice_id WHERE i.term = 'Arrears' AND i.start_period >= ? "
        "AND i.start_period <= ? AND i.end_period <= ? AND i.subscription_id IS NOT NULL"
    )
    costs: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for sub_id, invoice_id, cost in conn.exec_driver_sql(
        f"SELECT i.subscription_id, i.invoice_id, i.cost_total {arrears} "
        "AND lower(v.status) = 'credited' ORDER BY i.subscription_id, i.invoice_id",
        period,
    ):
        costs[sub_id][invoice_id] += Decimal(cost) if cost else ZERO
    credited = {sub_id: tuple(by_invoice.items()) for sub_id, by_invoice in costs.items()}

    def row(
        company: str | None,
        sub_id: str,
        product: str | None,
        group: str | None,
        charge: str | None,
        cost: str | None,
        currency: str | None,
        source: str,
    ) -> UsageRow | None:
        if product in index.ignored_products or company in index.ignored_companies:
            return None  # the operator's word: not billed through Halo
        sku, name = products.get(product or "", (None, None))
        return UsageRow(
            usage_month,
            index.companies.get(company) if company else None,
            company,
            sub_id,
            product,
            name or product or "usage",
            group,
            Decimal(charge) if charge else ZERO,
            Decimal(cost) if cost else ZERO,
            currency or "",
            source,
            credited.get(sub_id, ()),
            sku,
        )

    for company, sub_id, product, charge, cost, currency in conn.exec_driver_sql(
        "SELECT i.company_id, i.subscription_id, i.product_id, i.total, i.cost_total, "
        f"coalesce(i.currency, v.currency) {arrears} AND lower(coalesce(v.status, '')) "
        "NOT IN (SELECT value FROM json_each(?)) ORDER BY i.subscription_id, i.id",
        (*period, _REPLACED),
    ).all():
        invoiced.add(sub_id)
        found_row = row(company, sub_id, product, None, charge, cost, currency, "invoice")
        if found_row is not None:
            found.append(found_row)
    summarised: set[str] = set()
    for company, sub_id, product, group, charge, cost, currency, trial in conn.exec_driver_sql(
        "SELECT company_id, subscription_id, product_id, resource_group, current_charges, "
        f"partner_total, currency, coalesce(is_trial, 0) FROM {m.table_of(m.Pax8UsageSummary)} "
        "WHERE month = ? AND subscription_id IS NOT NULL "
        "ORDER BY subscription_id, resource_group, id",
        (usage_month,),
    ).all():
        summarised.add(sub_id)
        if sub_id in invoiced or trial:
            continue  # the invoice is final; summaries were only ever an estimate of it
        found_row = row(company, sub_id, product, group, charge, cost, currency, "summary")
        if found_row is not None:
            found.append(found_row)
    billed = {
        company
        for (company,) in conn.exec_driver_sql(
            f"SELECT DISTINCT v.company_id {arrears} AND lower(coalesce(v.status, '')) "
            "NOT IN (SELECT value FROM json_each(?))",
            (*period, _REPLACED),
        )
    }
    for company, sub_id, product, currency in _usage_subscriptions(conn, first, last, credited):
        if sub_id in invoiced or sub_id in summarised or index.companies.get(company) is None:
            continue  # known, or held out with its company (UNMAPPED_CLIENT)
        if sub_id not in credited and (None in billed or company in billed):
            continue  # the month's usage is invoiced: none on it for this one is none at all
        found_row = row(company, sub_id, product, None, None, None, currency, "none")
        if found_row is not None:
            found.append(found_row)
    return found


def _usage_subscriptions(
    conn: Connection, first: date, last: date, credited: Collection[str]
) -> Sequence[Any]:
    """Pax8's usage subscriptions (as the sync knows them: billed in arrears, with summaries,
    or named as usage) alive in the month, and those whose usage of it a credited invoice
    billed: company, id, product and currency."""
    items, summaries = m.table_of(m.Pax8InvoiceItem), m.table_of(m.Pax8UsageSummary)
    # Ordered here, not in SQL: ORDER BY id walks the id index and reads each row apart, about
    # twice the time of scanning the table for the few hundred rows it keeps.
    rows = conn.exec_driver_sql(
        "SELECT company_id, id, product_id, currency "
        f"FROM {m.table_of(m.Pax8Subscription)} s WHERE distributor = ? "
        "AND company_id IS NOT NULL AND (id IN (SELECT value FROM json_each(?)) OR ("
        "coalesce(start_at, '') < ? AND (lower(coalesce(status, '')) != 'cancelled' "
        "OR end_at IS NULL OR end_at >= ?) AND ("
        f"id IN (SELECT subscription_id FROM {items} WHERE term = 'Arrears') "
        f"OR id IN (SELECT subscription_id FROM {summaries}) OR EXISTS (SELECT 1 FROM "
        "json_each(?) WHERE s.product_name LIKE '%' || value || '%'))))",
        (
            PAX8,
            json.dumps(sorted(credited)),
            (last + timedelta(days=1)).isoformat(),
            first.isoformat(),
            json.dumps(USAGE_NAME_WORDS),
        ),
    ).all()
    return sorted(rows, key=itemgetter(1))
