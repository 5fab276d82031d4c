"""Building the API clients from the config, the environment and the secret store."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

from trueup.core.settings.config import ConfigError, Settings, check_urls
from trueup.core.settings.secrets import Secrets
from trueup.core.settings.value_names import value_names
from trueup.core.sources.halo import HALO_RATE_LIMIT, HaloClient
from trueup.core.sources.pax8 import PAX8_RATE_LIMIT, Pax8Client
from trueup.core.sources.qbo import QBO_RATE_LIMIT, QboClient, token_url_for
from trueup.core.sources.qbo import QBO_URL as QBO_URL
from trueup.core.sources.xero import XERO_RATE_LIMIT, XeroClient


def client_limits_off() -> bool:
    """TRUEUP_CLIENT_RATE_LIMITS=off: only for benchmarks against a sandbox serving without
    limits; against the real services the client-side limiter is what keeps 429s away."""
    return os.environ.get("TRUEUP_CLIENT_RATE_LIMITS", "").lower() == "off"


def pax8_from_settings(
    settings: Settings,
    secrets: Secrets | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Pax8Client:
    if not settings.pax8.client_id:
        raise ConfigError(
            "Pax8 is not configured: run `trueup connect pax8` "
            "or set TRUEUP_PAX8_CLIENT_ID and TRUEUP_PAX8_CLIENT_SECRET"
        )
    check_urls(settings, "pax8")
    secrets = secrets or Secrets(settings)
    return Pax8Client(
        settings.pax8.url,
        settings.pax8.client_id,
        secrets.client_secret("pax8", settings.pax8.client_id),
        rate=None if client_limits_off() else PAX8_RATE_LIMIT,
        transport=transport,
        names=value_names(settings, "pax8", secrets),
    )


def halo_from_settings(
    settings: Settings,
    secrets: Secrets | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> HaloClient:
    halo = settings.halo
    if not halo.url or not halo.client_id:
        raise ConfigError(
            "HaloPSA is not configured: run `trueup connect halo` "
            "or set TRUEUP_HALO_URL, TRUEUP_HALO_CLIENT_ID and "
            "TRUEUP_HALO_CLIENT_SECRET"
        )
    check_urls(settings, "halo")
    secrets = secrets or Secrets(settings)
    return HaloClient(
        halo.url,
        halo.auth_url or None,
        halo.client_id,
        secrets.client_secret("halo", halo.client_id),
        scope=halo.scope,
        tenant=halo.tenant or None,
        rate=None if client_limits_off() else HALO_RATE_LIMIT,
        transport=transport,
        names=value_names(settings, "halo", secrets),
    )


def qbo_from_settings(
    settings: Settings,
    secrets: Secrets | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    refresh_token: str | None = None,
) -> QboClient:
    """The QuickBooks client; each refresh token Intuit rotates in is stored before use.
    `refresh_token`: one to try instead of the stored one (not stored by this)."""
    qbo = settings.qbo
    if not qbo.realm_id or not qbo.client_id:
        raise ConfigError(
            "QuickBooks is not configured: run `trueup connect qbo` or set TRUEUP_QBO_REALM, "
            "TRUEUP_QBO_CLIENT_ID, TRUEUP_QBO_CLIENT_SECRET and TRUEUP_QBO_REFRESH_TOKEN"
        )
    check_urls(settings, "qbo")
    secrets = secrets or Secrets(settings)
    store = secrets.refresh_tokens(qbo.realm_id)
    return QboClient(
        qbo.url,
        qbo.realm_id,
        qbo.client_id,
        secrets.client_secret("qbo", qbo.client_id),
        refresh_token or store.load(),
        store.save,
        token_url=qbo.token_url or token_url_for(qbo.url),
        rate=None if client_limits_off() else QBO_RATE_LIMIT,
        transport=transport,
        names=value_names(settings, "qbo", secrets),
        # A token given to try is tried, not replaced by the stored one.
        reload_refresh_token=None if refresh_token else store.stored,
    )


def xero_from_settings(
    settings: Settings,
    secrets: Secrets | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> XeroClient:
    """The Xero client: a Custom Connection's secret, or a PKCE consent's rotating refresh
    token, each new one stored before use."""
    xero = settings.xero
    if not xero.client_id:
        raise ConfigError(
            "Xero is not configured: run `trueup connect xero`, or set TRUEUP_XERO_CLIENT_ID "
            "and TRUEUP_XERO_CLIENT_SECRET (a Custom Connection)"
        )
    check_urls(settings, "xero")
    secrets = secrets or Secrets(settings)
    common: dict[str, Any] = {
        "tenant_id": xero.tenant or None,
        "rate": None if client_limits_off() else XERO_RATE_LIMIT,
        "transport": transport,
        "names": value_names(settings, "xero", secrets),
    }
    if xero.auth == "custom":
        secret = secrets.client_secret("xero", xero.client_id)
        return XeroClient(
            xero.url, xero.identity_url, xero.client_id, client_secret=secret, **common
        )
    store = secrets.refresh_tokens(xero.client_id, "xero")
    return XeroClient(
        xero.url,
        xero.identity_url,
        xero.client_id,
        refresh_token=store.load(),
        on_refresh_token=store.save,
        reload_refresh_token=store.stored,
        **common,
    )


def sandbox_books_client(
    name: str, urls: Mapping[str, str], credentials: Mapping[str, Mapping[str, str]]
) -> QboClient | XeroClient:
    """The QuickBooks (`qbo`) or Xero (`xero`) client on the sandbox's simulators, with the
    scenario's credentials (`urls` as `trueup sandbox serve` prints them)."""
    given = credentials.get(name, {})
    client_id, secret = given.get("client_id", "sandbox"), given.get("client_secret", "sandbox")
    if name == "xero":
        return XeroClient(urls["xero"], urls["xero_identity"], client_id, client_secret=secret)
    return QboClient(
        urls["qbo"],
        given.get("realm_id", "sandbox"),
        client_id,
        secret,
        given.get("refresh_token", "sandbox"),
        lambda _: None,  # the sandbox's tokens are not kept
        token_url=token_url_for(urls["qbo"]),
    )


def configured_clients(settings: Settings) -> tuple[Pax8Client, HaloClient]:
    """Fresh clients for one sync, on the configured connections."""
    return pax8_from_settings(settings), halo_from_settings(settings)


def loopback_clients(
    pax8_url: str, halo_url: str, halo_auth_url: str, credentials: dict[str, dict[str, str]]
) -> tuple[Pax8Client, HaloClient]:
    """Clients on simulators served over loopback (`trueup demo`)."""
    pax8, halo = credentials["pax8"], credentials["halo"]
    return (
        Pax8Client(pax8_url, pax8["client_id"], pax8["client_secret"]),
        HaloClient(halo_url, halo_auth_url, halo["client_id"], halo["client_secret"]),
    )


def sandbox_clients(
    transports: Mapping[str, httpx.AsyncBaseTransport], credentials: dict[str, dict[str, str]]
) -> tuple[Pax8Client, HaloClient]:
    """Clients wired to in-process simulators: the same code path as the real services."""
    pax8 = credentials["pax8"]
    halo = credentials["halo"]
    return (
        Pax8Client(
            "http://pax8.sandbox/v1",
            pax8["client_id"],
            pax8["client_secret"],
            transport=transports["pax8"],
        ),
        HaloClient(
            "http://halo.sandbox",
            "http://halo.sandbox/auth",
            halo["client_id"],
            halo["client_secret"],
            transport=transports["halo"],
        ),
    )
