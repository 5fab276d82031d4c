"""The month summary laid out (`trueup summary`, the workbench's Summary): Rich tables for the
terminal (80 columns), the same recorded as an HTML page, and Markdown to paste into a mail.
Names are data: always Text, never markup, and written out (values.text.visible): the summary
reads them from the stored batch, which one built before bcb6310 holds as the sources sent them
(U+200B, U+202E...). `summary --json` keeps them as stored."""

from __future__ import annotations

import io
from decimal import Decimal

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from trueup.core.ledger.month import told_from
from trueup.core.reports.summary import MOVERS, MonthSummary
from trueup.core.values.text import visible


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _title(summary: MonthSummary) -> str:
    states = ", ".join(f"{count} {state}" for state, count in summary.states.items())
    batch = told_from(summary.batch_id, summary.known_on)
    return f"Month {summary.month} · {batch} · {summary.clients} clients: {states}"


# (label, figure of CurrencyTotals): one row each, a column per currency (fits 80 columns).
FIGURES = (
    ("Total", "total"),
    ("Cost", "cost"),
    ("Margin", "margin"),
    ("Margin %", "margin_percent"),
    ("Posted", "posted"),
    ("Held", "held"),
    ("To do (not posted)", "outstanding"),
    ("To adjust (posted)", "to_adjust"),
    ("Under-billed seats, now billed", "under_billed"),
    ("Over-billed seats, now removed", "over_billed"),
)


def _currency_rows(summary: MonthSummary) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The headers (a column per currency) and a row per figure."""
    currencies = sorted(summary.currencies)
    rows: list[tuple[str, ...]] = []
    for label, name in FIGURES:
        cells = []
        for currency in currencies:
            value = getattr(summary.currencies[currency], name)
            percent = name == "margin_percent"
            cells.append("-" if value is None else f"{value}%" if percent else _money(value))
        rows.append((label, *cells))
    return ("", *currencies), rows


# Three figures of a billion and their labels fit the workbench's ~70 columns; a fourth was
# cut off at the right edge, with no way to scroll to it.
CURRENCIES_PER_TABLE = 3

MONTH_TITLE = "12 months, with the seat mismatches each month's invoices corrected (billed prices)"
MONTH_HEADERS = ("Month", "", "Total", "Margin %", "Now billed", "Removed")


def _month_rows(summary: MonthSummary) -> list[tuple[str, ...]]:
    """A row per month and currency, oldest first; a month with no batch says so."""
    rows: list[tuple[str, ...]] = []
    for month in summary.by_month.months:
        by_currency = summary.by_month.figures.get(month)
        if not by_currency:
            rows.append((month, "", "no batch", "", "", ""))
        for currency, f in sorted((by_currency or {}).items()):
            percent = "-" if f.margin_percent is None else f"{f.margin_percent}%"
            rows.append(
                (
                    month,
                    currency,
                    _money(f.total),
                    percent,
                    _money(f.under_billed) if f.leakage_known else "-",
                    _money(f.over_billed) if f.leakage_known else "-",
                )
            )
    return rows


# A change is ranked against the others of its currency only (summary.MOVERS).
MOVERS_TITLE = f"Moved most against last month, the {MOVERS} most in each currency"
VOIDED_TITLE = "Voided, not posted again (billed nothing for now)"
VOIDED_HEADERS = ("Client", "Bills now", "Voided")


def _voided_rows(summary: MonthSummary) -> list[tuple[str, ...]]:
    return [
        (
            visible(v.client_name),
            f"{_money(v.total)} {v.currency}",
            visible(", ".join(v.references)),
        )
        for v in summary.voided
    ]


def _leakage_said(summary: MonthSummary) -> str:
    """Whose leakage the seat rows are: a closed month's, its invoices' (summary.py)."""
    if summary.known_on is None:
        return "a month's worth"
    return "as its invoices corrected them, billed prices"


# The tables of names and reasons fold what does not fit (a name or a reason of one long word,
# a ticket's URL) onto the next line, where Rich's default cut it at 80 columns with "…"; their
# money columns are never wrapped, the text beside them gives way.
def summary_renderables(summary: MonthSummary) -> list[RenderableType]:
    parts: list[RenderableType] = [Text(_title(summary), style="bold")]
    headers, rows = _currency_rows(summary)
    for start in range(1, max(len(headers), 2), CURRENCIES_PER_TABLE):
        shown = [0, *range(start, min(start + CURRENCIES_PER_TABLE, len(headers)))]
        leakage = _leakage_said(summary)
        title = f"By currency (leakage: {leakage})" if start == 1 else "By currency, more"
        money = Table(title=title, title_justify="left")
        # The figures never shrink to "16,478.…": the labels wrap instead (the workbench's
        # dialog at 80 columns is ~70 wide).
        money.add_column(headers[0], overflow="fold")
        for n in shown[1:]:
            widest = max([len(headers[n]), *(len(str(row[n])) for row in rows)])
            money.add_column(headers[n], justify="right", no_wrap=True, min_width=widest)
        for row in rows:
            money.add_row(*(row[n] for n in shown))
        parts.append(money)
    if summary.movers:
        movers = Table(title=MOVERS_TITLE, title_justify="left")
        movers.add_column("Client", overflow="fold")
        movers.add_column("Change", justify="right", no_wrap=True)
        movers.add_column("Why", overflow="fold")
        for m in summary.movers:
            why = "; ".join(m.why) or "see the invoice's lines"
            movers.add_row(
                Text(visible(m.client_name)), f"{m.change:+,.2f} {m.currency}", Text(visible(why))
            )
        parts.append(movers)
    if summary.overrides:
        overrides = Table(title="Errors let through", title_justify="left")
        for header in ("Client", "Code", "Reason"):
            overrides.add_column(header, overflow="fold")
        for o in summary.overrides:
            overrides.add_row(Text(visible(o.client_name)), o.code, Text(visible(o.reason)))
        parts.append(overrides)
    if summary.voided:
        voided = Table(title=VOIDED_TITLE, title_justify="left")
        client, bills, references = VOIDED_HEADERS
        voided.add_column(client, overflow="fold")
        voided.add_column(bills, justify="right", no_wrap=True)
        voided.add_column(references, overflow="fold")
        for name, total, references in _voided_rows(summary):
            voided.add_row(Text(name), total, references)
        parts.append(voided)
    months = Table(title=MONTH_TITLE, title_justify="left")
    for n, header in enumerate(MONTH_HEADERS):
        months.add_column(header, justify="left" if n < 2 else "right", no_wrap=True)
    for row in _month_rows(summary):
        months.add_row(*row)
    parts.append(months)  # last: the workbench draws its chart below it
    return parts


def summary_html(summary: MonthSummary) -> str:
    """The terminal view as a self-contained HTML page (Rich's own export)."""
    console = Console(record=True, width=110, file=io.StringIO(), color_system="truecolor")
    for part in summary_renderables(summary):
        console.print(part)
    return console.export_html(inline_styles=True)


def summary_markdown(summary: MonthSummary) -> str:
    lines = [f"# {_title(summary)}", "", "## By currency", ""]
    lines += _md_table(*_currency_rows(summary))
    lines += ["", f"Leakage figures: {_leakage_said(summary)}."]
    if summary.movers:
        lines += ["", f"## {MOVERS_TITLE}", ""]
        lines += _md_table(
            ("Client", "Change", "Why"),
            [
                (
                    visible(m.client_name),
                    f"{m.change:+,.2f} {m.currency}",
                    visible("; ".join(m.why)) or "-",
                )
                for m in summary.movers
            ],
        )
    if summary.overrides:
        lines += ["", "## Errors let through", ""]
        lines += _md_table(
            ("Client", "Code", "Reason"),
            [(visible(o.client_name), o.code, visible(o.reason)) for o in summary.overrides],
        )
    if summary.voided:
        lines += ["", f"## {VOIDED_TITLE}", ""]
        lines += _md_table(VOIDED_HEADERS, _voided_rows(summary))
    lines += ["", f"## {MONTH_TITLE}", ""]
    lines += _md_table(MONTH_HEADERS, _month_rows(summary))
    return "\n".join(lines) + "\n"


def _md_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def cell(text: str) -> str:  # a pipe or a newline in a name must not break the table
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out
