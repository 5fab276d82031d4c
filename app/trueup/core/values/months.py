"""Service months (billing-rules §1): `YYYY-MM` names of UTC calendar months."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from functools import cached_property

from trueup.core.errors import TrueupError

# ASCII digits only: \d also takes "２０２６", which int() reads as 2026.
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
# No MSP bills a month before cloud reselling or so far ahead that the next month (which every
# month's arithmetic may reach) leaves the calendar.
FIRST_YEAR, LAST_YEAR = 2000, 9998
_NAMES = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


class MonthError(TrueupError, ValueError):
    """Text that is not a month like 2026-11."""


class Month(str):
    """A service month, checked once where it enters (a flag, a file, a screen) and then passed
    around whole. It is the text it names (`Month("2026-11") == "2026-11"`), so JSON, SQL and the
    batch's bytes see `2026-11` exactly as before."""

    def __new__(cls, text: str) -> Month:
        if type(text) is cls:
            return text
        match = _MONTH.fullmatch(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise MonthError(f"{text!r} is not a month like 2026-11")
        if not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
            raise MonthError(
                f"{text!r} is outside the years trueup bills ({FIRST_YEAR}-{LAST_YEAR})"
            )
        return super().__new__(cls, match.group(0))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month `day` falls in."""
        return cls(f"{day.year:04d}-{day.month:02d}")

    @classmethod
    def being_closed(cls, today: date, close_day: int) -> Month:
        """The month a month-end run is for on `today`: the previous month through `close_day`
        of this one, this month after it (contract §2, the default month)."""
        this = cls.of(today)
        return this.shifted(-1) if today.day <= close_day else this

    def check_reachable(self, today: date) -> Month:
        """The month, when a month-end can be run for it on `today`: from February 2000 up to
        next month (a batch of a month not begun bills from what Pax8 already knows);
        MonthError otherwise."""
        if self.first.year == FIRST_YEAR and self.first.month == 1:
            # Every batch reads the month before it, which would leave the years billed.
            raise MonthError(f"{self} is before {FIRST_YEAR}-02, the first month trueup bills")
        latest = Month.of(today).shifted(1)
        if self > latest:
            raise MonthError(
                f"{self} is after next month ({latest}): trueup bills months up to next month "
                f"(today is {today.isoformat()}, from TRUEUP_TODAY or the clock)"
            )
        return self

    @cached_property
    def first(self) -> date:
        return date(int(self[:4]), int(self[5:]), 1)

    @cached_property
    def last(self) -> date:
        first = self.first
        return first.replace(day=calendar.monthrange(first.year, first.month)[1])

    @property
    def bounds(self) -> tuple[date, date]:
        """The first and the last day (inclusive)."""
        return self.first, self.last

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.last.day)]

    def shifted(self, months: int) -> Month:
        """The month `months` later (earlier when negative)."""
        index = self.first.year * 12 + self.first.month - 1 + months
        return Month(f"{index // 12:04d}-{index % 12 + 1:02d}")

    @cached_property
    def name(self) -> str:
        """`November 2026`, in English whatever the locale (calendar's names follow it)."""
        return f"{_NAMES[self.first.month - 1]} {self.first.year}"


def reference_day(month: str, today: date) -> date:
    """The day Pax8 seats are counted on (billing-rules §9): `today` within the current month,
    else the last day."""
    first, last = Month(month).bounds
    return today if first <= today <= last else last
