"""`trueup`, `trueup tui` and the workbench half of `trueup demo`: opening the Textual app."""

from __future__ import annotations

import os
import sys
from datetime import date
from typing import TYPE_CHECKING

import typer

from trueup.cli import render
from trueup.core.service.mappings import MATCH_THRESHOLD, HaloFactory
from trueup.core.service.posting import SinkFactory, configured_sinks
from trueup.core.service.stores import Database
from trueup.core.service.syncing import SyncClients
from trueup.core.service.workbench import Workbench
from trueup.core.settings.clients import configured_clients, halo_from_settings
from trueup.core.settings.config import load_settings, today
from trueup.core.settings.connections import Connections

if TYPE_CHECKING:
    from trueup.cli import State


def run_tui(state: State, *, mouse: bool) -> None:
    """The workbench on the configured store. The clients (and posting's sinks) are built when a
    sync (or a post) starts, so a store can be reviewed before (or without) connecting."""
    why = cannot_draw()
    if why is not None:
        render.fail(f"{why}: `trueup status` prints what the store holds instead")
        raise typer.Exit(1)
    settings = load_settings(state.config_path)
    db = state.open_db(existing=False)  # a new install syncs from the workbench (s)
    try:
        open_workbench(
            db,
            day=today(),
            sync_clients=lambda: configured_clients(settings),
            halo=lambda: halo_from_settings(settings),  # without Pax8 configured, too
            sinks=configured_sinks(settings),
            connections=Connections(settings),
            mouse=mouse,
            threshold=settings.mapping.threshold,
        )
    finally:
        db.dispose()


def open_workbench(
    db: Database,
    *,
    day: date,
    sync_clients: SyncClients,
    mouse: bool,
    sinks: SinkFactory | None = None,
    halo: HaloFactory | None = None,
    connections: Connections | None = None,
    threshold: int = MATCH_THRESHOLD,
    sync_on_start: bool = False,
) -> None:
    from trueup.tui.app import make_app  # Textual loads only for the workbench

    workbench = Workbench(
        db,
        today=day,
        threshold=threshold,
        sync_clients=sync_clients,
        sinks=sinks,
        halo=halo,
        connections=connections,
    )
    try:
        make_app(workbench, sync_on_start=sync_on_start).run(mouse=mouse)
    finally:
        workbench.close()


def cannot_draw() -> str | None:
    """Why the workbench cannot be drawn here, or None: stdout must be a terminal, and stderr one
    too, as Textual draws there (`trueup demo 2>demo.log` left a blank screen, the workbench in
    the log); TERM=dumb (Emacs' shell, a serial console) cannot move the cursor."""
    term = os.environ.get("TERM", "")
    if not sys.stdout.isatty():
        return "stdout is not a terminal"
    if term.lower() in ("dumb", "unknown"):  # as Rich reads it
        return f"TERM={term} cannot draw the workbench"
    if not sys.stderr.isatty():
        return "stderr is not a terminal, and the workbench draws there"
    return None
