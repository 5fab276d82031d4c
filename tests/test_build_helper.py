"""The workbench's batch helper (core.build_helper): a spawned process that builds and stores
large batches as `trueup batch` does, since the workbench's threads rule out forking it."""

from datetime import date

import pytest

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch import build as batch_module
from trueup.core.batch import split as batch_split
from trueup.core.batch.build import BatchError, build_batch, load_batch
from trueup.core.batch.helper import BuildHelper
from trueup.core.service.workbench import Workbench

TODAY = date(2026, 11, 21)


@pytest.fixture
def helper(db):
    started = BuildHelper(db.path)
    yield started
    started.close()


def test_the_helper_builds_and_stores_the_batch_this_process_would(db, helper):
    expected = batch_module._built(db, "2026-11", None, TODAY, split=False)
    batch_id = helper.build("2026-11", None, TODAY)
    assert batch_id == expected[0].batch_id
    assert load_batch(db, batch_id).body == build_batch(db, "2026-11", today=TODAY).body
    with db.read() as conn:
        stored = conn.exec_driver_sql("SELECT body FROM invoice_batch WHERE id = ?", (batch_id,))
        assert stored.scalar() == expected[1].decode()
    assert helper.build("2026-10", None, TODAY) is not None  # the same helper, kept for the next


def test_an_error_of_the_build_is_raised_as_it_was(helper):
    with pytest.raises(BatchError, match="no Halo client 999999"):
        helper.build("2026-11", [999999], TODAY)
    assert helper.build("2026-11", None, TODAY) is not None  # the helper lives on


def test_a_helper_that_cannot_work_means_the_caller_builds(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    helper = BuildHelper(not_a_folder / "store.sqlite")  # it cannot open the store: it ends
    try:
        assert helper.build("2026-11", None, TODAY) is None
    finally:
        helper.close()


def test_the_workbench_builds_large_batches_through_its_helper(db, monkeypatch):
    monkeypatch.setattr(batch_split, "SPLIT_FROM", 1)  # the demo's dozens of clients are large
    workbench = Workbench(db, today=TODAY, batch_helper=True)
    calls = []
    build = BuildHelper.build

    def counted(self, *args):
        calls.append(args)
        return build(self, *args)

    monkeypatch.setattr(BuildHelper, "build", counted)
    try:
        workbench.batches.start_helper()
        overview = workbench.batches.rebuild("2026-11")
        assert calls == [("2026-11", None, TODAY)]
        assert overview.batch_id == build_batch(db, "2026-11", today=TODAY).batch_id
        # stored: no new build
        assert workbench.batches.current("2026-11").batch_id == overview.batch_id
        assert len(calls) == 1
    finally:
        workbench.close()
