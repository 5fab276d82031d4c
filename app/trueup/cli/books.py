"""`trueup qbo ...` and `trueup xero ...`: the customer (contact) and item in the books of each
billed Halo client and item. One set of commands, made for each accounting system."""

# No `from __future__ import annotations`: Typer reads the options' annotations at run time,
# and the flags of `map set` are made per accounting system inside books_app.
import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.cli.options import (
    ITEM_ID,
    ClientId,
    Json,
    MinScore,
    configured_threshold,
    open_store,
    say,
    usage_error,
)
from trueup.cli.qbo_tax import tax_app
from trueup.cli.render import mapping_table
from trueup.core.service.books import QBO, XERO, Accounting, BookRow, Books, Missing
from trueup.core.service.mappings import Mappings
from trueup.core.settings.config import load_settings

ItemId = Annotated[
    int | None, typer.Option("--item", help="A Halo item id.", show_default=False, **ITEM_ID)
]
NewCompany = Annotated[
    bool,
    typer.Option(
        "--new-company",
        help="QuickBooks: the company changed for good (TRUEUP_QBO_REALM, `connect qbo "
        "--realm`): read its lists and forget the mappings made from the last one's, whose "
        "customer and item ids name others there. Without it such a refresh is refused.",
    ),
]
OPEN_STATUSES = ("unmapped", "suggested", "stale")


@dataclass(frozen=True)
class Words:
    """How one accounting system's commands name its side."""

    books: Books
    customer_flag: str  # --customer | --contact
    item_flag: str  # --qbo-item | --xero-item
    keys: dict[str, tuple[str, str]]  # JSON keys of its side, by the Halo side's kind
    ids: str  # where its ids are seen


QBO_WORDS = Words(
    QBO,
    "--customer",
    "--qbo-item",
    {"client": ("customer_id", "customer_name"), "item": ("qbo_item_id", "qbo_item_name")},
    "QuickBooks ids are as `qbo map suggest --json` shows",
)
XERO_WORDS = Words(
    XERO,
    "--contact",
    "--xero-item",
    {"client": ("contact_id", "contact_name"), "item": ("xero_item_id", "xero_item_name")},
    "Xero ids are the ContactID and ItemID as `xero map suggest --json` shows",
)


def books_app(words: Words) -> typer.Typer:
    books = words.books
    label, name = books.label, books.name
    customer, item_label = books.clients.target, books.items.target
    app = typer.Typer(
        help=f"{label}: where approved invoices post when the destination is `{name}`.\n\n"
        f"Each billed Halo client needs its {customer}, each billed Halo item its {item_label}. "
        f"Run `trueup {name} refresh` to read {label}'s lists, then `trueup {name} map "
        f"suggest`: Halo's accounts ids, item codes and close names are offered; `trueup {name} "
        f"map accept` takes every offer at or above the threshold, `trueup {name} map set` maps "
        f"one by hand, `trueup {name} unmapped` lists what posting would still lack. Halo ids "
        f"are numbers; {words.ids}.",
        no_args_is_help=True,
    )
    map_app = typer.Typer(
        help=f"Map billed Halo clients to {customer}s and Halo items to {item_label}s.",
        no_args_is_help=True,
    )
    app.add_typer(map_app, name="map")

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
                help="Offer name matches scoring at least this (id and code links always); "
                "default: [mapping] threshold in the config, else 90.",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        score = configured_threshold(ctx, threshold)
        with open_store(ctx) as db:
            clients, items = Accounting(db, books, threshold=score).rows()
        clients = [r for r in clients if r.status in OPEN_STATUSES]
        items = [r for r in items if r.status in OPEN_STATUSES]
        if as_json:
            render.emit_json(
                {
                    "threshold": score,
                    "clients": [_row_json(words, r) for r in clients],
                    "items": [_row_json(words, r) for r in items],
                }
            )
            return
        _rows_table(books, f"Clients needing a {customer}", clients)
        _rows_table(books, f"Items needing a {item_label}", items)

    suggest.__doc__ = (
        f"Billed clients and items still needing a twin in {label}, with candidates and "
        f"reasons.\n\n`suggested` rows are offered for `trueup {name} map accept`; `unmapped` "
        f"ones need `{name} map set`; `stale` ones point at a {label} row that is gone, "
        "inactive or archived."
    )

    @map_app.command("accept")
    @handles_errors
    def accept(ctx: typer.Context, min_score: MinScore = None, as_json: Json = False) -> None:
        """Accept every suggestion at or above the score, all at once, and print what it mapped."""
        score = configured_threshold(ctx, min_score)
        with open_store(ctx) as db:
            clients, items = Accounting(db, books, threshold=score).accept_suggestions()
        if as_json:
            render.emit_json(
                {
                    "clients": [_row_json(words, r) for r in clients],
                    "items": [_row_json(words, r) for r in items],
                }
            )
            return
        _rows_table(books, "Clients mapped", clients)
        _rows_table(books, "Items mapped", items)
        say(f"accepted {_count(len(clients), 'client')} and {_count(len(items), 'item')}")

    @map_app.command("set")
    @handles_errors
    def set_mapping(
        ctx: typer.Context,
        client: ClientId = None,
        target_customer: Annotated[
            str | None,
            typer.Option(words.customer_flag, help=f"The {customer} id.", show_default=False),
        ] = None,
        item: ItemId = None,
        target_item: Annotated[
            str | None,
            typer.Option(words.item_flag, help=f"The {item_label} id.", show_default=False),
        ] = None,
    ) -> None:
        customer_given = client is not None and target_customer is not None
        item_given = item is not None and target_item is not None
        if customer_given and item is None and target_item is None:
            assert client is not None and target_customer is not None
            with open_store(ctx) as db:
                say(Accounting(db, books).map_customer(client, target_customer))
        elif item_given and client is None and target_customer is None:
            assert item is not None and target_item is not None
            with open_store(ctx) as db:
                say(Accounting(db, books).map_item(item, target_item))
        else:
            usage_error(
                f"give --client with {words.customer_flag}, or --item with {words.item_flag}"
            )

    set_mapping.__doc__ = (
        f"Map one client or item by hand.\n\n`trueup {name} map set --client HALO_ID "
        f"{words.customer_flag} ID` posts a client's invoices to a {customer}; `trueup {name} "
        f"map set --item HALO_ITEM_ID {words.item_flag} ID` posts an item's lines as a "
        f"{item_label}."
    )

    @map_app.command("unset")
    @handles_errors
    def unset_mapping(ctx: typer.Context, client: ClientId = None, item: ItemId = None) -> None:
        """Remove a mapping: `--client HALO_ID` or `--item HALO_ITEM_ID`."""
        if (client is None) == (item is None):
            usage_error("give either --client or --item")
        with open_store(ctx) as db:
            if client is not None:
                removed = Accounting(db, books).unmap_customer(client)
                subject, what = f"Halo client {client}", customer
            else:
                assert item is not None
                removed = Accounting(db, books).unmap_item(item)
                subject, what = f"Halo item {item}", item_label
        say(
            f"{subject} has no {what} now" if removed else f"{subject} had no {what}; nothing to do"
        )

    @app.command("refresh")
    @handles_errors
    def refresh(ctx: typer.Context, new_company: NewCompany = False) -> None:
        settings = load_settings(state(ctx).config_path)
        with open_store(ctx, existing=False) as db:  # a source read into the store, as sync
            counts = asyncio.run(
                Accounting(db, books).refresh_catalog(settings, new_company=new_company)
            )
        listed = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items())
        say(f"read {label}'s {listed}")

    refresh.__doc__ = (
        f"Read {label}'s lists into the store (what `{name} map` suggests from).\n\n"
        "Replaces the stored lists in one transaction: a failed read keeps the last good ones."
    )

    @app.command("unmapped")
    @handles_errors
    def unmapped(ctx: typer.Context, as_json: Json = False) -> None:
        with open_store(ctx) as db:
            gaps = Accounting(db, books).gaps()
            # A product with no Halo item has no item in the books either: its lines cannot
            # post, though its UNMAPPED_SKU was let through, so it is said here too (`trueup
            # unmapped --json` lists them for scripts).
            bare = [] if as_json else Mappings(db).unmapped_json()["products"]
        if as_json:
            render.emit_json(
                {
                    "clients": [_missing_json(m, "client") for m in gaps.clients],
                    "items": [_missing_json(m, "item") for m in gaps.items],
                }
            )
            return
        if not gaps:
            render.stdout.print(f"Every billed client and item has its {customer} or item.")
        else:
            _missing_table(f"Clients without a {customer}", "Halo client", gaps.clients)
            _missing_table(f"Items without a {item_label}", "Halo item", gaps.items)
        if bare:
            names = [p["name"] for p in bare]
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            render.stdout.print(
                Text(
                    f"{_count(len(bare), 'billed product')} with no Halo item, so no "
                    f"{item_label} either, cannot post: {shown}. `trueup unmapped` lists them, "
                    "`trueup map set --product ID --item HALO_ITEM_ID` maps one."
                )
            )

    unmapped.__doc__ = (
        f"Billed clients and items that cannot be posted to {label} yet, and why.\n\n"
        f"What `trueup post --to {name}` would refuse on. Fix them with `trueup {name} map "
        "suggest` / `accept` / `set`; a billed product with no Halo item (listed last) "
        "with `trueup map set`."
    )
    return app


# --- JSON -------------------------------------------------------------------------------------


def _row_json(words: Words, row: BookRow) -> dict[str, Any]:
    target_id, target_name = words.keys[row.kind]
    return {
        f"{row.kind}_id": row.halo_id,
        f"{row.kind}_name": row.halo_name,
        "status": row.status,
        target_id: row.target_id,
        target_name: row.target_name,
        "score": row.score,
        "source": row.source,
        "reason": row.reason,
        "candidates": [
            {target_id: c.id, target_name: c.name, "score": c.score, "reason": c.reason}
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


def _rows_table(books: Books, title: str, rows: list[BookRow]) -> None:
    if not rows:
        render.stdout.print(Text(f"{title}: none"))
        return
    kind = books.items if rows[0].kind == "item" else books.clients
    table = mapping_table(title, "status", kind.halo, kind.target, "score", "reason")
    styles = {"suggested": "green", "stale": "red", "unmapped": "yellow"}
    for r in rows:
        # Not offered: the best candidate, dimmed, so the operator sees how close it comes.
        best = r.candidates[0] if r.target_id is None and r.candidates else None
        target = f"{best.name} ({best.id})" if best else _named(r.target_name, r.target_id)
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
    table = mapping_table(title, halo, "reason")
    for m in missing:
        table.add_row(Text(f"{m.halo_name} ({m.halo_id})"), Text(m.reason))
    render.stdout.print(table)


def _named(name: str | None, target_id: str | None) -> str:
    return f"{name or '?'} ({target_id})" if target_id is not None else "-"


def _count(number: int, one: str) -> str:
    return f"{number} {one}" if number == 1 else f"{number} {one}s"


qbo_app = books_app(QBO_WORDS)
qbo_app.add_typer(tax_app, name="tax")
xero_app = books_app(XERO_WORDS)
