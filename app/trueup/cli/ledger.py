"""`trueup month` and `trueup batches`: the month ledger and the stored batches (contract §2)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import typer
from rich.text import Text

from trueup.cli import handles_errors, render
from trueup.cli.options import (
    Json,
    MonthOption,
    configured_close_day,
    month_or_default,
    open_store,
)
from trueup.core.service.ledger import (
    RECURRING,
    ClientMonth,
    Ledger,
    MonthLedger,
    Posting,
    StoredBatch,
    ledger_totals,
)
from trueup.core.settings.config import today as configured_today
from trueup.core.values.months import Month
from trueup.core.values.text import some

# `where` last: at 80 columns it is the one cut short, never whether the month is settled.
COLUMNS = ("state", "total", "posted", "diff", "settled", "where")
GAP = "  "


@handles_errors
def month_command(ctx: typer.Context, month: MonthOption = None, as_json: Json = False) -> None:
    """Every client of the month: its state (draft, held, ready, approved, posted, adjusted,
    voided), what the month's batch bills now, what was posted where (adjustments counted as
    "+N adj"), the difference, and whether the month's costs are final (settled: no estimate
    left, the Pax8 invoice is in). A difference after posting is posted with
    `trueup post MONTH --to DEST --adjust`; a void cut short is named with the `trueup void`
    that finishes it.

    The month being closed: its batch is built first if the store has moved on since the last
    one. A closed month is told from the last batch stored for it, "as known on DATE, batch ID",
    never rebuilt from today's data (none stored: it says so; `trueup batch --month` builds one
    when asked).
    """
    today = configured_today()
    chosen = month_or_default(ctx, month, today)
    close_day = configured_close_day(ctx)
    with open_store(ctx, existing=True) as db:
        ledger = Ledger(db, today=today, close_day=close_day)
        if as_json:
            render.emit_json(ledger.month_json(chosen))
            return
        shown = ledger.month(chosen)
    _print_month(shown)


@handles_errors
def batches_command(ctx: typer.Context, month: MonthOption = None, as_json: Json = False) -> None:
    """The stored batches, newest first: month, invoices, approved on it, posted from it (a
    month's clients may be posted from several batches: `trueup month` has the whole month),
    and whether each is current (what the store would build now) or open (approved invoices
    not all posted)."""
    today = configured_today()
    with open_store(ctx, existing=True) as db:
        ledger = Ledger(db, today=today)
        if as_json:
            render.emit_json(ledger.batches_json(Month(month) if month else None))
            return
        found = ledger.batches(Month(month) if month else None)
    _print_batches(found, month)


def _print_month(ledger: MonthLedger) -> None:
    out = [Text(f"Month {ledger.month} · {ledger.told_from} · {len(ledger.clients)} clients")]
    if ledger.known_on:  # a closed month: its figures are what was known then, not today's
        out.append(
            Text(
                f"{ledger.month} is closed: told from the last batch stored for it, not rebuilt "
                f"from today's data (`trueup batch --month {ledger.month}` bills it from today's "
                "data, and stores that batch)."
            )
        )
    cells = [_cells(c, named=True) for c in ledger.clients]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(COLUMNS)]
    fixed = sum(widths) + len(GAP) * len(widths)
    # In a terminal too narrow for "xero TU2611-41", the destination is said once, below, so
    # that each reference fits whole (80 columns: it is the last column).
    narrow = render.stdout.is_terminal and fixed + 16 > render.stdout.width
    if narrow:
        cells = [_cells(c, named=False) for c in ledger.clients]
        widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(COLUMNS)]
        fixed = sum(widths) + len(GAP) * len(widths)
    longest = max((len(c.shown_name) for c in ledger.clients), default=16)
    name_width = max(16, min(longest, render.stdout.width - fixed))
    table = [_line("client", COLUMNS, widths, name_width, style="bold")]
    table += [
        _line(client.shown_name, row, widths, name_width)
        for client, row in zip(ledger.clients, cells, strict=True)
    ]
    out += [Text(), *table]
    went = sorted({p.destination for c in ledger.clients for p in c.postings})
    if narrow and went:
        more = " (`trueup month --json` names each one's)" if len(went) > 1 else ""
        out.append(Text(f"where: at {', '.join(went)}{more}"))
    totals = ledger_totals(ledger)
    states = ", ".join(f"{n} {state}" for state, n in totals["by_state"].items())
    out += [Text(), Text(f"{totals['clients']} clients: {states or 'none'}")]
    if not ledger.clients:  # a fresh store: nothing is billed before a company is mapped
        out.append(
            Text(
                "No Pax8 company is mapped to a Halo client: `trueup map suggest`, then "
                "`trueup map accept` (or the workbench's Clients screen)."
            )
        )
    for currency, sums in totals["by_currency"].items():
        keys = ("total", "posted_total", "not_posted", "to_adjust")
        now, posted, not_posted, to_adjust = (_money(Decimal(sums[key])) for key in keys)
        said = f"{currency or '(none)'}: bills {now}, posted {posted}, not posted {not_posted}"
        if sums["to_adjust_clients"]:  # posted clients billing otherwise now: not drafts
            said += f"; {to_adjust} to adjust ({sums['to_adjust_clients']} posted client(s))"
        out.append(Text(said))
    out += _unfinished_voids(ledger)
    out += _adjust_commands(ledger)
    # The table cut to a terminal's width, the rest wrapped whole (what finishes a void, the
    # command that adjusts); whole lines into a pipe or a file (grep finds every reference).
    crop = render.stdout.is_terminal
    rows = {id(line) for line in table}
    for line in out:
        if crop and id(line) in rows:
            # "…" where a line is cut: a reference cut short would read as another one.
            line.rstrip()  # the last column's padding is no text to cut
            render.stdout.print(line, no_wrap=True, overflow="ellipsis")
        else:
            render.stdout.print(line, soft_wrap=not crop)


def _adjust_commands(ledger: MonthLedger) -> list[Text]:
    """The command that adjusts each destination where a posted client bills otherwise now
    (a client's adjustment goes where its month went), or how a recurring true-up is redone."""
    went = sorted(
        {
            p.destination
            for c in ledger.clients
            if c.posted and c.difference
            for p in c.postings
            if p.state == "posted"
        }
    )
    commands = [f"`trueup post {ledger.month} --to {d} --adjust`" for d in went if d != RECURRING]
    said = f"{' and '.join(commands)} post{'s' if len(commands) == 1 else ''} the adjustments"
    if RECURRING in went:
        redo = "trued up in Halo's recurring invoice are voided and posted again instead"
        said = f"{said}; months {redo}" if commands else f"Months {redo}"
    return [Text(f"{said}.")] if went else []


def _unfinished_voids(ledger: MonthLedger) -> list[Text]:
    """A line per destination where a void is under way and not done: cut short (a kill, a
    network failure), the same void again finishes it; refused, the journal says why."""
    cut: dict[str, list[ClientMonth]] = defaultdict(list)
    refused: dict[str, list[ClientMonth]] = defaultdict(list)
    for client in ledger.clients:
        for destination in sorted({p.destination for p in client.voiding}):
            states = {p.voiding for p in client.voiding if p.destination == destination}
            (refused if states == {"rejected"} else cut)[destination].append(client)
    lines = []
    for destination, clients in cut.items():
        named = "".join(f" --client {c.client_id}" for c in clients)
        lines.append(
            Text(
                f"A void is unfinished at {destination} for {_names(clients)}: `trueup void "
                f"{ledger.month} --to {destination}{named}` again finishes it."
            )
        )
    for destination, clients in refused.items():
        lines.append(
            Text(
                f"A void was refused at {destination} for {_names(clients)}: `trueup journal "
                f"{ledger.month} --to {destination}` says why."
            )
        )
    return lines


def _names(clients: Sequence[ClientMonth]) -> str:
    return some([f"{c.shown_name} ({c.client_id})" for c in clients])


def _line(
    name: str, cells: Sequence[str], widths: list[int], name_width: int, style: str = ""
) -> Text:
    # Text, never markup: a client named "[bold]" prints as written.
    shown = name if len(name) <= name_width else name[: name_width - 1] + "…"
    line = Text(shown.ljust(name_width), style=style)
    for column, text, width in zip(COLUMNS, cells, widths, strict=True):
        right = column in ("total", "posted", "diff")
        line.append(GAP + (text.rjust(width) if right else text.ljust(width)), style)
    return line


def _cells(client: ClientMonth, *, named: bool) -> list[str]:
    """The row's cells; `named`: each reference with its destination."""
    live = [p for p in client.postings if p.state == "posted"]  # as client.posted
    main = [p for p in live if not p.adjusts]
    voided = [p for p in client.postings if p.state == "voided"]  # adjustments' too
    where = ", ".join(_where(p, named) for p in main or live[:1]) or "-"
    if len(live) > len(main or live[:1]):
        where += f" +{len(live) - len(main or live[:1])} adj"
    if voided and not live:  # the chain, in short: what was voided, and what went out since
        month = [p for p in voided if not p.adjusts] or voided
        where = f"{_where(month[-1], named)} voided"
        if len(voided) > 1:
            where += f" (+{len(voided) - 1})"
    elif voided:
        where += f" ({len(voided)} voided)"
    if client.voiding:  # said below with what finishes it
        where += " (void unfinished)"
    return [
        client.state,
        f"{client.total:,.2f} {client.currency}".strip(),
        _money(client.posted_total) if live else "-",
        _money(client.difference) if live else "-",
        "yes" if client.settled else "no",
        where,
    ]


def _where(posting: Posting, named: bool) -> str:
    # A Xero draft is at the destination but not issued: the client has not seen it yet.
    where = f"{posting.destination} {posting.reference}" if named else posting.reference
    return where + (" (draft)" if posting.draft else "")


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _print_batches(batches: list[StoredBatch], month: str | None) -> None:
    if not batches:
        where = f" for {month}" if month else ""
        builds = f"`trueup batch --month {month}`" if month else "`trueup batch`"
        render.stdout.print(Text(f"No stored batches{where}: {builds} builds one."))
        return
    render.stdout.print(Text(f"Batches of {month}" if month else "Batches, every month"))
    for b in batches:
        scope = "all clients" if not b.clients else f"{len(b.clients)} client(s)"
        marks = [m for m, on in (("current", b.current), ("open", b.open)) if on]
        render.stdout.print(
            Text(
                f"{b.batch_id}  {b.created_at[:16]}  {scope}, {b.invoices} invoices, "
                # Of this batch: the month's other clients may be posted from another one.
                f"{b.approved} approved on it, {b.posted} posted from it"
                + (f", {b.adjusted} adjustment(s) posted" if b.adjusted else "")
                + (f", {b.voided} voided" if b.voided else "")
                + (f", {b.in_flight} in flight" if b.in_flight else "")
                + (f"  [{', '.join(marks)}]" if marks else "")
            ),
            soft_wrap=True,
        )
