"""A line as a destination that computes its amount from quantity x price will take it.

Halo computes qty x price and rounds it to cents itself; QuickBooks refuses an item line whose
Amount is not Qty x UnitPrice. The batch's amount is already rounded once (billing-rules.md §8),
so a prorated line (1.4 x 26.40 billed 36.97) may differ from qty x price by a cent. When the
quantity and price reproduce the amount whichever way a half cent is rounded, they are sent as
they are; otherwise the line goes as 1 x amount, the quantity and price kept in its description
so the arithmetic stays readable on the invoice (unless the description's words already price
each part: a price that moved within the month).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from trueup.core.billing.proration import PRICED_PART
from trueup.core.posting.sink import DocumentLine

CENT = Decimal("0.01")
_ROUNDINGS = (ROUND_HALF_UP, ROUND_HALF_EVEN)  # SQL Server's ROUND, and .NET's Math.Round


def consistent_amounts(
    line: DocumentLine, price_step: Decimal, quantity_step: Decimal | None = None
) -> tuple[Decimal, Decimal, str]:
    """The quantity, unit price and description to send for `line`, prices at most
    `price_step`'s places; a quantity with more places than `quantity_step` (where the
    destination rounds quantities: Xero keeps 4) goes as 1 x amount too."""
    price = stepped_price(line.unit_price, price_step)
    exact = quantity_step is None or line.quantity == line.quantity.quantize(quantity_step)
    if exact and _rounds_to(line.quantity * price, line.amount):
        return line.quantity, price, line.description
    if PRICED_PART in line.description:
        # Its words price each part (the price moved within the month): one quantity at the
        # last price would read as another amount.
        return Decimal(1), line.amount, line.description
    described = f"{line.description} ({_plain(line.quantity)} x {_plain(line.unit_price)})"
    return Decimal(1), line.amount, described


def stepped_price(price: Decimal, step: Decimal) -> Decimal:
    """The price at most `step`'s places, otherwise exactly the batch's."""
    rounded = price.quantize(step, rounding=ROUND_HALF_UP)
    return price if rounded == price else rounded


def _rounds_to(product: Decimal, amount: Decimal) -> bool:
    return all(product.quantize(CENT, rounding=mode) == amount for mode in _ROUNDINGS)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
