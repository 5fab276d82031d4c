"""Usage of one month (billing-rules §6), per subscription and resource group, from the store.

A closed month's usage comes from the Pax8 arrears invoice items for it (`term` Arrears, period
inside the month, the end inclusive or exclusive) on an invoice neither credited nor voided. A
subscription with no such item yet is taken from the usage summaries synced during that month:
each summary is a resource group's latest running total, so they are added across resource
groups, never across days.
Usage with no company, or with a company mapped to no client, is held out of every invoice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Connection

from trueup.core.billing.cost import REPLACED_STATUSES
from trueup.core.billing.facts import UsageFacts
from trueup.core.mapping.index import MappingIndex
from trueup.core.store import tables as m
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
    source: str  # "invoice" (final) | "summary" (an estimate)
    credited: tuple[tuple[str, Decimal], ...] = ()  # credited invoices that billed it, and cost

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
        name = products.get(product or "", (None, None))[1] or product or "usage"
        return UsageRow(
            usage_month,
            index.companies.get(company) if company else None,
            company,
            sub_id,
            product,
            name,
            group,
            Decimal(charge) if charge else ZERO,
            Decimal(cost) if cost else ZERO,
            currency or "",
            source,
            credited.get(sub_id, ()),
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
    for company, sub_id, product, group, charge, cost, currency in conn.exec_driver_sql(
        "SELECT company_id, subscription_id, product_id, resource_group, current_charges, "
        f"partner_total, currency FROM {m.table_of(m.Pax8UsageSummary)} "
        "WHERE month = ? AND subscription_id IS NOT NULL AND NOT coalesce(is_trial, 0) "
        "ORDER BY subscription_id, resource_group, id",
        (usage_month,),
    ).all():
        if sub_id in invoiced:
            continue  # the invoice is final; summaries were only ever an estimate of it
        found_row = row(company, sub_id, product, group, charge, cost, currency, "summary")
        if found_row is not None:
            found.append(found_row)
    return found
