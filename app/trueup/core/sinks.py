"""The sink for a destination, on the configured connection (the env's TRUEUP_*_URL included)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from trueup.core.config import Settings
from trueup.core.connections import halo_from_settings, qbo_from_settings
from trueup.core.crashpoints import CrashingTransport, crash_armed
from trueup.core.posting import check_destination
from trueup.core.posting_sinks import Sink
from trueup.core.sink_halo import HaloInvoiceSink
from trueup.core.sink_halo_recurring import HaloRecurringSink
from trueup.core.sink_qbo import QboSink


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
    halo = halo_from_settings(settings, transport=transport)
    async with halo:
        yield HaloInvoiceSink(halo) if destination == "halo-invoice" else HaloRecurringSink(halo)
