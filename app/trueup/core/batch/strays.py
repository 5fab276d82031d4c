"""Pax8 subscriptions that no invoice can hold, for the batch's own anomalies.

A subscription reaches an invoice through its company's client. One naming a company Pax8 does
not list (or naming none) can never be mapped (UNKNOWN_COMPANY, where UNMAPPED_CLIENT would ask
for a mapping the operator cannot make); one of an unmapped company under a status Pax8 does not
document is counted by no UNMAPPED_CLIENT, which counts billable statuses (UNKNOWN_STATUS).
Without these, revenue would drop out of the batch with nothing said. Subscriptions of mapped
companies are on their client's invoice, flagged there; ignored companies and products are the
operator's word that they are not billed through Halo.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from trueup.core.batch.body import anomaly_json
from trueup.core.billing.anomalies import status_text
from trueup.core.billing.lines import anomaly, seats_text
from trueup.core.billing.timeline import BILLABLE_STATUSES, known_status
from trueup.core.mapping.index import MappingIndex
from trueup.core.store import tables as m
from trueup.core.values.distributors import distributor_name

_SUBSCRIPTIONS, _COMPANIES = m.table_of(m.Pax8Subscription), m.table_of(m.Pax8Company)


@dataclass(frozen=True)
class StraySubscription:
    subscription_id: str
    company_id: str | None
    company_name: str | None  # None: Pax8 lists no such company
    product_name: str
    quantity: Decimal
    status: str | None


def load_strays(conn: Connection, index: MappingIndex) -> list[StraySubscription]:
    """The subscriptions no invoice holds that may still be revenue, by subscription id.

    The suspects are found by company and status (a covering index: one row per pair, not every
    subscription joined to its company), the few found then read whole."""
    companies: dict[str, str | None] = dict(
        conn.exec_driver_sql(f"SELECT id, name FROM {_COMPANIES}").all()
    )
    suspects = {
        (company_id, status)
        for company_id, status in conn.exec_driver_sql(
            f"SELECT company_id, status FROM {_SUBSCRIPTIONS} GROUP BY company_id, currency, status"
        ).all()
        if _stray(index, company_id, status, company_id in companies)
    }
    found = []
    for company_id, status in suspects:
        known = company_id in companies
        company_name = (companies[company_id] or company_id) if known else None
        for sub_id, product_id, product_name, quantity in conn.exec_driver_sql(
            f"SELECT id, product_id, product_name, quantity FROM {_SUBSCRIPTIONS} "
            "WHERE company_id IS ? AND status IS ?",
            (company_id, status),
        ):
            if product_id in index.ignored_products:
                continue
            name = product_name or product_id or "no product"
            seats = Decimal(0) if quantity is None else Decimal(quantity)
            found.append(StraySubscription(sub_id, company_id, company_name, name, seats, status))
    return sorted(found, key=lambda stray: stray.subscription_id)


def _stray(index: MappingIndex, company_id: str | None, status: str | None, known: bool) -> bool:
    """Off every invoice and maybe revenue: an unknown company's subscription that bills or
    whose status is unknown, or an unmapped company's whose status is unknown."""
    if company_id in index.companies or company_id in index.ignored_companies:
        return False
    if known:
        return not known_status(status)
    return (status or "").casefold() in BILLABLE_STATUSES or not known_status(status)


def stray_anomalies(strays: list[StraySubscription]) -> list[dict[str, Any]]:
    """UNKNOWN_COMPANY or UNKNOWN_STATUS for each, as batch anomalies (unordered)."""
    return [
        anomaly_json(
            anomaly(*_flag(stray)),
            subscription_id=stray.subscription_id,
            company_id=stray.company_id,
        )
        for stray in strays
    ]


def _flag(stray: StraySubscription) -> tuple[str, str]:
    who = distributor_name(stray.subscription_id)
    what = f"{who} subscription {stray.subscription_id} ({stray.product_name}, "
    seats = seats_text(stray.quantity)
    status = status_text(stray.status)
    if not stray.company_id:
        return "UNKNOWN_COMPANY", (
            f"{what}{seats}, status {status}) names no company: it is on no invoice; check it "
            f"in {who}, then sync again"
        )
    if stray.company_name is None:
        return "UNKNOWN_COMPANY", (
            f"{what}{seats}, status {status}) names company {stray.company_id}, which {who} "
            f"does not list: it is on no invoice and cannot be mapped; check it in {who}, then "
            "sync again"
        )
    return "UNKNOWN_STATUS", (
        f"{what}{seats}) of {stray.company_name} ({stray.company_id}) has status {status}, "
        f"which {who} does not document: it bills nothing, and the company is mapped to no "
        f"client; check it in {who}"
    )
