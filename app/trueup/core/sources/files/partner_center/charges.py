"""A reconciliation file's rows as charges: each row's meaning, and what only the whole file can
say is wrong (a charge that ends before it starts, a subscription under two customers, an
invoice in two currencies).

A row is usage-based when it names a meter (MeterDescription): the documented column for
consumption rows; Microsoft's sample of a usage row shows ChargeType `New`, so the charge type
cannot tell. That reading is ours, not Microsoft's word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from trueup.core.sources.files.cells import read_cell
from trueup.core.sources.files.columns import Column
from trueup.core.sources.files.contradictions import agree
from trueup.core.sources.files.kinds import MICROSOFT, SEATED, kind_of, negative_seats
from trueup.core.sources.files.partner_center.columns import COLUMNS
from trueup.core.sources.files.partner_center.subtotal import agrees, rule_subtotal
from trueup.core.sources.files.problems import Problems
from trueup.core.sources.files.table import Row
from trueup.core.values.money import money_prose

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Charge:
    row: int  # in the file it came from (0: read back from the store)
    customer_id: str
    customer_name: str
    customer_domain: str | None
    invoice_number: str
    order_id: str
    product_id: str
    sku_id: str
    sku_name: str
    product_name: str | None
    charge_type: str
    kind: str | None  # columns.CHARGE_KINDS; None for a charge type trueup does not know
    usage: bool
    charge_start: date
    charge_end: date
    unit_price: Decimal
    effective_unit_price: Decimal
    billable_quantity: Decimal
    exchange_rate: Decimal
    subtotal: Decimal  # the file's, else Microsoft's rule's
    currency: str
    subscription_ref: str  # SubscriptionId, else OrderId:ProductId:SkuId
    term_and_billing_cycle: str | None
    subscription_start: date | None
    subscription_end: date | None
    cells: Mapping[str, str]  # the row as written, by field: what the store keeps as raw


def charge_of(row: Row) -> Charge:
    """The charge a row holds (its cells already read)."""
    v = row.values
    rate = v["exchange_rate"] or ONE
    usage = bool(v["meter_description"])
    rule = rule_subtotal(usage, v["effective_unit_price"], v["billable_quantity"], rate)
    subscription = v["subscription_id"] or f"{v['order_id']}:{v['product_id']}:{v['sku_id']}"
    return Charge(
        row=row.number,
        customer_id=v["customer_id"],
        customer_name=v["customer_name"],
        customer_domain=v["customer_domain"],
        invoice_number=v["invoice_number"],
        order_id=v["order_id"],
        product_id=v["product_id"],
        sku_id=v["sku_id"],
        sku_name=v["sku_name"],
        product_name=v["product_name"],
        charge_type=v["charge_type"],
        kind=kind_of(MICROSOFT, v["charge_type"]),
        usage=usage,
        charge_start=v["charge_start"],
        charge_end=v["charge_end"],
        unit_price=v["unit_price"],
        effective_unit_price=v["effective_unit_price"],
        billable_quantity=v["billable_quantity"],
        exchange_rate=rate,
        subtotal=rule if v["subtotal"] is None else v["subtotal"],
        currency=v["currency"],
        subscription_ref=subscription,
        term_and_billing_cycle=v["term_and_billing_cycle"],
        subscription_start=v["subscription_start"],
        subscription_end=v["subscription_end"],
        cells={field: text for field, text in row.cells.items() if text},
    )


def stored_charge(cells: Mapping[str, str]) -> Charge:
    """A charge read back from the raw JSON the store kept of it (checked when imported)."""
    values = {c.field: _stored_value(c, cells.get(c.field, "")) for c in COLUMNS}
    return charge_of(Row(0, values, dict(cells)))


def _stored_value(column: Column, text: str) -> object:
    return read_cell(column.kind, text) if text else None


def check_charges(charges: Iterable[Charge], problems: Problems) -> list[str]:
    """Problems only the whole file shows, added to `problems`; the warnings (rows kept)."""
    headers = {c.field: c.header for c in COLUMNS}
    customers: dict[str, tuple[str, int]] = {}
    currencies: dict[str, tuple[str, int]] = {}
    warnings: list[str] = []
    for charge in charges:
        if charge.charge_end < charge.charge_start:
            problems.add(charge.row, headers["charge_end"], "is before ChargeStartDate")
        subscription, invoice = charge.subscription_ref, charge.invoice_number
        agree(
            problems,
            customers,
            charge.row,
            "subscription",
            subscription,
            "customer",
            charge.customer_id,
        )
        agree(problems, currencies, charge.row, "invoice", invoice, "currency", charge.currency)
        if charge.kind in SEATED and charge.billable_quantity < 0 < charge.subtotal:
            seats = charge.billable_quantity
            problems.add(
                charge.row, headers["billable_quantity"], negative_seats(charge.charge_type, seats)
            )
        written = charge.cells.get("subtotal")
        price, rate = charge.effective_unit_price, charge.exchange_rate
        rule = rule_subtotal(charge.usage, price, charge.billable_quantity, rate)
        if written and not agrees(charge.subtotal, rule):
            warnings.append(
                f"row {charge.row}: Subtotal {money_prose(charge.subtotal)} is not what "
                f"Microsoft's rounding gives ({money_prose(rule)}); the file's figure is kept"
            )
        if charge.kind is None and not charge.usage:
            warnings.append(
                f"row {charge.row}: ChargeType '{charge.charge_type}' is not one trueup knows: "
                "its cost counts, it changes no seats"
            )
    return warnings
