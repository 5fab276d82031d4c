"""A figure over the last 12 months: a label and Textual's Sparkline, one bar per month that has
the figure (a Sparkline cannot leave a gap, so the words beside it name the months without),
and those words: from the first month's figure to the last's, and the months with none."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from trueup.core.values.months import Month


class Trend(Horizontal):
    DEFAULT_CSS = """
    Trend { height: 1; width: auto; }
    Trend > .trend-label { width: auto; padding: 0 1 0 0; }
    Trend > Sparkline { width: 1; }
    """

    def __init__(
        self, label: str, values: Sequence[Decimal | None] = (), *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.values = values

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="trend-label", markup=False)
        yield Sparkline([])

    def on_mount(self) -> None:
        self.show(self.values)

    def show(self, values: Sequence[Decimal | None]) -> None:
        present = [float(v) for v in values if v is not None]
        sparkline = self.query_one(Sparkline)
        sparkline.data = present
        sparkline.styles.width = max(len(present), 1)  # a bar a month


def first_to_last(values: Sequence[Decimal | None], text: Callable[[Decimal], str]) -> str:
    """`$1,204.00 → $1,310.50`, the one figure there is, or `-`."""
    present = [v for v in values if v is not None]
    if len(present) > 1:
        return f"{text(present[0])} → {text(present[-1])}"
    return text(present[0]) if present else "-"


def absent(
    currency: str,
    months: Sequence[Month],
    values: Sequence[Decimal | None],
    missing: str = "invoice",
) -> str:
    """`; no USD invoice in Dec 2025–Mar 2026, Jun 2026` for the months whose value is None
    (consecutive ones as one run); empty when none is. `missing`: what those months lack."""
    runs: list[list[Month]] = []
    for month, value in zip(months, values, strict=True):
        if value is None and runs and runs[-1][-1] == month.shifted(-1):
            runs[-1].append(month)
        elif value is None:
            runs.append([month])
    if not runs:
        return ""
    named = ", ".join(
        _short(run[0]) if len(run) == 1 else f"{_short(run[0])}–{_short(run[-1])}" for run in runs
    )
    return f"; no {currency} {missing} in {named}"


def _short(month: Month) -> str:
    return f"{calendar.month_abbr[month.first.month]} {month.first.year}"
