"""`trueup qbo tax ...`: the QuickBooks tax code on every line of each billed client's invoices,
which a company outside the US (Canada, the UK, Australia) needs and a US one does not."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from trueup.cli import handles_errors, render
from trueup.cli.options import ClientId, Json, open_store, say, usage_error
from trueup.cli.render import mapping_table
from trueup.core.service.books import QBO, Accounting, TaxCodeRow

tax_app = typer.Typer(
    help="QuickBooks tax codes: a company outside the US refuses a line without one.\n\n"
    "After `trueup qbo refresh`, `trueup qbo tax suggest` lists the billed clients with the "
    "code each would post with, offering the QuickBooks customer's own default tax code; "
    "`trueup qbo tax accept` takes every offer, `trueup qbo tax set --client ID --tax-code ID` "
    "sets one by hand (`trueup qbo tax codes` lists the ids), `export`/`import` keep them in a "
    "file. Every line of the client's "
    "invoices carries its code, and QuickBooks computes the tax. A US company computes sales "
    "tax itself: it needs none, and these list nothing.",
    no_args_is_help=True,
)
TaxCodeId = Annotated[
    str | None, typer.Option("--tax-code", help="A QuickBooks tax code id.", show_default=False)
]
_STYLES = {"suggested": "green", "stale": "red", "unmapped": "yellow"}


@tax_app.command("codes")
@handles_errors
def codes(ctx: typer.Context, as_json: Json = False) -> None:
    """The company's tax codes, as `trueup qbo refresh` last read them."""
    with open_store(ctx) as db:
        listed = Accounting(db, QBO).tax_codes()
    if as_json:
        render.emit_json(
            {"tax_codes": [{"id": c.id, "name": c.name, "active": c.active} for c in listed]}
        )
        return
    if not listed:
        say("no QuickBooks tax codes in the store: run `trueup qbo refresh`")
        return
    table = mapping_table("QuickBooks tax codes", "id", "name", "status")
    for code in listed:
        table.add_row(Text(code.id), Text(code.name), "active" if code.active else "inactive")
    render.stdout.print(table)


@tax_app.command("suggest")
@handles_errors
def suggest(ctx: typer.Context, as_json: Json = False) -> None:
    """Every billed client with its tax code, or the one offered, those needing you first.

    `suggested` rows are offered for `trueup qbo tax accept`; `unmapped` ones need `qbo tax
    set`; `stale` ones name a code QuickBooks no longer has active."""
    with open_store(ctx) as db:
        rows = Accounting(db, QBO).tax_code_rows()
    _show(rows, "Clients and their QuickBooks tax codes", as_json)


@tax_app.command("accept")
@handles_errors
def accept(ctx: typer.Context, as_json: Json = False) -> None:
    """Map every client offered its QuickBooks customer's default tax code, all at once."""
    with open_store(ctx) as db:
        rows = Accounting(db, QBO).accept_tax_codes()
    _show(rows, "Tax codes mapped", as_json)
    if not as_json:
        say(f"accepted {len(rows)} tax code{'' if len(rows) == 1 else 's'}")


@tax_app.command("set")
@handles_errors
def set_code(ctx: typer.Context, client: ClientId = None, tax_code: TaxCodeId = None) -> None:
    """Put a tax code on every line of one client's invoices: `--client ID --tax-code ID`."""
    if client is None or tax_code is None:
        usage_error("give --client with --tax-code")
    assert client is not None and tax_code is not None
    with open_store(ctx) as db:
        say(Accounting(db, QBO).set_tax_code(client, tax_code))


@tax_app.command("unset")
@handles_errors
def unset_code(ctx: typer.Context, client: ClientId = None) -> None:
    """Forget one client's tax code: `--client ID`."""
    if client is None:
        usage_error("give --client")
    assert client is not None
    with open_store(ctx) as db:
        removed = Accounting(db, QBO).unset_tax_code(client)
    say(
        f"Halo client {client} has no QuickBooks tax code now"
        if removed
        else f"Halo client {client} had no QuickBooks tax code; nothing to do"
    )


@tax_app.command("export")
@handles_errors
def export(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="Where to write (.toml, or .json for JSON; `-` for stdout, TOML)."),
    ],
) -> None:
    """Write every client's tax code to a readable file, sorted by client, for version control."""
    with open_store(ctx) as db:
        if str(file) == "-":  # as `trueup rules export -`: the file itself, nothing else
            sys.stdout.write(Accounting(db, QBO).tax_codes_text())
            return
        count = Accounting(db, QBO).export_tax_codes(file)
    say(f"wrote {count} tax code{'' if count == 1 else 's'} to {file}")


@tax_app.command("import")
@handles_errors
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by `trueup qbo tax export`.")],
) -> None:
    """Set the tax codes a file holds; all or nothing.

    An unknown client, a client listed twice, an unknown or inactive tax code refuses the whole
    file (each listed) and nothing is written. Clients not in the file keep their codes."""
    with open_store(ctx) as db:
        count = Accounting(db, QBO).import_tax_codes(file)
    say(f"imported {file}: {count} tax code{'' if count == 1 else 's'} set")


def _show(rows: list[TaxCodeRow], title: str, as_json: bool) -> None:
    if as_json:
        render.emit_json({"tax_codes": [_row_json(r) for r in rows]})
        return
    if not rows:
        render.stdout.print(Text(f"{title}: none (a US company, or none refreshed yet)"))
        return
    table = mapping_table(title, "status", "Halo client", "QuickBooks tax code", "reason")
    for r in rows:
        code = f"{r.tax_code_name or '?'} ({r.tax_code_id})" if r.tax_code_id else "-"
        table.add_row(
            Text(r.status, style=_STYLES.get(r.status, "")),
            Text(f"{r.client_name} ({r.client_id})"),
            Text(code),
            Text(r.reason),
        )
    render.stdout.print(table)


def _row_json(row: TaxCodeRow) -> dict[str, Any]:
    return {
        "client_id": row.client_id,
        "client_name": row.client_name,
        "status": row.status,
        "tax_code_id": row.tax_code_id,
        "tax_code_name": row.tax_code_name,
        "reason": row.reason,
    }
