"""How the workbench writes money, quantities, months and statuses: always as `Text`, so data
that looks like markup ("Acme [bold]Corp[/]") shows exactly as it is."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from rich.text import Text

from trueup.core.errors import TrueupError
from trueup.core.values.months import Month

_CENT = Decimal("0.01")

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}

# status -> (label, style); styles use the 16 ANSI colours so they survive 256-colour SSH.
MAPPING_STATUS = {
    "mapped": ("mapped", "green"),
    "suggested": ("suggested", "yellow"),
    "unmapped": ("unmapped", "bold red"),
    "ignored": ("ignored", "dim"),
    "stale": ("stale", "magenta"),
}
DIFF_STATUS = {
    "under": ("under", "bold red"),
    "missing_in_halo": ("no Halo", "bold red"),
    "over": ("over", "yellow"),
    "missing_in_pax8": ("no Pax8", "yellow"),
    "match": ("match", "green"),
}
DIFF_STATUS_LONG = {
    "under": "Halo bills fewer seats",
    "missing_in_halo": "Not billed in Halo",
    "over": "Halo bills more seats",
    "missing_in_pax8": "Billed, not in Pax8",
    "match": "Seats match",
}


def plain(value: object | None, style: str = "") -> Text:
    """Any value as literal text (never parsed as markup)."""
    return Text("" if value is None else str(value), style=style, no_wrap=True, end="")


def money(amount: Decimal, currency: str = "", *, signed: bool = False) -> str:
    rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP) + 0  # +0 turns -0.00 into 0.00
    symbol = SYMBOLS.get(currency, "")
    sign = "-" if rounded < 0 else "+" if signed and rounded > 0 else ""
    text = f"{sign}{symbol}{abs(rounded):,.2f}"
    return text if symbol or not currency else f"{text} {currency}"


def monthly_sums(amount: Decimal, currency: str, others: dict[str, Decimal]) -> list[str]:
    """A mapping row's money a month: the main currency's sum, then each other currency's that
    is not nil (never added together), as `trueup mapping` lists them."""
    return [money(amount, currency)] + [money(v, c) for c, v in sorted(others.items()) if v]


def quantity(value: Decimal, *, signed: bool = False) -> str:
    text = f"{value.normalize():f}" if value != value.to_integral_value() else f"{int(value):,}"
    return f"+{text}" if signed and value > 0 else text


def delta_text(delta: Decimal) -> Text:
    style = "bold red" if delta < 0 else "yellow" if delta > 0 else "dim"
    return plain(quantity(delta, signed=True) if delta else "0", style)


def impact_text(amount: Decimal, currency: str) -> Text:
    style = "bold red" if amount < 0 else "yellow" if amount > 0 else "dim"
    return plain(money(amount, currency, signed=True), style)


def status_text(status: str, table: dict[str, tuple[str, str]]) -> Text:
    label, style = table.get(status, (status, ""))
    return plain(label, style)


def month_name(month: str) -> str:
    return Month(month).name


def score_text(score: int | float | None) -> Text:
    return plain("" if score is None else f"{score:.0f}", "dim" if score is None else "")


def is_refusal(error: BaseException | None) -> bool:
    """Whether a failed action was refused for a reason the operator can act on (a posted
    month held, a store busy), not broken: a warning then, not an error."""
    return isinstance(error, TrueupError)


def error_text(error: BaseException | None) -> str:
    """The one line a failed action shows: a user's error as it says it (a file it named that
    could not be read or written is one too), anything else as the bug it is."""
    if isinstance(error, TrueupError | OSError):
        return str(error) or type(error).__name__
    return f"unexpected {type(error).__name__}: {error}"
