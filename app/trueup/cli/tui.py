"""`trueup`, `trueup tui` and the workbench half of `trueup demo`: opening the Textual app."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from trueup.core.mapping.engine import MATCH_THRESHOLD
from trueup.core.posting.configured import open_sink
from trueup.core.service.workbench import SinkFactory, SyncClients, Workbench
from trueup.core.settings.clients import halo_from_settings, pax8_from_settings
from trueup.core.settings.config import load_settings, today
from trueup.core.settings.connections import Connections
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store.database import Database

if TYPE_CHECKING:
    from trueup.cli import State


def run_tui(state: State, *, mouse: bool) -> None:
    """The workbench on the configured store. The clients (and posting's sinks) are built when a
    sync (or a post) starts, so a store can be reviewed before (or without) connecting."""
    settings = load_settings(state.config_path)

    def configured_clients() -> tuple[Pax8Client, HaloClient]:
        return pax8_from_settings(settings), halo_from_settings(settings)

    db = state.open_db()
    try:
        open_workbench(
            db,
            day=today(),
            sync_clients=configured_clients,
            sinks=lambda destination: open_sink(destination, settings),
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
        connections=connections,
        batch_helper=True,
    )
    workbench.start_batch_helper()
    try:
        make_app(workbench, sync_on_start=sync_on_start).run(mouse=mouse)
    finally:
        workbench.close()
