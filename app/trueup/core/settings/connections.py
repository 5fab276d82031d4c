"""The configured connections: their state (never their secrets) and a test of each.

A test asks for a fresh token and reads one record, so "connection works" means a sync (or a
posting) can start; otherwise it gives the one line the client already says for the failure:
the wrong secret, the wrong tenant URL, a missing permission or scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import httpx

from trueup.core.settings.clients import (
    halo_from_settings,
    pax8_from_settings,
    qbo_from_settings,
    xero_from_settings,
)
from trueup.core.settings.config import ConfigError, Settings, in_clear_urls
from trueup.core.settings.secrets import SecretError, SecretLocation, Secrets
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiClient, ApiError
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.sources.qbo import QboClient
from trueup.core.sources.xero import XeroClient
from trueup.core.values.text import visible

SERVICE_NAMES = {"pax8": "Pax8", "halo": "HaloPSA", "qbo": "QuickBooks Online", "xero": "Xero"}
WORKS = "connection works"


@dataclass(frozen=True)
class CheckResult:
    source: str
    ok: bool
    message: str  # WORKS, or why not in one line
    # Whose books answered, as they name themselves ("organisation Acme Ltd, GB, base currency
    # GBP"): connecting to the wrong organisation or company shows at once. "" for Pax8, Halo.
    account: str = ""


@dataclass(frozen=True)
class ConnectionState:
    source: str
    name: str
    configured: bool  # the URL, ids and account it needs are set
    url: str
    account: str  # what identifies the account: client id, and the company for QuickBooks
    secret: SecretLocation | None  # None: not configured, so not looked for
    token: SecretLocation | None = None  # QuickBooks' or a Xero consent's refresh token

    @property
    def problem(self) -> str:
        """What stands in the way of using it, or ''."""
        if not self.configured:
            return f"not configured: run `trueup connect {self.source}`"
        for location in (self.secret, self.token):
            if location is not None and not location.found:
                return location.problem
        return ""


class Connections:
    """The connections of one config, with their clients built the same way a sync builds
    them (transports: in-process simulators, for the sandbox and tests)."""

    def __init__(
        self,
        settings: Settings,
        *,
        secrets: Secrets | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.settings = settings
        self._given_secrets = secrets
        self._transports = dict(transports or {})

    @cached_property
    def secrets(self) -> Secrets:
        return self._given_secrets or Secrets(self.settings)

    def states(self) -> list[ConnectionState]:
        return [self.state(source) for source in SERVICE_NAMES]

    def state(self, source: str) -> ConnectionState:
        section = getattr(self.settings, source)
        name, client_id = SERVICE_NAMES[source], section.client_id
        realm = section.realm_id if source == "qbo" else None  # QuickBooks also needs a company
        if not (section.url and client_id) or realm == "":
            return ConnectionState(source, name, False, section.url, "", None)
        account = f"client id {client_id}"
        token = None
        try:
            if source == "xero" and self.settings.xero.auth == "pkce":
                secret, token = None, self.secrets.refresh_tokens(client_id, "xero").locate()
            else:
                secret = self.secrets.locate(source, client_id)
            if realm is not None:
                account = f"company {realm}, {account}"
                token = self.secrets.refresh_tokens(realm).locate()
            if source == "xero" and self.settings.xero.tenant:
                account = f"organisation {self.settings.xero.tenant}, {account}"
        except ConfigError as exc:  # a [secrets] backend trueup does not know
            secret = SecretLocation("config", False, str(exc))
        return ConnectionState(source, name, True, section.url, account, secret, token)

    def in_clear(self, source: str) -> list[tuple[str, str, str]]:
        """The URLs of `source` its client will refuse as plain http:// off loopback
        (config.in_clear_urls); none on an in-process transport, as the client exempts one."""
        transport = self._transports.get(source)
        if transport is not None and not isinstance(transport, httpx.AsyncHTTPTransport):
            return []
        return in_clear_urls(self.settings, source)

    def client(self, source: str) -> ApiClient:
        transport = self._transports.get(source)
        if source == "pax8":
            return pax8_from_settings(self.settings, self.secrets, transport=transport)
        if source == "halo":
            return halo_from_settings(self.settings, self.secrets, transport=transport)
        if source == "qbo":
            return qbo_from_settings(self.settings, self.secrets, transport=transport)
        if source == "xero":
            return xero_from_settings(self.settings, self.secrets, transport=transport)
        raise ValueError(f"no connection called {source!r}")

    async def check(self, source: str) -> CheckResult:
        try:
            client = self.client(source)
        except (ConfigError, SecretError, ApiError) as exc:
            return CheckResult(source, False, str(exc))
        return await check_client(source, client)


async def check_client(source: str, client: ApiClient) -> CheckResult:
    """A fresh token and one small read; the client is closed afterwards."""
    try:
        async with client:
            await client.check_credentials()
            account = await _read_one(client)
    except (ApiError, SecretError) as exc:
        return CheckResult(source, False, str(exc))
    return CheckResult(source, True, WORKS, account)


async def _read_one(client: ApiClient) -> str:
    """The smallest read that needs the permissions a sync or a posting needs; for the books,
    whose they are (CheckResult.account)."""
    if isinstance(client, Pax8Client):
        await client.request("GET", "/companies", params={"page": 0, "size": 1})
    elif isinstance(client, HaloClient):
        params = {"pageinate": True, "page_size": 1, "page_no": 1}
        await client.request("GET", "/api/Client", params=params)
    elif isinstance(client, QboClient):
        company = await client.company()
        info, preferences = company["CompanyInfo"], company["Preferences"]
        currency = (preferences.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}
        return _named(
            "company", info.get("CompanyName"), info.get("Country"), "home", currency.get("value")
        )
    elif isinstance(client, XeroClient):
        found = await client.organisation()
        return _named(
            "organisation",
            found.get("Name"),
            found.get("CountryCode"),
            "base",
            found.get("BaseCurrency"),
        )
    return ""


def _named(kind: str, name: object, country: object, which: str, currency: object) -> str:
    """An account as it names itself, its words made safe for a terminal."""
    said = [f"{kind} {name}" if name else f"{kind} without a name"]
    said += [str(country)] if country else []
    said += [f"{which} currency {currency}"] if currency else []
    return visible(", ".join(said))
