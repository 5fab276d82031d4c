"""`trueup import FILE --source ...`: a distributor's billing file into the store (contract §2)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.cli.options import Json, checked_month, open_store
from trueup.core.service.imports import FileRefused, ImportOutcome, Imports
from trueup.core.settings.config import load_settings
from trueup.core.values.months import Month

ExpectedMonth = Annotated[
    str | None,
    typer.Option(
        "--month",
        help="The month YYYY-MM the file should be of: a file most of whose charges start in "
        "another month is refused (default: no check, the file is taken as it is).",
        callback=checked_month,
        show_default=False,
    ),
]


class Source(StrEnum):
    partner_center = "partner-center"
    ion = "ion"
    ingram = "ingram"
    sherweb = "sherweb"


@handles_errors
def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="The distributor's file, as downloaded (CSV).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    source: Annotated[
        Source,
        typer.Option(help="Whose file it is."),
    ],
    month: ExpectedMonth = None,
    as_json: Json = False,
) -> None:
    """Import a distributor's billing file: its customers, SKUs, subscriptions and charges join
    Pax8's in the store, for the seat diff and the batch.

    **partner-center**: Microsoft's new-commerce invoice reconciliation file: in Partner
    Center's Billing workspace, the invoice's reconciliation file (new commerce), as CSV: the
    Subtotal is the cost (it names no client price).

    **ion**: a TD SYNNEX StreamOne Ion billing report (one cloud vendor's, Reports > Billing),
    as CSV: Seller Cost is the cost, Customer Cost the client's price.

    **ingram**: an Ingram Micro Cloud Marketplace rated data export (full report), as CSV: the
    RESELLER amounts are the cost, the CUSTOMER amounts the client's price.

    **sherweb**: Sherweb's payable charges, an invoice exported per client as CSV: subTotal
    less deductions plus fees is the cost, listPrice the client's price. Import each client's
    file; one replaces only its own client's charges.

    Each customer becomes a company to map to a Halo client (`trueup map`), each SKU a product
    to map to a Halo item, each charge an invoice item, and the subscriptions are rebuilt with
    their seats by date from every file imported. A client billed by Pax8 and another
    distributor gets one invoice.

    The file is checked whole first: every problem is listed by row (as a spreadsheet numbers
    them, the header is row 1) and column, and nothing is imported until all are fixed. Dates
    may be 2026-11-05 or 11/5/2026: month first, unless a date of the file has a day past the
    12th first (05/11/2026 saved by a day-first spreadsheet); when no date tells, month first is
    read and the import warns. A file saved again from a spreadsheet: numbers written 1,234.56
    or (12.00) read as 1234.56 and -12.00 when the file's numbers have decimal points; a totals
    row is refused at its row; a SKU whose leading zeros were dropped (1 for 0001) is named in a
    warning. A workbook (xlsx, xls, ods) or a zip is refused: save or extract the CSV. Only
    Partner Center's columns are documented
    by its distributor; ion, ingram and sherweb read a default column table (see the README).
    A file whose columns are named otherwise is read through the config: `[import.<source>]`,
    then our field name = the file's header, e.g. `charge_start = "Charge Start Date"` under
    `[import.partner-center]` (see `trueup config show`).

    Importing is all or nothing, never beside a sync, and idempotent: the same file again
    changes nothing. The file is the whole of each invoice it holds (for ion, ingram and
    sherweb, of each customer's part of it; with no invoice number, of each subscription's
    month), so a corrected download replaces the first; the rest, and Pax8's data, are never
    touched. `--month` refuses a file most of whose charges start in another month (the wrong
    month's download). The log records every import and refusal.
    """
    columns = load_settings(state(ctx).config_path).import_columns
    with open_store(ctx, existing=False) as db:  # a file may come before any sync
        try:
            outcome = Imports(db, columns=columns).run(
                file, source.value, month=Month(month) if month else None
            )
        except FileRefused as exc:
            render.fail(str(exc))
            for problem in exc.problems:
                render.stderr.print(Text(f"  {problem}"), soft_wrap=True)
            raise typer.Exit(1) from None
    if as_json:
        render.emit_json(outcome.json())
    else:
        _summary(outcome)
    for warning in outcome.warnings:
        render.stderr.print(Text(f"warning: {warning}", style="yellow"), soft_wrap=True)


def _summary(outcome: ImportOutcome) -> None:
    render.stdout.print(Text(outcome.headline), soft_wrap=True)
    if not outcome.changed:
        return
    width = max(len(name) for name in outcome.counts)
    for name, counts in outcome.counts.items():
        said = [
            f"{number} {word}"
            for number, word in (
                (counts.created, "new"),
                (counts.updated, "changed"),
                (counts.deleted, "gone"),
                (counts.unchanged, "same"),
            )
            if number
        ]
        render.stdout.print(Text(f"  {name:<{width}}  {', '.join(said) or '-'}"))
