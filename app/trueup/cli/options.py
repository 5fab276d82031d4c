"""Options several commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

from trueup.core.months import MonthError, parse_month


def checked_month(month: str | None) -> str | None:
    # Checked while parsing, so a bad month is a usage error (exit 2) before anything runs.
    if month is not None:
        try:
            parse_month(month)
        except MonthError as exc:
            raise typer.BadParameter(str(exc)) from None
    return month


MonthOption = Annotated[
    str | None,
    typer.Option(
        "--month",
        help="The service month YYYY-MM (default: this month; TRUEUP_TODAY counts).",
        callback=checked_month,
        show_default=False,
    ),
]
