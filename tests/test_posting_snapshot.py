"""What posting sends, pinned: the demo month's approval fingerprints, every destination's
documents, the lapsed approvals' changes, the adjustments after a rules change and the month
ledger, as they were when posting still read the invoices as JSON values (issue 16: typed rows
past the JSON boundary must send the same bytes, and an approval given before must still hold).

`tests/files/demo_posting_snapshot.json` was written by `snapshot` with the posting code that
read JSON values. Write it again (from tests/: `PYTHONPATH=../app:.. python -c 'import
test_posting_snapshot as t; t.write()'`) when a new ENGINE bills the demo otherwise, with the
posting code as it was, or for a change that means to send other documents.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import asdict, fields
from datetime import date
from pathlib import Path
from typing import Any

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.approval import approval_states, approve, approved_fingerprints
from trueup.core.batch.build import build_batch
from trueup.core.batch.review import set_invoice_state, standing_codes
from trueup.core.batch.stored import ENGINE, load_batch
from trueup.core.ledger.month import ledger_json, month_ledger
from trueup.core.mapping.books.engine import accept_book_suggestions
from trueup.core.mapping.books.reading import QBO, XERO
from trueup.core.posting.adjustment_plan import plan_adjustments
from trueup.core.posting.plan import Planned, PostingPlan, plan_posting, queue_posting
from trueup.core.posting.run import run_posting
from trueup.core.posting.sink import DESTINATIONS, Posted
from trueup.core.rules.current import import_rules
from trueup.core.store.database import Database, open_database
from trueup.core.values.months import Month

TODAY = date(2026, 11, 21)
MONTH = "2026-11"
SNAPSHOT = Path(__file__).parent / "files" / "demo_posting_snapshot.json"


class Keeper:
    """A destination that takes every document."""

    destination = "halo-invoice"
    batch_size = 10

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    async def lookup(self, documents):
        return {}

    async def create(self, documents):
        for document in documents:
            self.ids[document.reference] = f"K{len(self.ids) + 1}"
        return [Posted(self.ids[d.reference]) for d in documents]

    async def void(self, document, posted):
        pass


def snapshot(db: Database) -> dict[str, Any]:
    for books in (QBO, XERO):
        accept_book_suggestions(db, books, min_score=80)
    batch = build_batch(db, MONTH, today=TODAY)
    found: dict[str, Any] = {"engine": ENGINE, "batch_id": batch.batch_id}
    held = batch.body["invoices"][0]["client_id"]
    set_invoice_state(db, batch.batch_id, held, "held", by="snap")
    codes = [(c.code, "pinned by the snapshot") for c in standing_codes(db, batch.batch_id)]
    result = approve(db, batch.batch_id, overrides=codes, by="snap")
    found["approved"] = result.approved
    found["skipped"] = [asdict(s) for s in result.skipped]
    with db.read() as conn:
        found["fingerprints"] = {
            str(c): f for c, f in approved_fingerprints(conn, batch.batch_id).items()
        }
    found["plans"] = {
        destination: _plan(plan_posting(db, batch.batch_id, destination, today=TODAY))
        for destination in DESTINATIONS
    }
    found["ledger"] = _ledger(db)
    plan = plan_posting(db, batch.batch_id, "halo-invoice", today=TODAY)
    queue_posting(db, plan, by="snap")
    asyncio.run(run_posting(db, Keeper(), batch.batch_id, backup=False))
    import_rules(db, '[defaults]\nmarkup_percent = "5"\nprice = "markup"\n')
    found["lapsed"] = [
        [s.client_id, s.client_name, s.status, list(s.changes)]
        for s in approval_states(db, batch.batch_id, today=TODAY)
    ]
    again = build_batch(db, MONTH, today=TODAY)
    found["adjustments"] = _plan(plan_adjustments(db, again.batch_id, "halo-invoice"))
    found["ledger_after"] = _ledger(db)
    return found


def _plan(plan: PostingPlan) -> dict[str, Any]:
    sections = {"ready": plan.ready, "done": plan.done, "blocked": plan.blocked}
    return {
        "totals": {c: str(t) for c, t in plan.totals().items()},
        **{name: [_planned(p) for p in planned] for name, planned in sections.items()},
    }


def _planned(planned: Planned) -> dict[str, Any]:
    document = planned.document
    return {
        **{f.name: getattr(planned, f.name) for f in fields(planned) if f.name != "document"},
        "total": str(planned.total),
        "document": None if document is None else _sha(document.to_json()),
    }


def _sha(text: str) -> str:
    """A document's JSON by its hash: the file stays small, and any byte changed shows."""
    return hashlib.sha256(text.encode()).hexdigest()


def _ledger(db: Database) -> dict[str, Any]:
    found = ledger_json(month_ledger(db, Month(MONTH), today=TODAY))
    for client in found["clients"]:
        for posting in client["postings"]:
            posting.pop("at")  # when it was sent
    return found


def _canonical(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def test_posting_sends_what_it_sent_when_it_read_json(db) -> None:
    pinned = json.loads(SNAPSHOT.read_text())
    assert pinned["engine"] == ENGINE, "the engine bills the demo otherwise: write the file again"
    assert _canonical(snapshot(db)) == pinned


def test_the_typed_rows_read_every_key_of_the_json_and_its_text(db) -> None:
    """A key the batch JSON gains must reach the typed rows (or posting would never see it), and
    a typed figure prints as the JSON wrote it (approval's changes and the log quote them)."""
    from trueup.core.batch.body import InvoiceFigures  # here: `write` runs on the code before

    stored = load_batch(db, build_batch(db, MONTH, today=TODAY).batch_id)
    assert set(stored.body["invoices"][0]) == {f.name for f in fields(InvoiceFigures)} | {
        "anomalies",
        "lines",
    }
    for invoice, typed in zip(stored.body["invoices"], stored.invoices, strict=True):
        assert str(typed.total) == invoice["total"] and typed.client_id == invoice["client_id"]
        for line, view in zip(invoice["lines"], typed.lines, strict=True):
            assert set(line) == {f.name for f in fields(view)}
            for name, value in line.items():
                if name != "anomalies" and value is not None:
                    assert str(getattr(view, name)) == value, (name, value)


def write() -> None:  # pragma: no cover - by hand, see the module's docstring
    import tempfile

    from tools.demo_workbench import demo_store

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.sqlite"
        asyncio.run(demo_store(path)).db.dispose()
        db = open_database(path)
        try:
            text = json.dumps(_canonical(snapshot(db)), indent=1, sort_keys=True)
        finally:
            db.dispose()
    SNAPSHOT.write_text(text + "\n")
