"""Service months (billing-rules §1): `YYYY-MM` names of UTC calendar months."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from trueup.core.errors import TrueupError

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class MonthError(TrueupError, ValueError):
    """Text that is not a month like 2026-11."""


def parse_month(text: str) -> date:
    """The first day of the month `text` names (`2026-11`)."""
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise MonthError(f"{text!r} is not a month like 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """The first and the last day (inclusive) of the month."""
    first = parse_month(month)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def month_days(month: str) -> list[date]:
    first, last = month_bounds(month)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
