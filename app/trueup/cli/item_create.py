"""`trueup map create-item`: create the Halo item a Pax8 product lacks, then bill it as that.

It writes to Halo, so it shows what it will create and asks first (`--yes` for scripts), as
`trueup post` does.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.cli.options import open_store, say
from trueup.core.errors import TrueupError
from trueup.core.service.mappings import ItemDraft, Mappings
from trueup.core.settings.config import load_settings


@handles_errors
def create_item_command(
    ctx: typer.Context,
    product: Annotated[
        str,
        typer.Option(
            "--product",
            help="The Pax8 product id (`trueup unmapped --json` lists them).",
            show_default=False,
        ),
    ],
    price: Annotated[
        str | None,
        typer.Option(
            "--price",
            help="The item's price a month, like 12.50, instead of what the [defaults] bill.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask before creating it (for scripts).")
    ] = False,
) -> None:
    """Create a product's Halo item on the configured HaloPSA, then map the product to it.

    The item takes the product's name, its SKU as supplier part code, a month's cost of one unit
    and the price the rules' [defaults] bill it at (or --price): all shown first. Run it again
    after any failure: it looks for an item with that supplier part code in Halo before creating
    one, so the item is created once. `trueup map undo` takes the mapping back; the item stays
    in Halo.
    """
    from trueup.core.settings.clients import halo_from_settings  # HTTP for this command only

    config_path = state(ctx).config_path
    with open_store(ctx) as db:
        mappings = Mappings(db, halo=lambda: halo_from_settings(load_settings(config_path)))
        draft = mappings.item_draft(product, price)
        _show(draft)
        if not yes:
            _confirm()
        made = asyncio.run(mappings.create_item(product, price))
    if made.created:
        say(f"created Halo item {made.item_id} ({made.name}) and mapped {draft.name} to it")
    else:
        say(
            f"Halo already had item {made.item_id} ({made.name}) with supplier part code "
            f"{draft.sku}: mapped {draft.name} to it, nothing created"
        )


def _show(draft: ItemDraft) -> None:
    cost = "none" if draft.cost is None else _amount(draft.cost, draft.currency)
    lines = [
        f"Create in HaloPSA the item {draft.name}",
        f"  supplier part code  {draft.sku}",
        f"  cost                {cost} a month ({draft.cost_from})",
        f"  price               {_amount(draft.price, draft.currency)} a month "
        f"({draft.price_from})",
        f"then bill Pax8 product {draft.product_id} as it.",
    ]
    for line in lines:
        render.stderr.print(Text(line), soft_wrap=True)


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}".strip()


def _confirm() -> None:
    if not _interactive():
        raise TrueupError("to create the item, run it in a terminal to confirm, or add --yes")
    if not typer.confirm("Create it?", default=False, err=True):
        raise TrueupError("not confirmed: nothing was created")


def _interactive() -> bool:
    return sys.stdin.isatty()
