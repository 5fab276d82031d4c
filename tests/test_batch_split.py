"""A large batch is billed by two processes, half the clients each (core.forked): the bytes are
those of the batch built in one process, whatever happens to the second one."""

import dataclasses
import os
import tempfile
import time
from datetime import date

import pytest

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch import build as batch_module
from trueup.core.batch import split as batch_split
from trueup.core.batch.build import build_batch
from trueup.core.batch.forked import forked
from trueup.core.rules.current import import_rules

TODAY = date(2026, 11, 21)


def one_process_text(db, month, clients=None):
    """The batch as one process builds it (its bytes and line digest; storing it again changes
    nothing)."""
    inputs, data, digest = batch_module._built(db, month, clients, TODAY, split=False)
    return inputs.batch_id, data.decode(), digest


@pytest.fixture
def split(monkeypatch):
    """Every batch split, even the demo's dozen clients; counts the forks."""
    forks = []

    def counted(work):
        forks.append(work)
        return forked(work)

    monkeypatch.setattr(batch_split, "SPLIT_FROM", 1)
    monkeypatch.setattr(batch_module, "can_fork", lambda: True)
    monkeypatch.setattr(batch_split, "forked", counted)
    return forks


@pytest.mark.parametrize("month", ["2026-10", "2026-11"])
def test_two_processes_give_the_bytes_of_one(db, split, month):
    import_rules(db, '[defaults]\nproration = "max"\nusage_month_offset = -1\n')
    expected = one_process_text(db, month)
    built = build_batch(db, month, today=TODAY, by="test")
    assert len(split) == 1
    assert (built.batch_id, built.text, built.line_digest) == expected
    assert [i["client_name"].casefold() for i in built.body["invoices"]] == sorted(
        i["client_name"].casefold() for i in built.body["invoices"]
    )


def test_some_clients_split_too(db, split):
    with db.read() as conn:
        clients = [row[0] for row in conn.exec_driver_sql("SELECT id FROM halo_client LIMIT 5")]
    expected = one_process_text(db, "2026-11", clients)
    built = build_batch(db, "2026-11", clients=clients, today=TODAY, by="test")
    assert len(split) == 1 and (built.batch_id, built.text, built.line_digest) == expected


def test_a_failed_second_process_is_redone_in_this_one(db, split, monkeypatch):
    parent, billed = os.getpid(), batch_split.bill_all

    def fails_in_the_child(facts, rules):
        if os.getpid() != parent:
            raise MemoryError("the child ran out")
        return billed(facts, rules)

    monkeypatch.setattr(batch_split, "bill_all", fails_in_the_child)
    expected = one_process_text(db, "2026-11")
    built = build_batch(db, "2026-11", today=TODAY, by="test")
    assert len(split) == 1 and (built.batch_id, built.text, built.line_digest) == expected


def test_a_store_that_moved_on_is_read_again_in_one_process(db, split, monkeypatch):
    """Each process reads in its own transaction: unless both find the inputs the batch is
    named by, neither share is used. Here the store "moves on" after the batch is named."""
    expected = one_process_text(db, "2026-11")
    named, reads = batch_module.batch_inputs, []

    def moved_on_after_the_first_read(conn, *args):
        inputs = named(conn, *args)
        reads.append(inputs)
        if len(reads) > 1:
            return inputs
        return dataclasses.replace(inputs, mapping_change=(inputs.mapping_change or 0) + 1)

    monkeypatch.setattr(batch_module, "batch_inputs", moved_on_after_the_first_read)
    built = build_batch(db, "2026-11", today=TODAY, by="test")
    assert len(split) == 1 and len(reads) == 3  # named, refused by the share, named again
    assert (built.batch_id, built.text, built.line_digest) == expected


def test_forked_returns_the_childs_bytes_or_none():
    with forked(lambda sink: sink.write(b"half a batch")) as result:
        assert result() == b"half a batch"

    def fails(sink):
        sink.write(b"half a")
        raise ValueError("no")

    with forked(fails) as result:
        assert result() is None


def test_forked_ends_a_child_whose_result_is_not_wanted(monkeypatch):
    children, fork = [], os.fork

    def recorded():
        pid = fork()
        children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded)
    with pytest.raises(RuntimeError), forked(lambda sink: time.sleep(60)):
        raise RuntimeError("the parent's own share failed")
    (child,) = children
    with pytest.raises(ChildProcessError):  # ended and reaped: no such child any more
        os.waitpid(child, os.WNOHANG)


def test_no_process_to_be_had_means_none(monkeypatch):
    def refused():
        raise BlockingIOError("fork: Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    with forked(lambda sink: sink.write(b"never")) as result:
        assert result() is None


def test_no_file_for_the_result_means_none(monkeypatch):
    def full_disk():
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", full_disk)
    with forked(lambda sink: sink.write(b"never")) as result:
        assert result() is None
