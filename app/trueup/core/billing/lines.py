"""What billing produces for one line, and the arithmetic every part of billing shares.

Amounts stay exact (`Exact`: a Decimal numerator over a day count) until a line is finished,
then round once, half-up, to 0.01 (billing-rules §8).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import NamedTuple

from trueup.core.values.money import quantity_prose

CENT = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal(0)
ONE = Decimal(1)
# Wide enough that sums of products of prices, rates, seats and day counts never round.
EXACT = Context(prec=100)

# billing-rules §10: severity is a property of the code, never chosen per occurrence.
SEVERITIES: dict[str, str] = {
    "UNMAPPED_SKU": "error",
    "QTY_MISMATCH": "warning",
    "UNBILLED_SUBSCRIPTION": "error",
    "CANCELLED_STILL_BILLED": "error",
    "NEGATIVE_MARGIN": "error",
    "BELOW_MIN_MARGIN": "warning",
    "PRICE_CHANGED": "warning",
    "QTY_SWING": "warning",
    "POSSIBLE_DUPLICATE": "warning",
    "ZERO_QTY_ACTIVE": "info",
    "NCE_DECREASE_LOCKED": "warning",
    "USAGE_ESTIMATED": "info",
    "COST_ESTIMATED": "info",
    "INVOICE_REISSUED": "info",
    "CURRENCY_MISMATCH": "error",
    # trueup's own (docs/billing-decisions.md): data that would otherwise bill, or drop
    # revenue, without anyone seeing it.
    "MISSING_HALO_ITEM": "error",
    # A client Halo no longer bills (inactive or gone) still billed from its mapped companies.
    "CLIENT_INACTIVE": "error",
    "UNKNOWN_STATUS": "error",
    "UNKNOWN_COMPANY": "error",
    # An error, not a warning: it stops the UNMAPPED_SKU override from billing a client twice.
    "POSSIBLE_DOUBLE_BILL": "error",
    # Valid but absurd (10^8 seats, a price of 500,000): an error, so it never posts unseen.
    "IMPLAUSIBLE_FIGURE": "error",
}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


class Anomaly(NamedTuple):
    code: str
    severity: str  # error | warning | info
    message: str  # one line, with the numbers


def anomaly(code: str, message: str) -> Anomaly:
    return Anomaly(code, SEVERITIES[code], message)


def ordered(anomalies: list[Anomaly]) -> tuple[Anomaly, ...]:
    """Errors first, then warnings, then info; equal anomalies once."""
    if not anomalies:  # most lines
        return ()
    unique = dict.fromkeys(anomalies)
    return tuple(sorted(unique, key=lambda a: (_SEVERITY_RANK[a.severity], a.code, a.message)))


class InvoiceLine(NamedTuple):
    """A finished line (a named tuple: 40k of them in a large batch, built at a third of the
    cost of a frozen dataclass)."""

    kind: str  # subscription | usage | manual
    subscription_id: str | None
    product_id: str | None
    sku: str | None
    description: str
    quantity: Decimal  # billable quantity, exact (daily: seat-days / days in the month)
    unit_price: Decimal
    amount: Decimal  # rounded to 0.01
    cost: Decimal  # rounded to 0.01
    currency: str
    policy: str  # e.g. "daily · pax8", "end · markup 20%", "usage · absorb", "manual"
    explanation: str
    anomalies: tuple[Anomaly, ...]
    # The Pax8 partner cost of one unit on the line's reference day, for next month's
    # PRICE_CHANGED (None on usage and manual lines).
    unit_cost: Decimal | None = None
    proration: str | None = None  # a prorated quantity in words (proration.Charge.words)
    recovered: Decimal | None = None  # LineDraft.recovered, to four places (a figure, not billed)


@dataclass(slots=True)
class LineDraft:
    """A line before conversion into the invoice currency and rounding."""

    kind: str
    subscription_id: str | None
    product_id: str | None
    sku: str | None
    description: str
    quantity: Decimal
    unit_price: Decimal | None  # None: the line is one unit priced at its amount (usage)
    unit_cost: Decimal | None
    amount: Exact  # in `currency`
    cost: Exact
    currency: str
    policy: str
    charge_text: str  # the arithmetic up to "=", e.g. "17 seats × 12.50 for 4 days ..."
    sources: str  # the policy names and where each figure comes from
    cost_text: str  # where the cost comes from
    anomalies: list[Anomaly] = field(default_factory=list)
    min_margin_percent: Decimal | None = ZERO  # None: margin not checked (absorb, manual)
    swing_percent: Decimal | None = None  # set on subscription lines: compared to last month
    cost_estimated: bool = False  # no Pax8 invoice item yet (COST_ESTIMATED)
    priced: bool = True  # False: no unit price under the policy (shown as 0, never compared)
    tie: str = ""  # orders lines equal in kind, description and subscription (manual lines)
    proration: str | None = None  # a prorated quantity in words (proration.Charge.words)
    # What the seat diff's mismatch is worth a month, in `currency`: the distributor's seats at
    # the month's end less Halo's, at the monthly share of the unit price the line bills (above
    # 0: billed now, Halo billed too few; below 0: Halo's extra seats no longer billed). None:
    # no mismatch, the line keeps Halo's seats (vendor sync off), a term line between renewals,
    # or a line held out for want of a rate. The summary's mismatches corrected by month.
    recovered: Exact | None = None


class Exact(NamedTuple):
    """`numerator / denominator`, exactly: an amount before its one rounding.

    Numerators are sums of products of money, seats and day counts, computed in a context wide
    enough never to round; the one division happens when the amount is rounded or shown.
    """

    numerator: Decimal
    denominator: int = 1

    def times(self, factor: Decimal) -> Exact:
        if factor == 1:
            return self
        return Exact(EXACT.multiply(self.numerator, factor), self.denominator)

    def cents(self) -> Decimal:
        """Rounded half-up (away from zero) to 0.01.

        The quotient is taken to 100 digits first. Over a denominator q (day counts), a value
        is either exactly on a half cent or at least 1/(200 q) away from one, far more than
        the error of 100 digits: the rounding is exact.
        """
        value = self.numerator
        if self.denominator != 1:  # over 1 the quotient is the numerator itself
            value = EXACT.divide(value, self.denominator)
        return value.quantize(CENT, ROUND_HALF_UP)

    def decimal(self) -> Decimal:
        """The value to 28 significant digits (exact when it terminates within them)."""
        return self.numerator / self.denominator

    def text(self) -> str:
        """For prose: two places when it has no more, else four."""
        value = EXACT.divide(self.numerator, self.denominator)
        if value == value.quantize(CENT):
            return f"{value:.2f}"
        return f"{value.quantize(FOUR_PLACES, ROUND_HALF_UP)}"


NOTHING = Exact(ZERO)


def total(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of money."""
    result = ZERO
    for value in values:
        result = EXACT.add(result, value)
    return result


def product(*factors: Decimal | int) -> Decimal:
    """The exact product of money, seats and counts."""
    result = ONE
    for factor in factors:
        result = EXACT.multiply(result, factor)
    return result


def converted(value: Decimal, rate: Decimal | None) -> Decimal:
    """A unit price or cost at `rate`, to four places (a line's amount rounds once, not this)."""
    if rate is None or rate == 1:
        return value
    return (value * rate).quantize(FOUR_PLACES, ROUND_HALF_UP)


def percent_text(value: Decimal) -> str:
    return f"{quantity_prose(value)}%"


# The distributors' units that count people or licences, and Azure's plan (one a tenant), in
# the singular: a line says seats for them.
_SEAT_UNITS = frozenset({"user", "seat", "licence", "license", "each", "unit", "usage"})


@lru_cache(maxsize=1024)  # a store names a few units, asked once a line
def unit_word(unit: str | None) -> str:
    """The word a line counts in: `seat` for a per-user unit (User, Licenses, Per User), a
    measure as the distributor writes it (`GB`, `GB/Month`, `User Month`), any other unit as a
    noun in the singular (Endpoints: `endpoint`)."""
    name = " ".join((unit or "").split())
    word = name.lower().removeprefix("per ").removeprefix("each ")
    if not word or _singular(word) in _SEAT_UNITS:
        return "seat"
    if name.isupper() or not word.isalpha():
        return name
    return _singular(word)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("xes", "ches", "shes")):  # licenses, houses: the plain s below
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def seats_text(quantity: Decimal, unit: str = "seat") -> str:
    """`18 seats`, `1 endpoint`, `3 mailboxes`, `2 properties`, `2000 GB`: a measure takes no
    plural."""
    return f"{quantity_prose(quantity)} {unit if quantity == 1 else _plural(unit)}"


@lru_cache(maxsize=1024)
def _plural(unit: str) -> str:
    if not (unit.isalpha() and unit.islower()):
        return unit
    if unit.endswith("y") and unit[-2:-1] not in ("a", "e", "i", "o", "u"):
        return unit[:-1] + "ies"
    return unit + ("es" if unit.endswith(("s", "x", "ch", "sh")) else "s")


def days_text(days: int) -> str:
    return f"{days} day{'' if days == 1 else 's'}"
