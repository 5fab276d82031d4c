"""`trueup export` (contract.md §2): the month for the accountant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render
from trueup.cli.options import MonthOption, default_month, open_store
from trueup.core.service.reports import FORMATS, Reports
from trueup.core.settings.config import today as configured_today
from trueup.core.values.months import Month


def _format(value: str) -> str:
    if value not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}")
    return value


@handles_errors
def export_command(
    ctx: typer.Context,
    month: MonthOption = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="xlsx: one workbook, a sheet per table; csv: a folder of CSV files.",
            callback=_format,
        ),
    ] = "xlsx",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The file (xlsx) or folder (csv) to write (default: trueup-YYYY-MM[.xlsx] here).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The month for the accountant: invoices (each client's state in the ledger, totals, cost,
    margin, where it was posted and its number there), every line with its arithmetic in
    words, anomalies and overrides (who, why), usage, changes against last month, and the
    posting journal. Money is written as numbers in the row's currency, ready to filter.

    The month's batch is built first if the store has moved on; nothing in the store changes.
    """
    today = configured_today()
    chosen = Month(month) if month else default_month(ctx, today)
    with open_store(ctx) as db:
        written = Reports(db, today=today).export(chosen, fmt, out)
    render.stderr.print(Text(f"Month {chosen}: wrote {written}"), soft_wrap=True)
    render.stdout.print(Text(str(written)), soft_wrap=True)
