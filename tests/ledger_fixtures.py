"""The month ledger's CLI tests' fixtures: `prepared` (a store synced from the demo, Halo,
QuickBooks and Xero mappings accepted, batch approved; built once per module) and `served` (a
copy of it per test, with fresh simulators). A module uses them by importing
`ledger_prepared` and `ledger_served` (the fixtures keep their short names); bench's
post_crash drives both. `rules_with` and `remote` change the rules and read a destination back."""

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash


@pytest.fixture(scope="module", name="prepared")
def ledger_prepared(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ledger")
    return workdir, *post_crash.prepare(workdir, "qbo", "xero")


@pytest.fixture(name="served")
def ledger_served(prepared, tmp_path):
    """A copy of the prepared store, fresh simulators (fresh QuickBooks tokens) and its batch."""
    _, template, batch_id = prepared
    db = tmp_path / "store.sqlite"
    db.write_bytes(template.read_bytes())
    sandbox = post_crash.Sandbox(tmp_path, None)
    yield sandbox, db, batch_id
    sandbox.close()


def rules_with(sandbox, db, tmp_path, text):
    """The rules as the store had them first, with `text` added."""
    original, path = tmp_path / "original.toml", tmp_path / "rules.toml"
    if not original.exists():
        assert sandbox.run(db, "rules", "export", str(original)).returncode == 0
    path.write_text(original.read_text() + text)
    assert sandbox.run(db, "rules", "import", str(path)).returncode == 0


def remote(sandbox, destination, prefix):
    """(reference, total) of the live documents at the destination, read over its API."""
    documents = asyncio.run(post_crash.remote_documents(sandbox.env, destination))
    return sorted((r, total) for r, _, total in documents if r.startswith(prefix))
