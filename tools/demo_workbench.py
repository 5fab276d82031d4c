"""The bundled demo as a workbench, in-process, and a wait for a headless app to settle: what
the screenshots (`tools/screenshots.py`), the tests and the bench share.

The store is the bundled demo, synced in-process from the simulators into a temporary file,
with the suggestions scoring 99 or more (companies) and 95 or more (products) accepted, so that
the seat diff has rows and a few suggestions are still waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from trueup.core.posting.sandbox import SandboxSinks
from trueup.core.service.workbench import Workbench
from trueup.core.settings.clients import sandbox_clients
from trueup.core.settings.config import Settings
from trueup.core.settings.connections import Connections
from trueup.core.settings.secret_backends import KeyringStore
from trueup.core.settings.secrets import Secrets
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store.database import open_database
from trueup.sandbox.generate import DEMO_PATH as BUNDLED_DEMO
from trueup.sandbox.memory_keyring import MemoryKeyring
from trueup.sandbox.scenario import load_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports


async def wait_until_idle(pilot: Pilot[Any]) -> None:
    """Until no worker runs and no message waits: data loads happen in threads."""
    for _ in range(50):
        await pilot.pause()
        if not any(worker.is_running for worker in pilot.app.workers):
            await pilot.pause()
            return
        await pilot.app.workers.wait_for_complete()


def demo_clients(scenario_path: Path = BUNDLED_DEMO) -> Callable[[], tuple[Pax8Client, HaloClient]]:
    """Clients wired in-process to simulators of the scenario, with no rate limits."""
    scenario = load_scenario(scenario_path)
    sims = build_simulators(scenario, rate_limits=False)
    credentials = {source: scenario.credentials_for(source) for source in ("pax8", "halo")}
    return lambda: sandbox_clients(in_process_transports(sims), credentials)


def demo_connections(scenario_path: Path = BUNDLED_DEMO) -> Connections:
    """The sandbox's connections as the Settings screen shows them, tested in-process: Pax8's
    and Xero's secrets and QuickBooks' refresh token in a keyring kept in memory, HaloPSA's
    from the environment, and a minimum of an hour between syncs."""
    scenario = load_scenario(scenario_path)
    sims = build_simulators(scenario, rate_limits=False)
    settings = Settings(path=Path("sandbox-config.toml"))  # never written
    settings.pax8.url, settings.pax8.client_id = "http://pax8.sandbox/v1", "sandbox"
    settings.halo.url, settings.halo.client_id = "http://halo.sandbox", "sandbox"
    settings.halo.auth_url = "http://halo.sandbox/auth"
    settings.qbo.url, settings.qbo.client_id = "http://qbo.sandbox", "sandbox"
    settings.qbo.realm_id = scenario.credentials_for("qbo").get("realm_id", "sandbox")
    settings.xero.url, settings.xero.client_id = "http://xero.sandbox", "sandbox"
    settings.xero.identity_url = "http://xero.sandbox/identity"
    settings.sync.min_interval_minutes = 60
    credentials = {s: scenario.credentials_for(s) for s in ("pax8", "halo", "qbo", "xero")}
    env = {"TRUEUP_HALO_CLIENT_SECRET": credentials["halo"]["client_secret"]}
    secrets = Secrets(settings, env=env, store=KeyringStore(MemoryKeyring()))
    secrets.save_client_secret("pax8", "sandbox", credentials["pax8"]["client_secret"])
    secrets.save_client_secret("qbo", "sandbox", credentials["qbo"]["client_secret"])
    secrets.save_client_secret("xero", "sandbox", credentials["xero"]["client_secret"])
    first_token = credentials["qbo"].get("refresh_token", "sandbox")
    secrets.refresh_tokens(settings.qbo.realm_id).save(first_token)
    return Connections(settings, secrets=secrets, transports=in_process_transports(sims))


def demo_sinks(scenario_path: Path = BUNDLED_DEMO) -> SandboxSinks:
    """Posting into in-process simulators of the scenario, with no rate limits."""
    scenario = load_scenario(scenario_path)
    sims = build_simulators(scenario, rate_limits=False)
    credentials = {s: scenario.credentials_for(s) for s in ("halo", "qbo", "xero")}
    urls = {"halo": "http://halo.sandbox", "halo_auth": "http://halo.sandbox/auth",
            "qbo": "http://qbo.sandbox", "xero": "http://xero.sandbox",
            "xero_identity": "http://xero.sandbox/identity"}  # fmt: skip
    return SandboxSinks(urls, credentials, transports=in_process_transports(sims))


async def demo_store(path: Path) -> Workbench:
    """A demo store at `path`, synced, with the surest suggestions accepted and the books'
    lists read (none of their suggestions accepted)."""
    today = load_scenario(BUNDLED_DEMO).as_of.date()
    db = open_database(path)
    clients = demo_clients()
    await Workbench(db, today=today, sync_clients=clients).syncing.run()
    Workbench(db, today=today, threshold=99).mappings.accept_company_suggestions()
    Workbench(db, today=today, threshold=95).mappings.accept_product_suggestions()
    # The morning after the sync, as the operator would look at it.
    later = datetime.now(UTC) + timedelta(hours=9)
    workbench = Workbench(
        db,
        today=today,
        sync_clients=clients,
        clock=lambda: later,
        connections=demo_connections(),
        sinks=demo_sinks(),
    )
    for books in ("qbo", "xero"):  # their lists, as `trueup demo` reads them when it starts
        await workbench.refresh_books(books)
    return workbench
