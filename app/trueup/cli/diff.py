"""`trueup diff`: the seat diff of a month, Pax8 against Halo (billing-rules §9, contract §3)."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.cli.options import MonthOption, default_month
from trueup.core.service.seats import DiffRow, SeatDiffs, day_text
from trueup.core.settings.config import today as configured_today
from trueup.core.values.money import money_json, quantity_prose

STATUS_LABELS = {
    "under": ("under", "red"),
    "missing_in_halo": ("no Halo", "red"),
    "over": ("over", "yellow"),
    "missing_in_pax8": ("no Pax8", "yellow"),
    "match": ("match", "green"),
}

COLUMNS = ("status", "Pax8", "Halo", "delta", "price", "impact", "cur")
GAP = "  "


@handles_errors
def diff_command(
    ctx: typer.Context,
    month: MonthOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every row, matches too, as JSON.")
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Show matching rows too.")] = False,
) -> None:
    """Seats Pax8 charges against seats the Halo recurring invoices bill, per client and product.

    Pax8 seats are counted on the month's last day (today, for the current month). `under`
    means Halo bills fewer seats than Pax8 charges: revenue leaks. The impact is a month's
    money at the Pax8 price.
    """
    today = configured_today()
    month = month or default_month(ctx, today)
    db = state(ctx).open_db(existing=True)
    try:
        seats = SeatDiffs(db, today=today)
        rows = seats.rows(month)
        if as_json:
            render.emit_json(seats.json(month))
            return
    finally:
        db.dispose()
    if not rows:
        render.stderr.print(
            f"Seat diff {month}: nothing to compare, no Pax8 company with subscriptions is "
            "mapped to a Halo client (sync first, then map companies).",
            soft_wrap=True,
        )
        return
    shown = rows if show_all else [row for row in rows if row.status != "match"]
    counted_on = day_text(seats.reference_day(month), year=True)
    title = f"Seat diff {month} (Pax8 seats counted on {counted_on})"
    if shown:
        _print_table(shown, title)
    else:
        render.stdout.print(Text(f"{title}: no mismatches."))
    _print_totals(rows, hidden=len(rows) - len(shown))


def _print_table(rows: list[DiffRow], title: str) -> None:
    """A heading per client, then its products, largest impact first, laid out by hand.

    Rich's Table costs ~40 µs a cell: 5-10 s for the 13k mismatches of a 2,000-client store.
    Each cell is still a plain-text span of a rich Text, so data can never read as markup.
    """
    cells = [_cells(row) for row in rows]
    widths = [max([len(h), *(len(c[i][0]) for c in cells)]) for i, h in enumerate(COLUMNS)]
    fixed = sum(widths) + len(GAP) * len(widths)
    longest = max(max(len(row.client_name), len(row.product_name) + 2) for row in rows)
    name_width = max(16, min(longest, render.stdout.width - fixed))
    header = Text("client / product".ljust(name_width), style="bold")
    for column, width in zip(COLUMNS, widths, strict=True):
        header.append(GAP + _aligned(column, column, width), style="bold")
    lines = [Text(title), Text(), header, Text("─" * (name_width + fixed))]
    for position, (row, row_cells) in enumerate(zip(rows, cells, strict=True)):
        if position == 0 or rows[position - 1].client_id != row.client_id:
            if position:
                lines.append(Text())
            client = textwrap.wrap(row.client_name, name_width) or [""]
            lines.extend(Text(part, style="bold") for part in client)
        name = textwrap.wrap(row.product_name, name_width - 2, subsequent_indent="  ") or [""]
        line = Text("  " + name[0].ljust(name_width - 2))
        for column, (text, style), width in zip(COLUMNS, row_cells, widths, strict=True):
            line.append(GAP)
            line.append(_aligned(column, text, width), style=style)
        lines.append(line)
        lines.extend(Text(f"  {part}") for part in name[1:])
    render.stdout.print(Text("\n").join(lines), soft_wrap=True)


def _aligned(column: str, text: str, width: int) -> str:
    return text.ljust(width) if column in ("status", "cur") else text.rjust(width)


def _cells(row: DiffRow) -> tuple[tuple[str, str], ...]:
    """(text, style) of each column but the first."""
    label, style = STATUS_LABELS.get(row.status, (row.status, ""))
    return (
        (label, style),
        (quantity_prose(row.pax8_qty), ""),
        (quantity_prose(row.halo_qty), ""),
        (_signed(row.delta), style if row.delta else ""),
        (_money(row.unit_price), ""),
        (_money(row.monthly_impact), style if row.monthly_impact else ""),
        (row.currency, ""),
    )


def _print_totals(rows: list[DiffRow], *, hidden: int) -> None:
    summary = SeatDiffs.summarise(rows)
    counts = ", ".join(f"{count} {status}" for status, count in summary.counts.items() if count)
    matches = "match" if hidden == 1 else "matches"
    hidden_note = f" ({hidden} {matches} hidden; --all shows them)" if hidden else ""
    render.stdout.print(Text(f"{len(rows)} rows: {counts}{hidden_note}"))
    render.stdout.print(
        Text("Under-billed: Halo bills fewer seats than Pax8 charges (revenue leak).")
    )
    # The main currency first; amounts in different currencies are never added together.
    for currency in sorted(summary.by_currency, key=lambda c: c != summary.currency):
        under, over = summary.by_currency[currency]
        render.stdout.print(
            Text.assemble(
                f"{currency or '(no currency)'} a month: under-billed ",
                (_money(under), "bold red" if under else ""),
                ", over-billed ",
                (_money(over), "bold yellow" if over else ""),
            )
        )


def _money(amount: Decimal) -> str:
    return f"{Decimal(money_json(amount)):,.2f}"


def _signed(quantity: Decimal) -> str:
    return f"+{quantity_prose(quantity)}" if quantity > 0 else quantity_prose(quantity)
