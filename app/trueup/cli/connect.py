"""`trueup connect pax8|halo`: save a connection (secret to the keyring) and test it."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from trueup.cli import handles_errors, render, state
from trueup.core.config import load_settings, save_settings
from trueup.core.connections import halo_from_settings, pax8_from_settings
from trueup.core.http import ApiClient
from trueup.core.secrets import store_secret

connect_app = typer.Typer(
    help="Save the Pax8 or HaloPSA API credentials: ids in the config file, secrets in the OS "
    "keyring (or set TRUEUP_*_CLIENT_SECRET on hosts without one).",
    no_args_is_help=True,
)


@connect_app.command("pax8")
@handles_errors
def connect_pax8(
    ctx: typer.Context,
    client_id: Annotated[
        str, typer.Option(prompt=True, help="From Pax8 > Settings > Integrations > Credentials.")
    ],
    client_secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="Prompted for when not given.")
    ],
    url: Annotated[
        str, typer.Option(help="The API base, including /v1.")
    ] = "https://api.pax8.com/v1",
) -> None:
    """Connect to Pax8 (OAuth client credentials)."""
    settings = load_settings(state(ctx).config_path)
    settings.pax8.url, settings.pax8.client_id = url, client_id
    store_secret("pax8", client_id, client_secret)
    _test(pax8_from_settings(settings), "Pax8")
    save_settings(settings)
    render.stderr.print(f"Pax8 connected; settings saved to {settings.path}")


@connect_app.command("halo")
@handles_errors
def connect_halo(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option(prompt=True, help="Your tenant, e.g. https://acme.halopsa.com")
    ],
    client_id: Annotated[
        str, typer.Option(prompt=True, help="From Configuration > Integrations > HaloPSA API.")
    ],
    client_secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="Prompted for when not given.")
    ],
    auth_url: Annotated[
        str, typer.Option(help="The authorisation server (default: discovered from the tenant).")
    ] = "",
    tenant: Annotated[str, typer.Option(help="Tenant name, for Halo-hosted auth.")] = "",
) -> None:
    """Connect to HaloPSA (OAuth client credentials, scope `all`)."""
    settings = load_settings(state(ctx).config_path)
    halo = settings.halo
    halo.url, halo.client_id, halo.auth_url, halo.tenant = url, client_id, auth_url, tenant
    store_secret("halo", client_id, client_secret)
    _test(halo_from_settings(settings), "HaloPSA")
    save_settings(settings)
    render.stderr.print(f"HaloPSA connected; settings saved to {settings.path}")


def _test(client: ApiClient, name: str) -> None:
    """A token request proves the URL and the credentials before anything is saved."""

    async def go() -> None:
        async with client:
            await client.check_credentials()

    asyncio.run(go())
    render.stderr.print(f"{name}: credentials accepted")
