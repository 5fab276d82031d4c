"""Shared fixtures. `template`: the synced demo store with the surest suggestions accepted,
built once per module that asks for it; `db`: a fresh copy of it per test. A module may define
its own `db` or `template`, which then wins."""

import asyncio
import shutil

import pytest

from trueup.core.db import open_database
from trueup.tui.screenshots import demo_store


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    asyncio.run(demo_store(path)).db.dispose()
    return path


@pytest.fixture
def db(template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(template, path)
    database = open_database(path)
    yield database
    database.dispose()
