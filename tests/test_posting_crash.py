"""kill -9 of `trueup post` at a journal commit and mid-request, against `trueup sandbox serve`:
after a resume every approved invoice exists exactly once in Halo and the journal agrees.
bench/post_crash.py sweeps 100+ points the same way; these are a sample kept in CI."""

import asyncio
import sys
from datetime import date
from pathlib import Path

import pytest

from tools.demo_workbench import demo_store
from trueup.core.batch.approval import approve
from trueup.core.batch.build import build_batch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash


@pytest.fixture(scope="module")
def approved_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("crash") / "template.sqlite"
    workbench = asyncio.run(demo_store(path))
    batch = build_batch(workbench.db, "2026-11", today=date(2026, 11, 21))
    assert approve(workbench.db, batch.batch_id).approved
    workbench.db.dispose()
    return path, batch.batch_id


@pytest.mark.parametrize("point", ["sending#1", "answer#3"])
def test_killed_post_resumes_with_no_duplicate_and_no_loss(approved_store, point):
    template, batch_id = approved_store
    outcome = post_crash.sweep_one(template, batch_id, "halo-invoice", point, None)
    assert outcome.killed, f"{point} was never reached"
    assert (outcome.duplicates, outcome.lost, outcome.journal_disagrees) == (0, 0, 0), outcome


@pytest.fixture(scope="module")
def approved_for_xero(tmp_path_factory):
    """The demo synced through `trueup sandbox serve`, mapped to Xero, batch approved."""
    return post_crash.prepare(tmp_path_factory.mktemp("xero-crash"), "xero")


@pytest.mark.parametrize("point", ["sending#1", "answer#4", "posted#1"])
def test_killed_xero_post_resumes_with_no_duplicate_and_no_loss(approved_for_xero, point):
    template, batch_id = approved_for_xero
    outcome = post_crash.sweep_one(template, batch_id, "xero", point, None)
    assert outcome.killed, f"{point} was never reached"
    assert (outcome.duplicates, outcome.lost, outcome.journal_disagrees) == (0, 0, 0), outcome
