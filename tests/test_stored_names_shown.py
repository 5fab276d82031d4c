"""A batch built, approved and posted before bcb6310 holds the names and descriptions the
sources sent, zero width spaces and bidi overrides included, pinned by sha256 in its texts and
its journal. The readers that turn them into rows for people write them out (`trueup month`,
`journal`, `batch show`, the invoice the workbench opens, the posting plan); the JSON, the stored
bytes and what was sent stay as they were."""

import asyncio
import html
import json
import sqlite3

import pytest
from typer.testing import CliRunner

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from test_posting import TODAY, FakeSink, post
from trueup.cli import app, render
from trueup.core.batch.approval import approve
from trueup.core.batch.build import build_batch
from trueup.core.batch.reading import batch_invoice, batch_overview, client_invoice
from trueup.core.batch.stored import batch_bytes, load_batch
from trueup.core.posting.plan import plan_posting, queue_void
from trueup.core.posting.run import run_posting

ZWSP, RLO = "\u200b", "\u202e"  # as the sync before bcb6310 stored them
RAW = (ZWSP, RLO)
KEPT = ("posting_entry", "approval", "invoice_batch", "batch_invoice", "batch_invoice_text")


@pytest.fixture
def posted(db, tmp_path, monkeypatch):
    """The demo's November, its client and product names poisoned as an old sync stored
    them, built, approved and posted (to a fake Halo) on them."""
    return _poisoned_and_posted(db, tmp_path, monkeypatch)


@pytest.fixture
def posted_after_october(db, tmp_path, monkeypatch):
    """As `posted`, October's batch built first: November's then says who moved against it."""
    build_batch(db, "2026-10", today=TODAY)
    return _poisoned_and_posted(db, tmp_path, monkeypatch)


def _poisoned_and_posted(db, tmp_path, monkeypatch):
    with db.write() as conn:
        conn.exec_driver_sql("UPDATE halo_client SET name = ? || name || ?", (ZWSP, RLO))
        conn.exec_driver_sql("UPDATE pax8_product SET name = name || ?", (ZWSP,))
    batch = build_batch(db, "2026-11", today=TODAY)
    approved = approve(db, batch.batch_id, by="alice").approved
    sink = FakeSink()
    assert post(db, batch, sink).complete and approved
    # One voided: the journal names it twice.
    assert queue_void(db, batch.batch_id, sink.destination, approved[-1:], by="bob") == 1
    assert asyncio.run(run_posting(db, sink, batch.batch_id, action="void")).complete
    for name, value in {
        "TRUEUP_DB": str(db.path),
        "TRUEUP_CONFIG": str(tmp_path / "config.toml"),
        "TRUEUP_TODAY": TODAY.isoformat(),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(render.stdout, "_width", 200)
    return batch, approved, sink


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _kept(db) -> dict:
    with sqlite3.connect(db.path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in KEPT}


def test_names_from_old_batches_and_the_journal_are_written_out_for_people(db, posted):
    batch, approved, sink = posted
    before, body = _kept(db), batch_bytes(db, batch.batch_id)
    raw_names = {i["client_id"]: i["client_name"] for i in batch.body["invoices"]}
    assert all(n.startswith(ZWSP) and n.endswith(RLO) for n in raw_names.values())

    commands = (
        ("month", "--month", "2026-11"),
        ("journal", batch.batch_id),
        ("batch", "show", batch.batch_id),
    )
    shown = {args[0]: _run(*args) for args in commands}
    assert [name for name, out in shown.items() if any(c in out for c in RAW)] == []
    assert all("\\u200b" in out and "\\u202e" in out for out in shown.values())

    # The JSON prints the names as built and sent.
    ledger = json.loads(_run("month", "--month", "2026-11", "--json"))
    assert ledger["batch_id"] == batch.batch_id
    assert {c["client_id"]: c["client_name"] for c in ledger["clients"]} == raw_names
    journal = json.loads(_run("journal", batch.batch_id, "--json"))
    assert {e["client_id"] for e in journal} == set(approved)
    assert all(e["client_name"] == raw_names[e["client_id"]] for e in journal)
    shown_json = _run("batch", "show", batch.batch_id, "--json")
    assert json.loads(shown_json) == batch.body and ZWSP in shown_json and RLO in shown_json

    # The invoice the workbench opens: its name and its lines' descriptions written out.
    client = approved[0]
    (row,) = [r for r in batch_overview(db, batch.batch_id).invoices if r.client_id == client]
    view = batch_invoice(db, batch.batch_id, row)
    assert row.client_name == view.client_name
    assert view.client_name == raw_names[client].replace(ZWSP, "\\u200b").replace(RLO, "\\u202e")
    assert view.lines and all(
        "\\u200b" in line.description for line in view.lines if line.kind == "subscription"
    )
    assert not any(c in line.description for line in view.lines for c in RAW)

    # What was posted, and what posting and the evidence pack read, is the batch's text as it is.
    assert client_invoice(db, batch.batch_id, client).client_name == raw_names[client]
    stored = load_batch(db, batch.batch_id).by_client[client]
    assert stored.client_name == raw_names[client]
    assert any(ZWSP in line.description for line in stored.lines)
    _, document = sink.documents[next(iter(sink.documents))]
    assert document.client_name in raw_names.values()
    assert any(ZWSP in line.description for line in document.lines)
    # The plan's rows are written out; the documents it would send are not.
    plan = plan_posting(db, batch.batch_id, "qbo", today=TODAY)
    planned = plan.ready + plan.done + plan.blocked
    assert planned and not any(c in p.client_name for p in planned for c in RAW)
    assert all(p.document.client_name in raw_names.values() for p in plan.ready if p.document)

    assert _kept(db) == before and batch_bytes(db, batch.batch_id) == body


def _seen(raw: str) -> str:
    return raw.replace(ZWSP, "\\u200b").replace(RLO, "\\u202e")


def test_the_summary_writes_out_the_names_it_reads_from_an_old_batch(db, posted_after_october):
    """`trueup summary` (text, md, html; the workbench's Summary shares the text's tables):
    the movers, the errors let through and the voided, each named as the batch holds it."""
    batch, _, _ = posted_after_october
    reason = f"mapped {ZWSP}next{RLO} month"
    assert approve(db, batch.batch_id, overrides=[("UNMAPPED_SKU", reason)], by="carol").approved
    before = _kept(db)

    as_json = json.loads(_run("summary", "--month", "2026-11", "--json"))
    assert as_json["movers"] and as_json["overrides"] and as_json["voided"]
    named = [
        row["client_name"] for key in ("movers", "overrides", "voided") for row in as_json[key]
    ]
    # The JSON names them as the batch holds them.
    raw_names = {i["client_name"] for i in batch.body["invoices"]}
    assert set(named) <= raw_names and all(ZWSP in n and RLO in n for n in named)

    for fmt in ("text", "md", "html"):
        shown = _run("summary", "--month", "2026-11", "--format", fmt)
        shown = html.unescape(shown) if fmt == "html" else shown
        assert not any(c in shown for c in RAW), fmt
        missing = [n for n in named if _seen(n) not in shown.replace("\\\\", "\\")]
        assert missing == [], fmt
    assert json.loads(_run("summary", "--month", "2026-11", "--json")) == as_json
    assert _kept(db) == before
