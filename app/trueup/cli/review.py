"""`trueup hold`: the operator's word on an invoice before approval, as `h` on the Batch screen."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.cli.options import CLIENT_ID
from trueup.cli.posting import BatchArgument, resolved_batch
from trueup.core.errors import TrueupError
from trueup.core.service.batches import Batches
from trueup.core.settings.config import today as configured_today


@handles_errors
def hold_command(
    ctx: typer.Context,
    batch_id: BatchArgument,
    client: Annotated[
        list[int],
        typer.Option("--client", help="The Halo client id (repeat for more).", **CLIENT_ID),
    ],
    release: Annotated[
        bool, typer.Option("--release", help="Take the hold off: the invoice is a draft again.")
    ] = False,
) -> None:
    """Hold invoices of a batch (or of a month's current batch): a held invoice is neither
    approved nor posted, and `trueup summary` counts it as held, until `--release`.

    Only before approval and posting: a posted month is voided (`trueup void`), an approval
    withdrawn on the workbench's Batch screen. Exit 1 when an invoice could not be held (the
    message says why); the others are held all the same.
    """
    wanted = "draft" if release else "held"
    refused = False
    db = state(ctx).open_db(existing=True)
    try:
        batch = resolved_batch(db, batch_id)
        batches = Batches(db, today=configured_today())
        names = {row.client_id: row.client_name for row in batches.overview(batch).invoices}
        for client_id in dict.fromkeys(client):
            if client_id not in names:
                refused = True
                render.fail(f"client {client_id}: no invoice in batch {batch}")
                continue
            named = f"{names[client_id]} ({client_id})"
            try:  # refused once approved or posted (review.set_invoice_state)
                batches.set_invoice_state(batch, client_id, wanted)
            except TrueupError as exc:
                refused = True
                render.fail(f"client {client_id}: {exc}")  # the message names the client
                continue
            verb = "released" if release else "held"
            render.stdout.print(Text(f"{verb}: {named}, batch {batch}"))
    finally:
        db.dispose()
    if refused:
        raise typer.Exit(1)
