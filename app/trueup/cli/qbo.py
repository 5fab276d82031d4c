"""`trueup qbo ...`: the QuickBooks Online customer and item of each billed Halo client and item."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.cli.options import Json, MinScore, configured_threshold, open_store, say, usage_error
from trueup.core.service.quickbooks import Missing, QboRow, QuickBooks
from trueup.core.settings.config import load_settings

qbo_app = typer.Typer(
    help="QuickBooks Online: where approved invoices post when the destination is `qbo`.\n\n"
    "Each billed Halo client needs its QuickBooks customer, each billed Halo item its "
    "QuickBooks item. Start with `trueup qbo map suggest`: Halo's accounts ids, SKUs and close "
    "names are offered; `trueup qbo map accept` takes every offer at or above the threshold, "
    "`trueup qbo map set` maps one by hand, `trueup qbo unmapped` lists what posting would "
    "still lack. Halo ids are numbers; QuickBooks ids are as `qbo map suggest --json` shows.",
    no_args_is_help=True,
)
map_app = typer.Typer(
    help="Map billed Halo clients to QuickBooks customers and Halo items to QuickBooks items.",
    no_args_is_help=True,
)
qbo_app.add_typer(map_app, name="map")

ClientId = Annotated[
    int | None, typer.Option("--client", help="A Halo client id.", show_default=False)
]
ItemId = Annotated[int | None, typer.Option("--item", help="A Halo item id.", show_default=False)]
OPEN_STATUSES = ("unmapped", "suggested", "stale")


@map_app.command("suggest")
@handles_errors
def suggest(
    ctx: typer.Context,
    as_json: Json = False,
    threshold: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=100,
            help="Offer name matches scoring at least this (id and SKU links always); default: "
            "[mapping] threshold in the config, else 90.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Billed clients and items still needing a QuickBooks twin, with candidates and reasons.

    `suggested` rows are offered for `trueup qbo map accept`; `unmapped` ones need
    `qbo map set`; `stale` ones point at a QuickBooks row that is gone or inactive.
    """
    score = configured_threshold(ctx, threshold)
    with open_store(ctx) as db:
        clients, items = QuickBooks(db, threshold=score).rows()
    clients = [r for r in clients if r.status in OPEN_STATUSES]
    items = [r for r in items if r.status in OPEN_STATUSES]
    if as_json:
        render.emit_json(
            {
                "threshold": score,
                "clients": [_row_json(r) for r in clients],
                "items": [_row_json(r) for r in items],
            }
        )
        return
    _rows_table("Clients needing a QuickBooks customer", clients)
    _rows_table("Items needing a QuickBooks item", items)


@map_app.command("accept")
@handles_errors
def accept(
    ctx: typer.Context,
    min_score: MinScore = None,
    as_json: Json = False,
) -> None:
    """Accept every suggestion at or above the score, all at once, and print what it mapped."""
    score = configured_threshold(ctx, min_score)
    with open_store(ctx) as db:
        clients, items = QuickBooks(db, threshold=score).accept_suggestions()
    if as_json:
        render.emit_json(
            {"clients": [_row_json(r) for r in clients], "items": [_row_json(r) for r in items]}
        )
        return
    _rows_table("Clients mapped", clients)
    _rows_table("Items mapped", items)
    say(f"accepted {_count(len(clients), 'client')} and {_count(len(items), 'item')}")


@map_app.command("set")
@handles_errors
def set_mapping(
    ctx: typer.Context,
    client: ClientId = None,
    customer: Annotated[
        str | None,
        typer.Option("--customer", help="The QuickBooks customer id.", show_default=False),
    ] = None,
    item: ItemId = None,
    qbo_item: Annotated[
        str | None, typer.Option("--qbo-item", help="The QuickBooks item id.", show_default=False)
    ] = None,
) -> None:
    """Map one client or item by hand.

    `trueup qbo map set --client HALO_ID --customer QBO_ID` posts a client's invoices to a
    QuickBooks customer; `trueup qbo map set --item HALO_ITEM_ID --qbo-item QBO_ID` posts an
    item's lines as a QuickBooks item.
    """
    if client is not None and customer is not None and item is None and qbo_item is None:
        with open_store(ctx) as db:
            say(QuickBooks(db).map_customer(client, customer))
    elif item is not None and qbo_item is not None and client is None and customer is None:
        with open_store(ctx) as db:
            say(QuickBooks(db).map_item(item, qbo_item))
    else:
        usage_error("give --client with --customer, or --item with --qbo-item")


@map_app.command("unset")
@handles_errors
def unset_mapping(ctx: typer.Context, client: ClientId = None, item: ItemId = None) -> None:
    """Remove a mapping: `--client HALO_ID` or `--item HALO_ITEM_ID`."""
    if (client is None) == (item is None):
        usage_error("give either --client or --item")
    with open_store(ctx) as db:
        if client is not None:
            removed = QuickBooks(db).unmap_customer(client)
            subject, what = f"Halo client {client}", "QuickBooks customer"
        else:
            assert item is not None
            removed = QuickBooks(db).unmap_item(item)
            subject, what = f"Halo item {item}", "QuickBooks item"
    say(f"{subject} has no {what} now" if removed else f"{subject} had no {what}; nothing to do")


@qbo_app.command("refresh")
@handles_errors
def refresh(ctx: typer.Context) -> None:
    """Read QuickBooks' customers and items into the store (what `qbo map` suggests from).

    Replaces the stored lists in one transaction: a failed read keeps the last good ones.
    """
    current = state(ctx)
    settings = load_settings(current.config_path)
    with open_store(ctx) as db:
        customers, items = asyncio.run(QuickBooks(db).refresh_catalog(settings))
    say(f"read {customers} QuickBooks customers and {items} items")


@qbo_app.command("unmapped")
@handles_errors
def unmapped(ctx: typer.Context, as_json: Json = False) -> None:
    """Billed clients and items that cannot be posted to QuickBooks yet, and why.

    What `trueup post --to qbo` would refuse on. Fix them with `trueup qbo map suggest` /
    `accept` / `set`.
    """
    with open_store(ctx) as db:
        gaps = QuickBooks(db).gaps()
    if as_json:
        render.emit_json(
            {
                "clients": [_missing_json(m, "client") for m in gaps.clients],
                "items": [_missing_json(m, "item") for m in gaps.items],
            }
        )
        return
    if not gaps:
        render.stdout.print("Every billed client and item has its QuickBooks customer or item.")
        return
    _missing_table("Clients without a QuickBooks customer", "Halo client", gaps.clients)
    _missing_table("Items without a QuickBooks item", "Halo item", gaps.items)


# --- JSON -------------------------------------------------------------------------------------

# The QuickBooks side's keys, by the Halo side's kind: the names of the mapping tables' columns.
_QBO_KEYS = {"client": ("customer_id", "customer_name"), "item": ("qbo_item_id", "qbo_item_name")}


def _row_json(row: QboRow) -> dict[str, Any]:
    qbo_id, qbo_name = _QBO_KEYS[row.kind]
    return {
        f"{row.kind}_id": row.halo_id,
        f"{row.kind}_name": row.halo_name,
        "status": row.status,
        qbo_id: row.qbo_id,
        qbo_name: row.qbo_name,
        "score": row.score,
        "source": row.source,
        "reason": row.reason,
        "candidates": [
            {qbo_id: c.id, qbo_name: c.name, "score": c.score, "reason": c.reason}
            for c in row.candidates
        ],
    }


def _missing_json(missing: Missing, kind: str) -> dict[str, Any]:
    return {
        f"{kind}_id": missing.halo_id,
        f"{kind}_name": missing.halo_name,
        "reason": missing.reason,
    }


# --- tables -----------------------------------------------------------------------------------


def _rows_table(title: str, rows: list[QboRow]) -> None:
    if not rows:
        render.stdout.print(Text(f"{title}: none"))
        return
    halo, qbo = ("Halo client", "QuickBooks customer")
    if rows[0].kind == "item":
        halo, qbo = ("Halo item", "QuickBooks item")
    table = _table(title, "status", halo, qbo, "score", "reason")
    styles = {"suggested": "green", "stale": "red", "unmapped": "yellow"}
    for r in rows:
        # Not offered: the best candidate, dimmed, so the operator sees how close it comes.
        best = r.candidates[0] if r.qbo_id is None and r.candidates else None
        target = f"{best.name} ({best.id})" if best else _named(r.qbo_name, r.qbo_id)
        score = best.score if best else r.score
        dim = "dim" if best else ""
        table.add_row(
            Text(r.status, style=styles.get(r.status, "")),
            Text(f"{r.halo_name} ({r.halo_id})"),  # Text: names holding "[" print as written
            Text(target, style=dim),
            Text("" if score is None else str(score), style=dim),
            Text(r.reason),
        )
    render.stdout.print(table)


def _missing_table(title: str, halo: str, missing: tuple[Missing, ...]) -> None:
    if not missing:
        render.stdout.print(Text(f"{title}: none"))
        return
    table = _table(title, halo, "reason")
    for m in missing:
        table.add_row(Text(f"{m.halo_name} ({m.halo_id})"), Text(m.reason))
    render.stdout.print(table)


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        if column in ("status", "score"):
            table.add_column(column, justify="right" if column == "score" else "left", no_wrap=True)
        else:  # names and reasons share the width, the reason a little more
            table.add_column(column, ratio=4 if column == "reason" else 3)
    return table


def _named(name: str | None, qbo_id: str | None) -> str:
    return f"{name or '?'} ({qbo_id})" if qbo_id is not None else "-"


def _count(number: int, one: str) -> str:
    return f"{number} {one}" if number == 1 else f"{number} {one}s"
