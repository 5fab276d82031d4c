"""Microsoft's rounding of a reconciliation row's subtotal.

Partner Center documents the Subtotal of a new-commerce reconciliation row as (the Subtotal row
of "Understand how to read new commerce invoice reconciliation files",
https://learn.microsoft.com/en-gb/partner-center/modern-invoice-reconciliation-file, quoted in
../shared/reference/market-2026-12.md §4.2 as [MS1]):

- usage-based:
  ROUNDDOWN(ROUNDDOWN(EffectiveUnitPrice * BillableQuantity, 2) * PCToBCExchangeRate, 2)
- license- or seat-based:
  ROUNDDOWN(EffectiveUnitPrice * PCToBCExchangeRate, 2) * BillableQuantity

The formulas are written in Excel's terms; that ROUNDDOWN is Excel's (towards zero, so a
credit's negative figure rounds towards zero too) is our reading, not confirmed by Microsoft, and
the rule has not been checked against a real file. So the file's own Subtotal is the cost trueup
stores (it is what Microsoft invoices); the rule fills a Subtotal left empty and flags a row
whose Subtotal it does not give (charges.py), without refusing it.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext

CENT = Decimal("0.01")


def _round_down(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


def per_unit(price: Decimal, rate: Decimal) -> Decimal:
    """A unit price in the billing currency, rounded as Microsoft rounds a seat's."""
    return _round_down(price * rate)


def rule_subtotal(usage: bool, price: Decimal, quantity: Decimal, rate: Decimal) -> Decimal:
    """The Subtotal Microsoft's rule gives for EffectiveUnitPrice, BillableQuantity and
    PCToBCExchangeRate."""
    with localcontext() as context:
        context.prec = 60  # every bounded price x quantity x rate, to the cent, exactly
        if usage:
            return _round_down(_round_down(price * quantity) * rate)
        return per_unit(price, rate) * quantity


def agrees(subtotal: Decimal, rule: Decimal) -> bool:
    """Whether a file's Subtotal is the rule's, to the cent (a seat subtotal of fractional
    seats may carry more places than the file prints)."""
    return abs(subtotal - rule) < CENT
