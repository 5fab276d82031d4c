"""Reading one cell of a distributor's file by its kind, strictly: a value trueup can use, or a
`CellError` that says what is wrong with it. Unlike an API's tolerant readers (values/parsing),
nothing here turns junk into NULL: a file is checked whole and refused whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from trueup.core.values.bounds import MAX_ID, MONEY_LIMIT, QUANTITY_LIMIT
from trueup.core.values.months import FIRST_YEAR, LAST_YEAR
from trueup.core.values.parsing import PLAIN_NUMBER
from trueup.core.values.text import visible

MAX_TEXT = 500  # a customer or SKU name
RATE_LIMIT = Decimal(10) ** 6  # an exchange rate: no currency pair comes near it
_ID = re.compile(r"[^\s\x00-\x1f\x7f-\x9f]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
# How Excel writes a number of 12 digits or more it was given as General: 1.00001E+15.
_EXCEL_NUMBER = re.compile(r"[0-9](?:\.[0-9]+)?E\+[0-9]+", re.IGNORECASE)
# How a spreadsheet writes a number in a column formatted Number or Accounting, when a file
# opened in one is saved as CSV again: thousands separated (1,234.56), a negative in
# parentheses ((12.00)). No distributor's documented file writes either.
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_PARENTHESISED = re.compile(r"\(\s*([^()]*?)\s*\)")
# Partner Center writes dates as 10/3/2020 in its samples and as ISO 8601 through its API;
# either may carry a time of day, which is dropped (a charge is for whole UTC days): as ISO
# writes it or a spreadsheet does (12:00:00 AM), with fractions and a zone. Anything else after
# the date is not a time ("2026-10-01 to 2026-10-31" would read as its first day).
# ASCII digits only: \d also takes "２０２６", which int() reads as 2026.
_TIME = (
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"  # 00:00, 00:00:00, 00:00:00.0000000
    r"(?: ?[AP]M)?(?: ?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)?"  # 12:00:00 AM, Z, +05:30
)
_US_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})" + _TIME, re.ASCII | re.IGNORECASE)
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})" + _TIME, re.ASCII | re.IGNORECASE)


class CellError(ValueError):
    """What is wrong with a cell, said of its value (the caller names the row and column)."""


class Kind(Enum):
    ID = "id"
    TEXT = "text"
    MONEY = "money"
    QUANTITY = "quantity"
    RATE = "rate"
    DAY = "day"
    CURRENCY = "currency"


def shown(text: str) -> str:
    """A cell's value as a problem quotes it: short, every control character visible."""
    value = visible(text)
    return f"'{value if len(value) <= 40 else value[:37] + '...'}'"


def identifier(text: str) -> str:
    if len(text) > MAX_ID:
        raise CellError(f"is {len(text)} characters long (an id is at most {MAX_ID})")
    # A zero-width or bidi mark makes an id unlike the one it looks like: a second company.
    if not _ID.fullmatch(text) or any(unicodedata.category(ch) == "Cf" for ch in text):
        raise CellError(f"{shown(text)} holds a space or a control character (not an id)")
    if _EXCEL_NUMBER.fullmatch(text):
        raise CellError(
            f"{shown(text)} is a long number a spreadsheet rounded (its last digits are lost): "
            "download the file again rather than saving it from a spreadsheet"
        )
    return text


def name(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise CellError(f"is {len(text)} characters long (at most {MAX_TEXT})")
    return visible(text)


def _number(text: str, limit: Decimal, what: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(f"{shown(text)} is not a number like 1234.56") from None
    if not number.is_finite():
        raise CellError(f"{shown(text)} is not a finite number")
    if not PLAIN_NUMBER.fullmatch(text.strip()):  # "1_0", "１０": Decimal reads them as 10
        raise CellError(f"{shown(text)} is not a number like 1234.56")
    if abs(number) > limit:
        raise CellError(f"{shown(text)} is out of range (a {what} is at most {limit:,})")
    return number


def grouped(text: str) -> bool:
    """Whether `text` holds a comma only as a thousands separator would (1,234.56, (1,234))."""
    inner = _PARENTHESISED.fullmatch(text)
    return bool(_GROUPED.fullmatch(inner.group(1) if inner else text))


def plain(text: str, thousands: bool) -> str:
    """A number a spreadsheet formatted, written plain: (12.00) is -12.00; 1,234.56 is 1234.56
    when `thousands` (the file's decimal separator is known to be a point); any other text as
    it is, for its reader to judge. CellError for thousands separators in a file that does not
    say its decimal separator: 1,234 is a thousand and more, or one and a bit."""
    inner = _PARENTHESISED.fullmatch(text)
    body = inner.group(1) if inner else text
    if _GROUPED.fullmatch(body):
        if not thousands:
            raise CellError(
                f"{shown(text)} has a comma that is a thousands separator or a decimal comma, "
                "and no number of the file has a decimal point to say which: format the "
                "spreadsheet's number columns without thousands separators (or download the "
                "file again) and import it again"
            )
        body = body.replace(",", "")
    elif inner is None or not _unsigned(body):
        return text
    return f"-{body}" if inner else body


def _unsigned(text: str) -> bool:
    return not text.startswith(("+", "-")) and bool(PLAIN_NUMBER.fullmatch(text))


def money(text: str) -> Decimal:
    return _number(text, MONEY_LIMIT, "price or amount")


def quantity(text: str) -> Decimal:
    return _number(text, QUANTITY_LIMIT, "quantity")


def rate(text: str) -> Decimal:
    number = _number(text, RATE_LIMIT, "rate")
    if number <= 0:
        raise CellError(f"{shown(text)} is not a rate (it must be above 0)")
    return number


def slashed(text: str) -> tuple[int, int] | None:
    """The first two numbers of a date written with slashes (month and day, in one order or
    the other), None for any other text."""
    found = _US_DAY.fullmatch(text.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def day(text: str, day_first: bool = False) -> date:
    """The day `text` names; a date with slashes is month first unless `day_first` (a file
    saved by a spreadsheet set to a day-first locale: 31/10/2026)."""
    us, iso = _US_DAY.fullmatch(text), _ISO_DAY.fullmatch(text)
    if us:
        month, day_of_month, year = (int(part) for part in us.groups())
        if day_first:
            month, day_of_month = day_of_month, month
    elif iso:
        year, month, day_of_month = (int(part) for part in iso.groups())
    else:
        raise CellError(f"{shown(text)} is not a date like 2026-11-05 or 11/5/2026")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        years = f"{FIRST_YEAR}-{LAST_YEAR}"
        raise CellError(f"{shown(text)} is outside the years trueup bills ({years})")
    try:
        return datetime(year, month, day_of_month).date()
    except ValueError:
        raise CellError(f"{shown(text)} is not a day of the calendar") from None


def currency(text: str) -> str:
    if not _CURRENCY.fullmatch(text.upper()):
        raise CellError(f"{shown(text)} is not a currency code like USD")
    return text.upper()


READERS: dict[Kind, Callable[[str], Any]] = {
    Kind.ID: identifier,
    Kind.TEXT: name,
    Kind.MONEY: money,
    Kind.QUANTITY: quantity,
    Kind.RATE: rate,
    Kind.DAY: day,
    Kind.CURRENCY: currency,
}


def read_cell(kind: Kind, text: str, day_first: bool = False) -> Any:
    """The cell's value (its text trimmed first); CellError when it has none or a wrong one."""
    value = text.strip()
    if not value:
        raise CellError("is empty")
    return day(value, day_first) if kind is Kind.DAY else READERS[kind](value)
