"""The month ledger from the command line, against `trueup sandbox serve`: what the simulators
hold afterwards, read back through their own APIs, is the judge."""

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A store synced from the demo, Halo and QuickBooks mappings accepted, batch approved."""
    workdir = tmp_path_factory.mktemp("ledger")
    return workdir, *post_crash.prepare(workdir, "qbo")


def test_a_month_posted_to_halo_is_refused_for_quickbooks_and_nothing_is_created(
    prepared, tmp_path
):
    _, template, batch_id = prepared
    db = tmp_path / "store.sqlite"
    db.write_bytes(template.read_bytes())
    sandbox = post_crash.Sandbox(tmp_path, None)  # fresh simulators, fresh QuickBooks tokens
    try:
        halo = sandbox.run(db, "post", batch_id, "--to", "halo-invoice", "--yes")
        assert halo.returncode == 0, halo.stderr
        posted = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
        assert posted
        qbo = sandbox.run(db, "post", batch_id, "--to", "qbo", "--yes")
        assert qbo.returncode == 1
        assert "already posted to halo-invoice as TU2611-" in qbo.stderr
        assert f"trueup void {batch_id} --to halo-invoice --client" in qbo.stderr
        assert "nothing to post: none of the" in qbo.stderr
        assert asyncio.run(post_crash.remote_documents(sandbox.env, "qbo")) == []
        again = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
        assert sorted(again) == sorted(posted)
    finally:
        sandbox.close()
