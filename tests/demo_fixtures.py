"""The synced demo store as fixtures: `template` (the demo synced, the surest suggestions
accepted) is built once per module, `db` is a fresh copy of it per test. A module uses them by
importing `demo_template` and `demo_db` (the fixtures keep their short names)."""

import asyncio
import shutil

import pytest

from tools.demo_workbench import demo_store
from trueup.core.store.database import open_database


@pytest.fixture(scope="module", name="template")
def demo_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    asyncio.run(demo_store(path)).db.dispose()
    return path


@pytest.fixture(name="db")
def demo_db(template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(template, path)
    database = open_database(path)
    yield database
    database.dispose()
