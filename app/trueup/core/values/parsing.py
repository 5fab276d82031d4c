"""Tolerant readers for API values: the wire mixes timestamp styles and may send nulls or junk."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from trueup.core.values.text import visible

# A number as data writes one: ASCII digits, a point, an exponent. Decimal() also reads "1_0",
# "１０" and "١٠" as 10, which no file or API means: junk, not seats.
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

# Pax8 sends offsets like "-0600"; normalise to "-06:00" so every Python 3.11 parser agrees.
_OFFSET_NO_COLON = re.compile(r"([+-])(\d{2})(\d{2})$")


def to_decimal(value: Any) -> Decimal | None:
    """An exact Decimal from a JSON number or numeric string; None for null or junk."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        if not PLAIN_NUMBER.fullmatch(value.strip()):
            return None
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def to_int(value: Any) -> int | None:
    number = to_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def to_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def to_text(value: Any) -> str | None:
    """Text as trueup stores and shows it: every control character made visible."""
    text = to_str(value)
    return None if text is None else visible(text)


def to_name(value: Any) -> str | None:
    """A name as to_text stores it; one of blanks alone is none: every view then names the
    record by its id ("client 12") where it showed an empty cell nobody could tell apart."""
    text = to_text(value)
    return text if text and text.strip() else None


def to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int):
        return value != 0
    return None


def parse_instant(value: Any) -> datetime | None:
    """A UTC instant from `2023-08-11T11:33:12.314-0600`, `...Z`, naive ISO or a bare date.

    Naive timestamps (Halo's style) and bare dates are taken as UTC. Halo's "unset" sentinels
    (1899-12-30, 1900-01-01) come back as None.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _OFFSET_NO_COLON.sub(r"\1\2:\3", text) if "T" in text else text
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed.year < 1901:
        return None
    return parsed


def parse_day(value: Any) -> date | None:
    """The UTC calendar date of a timestamp or date string."""
    instant = parse_instant(value)
    return instant.date() if instant else None


def month_start(day: date, months_back: int = 0) -> date:
    """The first day of the month `months_back` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def commitment_end(raw: dict[str, Any]) -> date | None:
    """The day written in the commitment's endDate (its own calendar day, not converted to UTC:
    the day the term ends where Pax8 wrote it)."""
    for name in ("commitmentTerm", "commitment"):
        found = raw.get(name)
        end = found.get("endDate") if isinstance(found, dict) else None
        if isinstance(end, str) and end:
            try:
                return date.fromisoformat(end[:10])
            except ValueError:
                return None
    return None
