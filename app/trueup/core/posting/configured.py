"""The sink for a destination, on the configured connection (the env's TRUEUP_*_URL included)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from trueup.core.posting.crashpoints import CrashingTransport, crash_armed
from trueup.core.posting.halo_invoice import HaloInvoiceSink
from trueup.core.posting.halo_recurring import HaloRecurringSink
from trueup.core.posting.plan import check_destination
from trueup.core.posting.qbo import QboSink
from trueup.core.posting.sink import Sink
from trueup.core.posting.xero import XeroSink
from trueup.core.settings.clients import halo_from_settings, qbo_from_settings, xero_from_settings
from trueup.core.settings.config import Settings


@asynccontextmanager
async def open_sink(destination: str, settings: Settings) -> AsyncIterator[Sink]:
    check_destination(destination)
    # Only the posting crash test arms crash points; the wrapper is the real transport then.
    transport = CrashingTransport(httpx.AsyncHTTPTransport()) if crash_armed() else None
    if destination == "qbo":
        qbo = qbo_from_settings(settings, transport=transport)
        async with qbo:
            yield QboSink(qbo)
        return
    if destination == "xero":
        xero = xero_from_settings(settings, transport=transport)
        async with xero:
            yield XeroSink(xero)
        return
    halo = halo_from_settings(settings, transport=transport)
    async with halo:
        yield HaloInvoiceSink(halo) if destination == "halo-invoice" else HaloRecurringSink(halo)
