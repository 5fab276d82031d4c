"""Sherweb's payable charges as charges (files/lines/charge.py), and what only their own
columns can say is off.

The partner's cost of a charge is subTotal less its deductions plus its fees: what Sherweb
charges before tax (deductions are read as an amount taken off, whatever its sign). The
client's price is listPrice for netPrice, over the same quantity and days: subTotal x
listPrice / netPrice, to the cent. A prorated charge bills its proratedDays up to the period's
end (a seat added or removed that day); a charge with no days bills the whole period. Those
readings are ours, not Sherweb's word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from trueup.core.sources.files.cells import day, money
from trueup.core.sources.files.kinds import kind_of
from trueup.core.sources.files.lines.charge import (
    ZERO,
    Charge,
    cells_of,
    seats_of,
    statement_of,
    subscription_ref,
)
from trueup.core.sources.files.problems import Problems
from trueup.core.sources.files.sherweb.columns import BILLING_TERMS, CHARGE_KINDS
from trueup.core.sources.files.table import Row
from trueup.core.values.bounds import MONEY_LIMIT
from trueup.core.values.money import money_prose

CENT = Decimal("0.01")


def charge_of(row: Row) -> Charge:
    v = row.values
    kind = kind_of(CHARGE_KINDS, v["charge_type"])
    cost = v["subtotal"] - abs(v["deductions"] or ZERO) + (v["fees"] or ZERO)
    product = v["product_id"] or v["product_name"]
    subscription = subscription_ref(v["subscription_id"], v["customer_id"], product)
    start = _charge_start(v["start"], v["end"], v["prorated_days"])
    return Charge(
        row=row.number,
        customer_id=v["customer_id"],
        customer_name=v["customer_name"],
        product_id=product,
        product_name=v["product_name"],
        vendor=None,
        subscription_ref=subscription,
        statement=statement_of(v["invoice_number"], v["customer_id"], v["start"], subscription),
        invoice_number=v["invoice_number"],
        charge_type=v["charge_type"],
        kind=kind,
        start=start,
        end=v["end"],
        quantity=v["quantity"],
        seats=seats_of(kind, v["quantity"], cost),
        unit_cost=v["net_price"],
        cost=cost,
        unit_price=v["list_price"],
        price=_client_price(v["list_price"], v["net_price"], v["quantity"], v["subtotal"]),
        currency=v["currency"],
        billing_term=BILLING_TERMS.get("".join((v["billing_cycle"] or "").casefold().split())),
        cells=cells_of(row.cells),
    )


def check(charges: Sequence[Charge], headers: Mapping[str, str], problems: Problems) -> list[str]:
    """Add a proratedDays that is no number of the period's days to `problems`; the warnings:
    a total that is not the sum of its parts (the row is kept, its parts counted)."""
    warnings = []
    for charge in charges:
        cells = charge.cells
        period = _period_days(day(cells["start"]), day(cells["end"]))
        if "prorated_days" in cells and _whole_days(money(cells["prorated_days"]), period) is None:
            problems.add(
                charge.row,
                headers["prorated_days"],
                f"{cells['prorated_days']} is not a number of the period's {period} days",
            )
        if "total" not in cells:
            continue
        parts = charge.cost + (money(cells["taxes"]) if "taxes" in cells else ZERO)
        if abs(parts - money(cells["total"])) >= CENT:
            warnings.append(
                f"row {charge.row}: {headers['total']} {cells['total']} is not "
                f"{headers['subtotal']} less deductions plus fees and taxes "
                f"({money_prose(parts)}); the parts are kept"
            )
    return warnings


def _charge_start(start: date, end: date, days: Decimal | None) -> date:
    whole = None if days is None else _whole_days(days, _period_days(start, end))
    return end - timedelta(days=whole - 1) if whole else start


def _whole_days(days: Decimal, period: int) -> int | None:
    """`days` as a whole number of days within the period (0: not prorated), else None."""
    if days != days.to_integral_value() or not 0 <= days <= max(period, 0):
        return None
    return int(days)


def _period_days(start: date, end: date) -> int:
    return (end - start).days + 1


def _client_price(
    listed: Decimal | None, net: Decimal, quantity: Decimal, subtotal: Decimal
) -> Decimal | None:
    if listed is None:
        return None
    price = listed * quantity if not net else subtotal * listed / net
    # One past the bounds is refused whole (lines/checks.py), and too long to round.
    return price if abs(price) > MONEY_LIMIT else price.quantize(CENT, rounding=ROUND_HALF_UP)
