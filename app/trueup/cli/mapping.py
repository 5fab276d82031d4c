"""`trueup map ...` and `trueup unmapped`: mappings from the command line (contract.md §2)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from trueup.cli import handles_errors, render
from trueup.cli.item_create import create_item_command
from trueup.cli.options import (
    CLIENT_ID,
    ITEM_ID,
    Json,
    MinScore,
    configured_threshold,
    open_store,
    say,
    usage_error,
)
from trueup.core.service.mappings import Mappings, company_json, product_json
from trueup.core.values.text import capped

map_app = typer.Typer(
    help="Map Pax8 companies to Halo clients and Pax8 products to Halo items.\n\n"
    "A company is billed only once it is mapped. Start with `trueup map suggest`: exact links "
    "(Halo external link, Pax8 externalId, SKU on the item) and close names are offered; "
    "`trueup map accept` takes every offer at or above the threshold, `trueup map set` maps one "
    "by hand, `trueup map create-item` creates the Halo item a product lacks and maps it, "
    "`trueup map undo` takes back the last change. Ids are Pax8's (companies, "
    "products: GUIDs) and Halo's (clients, items: numbers), as `map suggest --json` shows them.",
    no_args_is_help=True,
)

Threshold = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=100,
        help="Offer name matches scoring at least this (exact links always); default: "
        "[mapping] threshold in the config, else 90.",
        show_default=False,
    ),
]
CompanyId = Annotated[
    str | None, typer.Option("--company", help="A Pax8 company id.", show_default=False)
]
ProductId = Annotated[
    str | None, typer.Option("--product", help="A Pax8 product id.", show_default=False)
]


def _with_mappings(
    ctx: typer.Context, use: Callable[[Mappings], Any], *, score: int | None = None
) -> Any:
    """`use` on the store's mappings; `score`: what a name match needs to be offered."""
    with open_store(ctx) as db:
        return use(Mappings(db) if score is None else Mappings(db, threshold=score))


def _one_of(company: str | None, product: str | None) -> None:
    if (company is None) == (product is None):
        usage_error("give either --company or --product")


@map_app.command("suggest")
@handles_errors
def suggest(ctx: typer.Context, as_json: Json = False, threshold: Threshold = None) -> None:
    """What still needs a mapping, with the best candidates, their scores and reasons.

    `suggested` rows are offered for `trueup map accept`; `unmapped` ones need `map set`;
    `stale` ones point at a Halo client or item that is gone or inactive.
    """
    result = _with_mappings(
        ctx, Mappings.suggestions_json, score=configured_threshold(ctx, threshold)
    )
    if as_json:
        render.emit_json(result)
        return
    _companies_table("Companies needing a client", result["companies"])
    _products_table("Products needing an item", result["products"])


@map_app.command("set")
@handles_errors
def set_mapping(
    ctx: typer.Context,
    company: CompanyId = None,
    product: ProductId = None,
    client: Annotated[
        int | None,
        typer.Option(
            "--client",
            help="The Halo client id: the company's client, or with --product, the client "
            "the override is for.",
            show_default=False,
            **CLIENT_ID,
        ),
    ] = None,
    item: Annotated[
        int | None,
        typer.Option("--item", help="The Halo item id.", show_default=False, **ITEM_ID),
    ] = None,
) -> None:
    """Map one company or product by hand.

    `trueup map set --company PAX8_ID --client HALO_ID` bills a company to a client.
    `trueup map set --product PAX8_ID --item HALO_ITEM_ID` bills a product as an item for every
    client; add `--client HALO_ID` to override it for that client only.
    """
    _one_of(company, product)
    if company is not None:
        if client is None or item is not None:
            usage_error("--company takes --client (and no --item)")
        _with_mappings(ctx, lambda maps: maps.map_company(company, client))
        say(f"mapped company {company} to Halo client {client}")
    else:
        assert product is not None
        if item is None:
            usage_error("--product takes --item (and --client for an override)")
        _with_mappings(ctx, lambda maps: maps.map_product(product, item, client_id=client))
        scope = f" for Halo client {client}" if client is not None else ""
        say(f"mapped product {product} to Halo item {item}{scope}")


map_app.command("create-item")(create_item_command)


@map_app.command("unset")
@handles_errors
def unset_mapping(
    ctx: typer.Context,
    company: CompanyId = None,
    product: ProductId = None,
    client: Annotated[
        int | None,
        typer.Option(
            "--client", help="With --product: remove that client's override only.", **CLIENT_ID
        ),
    ] = None,
) -> None:
    """Remove a mapping (or an ignore): `--company ID`, `--product ID [--client ID]`."""
    _one_of(company, product)
    if company is not None:
        if client is not None:
            usage_error("--client goes with --product")
        _with_mappings(ctx, lambda maps: maps.unmap_company(company))
        say(f"company {company} is unmapped")
    else:
        assert product is not None
        say(_with_mappings(ctx, lambda maps: _unset_product(maps, product, client)))


def _unset_product(maps: Mappings, product: str, client: int | None) -> str:
    """Remove the product's mapping or one client's override; what now bills it, in words."""
    overrides = [o.client_id for o in maps.product_overrides(product)]
    maps.unmap_product(product, client_id=client)
    if client is None:
        kept = _count(len(overrides), "client keeps its override", "clients keep theirs")
        return f"product {product} is unmapped for every client" + (
            f"; {kept}" if overrides else ""
        )
    if client not in overrides:
        return f"product {product} has no override for Halo client {client}: nothing changed"
    return (
        f"removed product {product}'s override for Halo client {client}: "
        "that client bills it as every client does"
    )


@map_app.command("ignore")
@handles_errors
def ignore(ctx: typer.Context, company: CompanyId = None, product: ProductId = None) -> None:
    """Mark a company or product as not billed through Halo: no suggestions, not 'unmapped'."""
    _one_of(company, product)
    if company is not None:
        _with_mappings(ctx, lambda maps: maps.ignore_company(company))
    else:
        assert product is not None
        _with_mappings(ctx, lambda maps: maps.ignore_product(product))
    say(f"ignoring {'company' if company else 'product'} {company or product}")


@map_app.command("accept")
@handles_errors
def accept(
    ctx: typer.Context,
    min_score: MinScore = None,
    as_json: Json = False,
) -> None:
    """Accept every suggestion at or above the score, and print what it mapped.

    One batch: `trueup map undo` takes all of it back.
    """
    companies, products = _with_mappings(
        ctx, Mappings.accept_suggestions, score=configured_threshold(ctx, min_score)
    )
    if as_json:
        render.emit_json(
            {
                "companies": [company_json(r) for r in companies],
                "products": [product_json(r) for r in products],
            }
        )
        return
    _companies_table("Companies mapped", [company_json(r) for r in companies])
    _products_table("Products mapped", [product_json(r) for r in products])
    say(
        f"accepted {_count(len(companies), 'company', 'companies')} and "
        f"{_count(len(products), 'product', 'products')}"
    )


@map_app.command("undo")
@handles_errors
def undo(ctx: typer.Context) -> None:
    """Take back the last mapping change (a whole `accept` or `import` at once)."""
    done = _with_mappings(ctx, Mappings.undo_last)
    say(done or "nothing to undo")


@map_app.command("export")
@handles_errors
def export(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="Where to write (.toml, or .json for JSON; `-` for stdout, TOML)."),
    ],
) -> None:
    """Write every mapping to a readable file, sorted by id, for version control."""
    if str(file) == "-":  # as `trueup rules export -`: the file itself, nothing else
        sys.stdout.write(_with_mappings(ctx, Mappings.export_text))
        return
    count = _with_mappings(ctx, lambda maps: maps.export_file(file))
    say(f"wrote {_count(count, 'mapping', 'mappings')} to {file}")


@map_app.command("import")
@handles_errors
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by `trueup map export`.")],
) -> None:
    """Set the mappings a file holds; all or nothing.

    Any unknown Pax8 or Halo id, or a new mapping to an inactive Halo client or item, refuses the
    whole file (each one listed) and nothing is written. An entry `map export` marked stale (its
    company, product, client or item gone, or the client or item inactive) is skipped with a
    line. Mappings not in the file stay as they are; `trueup map undo` takes the import
    back.
    """
    result = _with_mappings(ctx, lambda maps: maps.import_file(file))
    for line in capped(result.skipped, 20):  # a file of thousands must not flood the terminal
        render.stderr.print(Text(line), soft_wrap=True)
    skipped = f", {len(result.skipped):,} skipped (marked stale)" if result.skipped else ""
    say(f"imported {file}: {_count(result.changed, 'mapping', 'mappings')} changed{skipped}")


@handles_errors
def unmapped_command(
    ctx: typer.Context, as_json: Json = False, threshold: Threshold = None
) -> None:
    """Pax8 companies and products that carry billable subscriptions but cannot be billed yet.

    A company without a live Halo client; a product whose subscriptions have no Halo item for
    their client. Fix them with `trueup map suggest` / `accept` / `set`.
    """
    result = _with_mappings(ctx, Mappings.unmapped_json, score=configured_threshold(ctx, threshold))
    if as_json:
        render.emit_json(result)
        return
    _companies_table("Unmapped companies", result["companies"])
    _products_table("Unmapped products", result["products"])


# --- tables -----------------------------------------------------------------------------------


def _companies_table(title: str, rows: list[dict[str, Any]]) -> None:
    table = _table(title, "Pax8 company", "Halo client")
    for r in rows:
        target = _shown(r, r["client_name"], "client_name")
        table.add_row(*_cells(r, r["company_name"], *target))
    _print(table, rows)


def _products_table(title: str, rows: list[dict[str, Any]]) -> None:
    table = _table(title, "Pax8 product (SKU)", "Halo item")
    for r in rows:
        target = _shown(r, r["item_name"], "item_name")
        table.add_row(*_cells(r, f"{r['name']} ({r['sku']})" if r["sku"] else r["name"], *target))
    _print(table, rows)


def _shown(row: dict[str, Any], name: str | None, field: str) -> tuple[str, int | None, str, bool]:
    """The mapping or suggestion, else the best candidate (dimmed: not offered): name, score,
    reason, whether it is only a candidate."""
    if name or not row["candidates"]:
        return name or "-", row["score"], row["reason"], False
    best = row["candidates"][0]
    return best[field], best["score"], row["reason"], True


def _table(title: str, source: str, target: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("status", no_wrap=True)
    table.add_column(source, ratio=3)
    table.add_column(target, ratio=3)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("reason", ratio=4)
    table.add_column("subs", justify="right", no_wrap=True)
    table.add_column("monthly", justify="right", no_wrap=True)
    return table


def _cells(
    row: dict[str, Any], name: str, target: str, score: int | None, reason: str, dim: bool
) -> list[Text]:
    # Text cells: names holding "[" must print as written, never as Rich markup.
    sums = {row["currency"]: row["monthly_value"], **row.get("other_currencies", {})}
    # Each currency its own sum, one a line: the count of subscriptions holds them all.
    money = "\n".join(f"{Decimal(v):,.2f} {c}".strip() for c, v in sums.items())
    styles = {"suggested": "green", "stale": "red", "unmapped": "yellow"}
    candidate_style = "dim" if dim else ""
    return [
        Text(row["status"], style=styles.get(row["status"], "")),
        Text(name),
        Text(target, style=candidate_style),
        Text("" if score is None else str(score), style=candidate_style),
        Text(reason),
        Text(str(row["subscriptions"])),
        Text(money),
    ]


def _print(table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        render.stdout.print(table)
    else:
        render.stdout.print(Text(f"{table.title}: none"))


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
