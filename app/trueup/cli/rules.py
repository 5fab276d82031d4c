"""`trueup rules ...`: the billing rules file (contract.md §2, §5)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.cli.options import say
from trueup.core.service.rules import (
    KEYS,
    MAX_RULES_BYTES,
    RuleBook,
    Rules,
    RulesError,
    too_big,
    value_text,
)
from trueup.core.values.text import capped

LISTED = 20  # a refusal's problems printed, then how many more: a screen's worth

rules_app = typer.Typer(
    help="The billing rules: proration and price policies, markups, per-client and per-line "
    "overrides, tax, currency and rates (a TOML file, see `trueup rules export`).\n\n"
    "Start from `trueup rules export rules.toml`, edit, then `trueup rules import rules.toml`: "
    "the file is checked whole, its problems are listed with their lines (the first 20, then "
    "how many more), and nothing changes until it is right. The workbench's Rules screen "
    "edits the same rules key by key.",
    no_args_is_help=True,
)


@rules_app.command("import")
@handles_errors
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A rules TOML file (`-` reads stdin).")],
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Import a file that sets nothing: every override goes, the built-in defaults "
            "come back.",
        ),
    ] = False,
) -> None:
    """Put a rules file in force, all or nothing.

    Every problem is found (line, key, what is wrong), and so is every Halo client id and
    Pax8 product the store does not know; the first 20 are listed, then how many more, and
    nothing is changed. A file over 4 MiB is refused unread (2,000 clients' rules take about
    1.4 MB). The previous rules are kept
    in the store's history. Once imported, each key that changes no figure is named with why
    (a markup on a client billed at Pax8's price), as a warning, and so is a tax_percent above
    0: no destination is sent it, so posting refuses that client.
    """
    try:
        text = _read(file)
    except (OSError, UnicodeDecodeError) as exc:
        render.fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}")
        raise typer.Exit(1) from None
    except _TooBig as exc:  # one line, before the file is read whole, let alone stored
        render.fail(f"{file} was not imported: {too_big(exc.size)}; nothing was changed")
        raise typer.Exit(1) from None
    db = state(ctx).open_db()
    try:
        book = RuleBook(db)
        book.import_text(text, allow_empty=allow_empty)
        summary = book.summary()
        idle = book.idle_keys()
    except RulesError as exc:
        render.fail(f"{file} was not imported ({_count(len(exc.problems))}); fix and import again")
        for problem in capped(exc.problems, LISTED):
            render.stderr.print(Text(f"  {render.visible_lines(problem)}"), soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    say(f"imported {file}: {summary}")
    # Imported all the same: a key with no effect is allowed, but rarely what was meant.
    for key in idle:
        render.stderr.print(Text(f"warning: {key}", style="yellow"), soft_wrap=True)


class _TooBig(Exception):
    def __init__(self, size: int | None) -> None:
        self.size = size  # None: a pipe, read up to the bound


def _read(file: Path) -> str:
    """The file's text (`-`: stdin's), read no further than a rules file can be: a bigger
    one is _TooBig, by its size when it has one, before it is read whole."""
    if str(file) == "-":
        text = sys.stdin.read(MAX_RULES_BYTES + 1)
        size = None
    else:
        status = file.stat()
        size = status.st_size if stat.S_ISREG(status.st_mode) else None
        if size is not None and size > MAX_RULES_BYTES:
            raise _TooBig(size)
        with file.open(encoding="utf-8") as opened:
            text = opened.read(MAX_RULES_BYTES + 1)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_RULES_BYTES:
        raise _TooBig(None)  # a pipe, or a file that grew while read
    return text


@rules_app.command("export")
@handles_errors
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the TOML (`-` for stdout).")],
) -> None:
    """Write the rules in force: the file as imported, or every default spelled out."""
    db = state(ctx).open_db()
    try:
        if str(file) == "-":
            sys.stdout.write(RuleBook(db).export_text())
            return
        RuleBook(db).export_file(file)
    finally:
        db.dispose()
    say(f"wrote the rules in force to {file}")


@rules_app.command("show")
@handles_errors
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
) -> None:
    """The rules in force: every default, each client's and line's overrides, the rates."""
    db = state(ctx).open_db()
    try:
        book = RuleBook(db)
        if as_json:
            rules, rules_id = book.current()
            render.emit_json(_as_json(rules, rules_id))
            return
        summary = book.summary()
        rows, _ = book.rows()
    finally:
        db.dispose()
    table = Table(title=str(summary), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("applies to", "key", "value", "source"):
        table.add_column(column)
    for row in rows:
        subject = {"defaults": "defaults", "rate": "rate"}.get(row.scope, row.subject)
        # Text cells: client names holding "[" must print as written, never as Rich markup.
        table.add_row(Text(subject), row.key, Text(row.value, style="bold"), Text(row.source))
    render.stdout.print(table)


def _as_json(rules: Rules, rules_id: int | None) -> dict[str, Any]:
    def plain(values: Any) -> dict[str, Any]:
        return {
            k: v if isinstance(v, bool | int) or v is None else value_text(v)
            for k, v in values.items()
        }

    return {
        "rules_id": rules_id,
        "defaults": plain({k: rules.defaults.value(k) for k in KEYS}),
        "clients": {str(c): plain(o) for c, o in sorted(rules.clients.items())},
        "lines": [
            {"client": str(r.client_id), "product": r.product, **plain(r.overrides)}
            for r in rules.lines
        ],
        "rates": {f"{a}/{b}": value_text(r) for (a, b), r in sorted(rules.rates.items())},
    }


def _count(problems: int) -> str:
    return "1 problem" if problems == 1 else f"{problems} problems"
