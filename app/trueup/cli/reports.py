"""`trueup export` (contract.md §2): the month for the accountant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render
from trueup.cli.options import (
    CLIENT_ID,
    MonthOption,
    configured_close_day,
    month_or_default,
    open_store,
    usage_error,
)
from trueup.core.service.reports import FORMATS, Reports
from trueup.core.settings.config import today as configured_today


def _out_path(given: str) -> Path:
    """--out as given; an empty one (an unset variable) or `-` (no standard output for a
    workbook or a folder of files) is bad usage, not a file named so."""
    if not given.strip():
        raise typer.BadParameter("is empty: give a file or folder name, or leave it out")
    if given == "-":
        raise typer.BadParameter("'-': this writes files, not standard output; give a name")
    return Path(given)


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """An option's callback: the value when it is one of `choices`, else a usage error (2)."""

    def check(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return check


@handles_errors
def export_command(
    ctx: typer.Context,
    month: MonthOption = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="xlsx: one workbook, a sheet per table; csv: a folder of CSV files.",
            callback=_one_of(FORMATS),
        ),
    ] = "xlsx",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            parser=_out_path,
            metavar="PATH",
            help="The file (xlsx) or folder (csv) to write (default: trueup-YYYY-MM[.xlsx] here).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The month for the accountant: invoices (each client's state in the ledger, totals, cost,
    margin, where it was posted and its number there), every line with its arithmetic in
    words, anomalies and overrides (who, why, when in UTC), usage, changes against last month,
    and the posting journal. Money is written as numbers in the row's currency, ready to filter.

    For the month being closed, its batch is built first when there is none or the store has
    moved on, and kept as `trueup batch` keeps it (`trueup batches` lists it); nothing else in
    the store changes. A closed month is told from the last batch stored for it, "as known on
    DATE, batch ID" (the Invoices sheet's Told from), never rebuilt from today's data; with
    none stored it says so and exits 1 (`trueup batch --month` builds one when asked). A month
    with no client in it writes no file: it says so and exits 1.
    """
    if out is not None:
        _check_kind(out, fmt)
    today = configured_today()
    chosen = month_or_default(ctx, month, today)
    close_day = configured_close_day(ctx)
    with open_store(ctx, existing=True) as db:
        reports = Reports(db, today=today, close_day=close_day)
        written, known = reports.export_told(chosen, fmt, out)
    told = f"Month {chosen}, {known}" if known else f"Month {chosen}"  # known: a closed month
    render.stderr.print(Text(f"{told}: wrote {written}"), soft_wrap=True)
    render.stdout.print(Text(str(written)), soft_wrap=True)


def _check_kind(out: Path, fmt: str) -> None:
    """--out named as what the format does not write is bad usage: `--out march.csv` (the
    format left at xlsx) wrote a workbook named .csv, which a spreadsheet or an accounting
    import then reads as garbage; `--format csv --out march.csv` made a folder of that name."""
    suffix = out.suffix.lower()
    if fmt == "xlsx" and suffix == ".csv":
        usage_error(
            f"--out {out} names a CSV file, and --format xlsx writes a workbook: give "
            "--format csv (a folder of CSV files, one per sheet) or name the workbook .xlsx"
        )
    if fmt == "csv" and suffix in (".csv", ".xlsx") and not out.is_dir():
        usage_error(
            f"--out {out} names a file, and --format csv writes a folder of CSV files, one per "
            f"sheet: name the folder (e.g. --out {out.with_suffix('')})"
        )


SUMMARY_FORMATS = ("text", "md", "html")


@handles_errors
def summary_command(
    ctx: typer.Context,
    month: MonthOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="text (the terminal, 80 columns), md (Markdown to paste in a mail) or html "
            "(a page to attach).",
            callback=_one_of(SUMMARY_FORMATS),
        ),
    ] = "text",
) -> None:
    """The month for a manager: totals and margin per currency; posted, held and outstanding;
    the leakage the seat diff found (seats Halo billed too few of, now billed; too many, now
    removed; per month); the clients whose totals moved most against last month and why; the
    overrides with their reasons; the 12 months to this one with the leakage each month's
    invoices recovered. A closed month is told from the last batch stored for it, "as known on
    DATE, batch ID", never rebuilt from today's data; a month with no client in it is said so
    (exit 1).
    """
    from trueup.core.service.reports import summary_html, summary_markdown, summary_renderables

    if as_json and fmt != "text":  # one of them would be dropped unsaid
        usage_error(f"--json and --format {fmt} are two outputs: give one")
    today = configured_today()
    chosen = month_or_default(ctx, month, today)
    close_day = configured_close_day(ctx)
    with open_store(ctx, existing=True) as db:
        reports = Reports(db, today=today, close_day=close_day)
        if as_json:
            render.emit_json(reports.summary_json(chosen))
            return
        summary = reports.summary(chosen)
    if fmt == "md":
        render.stdout.print(Text(summary_markdown(summary)), soft_wrap=True)
    elif fmt == "html":
        render.stdout.print(Text(summary_html(summary)), soft_wrap=True)
    else:
        for part in summary_renderables(summary):
            render.stdout.print(part)


@handles_errors
def evidence_command(
    ctx: typer.Context,
    client: Annotated[int, typer.Option("--client", help="The Halo client id.", **CLIENT_ID)],
    month: MonthOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            parser=_out_path,
            metavar="PATH",
            help="The folder to write (default: evidence-YYYY-MM-CLIENT here).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """One client's month with everything behind it, for the client who asks why, or a dispute
    with Pax8: evidence.html and the same as evidence.pdf (each line's arithmetic in words, each
    subscription's seat timeline from Pax8's history, the Pax8 invoice items behind its cost,
    the Halo lines it was compared with, what was posted where and when) and records.json (the
    raw records as Pax8 and Halo sent them). Told from what was known then, and says which: a
    posted month from the batch that posted it, a closed month from the last batch stored for
    it (never rebuilt from today's data), the month being closed from the store as it is now.
    """
    today = configured_today()
    chosen = month_or_default(ctx, month, today)
    close_day = configured_close_day(ctx)
    with open_store(ctx, existing=True) as db:
        reports = Reports(db, today=today, close_day=close_day)
        pack, written = reports.write_evidence(chosen, client, out)
    render.stderr.print(Text(f"Month {chosen}: evidence for {pack.invoice.client_name}"))
    for path in written:
        render.stdout.print(Text(str(path)), soft_wrap=True)
