"""`trueup batch`: the month's dry-run invoice batch (contract.md §2-§3). Nothing is posted.

Anomalies are data, not failures: a batch full of errors still exits 0.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from decimal import Decimal
from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render
from trueup.cli.options import CLIENT_ID, MonthOption, default_month, open_store
from trueup.core.service.batches import SEVERITIES, Batches, BatchOverview, InvoiceRow
from trueup.core.settings.config import today as configured_today

batch_app = typer.Typer(
    help="Build the month's dry-run invoice batch: every client's invoice as it would post, "
    "with its lines, their arithmetic and every anomaly. Nothing is posted.\n\n"
    "`trueup batch --month 2026-11 --json` prints the batch; `trueup batch show BATCH` prints "
    "a stored one. The same store, rules and mappings always give the same batch.",
    invoke_without_command=True,
)

COLUMNS = ("total", "cost", "margin", "err", "warn", "info", "state")
GAP = "  "


BatchJson = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the batch as JSON, as built (each client's state in the ledger: "
        "`trueup month --json`).",
    ),
]


@batch_app.callback()
@handles_errors
def batch_command(
    ctx: typer.Context,
    month: MonthOption = None,
    client: Annotated[
        list[int] | None,
        typer.Option(
            "--client",
            help="Only this Halo client id (repeat for more; default: all mapped).",
            **CLIENT_ID,
        ),
    ] = None,
    as_json: BatchJson = False,
) -> None:
    """Build and store the month's batch, then print it (the stored one when the store, rules
    and mappings have not changed since it was built: it would be the same, byte for byte)."""
    if ctx.invoked_subcommand is not None:
        return
    today = configured_today()
    with open_store(ctx, existing=True) as db:
        batches = Batches(db, today=today)
        chosen = month or default_month(ctx, today)
        with render.working(f"Building the batch of {chosen}…"):
            batch_id = batches.current_id(chosen, client or None)
        shown = _shown(batches, batch_id, as_json)
    _print(shown)


@batch_app.command("show")
@handles_errors
def show(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(metavar="BATCH", help="A batch id.")],
    as_json: BatchJson = False,
) -> None:
    """Print a stored batch, with each client's state (draft, held, ready, approved, lapsed,
    posted, adjusted, voided)."""
    with open_store(ctx, existing=True) as db:
        shown = _shown(Batches(db, today=configured_today()), batch_id, as_json)
    _print(shown)


def _shown(batches: Batches, batch_id: str, as_json: bool) -> str | BatchOverview:
    """The stored body as JSON, or the listing with each client's month as `trueup month` words
    it (posted, voided, approved, ... or the word on the batch): it reads the few fields it
    shows, never the ~25 MB of invoices."""
    if as_json:
        return batches.json_text(batch_id)
    overview, approvals = batches.overview(batch_id), batches.approvals(batch_id)
    rows = [
        replace(row, state=approvals.state_of(row.client_id, row.state))
        for row in overview.invoices
    ]
    return replace(overview, invoices=rows)


def _print(shown: str | BatchOverview) -> None:
    if isinstance(shown, str):
        sys.stdout.write(shown + "\n")
    else:
        _summary(shown)


def _summary(batch: BatchOverview) -> None:
    """One line per client, laid out by hand (Rich's Table is slow at 2,000 rows)."""
    invoices = batch.invoices
    out: list[Text] = [Text(f"Batch {batch.batch_id} · {batch.month} (dry run)"), Text()]
    if invoices:
        cells = [_cells(invoice) for invoice in invoices]
        widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(COLUMNS)]
        longest = max(len(i.client_name) for i in invoices)
        fixed = sum(widths) + len(GAP) * len(widths)
        name_width = max(16, min(longest, render.stdout.width - fixed))
        header = Text("client".ljust(name_width), style="bold")
        for column, width in zip(COLUMNS, widths, strict=True):
            header.append(GAP + (column.ljust if column == "state" else column.rjust)(width))
        out += [header, Text("─" * (name_width + fixed))]
        for invoice, row in zip(invoices, cells, strict=True):
            line = Text(_fit(invoice.client_name, name_width))
            for column, text, width in zip(COLUMNS, row, widths, strict=True):
                style = {"err": "bold red", "warn": "yellow"}.get(column, "") if text != "0" else ""
                line.append(GAP)
                line.append(text.ljust(width) if column == "state" else text.rjust(width), style)
            out.append(line)
        out.append(Text())
    totals = batch.totals
    counts = ", ".join(f"{totals['anomalies'][s]} {s}" for s in SEVERITIES)
    out.append(Text(f"{totals['invoices']} invoices, {totals['lines']} lines; anomalies: {counts}"))
    for currency, sums in totals["by_currency"].items():
        out.append(
            Text(
                f"{currency or '(no currency)'}: total {_money(sums['total'])}, "
                f"cost {_money(sums.get('cost'))}, margin {_money(sums.get('margin'))}"
            )
        )
    for anomaly in batch.anomalies:
        style = "bold red" if anomaly["severity"] == "error" else "yellow"
        out.append(Text.assemble((anomaly["code"], style), f"  {anomaly['message']}"))
    changed = [c for c in batch.changes if c["delta"] not in (None, "0.00")]
    if batch.compared_with:
        out.append(Text(f"Against {batch.compared_with}: {len(changed)} client totals changed"))
    if batch.last_month_note:
        out.append(Text(batch.last_month_note, style="yellow"))
    render.stdout.print(Text("\n").join(out), soft_wrap=True)


def _cells(invoice: InvoiceRow) -> tuple[str, ...]:
    percent = invoice.margin_percent
    return (
        f"{_money(str(invoice.total))} {invoice.currency}",
        _money(None if invoice.cost is None else str(invoice.cost)),
        "-" if percent is None else f"{percent:.1f}%",
        str(invoice.count("error")),
        str(invoice.count("warning")),
        str(invoice.count("info")),
        invoice.state,
    )


def _money(text: str | None) -> str:
    return "-" if text is None else f"{Decimal(text):,.2f}"


def _fit(name: str, width: int) -> str:
    return name.ljust(width) if len(name) <= width else name[: width - 1] + "…"
