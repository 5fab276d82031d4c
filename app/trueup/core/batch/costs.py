"""The distributor's invoice items behind a line's cost, as the invoice screen and the
evidence pack show them: every item of the subscription in the months asked, credited ones too."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from trueup.core.billing.facts import CostItem
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.values.months import Month


def cost_evidence(db: Database, subscription_id: str, months: Sequence[str]) -> list[CostItem]:
    """The Pax8 invoice items of a subscription whose period touches any of `months`, credited
    invoices included (the line's explanation says which were counted), oldest first."""
    spans = [Month(month).bounds for month in months]
    items = m.table_of(m.Pax8InvoiceItem)
    invoices = m.table_of(m.Pax8Invoice)
    query = (
        select(
            items.c.invoice_id,
            invoices.c.status,
            invoices.c.invoice_date,
            items.c.id,
            items.c.subscription_id,
            items.c.type,
            items.c.term,
            items.c.start_period,
            items.c.end_period,
            items.c.quantity,
            items.c.cost_total,
            items.c.total,
            func.coalesce(items.c.currency, invoices.c.currency),
        )
        .join(invoices, invoices.c.id == items.c.invoice_id)
        .where(items.c.subscription_id == subscription_id)
        .order_by(invoices.c.invoice_date, items.c.start_period, items.c.id)
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [
        CostItem(
            invoice_id=r[0],
            invoice_status=r[1],
            invoice_date=r[2],
            item_id=r[3],
            subscription_id=r[4],
            type=r[5],
            term=r[6],
            start_period=r[7],
            end_period=r[8],
            quantity=r[9],
            cost_total=r[10],
            total=r[11],
            currency=r[12],
        )
        for r in rows
        if r[7] is not None
        and r[8] is not None
        # An end on the 1st is the month before's exclusive end, not a day of this month.
        and any(r[7] <= last and (r[8] > first or r[7] >= first) for first, last in spans)
    ]
