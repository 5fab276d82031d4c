"""A synced demo store for every workbench test, built once per worker and copied per test.

The store is the bundled demo synced in-process, with the surest suggestions accepted (as the
screenshots use it); its sync times are pinned so that the tiles read "9h ago" and "3 days
ago" against a frozen clock, and the local time zone is UTC so the times shown never move.
"""

import asyncio
import os
import shutil
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update
from textual.widgets import Input

from tools.demo_workbench import demo_clients, demo_store
from trueup.core.service.workbench import Workbench
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.tui.app import TrueupApp, make_app

TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
SYNCED = {
    "pax8": datetime(2026, 11, 21, 0, 12, tzinfo=UTC),  # 9h before NOW
    "halo": datetime(2026, 11, 18, 8, 0, tzinfo=UTC),  # 3 days before NOW
}


@pytest.fixture(scope="session", autouse=True)
def utc_local_time():
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


@pytest.fixture(autouse=True)
def still_terminal(monkeypatch):
    """No animation and a cursor that does not blink: the same frame every run."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "demo.sqlite"
    workbench = asyncio.run(demo_store(path))
    runs = m.table_of(m.SyncRun)
    with workbench.db.write() as conn:
        for source, ended in SYNCED.items():
            conn.execute(
                update(runs).where(runs.c.source == source).values(started_at=ended, ended_at=ended)
            )
    workbench.db.dispose()
    return path


@pytest.fixture
def store(demo_template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    database = open_database(path)
    yield database
    database.dispose()


@pytest.fixture
def workbench_with(store):
    """A workbench on this test's store, frozen in time, syncing from the given clients."""
    return lambda sync_clients: Workbench(
        store, today=TODAY, sync_clients=sync_clients, clock=lambda: NOW
    )


@pytest.fixture
def workbench(workbench_with):
    return workbench_with(demo_clients())


@pytest.fixture
def app(workbench) -> TrueupApp:
    return make_app(workbench)
