"""Syncing a world the scenario validator would refuse (the real APIs may still send it)."""

from datetime import UTC, date, datetime

from trueup.core.sources.halo import HaloClient
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.sync.run import sync_sources
from trueup.sandbox.scenario import Scenario
from trueup.sandbox.serve import build_simulators, in_process_transports

TODAY = date(2026, 11, 21)


async def sync_unchecked(db, data):
    """Sync `data` (a world() dict) into `db` from simulators built without validation."""
    scenario = Scenario(
        as_of=datetime(2026, 11, 21, tzinfo=UTC), pax8=data["pax8"], halo=data["halo"]
    )
    transports = in_process_transports(build_simulators(scenario))
    pax8 = Pax8Client("http://pax8.test/v1", "sandbox", "sandbox", transport=transports["pax8"])
    halo = HaloClient(
        "http://halo.test",
        "http://halo.test/auth",
        "sandbox",
        "sandbox",
        transport=transports["halo"],
    )
    async with pax8, halo:
        return {r.source: r for r in await sync_sources(db, pax8=pax8, halo=halo, today=TODAY)}
