"""Money and quantities as text, in the two formats trueup writes them.

- `money_json`, `money_json_or_none`, `quantity_json`: the contract's JSON (contract §3), fixed
  places, rounded half-up: what batch bodies and `trueup diff --json` hold, byte for byte.
- `money_prose`, `quantity_prose`, `price_or_dash`: for people (explanations, anomaly messages,
  timeline notes, the CLI), as short as the value allows.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

_CENT, _QUANTITY_PLACES = Decimal("0.01"), Decimal("0.0001")


# --- the contract's JSON ----------------------------------------------------------------------


# Equal Decimals (12.5, 12.50) give equal text here, so the texts are memoised: a batch formats
# ~250k amounts and quantities, most of them repeats, at a sixth of the cost.
@lru_cache(maxsize=1 << 16)
def money_json(amount: Decimal) -> str:
    """Two decimals, half-up, never "-0.00" (contract §3)."""
    rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    return f"{rounded if rounded else abs(rounded):.2f}"


@lru_cache(maxsize=1 << 16)
def quantity_json(quantity: Decimal) -> str:
    """Four decimals, half-up (contract §3)."""
    rounded = quantity.quantize(_QUANTITY_PLACES, rounding=ROUND_HALF_UP)
    return f"{rounded if rounded else abs(rounded):.4f}"


def money_json_or_none(amount: Decimal | None) -> str | None:
    return None if amount is None else money_json(amount)


# --- prose -------------------------------------------------------------------------------------


def money_prose(value: Decimal) -> str:
    """`12.50`, `264.00`, `12.2245`: two places at least, every place there is."""
    # Zero keeps its sign in the text ("-0.00"), and 0 == -0: only other values are memoised.
    return _nonzero_money_prose(value) if value else _money_prose(value)


def _money_prose(value: Decimal) -> str:
    if value == value.quantize(_CENT):
        return f"{value:.2f}"
    return format(value.normalize(), "f")


_nonzero_money_prose = lru_cache(maxsize=1 << 16)(_money_prose)


@lru_cache(maxsize=1 << 16)  # equal Decimals give equal text: see money_json
def quantity_prose(quantity: Decimal) -> str:
    """`18` for whole seats, `2.5` otherwise: no trailing zeros in prose."""
    if quantity == quantity.to_integral_value():
        return str(int(quantity))
    return format(quantity.normalize(), "f")


def price_or_dash(price: Decimal | None) -> str:
    return "-" if price is None else f"{price:.2f}"
