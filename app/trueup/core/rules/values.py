"""One value of the rules, checked: the same checks for a file and for a value typed on screen.

Money and percents are decimals: quoted strings as the contract writes them, TOML integers, or
TOML floats read through `Decimal` (tomllib's parse_float), so no float ever holds a price.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from trueup.core.billing.rules import CHOICES, KEYS, KINDS, RulesError
from trueup.core.rules.currencies import CURRENCIES

_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_NON_NEGATIVE = ("markup_percent", "fixed_price", "qty_swing_percent", "tax_percent")
# The largest a value may be: far past any real price list, far below what breaks the arithmetic.
_HIGHEST = {
    "markup_percent": Decimal(10000),
    "fixed_price": Decimal(10) ** 9,
    "min_margin_percent": Decimal(100),
    "qty_swing_percent": Decimal(10000),
    "tax_percent": Decimal(100),
}


class ValueProblem(Exception):
    """One value refused; the message says what is wrong with it."""


def value_of(key: str, raw: Any, *, strict: bool = True) -> Any:
    """A key's value from what TOML gave; ValueProblem says what is wrong with it. Not
    `strict`: as a stored document was accepted, before the checks added since (a currency
    outside ISO 4217), so rules a batch was built with still read."""
    kind = KINDS[key]
    if kind == "enum":
        if raw not in CHOICES[key]:
            raise ValueProblem(f"{_shown(raw)} is not one of {', '.join(CHOICES[key])}")
        return raw
    if kind == "decimal":
        number = decimal_of(raw)
        if key in _NON_NEGATIVE and number < 0:
            raise ValueProblem(f"{_shown(raw)} is negative; it must be 0 or more")
        if key == "tax_percent" and number > 100:
            raise ValueProblem(f"{_shown(raw)} is over 100")
        if abs(number) > _HIGHEST[key]:
            shown = _shown(raw) if len(_shown(raw)) <= 40 else f"{number:.3E}"
            raise ValueProblem(f"{shown} is out of range: at most {_HIGHEST[key]:,} in size")
        return number
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueProblem(f"{_shown(raw)} is not a whole number of months, like -1")
        try:
            months = int(raw)
        except ValueError:
            raise ValueProblem(f"{_shown(raw)} is not a whole number of months, like -1") from None
        if not -12 <= months <= 0:
            raise ValueProblem(f"{months} is out of range: usage is billed 0 to 12 months after")
        return months
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ValueProblem(f"{_shown(raw)} is not true or false (unquoted)")
        return raw
    if not isinstance(raw, str) or not _CURRENCY.fullmatch(raw):
        raise ValueProblem(f'{_shown(raw)} is not a 3-letter currency code, like "USD"')
    if strict and raw.upper() not in CURRENCIES:
        raise ValueProblem(f'{_shown(raw)} is not an ISO 4217 currency code, like "USD"')
    return raw.upper()


def decimal_of(raw: Any) -> Decimal:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return Decimal(raw)
    if isinstance(raw, Decimal) and raw.is_finite():
        return raw
    if isinstance(raw, str) and _DECIMAL.fullmatch(raw.strip()):
        return Decimal(raw.strip())
    raise ValueProblem(f'{_shown(raw)} is not a decimal; write it quoted, like "12.50"')


def _shown(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return json.dumps(raw)
    return str(raw)


def value_from_text(key: str, text: str) -> Any:
    """A key's value typed by a person (the Rules screen, the batch toggles), or RulesError."""
    if key not in KINDS:
        raise RulesError([f"{key}: unknown key{close_to(key, KEYS)}"])
    raw: Any = text.strip()
    if KINDS[key] == "bool":
        words = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}
        raw = words.get(raw.lower(), raw)
    try:
        return value_of(key, raw)
    except ValueProblem as exc:
        raise RulesError([f"{key}: {exc}"]) from None


def value_text(value: Any) -> str:
    """A value as a person reads it (and types it back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return "" if value is None else str(value)


def close_to(word: str, known: Iterable[str]) -> str:
    near = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {near[0]}?)" if near else ""
