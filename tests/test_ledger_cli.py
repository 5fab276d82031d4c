"""The month ledger from the command line, against `trueup sandbox serve`: what the simulators
hold afterwards, read back through their own APIs, is the judge."""

import asyncio
import json
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash

from other_process import posting_elsewhere


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A store synced from the demo, Halo and QuickBooks mappings accepted, batch approved."""
    workdir = tmp_path_factory.mktemp("ledger")
    return workdir, *post_crash.prepare(workdir, "qbo")


@pytest.fixture
def served(prepared, tmp_path):
    """A copy of the prepared store, fresh simulators (fresh QuickBooks tokens) and its batch."""
    _, template, batch_id = prepared
    db = tmp_path / "store.sqlite"
    db.write_bytes(template.read_bytes())
    sandbox = post_crash.Sandbox(tmp_path, None)
    yield sandbox, db, batch_id
    sandbox.close()


def test_a_month_posted_to_halo_is_refused_for_quickbooks_and_nothing_is_created(served):
    sandbox, db, batch_id = served
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


def test_the_month_ledger_and_the_batches_say_what_was_posted_where(served):
    sandbox, db, batch_id = served
    status = json.loads(sandbox.run(db, "status", "--json").stdout)
    assert [b["batch_id"] for b in status["open_batches"]] == [batch_id]  # approved, unposted
    assert sandbox.run(db, "post", batch_id, "--to", "halo-invoice", "--yes").returncode == 0
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)  # 21 Nov: November
    batches = json.loads(sandbox.run(db, "batches", "--json").stdout)["batches"]
    status = json.loads(sandbox.run(db, "status", "--json").stdout)
    listing = sandbox.run(db, "month").stdout.splitlines()
    assert ledger["month"] == "2026-11" and ledger["batch_id"] == batch_id
    clients = {c["client_id"]: c for c in ledger["clients"]}
    posted = {cid: c for cid, c in clients.items() if c["state"] == "posted"}
    by_reference = {reference: (document_id, total) for reference, document_id, total in remote}
    assert len(posted) == len(remote) > 0
    for client in posted.values():
        (posting,) = client["postings"]
        assert posting["destination"] == "halo-invoice" and posting["state"] == "posted"
        document_id, total = by_reference[posting["reference"]]
        assert posting["document_id"] == document_id
        assert posting["amount"] == client["total"] == client["posted_total"] == f"{total:.2f}"
        assert client["difference"] == "0.00"
    assert {c["state"] for c in clients.values()} - {"posted"} <= {"draft", "held", "ready"}
    assert ledger["totals"]["by_state"]["posted"] == len(posted)
    (batch,) = [b for b in batches if b["batch_id"] == batch_id]
    assert batch["posted"] == batch["approved"] == len(posted) and batch["current"]
    assert status["open_batches"] == []  # every approved invoice is posted
    assert listing[0] == f"Month 2026-11 · batch {batch_id} · {len(clients)} clients"


def test_a_month_names_its_batch_and_a_void_by_month_shows_the_chain(served):
    sandbox, db, _ = served
    posted = sandbox.run(db, "post", "2026-11", "--to", "halo-invoice", "--yes", "--json")
    assert posted.returncode == 0, posted.stderr
    client = json.loads(posted.stdout)[0]["client_id"]
    void = sandbox.run(db, "void", "2026-11", "--client", str(client), "--yes", "--json")
    assert void.returncode == 0, void.stderr
    assert [(e["client_id"], e["action"], e["state"]) for e in json.loads(void.stdout)] == [
        (client, "void", "POSTED")
    ]
    voided = json.loads(sandbox.run(db, "month", "--json").stdout)
    again = sandbox.run(db, "post", "2026-11", "--client", str(client), "--yes")
    assert again.returncode == 0, again.stderr
    chain = json.loads(sandbox.run(db, "month", "--json").stdout)
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    state = {c["client_id"]: c for c in voided["clients"]}[client]
    assert state["state"] == "voided" and state["posted_total"] == "0.00"
    mine = {c["client_id"]: c for c in chain["clients"]}[client]
    assert mine["state"] == "posted"
    assert [(p["reference"], p["state"]) for p in mine["postings"]] == [
        (f"TU2611-{client}", "voided"),
        (f"TU2611-{client}-2", "posted"),
    ]
    live = {reference for reference, _, _ in remote}
    assert f"TU2611-{client}-2" in live and f"TU2611-{client}" not in live


def test_an_unknown_batch_or_client_is_named_not_passed_over(served):
    sandbox, db, batch_id = served
    for args in (("journal", "nope"), ("void", "nope", "--yes"), ("approve", "nope")):
        result = sandbox.run(db, *args)
        assert result.returncode == 1, args
        assert "no batch nope; `trueup batches` lists them" in result.stderr, args
    post = sandbox.run(db, "post", batch_id, "--client", "99999", "--yes")
    assert post.returncode == 1
    assert f"batch {batch_id} has no invoice for client(s) 99999" in post.stderr
    level = sandbox.run(db, "log", "--level", "BOGUS")
    assert level.returncode == 2 and "'BOGUS' is not one of INFO, WARNING, ERROR" in level.stderr
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice")) == []


def test_a_second_post_is_refused_before_it_writes_to_the_journal(served):
    sandbox, db, batch_id = served
    with posting_elsewhere(db):
        result = sandbox.run(db, "post", batch_id, "--yes")
    assert result.returncode == 1
    assert "another `trueup post` is running on this store" in result.stderr
    assert "Traceback" not in result.stderr and "UNIQUE" not in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM posting_entry").fetchone() == (0,)
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice")) == []
