"""`trueup sync` and `trueup demo`: wiring clients, simulators and the store together."""

from __future__ import annotations

import asyncio
import sys
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from trueup.cli import render
from trueup.core.config import ConfigError, load_settings
from trueup.core.connections import (
    halo_from_settings,
    pax8_from_settings,
    sandbox_clients,
    today,
)
from trueup.core.db import Database
from trueup.core.halo import HaloClient
from trueup.core.paths import demo_db_path
from trueup.core.pax8 import Pax8Client
from trueup.core.status import store_status
from trueup.core.sync import SourceResult, sync_sources
from trueup.sandbox.common import FaultSpec
from trueup.sandbox.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from trueup.cli import State

BUNDLED_DEMO = Path(__file__).resolve().parent.parent / "sandbox" / "scenarios" / "demo.json"


def run_sync(
    state: State, *, scenario_path: Path | None, faults: str | None, as_json: bool
) -> bool:
    """Sync from the configured services, or from in-process simulators with a scenario."""
    if scenario_path is not None:
        from trueup.sandbox.serve import build_simulators, in_process_transports

        scenario = load_scenario(scenario_path)
        sims = build_simulators(scenario, faults=FaultSpec.parse(faults) if faults else None)
        pax8, halo = sandbox_clients(in_process_transports(sims), _credentials(scenario))
        day = today(scenario.as_of.date())
    else:
        if faults:
            raise ConfigError("--faults works only with --sandbox")
        settings = load_settings(state.config_path)
        pax8, halo = pax8_from_settings(settings), halo_from_settings(settings)
        day = today()
    db = state.open_db()
    try:
        results = _sync_with_progress(db, pax8, halo, day, show_progress=not as_json)
    finally:
        db.dispose()
    if as_json:
        render.emit_json(render.sync_json(results))
    else:
        render.sync_summary(results)
    return all(r.status == "ok" for r in results)


def run_demo(
    state: State, *, scenario_path: Path | None, faults: str | None, mouse: bool = True
) -> bool:
    """The main job: simulators on loopback for the whole session, a sync over real HTTP, and the
    workbench on it; the store's status instead when stdout is not a terminal (scripts, CI)."""
    from trueup.sandbox.serve import build_simulators, serve_in_background

    scenario = load_scenario(scenario_path or BUNDLED_DEMO)
    sims = build_simulators(scenario, faults=FaultSpec.parse(faults) if faults else None)
    db = state.open_db(default=demo_db_path())
    day = today(scenario.as_of.date())
    try:
        with serve_in_background(sims) as urls:
            render.stderr.print(f"Sandbox serving Pax8 at {urls.pax8} and HaloPSA at {urls.halo}")

            def loopback_clients() -> tuple[Pax8Client, HaloClient]:
                creds = _credentials(scenario)
                return (
                    Pax8Client(
                        urls.pax8, creds["pax8"]["client_id"], creds["pax8"]["client_secret"]
                    ),
                    HaloClient(
                        urls.halo,
                        urls.halo_auth,
                        creds["halo"]["client_id"],
                        creds["halo"]["client_secret"],
                    ),
                )

            if sys.stdout.isatty():
                from trueup.cli.tui import open_workbench

                open_workbench(
                    db, day=day, sync_clients=loopback_clients, mouse=mouse, sync_on_start=True
                )
                return True
            results = _sync_with_progress(db, *loopback_clients(), day, show_progress=True)
        render.sync_summary(results)
        render.status_tables(store_status(db))
    finally:
        db.dispose()
    return all(r.status == "ok" for r in results)


def _credentials(scenario: Scenario) -> dict[str, dict[str, str]]:
    return {source: scenario.credentials_for(source) for source in ("pax8", "halo")}


def _sync_with_progress(
    db: Database, pax8: Pax8Client, halo: HaloClient, day: date, *, show_progress: bool
) -> list[SourceResult]:
    async def go() -> list[SourceResult]:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(pax8)
            await stack.enter_async_context(halo)
            if not show_progress:
                return await sync_sources(db, pax8=pax8, halo=halo, today=day)
            with render.sync_progress() as report:
                return await sync_sources(db, pax8=pax8, halo=halo, today=day, report=report)

    return asyncio.run(go())
