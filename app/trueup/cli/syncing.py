"""`trueup sync` and `trueup demo`: wiring clients, simulators and the store together."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime
from enum import IntEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from trueup.cli import render
from trueup.core.service.stores import Database
from trueup.core.service.syncing import SourceResult, SyncBusyError, SyncClients, Syncing
from trueup.core.settings.clients import configured_clients, loopback_clients, sandbox_clients
from trueup.core.settings.config import DEFAULT_MAX_SHRINK, ConfigError, load_settings, today
from trueup.core.settings.paths import demo_db_path
from trueup.sandbox.common import FaultSpec
from trueup.sandbox.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from trueup.cli import State

BUNDLED_DEMO = Path(__file__).resolve().parent.parent / "sandbox" / "scenarios" / "demo.json"
# A handful of the demo's clients buy Microsoft direct: their Partner Center file, imported.
BUNDLED_PARTNER_CENTER = BUNDLED_DEMO.with_name("demo-partner-center.csv")


class SyncExit(IntEnum):
    """`trueup sync`'s exit codes, for cron and systemd (2 is Typer's bad usage)."""

    OK = 0
    FAILED = 1  # a source failed, or something the user must fix
    BUSY = 3  # another sync of the same file is running: this one did nothing
    TOO_SOON = 4  # the last good sync is younger than [sync] min_interval_minutes


def run_sync(
    state: State,
    *,
    scenario_path: Path | None,
    faults: str | None,
    as_json: bool,
    quiet: bool = False,
    force: bool = False,
    accept_shrink: bool = False,
) -> SyncExit:
    """Sync from the configured services, or from in-process simulators with a scenario.

    `quiet`: nothing on success, one line on stderr otherwise (a skip for the minimum interval
    is silent: it is the schedule working); a source's warnings are said too, exit 0 (cron
    mails what is printed: an invoice read again changed a month's cost, or is still short)."""
    if faults and scenario_path is None:
        raise ConfigError("--faults works only with --sandbox")
    settings = load_settings(state.config_path)
    minutes = settings.sync.min_interval_minutes
    db = state.open_db(existing=False)  # a first sync makes the store
    try:
        last = None if force else Syncing(db, today=today()).too_soon(minutes)
        if last is not None:
            said = _too_soon(last, minutes)
            if not quiet:
                render.stderr.print(Text(said), soft_wrap=True)
            if as_json:
                render.emit_json(render.sync_json([], skipped="too_soon", said=said))
            return SyncExit.TOO_SOON
        if scenario_path is not None:
            from trueup.sandbox.serve import build_simulators, in_process_transports

            scenario = load_scenario(scenario_path)
            sims = build_simulators(scenario, faults=FaultSpec.parse(faults) if faults else None)
            transports = in_process_transports(sims)
            clients: SyncClients = partial(sandbox_clients, transports, _credentials(scenario))
            day = today(scenario.as_of.date())
        else:
            clients, day = partial(configured_clients, settings), today()
        try:
            results = _sync_with_progress(
                db,
                clients,
                day,
                show_progress=not (as_json or quiet),
                log_retention_days=settings.log.retention_days,
                max_shrink_percent=settings.sync.max_shrink_percent,
                accept_shrink=accept_shrink,
            )
        except SyncBusyError as busy:
            render.stderr.print(Text(str(busy)), soft_wrap=True)
            if as_json:
                render.emit_json(render.sync_json([], skipped="in_progress", said=str(busy)))
            return SyncExit.BUSY
    finally:
        db.dispose()
    ok = all(r.status == "ok" for r in results)
    if quiet:
        if not ok:
            render.fail("sync failed: " + "; ".join(_failures(results)))
        for result in results:
            render.sync_warnings(result)
    elif as_json:
        render.emit_json(render.sync_json(results))
    else:
        render.sync_summary(results)
    return SyncExit.OK if ok else SyncExit.FAILED


def _now() -> datetime:
    return datetime.now(UTC)


def _too_soon(last: datetime, minutes: int) -> str:
    age = int((_now() - last).total_seconds() // 60)
    return (
        f"sync skipped: the last good sync was {age} min ago ({last:%Y-%m-%d %H:%M} UTC), "
        f"under [sync] min_interval_minutes = {minutes}; --force syncs now"
    )


def _failures(results: list[SourceResult]) -> list[str]:
    return [
        f"{render.SOURCE_NAMES[r.source]} {r.status}: {r.error or 'no reason given'}"
        for r in results
        if r.status != "ok"
    ]


def run_demo(
    state: State, *, scenario_path: Path | None, faults: str | None, mouse: bool = True
) -> bool:
    """The main job: simulators on loopback for the whole session, a sync over real HTTP, and the
    workbench on it; the store's status instead when stdout is not a terminal (scripts, CI)."""
    from trueup.sandbox.serve import build_simulators, serve_in_background

    scenario = load_scenario(scenario_path or BUNDLED_DEMO)
    sims = build_simulators(scenario, faults=FaultSpec.parse(faults) if faults else None)
    if state.db_from_env:  # set for the real store: the demo's data never goes there
        from trueup.cli import State

        render.stderr.print("The demo keeps to its own store; TRUEUP_DB is left alone.")
        state = State(None, state.config_path)
    db = state.open_db(default=demo_db_path(), existing=False)
    day = today(scenario.as_of.date())
    try:
        if scenario_path is None:
            _import_bundled_file(db)
        with serve_in_background(sims) as urls:
            render.stderr.print(  # one line, for grep and copy: Rich folded it at 80 columns
                f"Sandbox serving Pax8 at {urls.pax8} and HaloPSA at {urls.halo}",
                markup=False,
                soft_wrap=True,
            )

            served = partial(
                loopback_clients, urls.pax8, urls.halo, urls.halo_auth, _credentials(scenario)
            )

            from trueup.cli.tui import cannot_draw, open_workbench

            why = cannot_draw()
            if why is None:
                from trueup.core.service.posting import SandboxSinks

                # Posting from the demo goes into its own sandbox, never a configured service;
                # the books' lists are read from it now, so their mappings can be made on screen.
                credentials = {s: scenario.credentials_for(s) for s in ("halo", "qbo", "xero")}
                _read_sandbox_books(db, urls.as_json(), credentials)
                open_workbench(
                    db,
                    day=day,
                    sync_clients=served,
                    sinks=SandboxSinks(urls.as_json(), credentials),
                    mouse=mouse,
                    sync_on_start=True,
                )
                return True
            if sys.stdout.isatty():  # a pipe gets the status, as scripts expect: nothing to say
                said = Text(f"{why}: printing what the store holds instead")
                render.stderr.print(said, soft_wrap=True)
            results = _sync_with_progress(db, served, day, show_progress=True)
        render.sync_summary(results)
        render.status_tables(Syncing(db, today=day).status())
    finally:
        db.dispose()
    return all(r.status == "ok" for r in results)


def _import_bundled_file(db: Database) -> None:
    """The bundled demo's Partner Center file (idempotent: a second demo changes nothing)."""
    from trueup.core.service.imports import Imports

    outcome = Imports(db).run(BUNDLED_PARTNER_CENTER, "partner-center")
    what = f"{outcome.rows} rows" if outcome.changed else "nothing changed"
    render.stderr.print(
        f"Imported {BUNDLED_PARTNER_CENTER.name} ({outcome.name}): {what}", markup=False
    )


def _read_sandbox_books(
    db: Database, urls: dict[str, str], credentials: dict[str, dict[str, str]]
) -> None:
    from trueup.core.service.books import BOOKS, Accounting

    for books in BOOKS.values():
        asyncio.run(Accounting(db, books).refresh_from_sandbox(urls, credentials))


def _credentials(scenario: Scenario) -> dict[str, dict[str, str]]:
    return {source: scenario.credentials_for(source) for source in ("pax8", "halo")}


def _sync_with_progress(
    db: Database,
    clients: SyncClients,
    day: date,
    *,
    show_progress: bool,
    log_retention_days: int | None = None,
    max_shrink_percent: int = DEFAULT_MAX_SHRINK,
    accept_shrink: bool = False,
) -> list[SourceResult]:
    syncing = Syncing(
        db,
        today=day,
        clients=clients,
        log_retention_days=log_retention_days,
        max_shrink_percent=max_shrink_percent,
    )

    async def go() -> list[SourceResult]:
        if not show_progress:
            return await syncing.run(accept_shrink=accept_shrink)
        with render.sync_progress() as report:
            return await syncing.run(report, accept_shrink=accept_shrink)

    return asyncio.run(go())
