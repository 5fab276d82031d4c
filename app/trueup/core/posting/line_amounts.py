"""A line as a destination that computes its amount from quantity x price will take it.

Halo computes qty x price and rounds it to cents itself; QuickBooks refuses an item line whose
Amount is not Qty x UnitPrice. The batch's amount is already rounded once (billing-rules.md §8),
so a prorated line (1.4 x 26.40 billed 36.97) may differ from qty x price by a cent. When the
quantity and price reproduce the amount whichever way a half cent is rounded, they are sent as
they are; otherwise the line goes as 1 x amount, the quantity and price kept in its description
so the arithmetic stays readable on the invoice (unless the description's words already price
each part: a price that moved within the month). Where that arithmetic gives another amount only
because the batch keeps its price to the cent and its quantity to 4 places (17 x 2.6775 billed
45.52, kept as 17 x 2.68 = 45.56), the words say they are rounded: "(17 x 2.68, rounded)".
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from trueup.core.billing.proration import PRICED_PART
from trueup.core.posting.sink import DocumentLine

CENT = Decimal("0.01")
_HALF_CENT, _HALF_STEP = Decimal("0.005"), Decimal("0.00005")  # the batch's price, quantity
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
    arithmetic = f"{_plain(line.quantity)} x {_plain(line.unit_price)}"
    if _rounded_away(line.quantity, line.unit_price, line.amount):
        arithmetic += ", rounded"
    return Decimal(1), line.amount, f"{line.description} ({arithmetic})"


def stepped_price(price: Decimal, step: Decimal) -> Decimal:
    """The price at most `step`'s places, otherwise exactly the batch's."""
    rounded = price.quantize(step, rounding=ROUND_HALF_UP)
    return price if rounded == price else rounded


def _rounded_away(quantity: Decimal, price: Decimal, amount: Decimal) -> bool:
    """Whether quantity x price misses the amount, and some quantity and price that round to
    these (the batch keeps prices to the cent, quantities to 4 places) give it."""
    if _rounds_to(quantity * price, amount):
        return False
    products = [
        (quantity + q) * (price + p)
        for q in (-_HALF_STEP, _HALF_STEP)
        for p in (-_HALF_CENT, _HALF_CENT)
    ]
    return min(products) - _HALF_CENT <= amount <= max(products) + _HALF_CENT


def _rounds_to(product: Decimal, amount: Decimal) -> bool:
    return all(product.quantize(CENT, rounding=mode) == amount for mode in _ROUNDINGS)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
