"""A row of a distributor's billing file as a charge, whatever its columns are called.

A charge bills `seats` for its period: a recurring charge or an add bills its quantity, a
removal or a charge that pays money back (a negative amount) takes its quantity away, and
usage, fees and credits bill none (seats.py counts them by day). Where the file names no
invoice, a subscription's charges in one report are their own statement (by_report), so two
reports of one month (two cloud vendors' at Ion) never replace each other's charges, nor a
report the one before it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from trueup.core.sources.files.kinds import ADD, CYCLE, REMOVE

ZERO = Decimal(0)
SHORTEST_MONTH = 28  # days


@dataclass(frozen=True, slots=True)
class Charge:
    row: int  # in the file it came from (0: read back from the store)
    customer_id: str
    customer_name: str
    product_id: str  # the distributor's SKU, else the product's name
    product_name: str
    vendor: str | None  # the product's publisher, when the file names it
    subscription_ref: str  # the file's subscription id, else the customer's and the product's
    statement: str  # the invoice's number and the customer, else the month and subscription
    invoice_number: str | None
    charge_type: str
    kind: str | None  # files/kinds.py; None for a charge type trueup does not know
    start: date
    end: date
    quantity: Decimal  # the units billed: seats, or what was consumed
    seats: Decimal  # the seats it bills for its period, signed
    unit_cost: Decimal | None  # the partner's per unit, when the file says it
    cost: Decimal  # what the distributor charges the partner, before tax
    unit_price: Decimal | None  # the client's per unit, when the file says it
    price: Decimal | None  # the client's for the charge, when the file says it
    currency: str
    billing_term: str | None  # Pax8's spelling (Monthly, Annual), when the file says it
    cells: Mapping[str, str]  # the row as written, by field: what the store keeps as raw


def subscription_ref(subscription_id: str | None, customer_id: str, product_id: str) -> str:
    return subscription_id or f"{customer_id}:{product_id}"


def statement_of(
    invoice_number: str | None, customer_id: str, start: date, subscription: str
) -> str:
    """What a file replaces whole: the customer's charges on an invoice, else the
    subscription's charges of a month (a per-client file, a report of one cloud vendor, never
    touch another's); by_report names the month for a whole file."""
    if invoice_number:
        return f"{invoice_number}:{customer_id}"
    return _of_month(start, subscription)


def _of_month(month: date, subscription: str) -> str:
    return f"{month:%Y-%m}:{subscription}"


def by_report(charges: Sequence[Charge]) -> list[Charge]:
    """The charges, those without an invoice under their report's month: the month most of the
    file's charges start in (the later on a tie), the period it bills. A charge dated
    otherwise is one the report carries late (an add, a credit, last month's usage) or early
    (a cancellation to come): under its own month it would replace the charges that month's
    report left there."""
    months = Counter(charge.start.replace(day=1) for charge in charges if not charge.invoice_number)
    if not months:
        return list(charges)
    report = max(months, key=lambda month: (months[month], month))
    return [
        charge
        if charge.invoice_number
        else replace(charge, statement=_of_month(report, charge.subscription_ref))
        for charge in charges
    ]


def seats_of(kind: str | None, quantity: Decimal, cost: Decimal) -> Decimal:
    """The signed seats a charge of `kind` bills for its period."""
    if kind == REMOVE:
        return -abs(quantity)
    if kind in (CYCLE, ADD):
        return -abs(quantity) if cost < 0 else quantity
    return ZERO


def whole_period(charge: Charge) -> bool:
    """Whether a charge bills a whole month or more: a cycle's charge, not a proration."""
    return (charge.end - charge.start).days + 1 >= SHORTEST_MONTH


def cells_of(cells: Mapping[str, str]) -> dict[str, str]:
    """The row's cells that hold something: the raw a charge keeps."""
    return {field: text for field, text in cells.items() if text}
