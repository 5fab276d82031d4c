"""Posting into the sandbox: sinks on the simulators, with the scenario's credentials.

`trueup demo` (over loopback) and the screenshots (in-process) post into their own sandbox,
never through the configured connections: a demo must not be able to reach a real service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx

from trueup.core.posting.halo_invoice import HaloInvoiceSink
from trueup.core.posting.halo_recurring import HaloRecurringSink
from trueup.core.posting.plan import PostingError, check_destination
from trueup.core.posting.qbo import QboSink
from trueup.core.posting.sink import Sink
from trueup.core.posting.xero import XeroSink
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.qbo import QboClient, token_url_for
from trueup.core.sources.xero import XeroClient


class SandboxSinks:
    """A sink factory for the workbench: `sinks(destination)` opens one on the simulators.

    `urls` has the keys "halo", "halo_auth", "qbo" (and "xero", "xero_identity" when the sandbox
    serves Xero); `transports` (by the same service names)
    reach in-process simulators instead of the network. QuickBooks rotates its refresh token on
    every use: the newest is kept here for the next sink."""

    def __init__(
        self,
        urls: Mapping[str, str],
        credentials: Mapping[str, Mapping[str, str]],
        *,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._urls = urls
        self._credentials = credentials
        self._transports = transports or {}
        qbo = credentials["qbo"]
        self._refresh_token = qbo.get("refresh_token", "sandbox")

    def __call__(self, destination: str) -> AbstractAsyncContextManager[Sink]:
        return self._open(check_destination(destination))

    @asynccontextmanager
    async def _open(self, destination: str) -> AsyncIterator[Sink]:
        if destination == "qbo":
            qbo = self._credentials["qbo"]
            client = QboClient(
                self._urls["qbo"],
                qbo.get("realm_id", "sandbox"),
                qbo["client_id"],
                qbo["client_secret"],
                self._refresh_token,
                self._keep_refresh_token,
                token_url=token_url_for(self._urls["qbo"]),
                transport=self._transports.get("qbo"),
            )
            async with client:
                yield QboSink(client)
            return
        if destination == "xero":
            async with self._xero() as xero:
                yield XeroSink(xero)
            return
        halo = self._credentials["halo"]
        halo_client = HaloClient(
            self._urls["halo"],
            self._urls["halo_auth"],
            halo["client_id"],
            halo["client_secret"],
            transport=self._transports.get("halo"),
        )
        async with halo_client:
            if destination == "halo-invoice":
                yield HaloInvoiceSink(halo_client)
            else:
                yield HaloRecurringSink(halo_client)

    def _xero(self) -> XeroClient:
        """A Custom Connection to the sandbox's one organisation."""
        if "xero" not in self._urls:
            raise PostingError("this sandbox serves no Xero simulator")
        xero = self._credentials.get("xero", {})
        return XeroClient(
            self._urls["xero"],
            self._urls["xero_identity"],
            xero.get("client_id", "sandbox"),
            client_secret=xero.get("client_secret", "sandbox"),
            transport=self._transports.get("xero"),
        )

    def _keep_refresh_token(self, token: str) -> None:
        self._refresh_token = token
