"""Approval and the posting journal against an in-memory destination that can lose answers,
refuse documents or be down: every approved invoice ends up there exactly once."""

import asyncio
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from rich.console import Console
from sqlalchemy import select

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from other_process import posting_elsewhere
from trueup.cli import posting as cli_posting
from trueup.core.batch.approval import approval_states, approve, revoke
from trueup.core.batch.build import build_batch
from trueup.core.batch.review import standing_codes
from trueup.core.batch.review_state import batch_approvals
from trueup.core.batch.stored import BatchError
from trueup.core.posting.plan import (
    ENTRIES,
    PostingError,
    plan_posting,
    posting_entries,
    queue_posting,
    queue_void,
)
from trueup.core.posting.run import PostingBusyError, posting_lock, run_posting
from trueup.core.posting.sink import Posted
from trueup.core.rules.current import import_rules
from trueup.core.sources.http import ApiError
from trueup.core.store import tables as m
from trueup.core.store.log_pages import log_page
from trueup.core.store.logbook import read_log
from trueup.tui.screens.post_summary import plan_text

TODAY = date(2026, 11, 21)
MONTH = "2026-11"


class FakeSink:
    """A destination keeping documents by reference. `script` lists what the next creates do:
    "ok", "lost" (created, answer lost), "down" (not reached), "refuse" (a 400)."""

    def __init__(self, destination="halo-invoice", batch_size=1, script=()):
        self.destination = destination
        self.batch_size = batch_size
        self.script = list(script)
        self.documents = {}  # reference -> (id, document)
        self.voided = set()
        self.creates = 0

    async def lookup(self, documents):
        return {
            d.reference: Posted(self.documents[d.reference][0])
            for d in documents
            if d.reference in self.documents and d.reference not in self.voided
        }

    async def create(self, documents):
        self.creates += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "down":
            raise ApiError("Fake", "network", None, "cannot reach Fake")
        if step == "refuse":
            raise ApiError("Fake", "bad_request", 400, "Fake rejected POST /invoice (400)")
        posted = []
        for document in documents:
            assert document.reference not in self.documents, "created twice"
            self.documents[document.reference] = (f"F{len(self.documents) + 1}", document)
            posted.append(Posted(self.documents[document.reference][0]))
        if step == "lost":
            raise ApiError("Fake", "network", None, "reset", ambiguous=True)
        return posted

    async def void(self, document, posted):
        self.voided.add(document.reference)


@pytest.fixture
def batch(db):
    return build_batch(db, MONTH, today=TODAY)


def approved(db, batch):
    result = approve(db, batch.batch_id, by="alice")
    assert result.approved
    return result


def post(db, batch, sink, **kwargs):
    plan = plan_posting(db, batch.batch_id, sink.destination, today=TODAY)
    queue_posting(db, plan, by="alice")
    return asyncio.run(run_posting(db, sink, batch.batch_id, **kwargs))


def test_approval_skips_errors_and_held_invoices_until_overridden(db, batch):
    result = approve(db, batch.batch_id, by="alice")
    with_errors = {s.client_id for s in result.skipped}
    assert with_errors and all("UNMAPPED_SKU" in s.reason or "error" in s.reason
                               for s in result.skipped)  # fmt: skip
    one = sorted(with_errors)[0]
    codes = {
        a["code"]
        for i in batch.body["invoices"]
        if i["client_id"] == one
        for a in i["anomalies"]
        if a["severity"] == "error"
    }
    overrides = [(code, "agreed with the client") for code in sorted(codes)]
    again = approve(db, batch.batch_id, [one], overrides=overrides, by="bob")
    assert again.approved == [one]
    states = {s.client_id: s for s in approval_states(db, batch.batch_id, today=TODAY)}
    assert states[one].status == "approved" and states[one].approved_by == "bob"
    events = [e for e in read_log(db, limit=500) if e["event"] == "error_overridden"]
    assert {e["details"]["reason"] for e in events} == {"agreed with the client"}


def test_override_needs_a_reason_and_unknown_clients_are_refused(db, batch):
    with pytest.raises(BatchError, match="needs a reason"):
        approve(db, batch.batch_id, overrides=[("UNMAPPED_SKU", " ")])
    with pytest.raises(BatchError, match="no invoice for client"):
        approve(db, batch.batch_id, [999999])


def test_approval_lapses_when_a_rules_change_moves_the_invoice(db, batch, tmp_path):
    result = approved(db, batch)
    client = result.approved[0]
    rules = tmp_path / "rules.toml"
    rules.write_text(f'[clients."{client}"]\nprice = "markup"\nmarkup_percent = "20"\n')
    import_rules(db, rules.read_text())
    states = {s.client_id: s for s in approval_states(db, batch.batch_id, today=TODAY)}
    assert states[client].status == "lapsed"
    assert any("unit price" in change for change in states[client].changes)
    others = [s for s in states.values() if s.client_id in result.approved[1:]]
    assert others and all(s.status == "approved" for s in others)
    plan = plan_posting(db, batch.batch_id, "halo-invoice", today=TODAY)
    blocked = {p.client_id: p.problem for p in plan.blocked}
    assert blocked[client].startswith("approval lapsed: ")


def test_posts_every_approved_invoice_once_and_a_rerun_sends_nothing(db, batch):
    result = approved(db, batch)
    sink = FakeSink()
    report = post(db, batch, sink)
    assert report.complete and report.posted == len(result.approved)
    assert report.backup is not None and report.backup.exists()
    assert len(sink.documents) == len(result.approved)
    again = post(db, batch, sink)
    assert again.posted == 0 and sink.creates == len(result.approved)
    entries = posting_entries(db, batch.batch_id)
    assert {e.state for e in entries} == {"POSTED"}
    assert all(e.remote_id == sink.documents[e.reference][0] for e in entries)


def test_a_lost_answer_is_settled_by_lookup_not_by_sending_again(db, batch):
    result = approved(db, batch)
    sink = FakeSink(script=["lost", "ok", "lost"])
    report = post(db, batch, sink)
    assert report.complete
    assert len(sink.documents) == len(result.approved) == sink.creates
    assert report.found == 2


def test_a_refused_document_is_rejected_and_goes_again_once_fixed(db, batch):
    approved(db, batch)
    sink = FakeSink(script=["refuse"])
    report = post(db, batch, sink)
    assert report.rejected == 1 and not report.complete
    rejected = [e for e in report.entries if e.state == "REJECTED"]
    assert "rejected" in (rejected[0].error or "")
    report = post(db, batch, sink)
    assert report.complete and report.posted == 1


def test_a_destination_down_stops_the_run_and_the_next_run_finishes(db, batch):
    result = approved(db, batch)
    sink = FakeSink(script=["ok", "down"])
    report = post(db, batch, sink)
    assert report.stopped == "cannot reach Fake" and report.pending == len(result.approved) - 1
    report = post(db, batch, sink)
    assert report.complete and len(sink.documents) == len(result.approved)


def test_an_entry_left_sending_by_a_crash_is_looked_up_first(db, batch):
    approved(db, batch)
    plan = plan_posting(db, batch.batch_id, "halo-invoice", today=TODAY)
    queue_posting(db, plan)
    sink = FakeSink()
    first = plan.ready[0].document
    sink.documents[first.reference] = ("F-earlier", first)  # the crashed run's create landed
    with db.write() as conn:
        conn.execute(ENTRIES.update().values(state="SENDING", attempts=1))
    report = asyncio.run(run_posting(db, sink, batch.batch_id))
    assert report.complete and report.found == 1
    by_reference = {e.reference: e for e in report.entries}
    assert by_reference[first.reference].remote_id == "F-earlier"
    assert len(sink.documents) == len(plan.ready)


def test_recurring_sink_takes_several_documents_per_request(db, batch):
    result = approved(db, batch)
    sink = FakeSink(destination="halo-recurring", batch_size=5)
    report = post(db, batch, sink)
    assert report.complete
    assert sink.creates == -(-len(result.approved) // 5)
    assert all(ref.startswith("TR2611-") for ref in sink.documents)


def test_a_recurring_true_up_has_halo_bill_the_month_at_the_batchs_total(db, batch):
    """From a review: what the client's recurring invoices billed the month plus the one-off
    invoice is the batch's total for every client, the total the ledger records as posted.
    Before, a term billed this month (38,880.00 for a 3-year E3, Granite Peak), a term that
    bills nothing this month while its recurring line does, and a line with no Halo item were
    left out of the one-off, and 38 of the demo's 53 clients were billed otherwise."""
    codes = [(c.code, "reviewed") for c in standing_codes(db, batch.batch_id)]
    approve(db, batch.batch_id, overrides=codes, by="alice")
    billed: dict[int, Decimal] = defaultdict(Decimal)
    with db.read() as conn:
        for client_id, quantity, price in conn.exec_driver_sql(
            "SELECT h.client_id, l.quantity, l.unit_price FROM halo_recurring_invoice_line l "
            "JOIN halo_recurring_invoice h ON h.id = l.invoice_id "
            "WHERE NOT coalesce(l.inactive, 0) AND NOT coalesce(h.disabled, 0) "
            "AND coalesce(l.ends, '9999') >= '2026-11-01'"
        ):
            line = Decimal(quantity or 0) * Decimal(price or 0)
            billed[client_id] += line.quantize(Decimal("0.01"), ROUND_HALF_UP)
    plan = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    assert len(plan.ready) == len(batch.body["invoices"]) == 53
    for planned in plan.ready:
        one_off = sum((line.amount for line in planned.document.lines), Decimal(0))
        assert billed[planned.client_id] + one_off == planned.total, planned.client_name
    documents = {planned.client_id: planned.document for planned in plan.ready}
    (term,) = [line for line in documents[14].lines if "3-year term" in line.description]
    assert term.amount == Decimal("37800.00")  # 38,880.00 due less 30 x 36.00 billed
    # An item no recurring line bills is added to the client's first recurring invoice (Aspen
    # Grove's holds only its managed services): it was dropped, and billed one-off each month.
    (added,) = documents[40].recurring
    assert added.recurring_invoice_id == -122
    assert {line.description for line in added.lines} >= {"Keeper Business"}
    assert all(line.line_id is None and line.previous_quantity == 0 for line in added.lines)


def test_a_recurring_true_up_says_a_client_with_no_recurring_invoice_is_billed_one_off(
    db, monkeypatch
):
    """From the last note: a client with no recurring invoice in Halo has its whole month on
    the one-off invoice, every month (there is nothing to true up), and nothing said so."""
    with db.write() as conn:
        conn.exec_driver_sql(
            "DELETE FROM halo_recurring_invoice_line WHERE invoice_id IN "
            "(SELECT id FROM halo_recurring_invoice WHERE client_id = 40)"
        )
        conn.exec_driver_sql("DELETE FROM halo_recurring_invoice WHERE client_id = 40")
    batch = build_batch(db, MONTH, today=TODAY)
    codes = [(c.code, "reviewed") for c in standing_codes(db, batch.batch_id)]
    approve(db, batch.batch_id, overrides=codes, by="alice")
    plan = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    (whole,) = plan.without_recurring()
    assert whole.client_id == 40 and whole.document.recurring == ()
    assert sum(line.amount for line in whole.document.lines) == whole.total > 0
    elsewhere = plan_posting(db, batch.batch_id, "halo-invoice", today=TODAY)
    assert not elsewhere.without_recurring()  # a Halo invoice bills the month whole anyway
    # Said where the post is decided: `trueup post` (stderr) and the workbench's Post screen.
    shown = Console(record=True, width=200)
    monkeypatch.setattr(cli_posting, "err", shown)
    cli_posting._show_plan(plan)
    assert (
        f"no active recurring invoice in Halo for {whole.client_name}: a one-off invoice bills "
        "the whole month, and will every month until Halo has one" in shown.export_text()
    )
    assert "1 with no recurring invoice in Halo: a one-off invoice bills the whole month" in str(
        plan_text(plan)
    )


def _halo_synced(db, started, ended, status="ok"):
    """A Halo sync run as `trueup sync` records one (its data is the store's as it is)."""
    with db.write() as conn:
        conn.execute(
            m.SyncRun.__table__.insert().values(
                source="halo", status=status, started_at=started, ended_at=ended
            )
        )


def test_a_recurring_true_up_voided_after_a_sync_read_it_waits_for_the_next_sync(db, batch):
    """From a review: post to halo-recurring, sync (the store reads the lines trued up), void
    (Halo's lines go back), post again: the true-up was planned from the trued-up copy, billed
    7.92 less than the batch and left the lines at the voided quantities."""
    result = approved(db, batch)
    first, second = result.approved[:2]
    sink = FakeSink(destination="halo-recurring")
    post(db, batch, sink)
    now = datetime.now(UTC)
    _halo_synced(db, now, now + timedelta(microseconds=1))  # read the lines trued up
    assert queue_void(db, batch.batch_id, "halo-recurring", [first, second]) == 2
    assert asyncio.run(run_posting(db, sink, batch.batch_id, action="void")).complete
    again = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    held = {p.client_id: p for p in again.blocked}
    assert {first, second} <= set(held) and held[first].approved
    assert f"the void of TR2611-{first} (" in held[first].problem
    assert held[first].problem.endswith("`trueup sync`, then post again")
    later = datetime.now(UTC) + timedelta(seconds=1)
    _halo_synced(db, later, None, status="running")  # reads nothing until it ends
    running = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    assert first in {p.client_id for p in running.blocked}
    _halo_synced(db, later, later + timedelta(seconds=1))
    fresh = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    assert {first, second} <= {p.client_id for p in fresh.ready}


def test_a_recurring_true_up_voided_with_no_sync_between_posts_again(db, batch):
    result = approved(db, batch)
    client = result.approved[0]
    sink = FakeSink(destination="halo-recurring")
    before = datetime.now(UTC) - timedelta(hours=1)
    _halo_synced(db, before, before + timedelta(seconds=1))  # read before the true-up
    post(db, batch, sink)
    assert queue_void(db, batch.batch_id, "halo-recurring", [client]) == 1
    assert asyncio.run(run_posting(db, sink, batch.batch_id, action="void")).complete
    again = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    assert client in {p.client_id for p in again.ready}


def test_a_void_the_destination_refused_is_sent_again_once_asked(db, batch):
    """From a review: a refused void stayed REJECTED for good: `r` on the workbench's results
    and `trueup void` again queued nothing ("Voided 0 of 0") and the document stayed live."""

    class RefusesOnce(FakeSink):
        refused = False

        async def void(self, document, posted):
            if not self.refused:
                self.refused = True
                raise ApiError("Fake", "bad_request", 400, "Fake: the invoice is locked")
            await super().void(document, posted)

    client = approved(db, batch).approved[0]
    sink = RefusesOnce()
    post(db, batch, sink)
    assert queue_void(db, batch.batch_id, "halo-invoice", [client]) == 1
    asyncio.run(run_posting(db, sink, batch.batch_id, action="void"))
    (void,) = [e for e in posting_entries(db, batch.batch_id, "halo-invoice", "void")]
    assert void.state == "REJECTED" and not sink.voided
    assert queue_void(db, batch.batch_id, "halo-invoice", [client]) == 1  # once the cause is fixed
    assert asyncio.run(run_posting(db, sink, batch.batch_id, action="void")).complete
    (void,) = [e for e in posting_entries(db, batch.batch_id, "halo-invoice", "void")]
    assert void.state == "POSTED" and sink.voided == {void.reference}


def test_one_halo_posting_per_client_and_month_until_voided(db, batch):
    result = approved(db, batch)
    client = result.approved[0]
    sink = FakeSink()
    post(db, batch, sink)
    plan = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    blocked = {p.client_id: p.problem for p in plan.blocked}
    assert "already posted to halo-invoice" in blocked[client]
    assert queue_void(db, batch.batch_id, "halo-invoice", [client]) == 1
    void = asyncio.run(run_posting(db, sink, batch.batch_id, action="void"))
    assert void.complete and len(sink.voided) == 1
    replan = plan_posting(db, batch.batch_id, "halo-invoice", today=TODAY)
    again = {p.client_id: p for p in replan.ready}
    assert again[client].document.reference == f"TU2611-{client}-2"
    post(db, batch, sink)
    live = set(sink.documents) - sink.voided
    assert f"TU2611-{client}-2" in live and f"TU2611-{client}" not in live


def test_revoked_approval_does_not_post(db, batch):
    result = approved(db, batch)
    assert revoke(db, batch.batch_id, result.approved[:1]) == 1
    plan = plan_posting(db, batch.batch_id, "halo-invoice", today=TODAY)
    assert result.approved[0] not in {p.client_id for p in plan.ready}


def test_qbo_needs_customer_and_item_mappings(db, batch):
    result = approved(db, batch)
    plan = plan_posting(db, batch.batch_id, "qbo", today=TODAY)
    assert not plan.ready
    problems = [p.problem for p in plan.blocked if p.client_id in result.approved]
    assert problems and all("no QuickBooks customer" in p for p in problems)


def test_a_books_target_the_last_refresh_no_longer_listed_blocks_the_client(db, batch):
    """A customer deleted or merged in QuickBooks (a contact in Xero) since it was mapped: the
    mapping stood and the document went to an id the books no longer have."""
    kept, gone = approved(db, batch).approved[:2]
    now, by = datetime.now(UTC), "test"
    with db.write() as conn:
        conn.execute(m.table_of(m.QboCustomer).insert().values(id="t-5", name="Kept", raw="{}"))
        conn.execute(m.table_of(m.XeroContact).insert().values(id="c-5", name="Kept", raw="{}"))
        # An item of the gone customer's id: each list's ids are its own.
        conn.execute(m.table_of(m.QboItem).insert().values(id="t-9", name="Seats", raw="{}"))
        for client, customer, contact in ((kept, "t-5", "c-5"), (gone, "t-9", "c-9")):
            conn.execute(
                m.table_of(m.QboCustomerMapping)
                .insert()
                .values(client_id=client, customer_id=customer, created_at=now, created_by=by)
            )
            conn.execute(
                m.table_of(m.XeroContactMapping)
                .insert()
                .values(client_id=client, contact_id=contact, created_at=now, created_by=by)
            )
    for destination, said in (("qbo", "QuickBooks customer t-9"), ("xero", "Xero contact c-9")):
        plan = plan_posting(db, batch.batch_id, destination, today=TODAY, clients=[kept, gone])
        problems = {p.client_id: p.problem or "" for p in plan.blocked}
        assert f"{said} mapped for it is no longer in" in problems[gone], destination
        assert "no longer in" not in problems.get(kept, ""), destination


def test_documents_carry_the_batch_lines_and_halo_targets(db, batch):
    result = approved(db, batch)
    plan = plan_posting(db, batch.batch_id, "halo-invoice", today=TODAY)
    document = next(p.document for p in plan.ready if p.client_id == result.approved[0])
    invoice = next(i for i in batch.body["invoices"] if i["client_id"] == result.approved[0])
    assert [str(line.amount) for line in document.lines] == [
        line["amount"] for line in invoice["lines"]
    ]
    assert document.total == Decimal(invoice["total"])
    assert all(
        line.halo_item_id is not None for line in document.lines if line.kind == "subscription"
    )
    assert document.invoice_date == date(2026, 11, 30)


def test_unknown_destination_and_a_second_run_are_refused(db, batch):
    with pytest.raises(PostingError, match="unknown destination"):
        plan_posting(db, batch.batch_id, "sage", today=TODAY)
    with posting_elsewhere(db.path), pytest.raises(PostingBusyError):
        asyncio.run(run_posting(db, FakeSink(), batch.batch_id))
    with posting_lock(db):  # this process's own hold: a run inside it goes ahead
        assert asyncio.run(run_posting(db, FakeSink(), batch.batch_id)).complete


def test_audit_log_has_approvals_and_posts(db, batch):
    approved(db, batch)
    post(db, batch, FakeSink())
    events = {e["event"] for e in read_log(db, limit=1000)}
    assert {"invoice_approved", "posting_queued", "posting_created", "posting_completed"} <= events
    rows, _ = log_page(db, None, 1, 5)
    assert rows[0].summary.startswith("Posting to halo-invoice done: ")
    assert rows[1].summary.startswith("Posted TU2611-") and ": id F" in rows[1].summary
    with db.read() as conn:
        approval = conn.execute(select(m.table_of(m.Approval))).first()
    assert approval.approved_by == "alice"


# --- the month ledger: the state of billing belongs to (month, client) ----------------------


def test_a_month_posted_to_halo_is_refused_for_quickbooks(db, batch):
    result = approved(db, batch)
    halo = FakeSink()
    post(db, batch, halo)
    plan = plan_posting(db, batch.batch_id, "qbo", today=TODAY)
    blocked = {p.client_id: p.problem for p in plan.blocked}
    for client in result.approved:
        reference = f"TU2611-{client}"
        assert f"already posted to halo-invoice as {reference}" in blocked[client]
        assert f"trueup void {batch.month} --to halo-invoice --client {client}" in (blocked[client])
    assert not plan.ready and not plan.done


def test_a_batch_built_again_after_posting_keeps_the_month_posted(db, batch):
    result = approved(db, batch)
    halo = FakeSink()
    post(db, batch, halo)
    import_rules(db, '[defaults]\nmarkup_percent = "5"\nprice = "markup"\n')  # a new batch
    again = build_batch(db, MONTH, today=TODAY)
    assert again.batch_id != batch.batch_id
    plan = plan_posting(db, again.batch_id, "halo-invoice", today=TODAY)
    assert {p.client_id for p in plan.done} == set(result.approved)
    assert not {p.client_id for p in plan.ready} & set(result.approved)
    approval = approve(db, again.batch_id, result.approved, by="bob")
    assert approval.approved == []
    # Not refusals: approved when they were posted, nothing to approve again.
    assert approval.skipped == [] and [p.client_id for p in approval.posted] == result.approved
    assert all("already posted to halo-invoice" in p.reason for p in approval.posted)
    views = batch_approvals(db, again.batch_id, today=TODAY)
    assert all(views.posted_to(c) == ("halo-invoice",) for c in result.approved)
    assert len(halo.documents) == len(result.approved)  # nothing posted twice


def test_a_posted_invoice_keeps_its_approval(db, batch):
    result = approved(db, batch)
    post(db, batch, FakeSink())
    with pytest.raises(BatchError, match=r"approval of client \d+ stays: already posted"):
        revoke(db, batch.batch_id, result.approved[:1])
    states = {s.client_id: s.status for s in approval_states(db, batch.batch_id, today=TODAY)}
    assert states[result.approved[0]] == "approved"


def test_an_override_given_to_a_posted_client_is_recorded_for_its_adjustment(db, batch):
    client = approved(db, batch).approved[0]
    post(db, batch, FakeSink())
    import_rules(db, f'[clients."{client}"]\nprice = "fixed"\nfixed_price = "0.01"\n')
    rebuilt = build_batch(db, MONTH, today=TODAY)
    (invoice,) = [i for i in rebuilt.body["invoices"] if i["client_id"] == client]
    assert "NEGATIVE_MARGIN" in {a["code"] for a in invoice["anomalies"]}
    override = [("NEGATIVE_MARGIN", "agreed promotion")]
    result = approve(db, rebuilt.batch_id, [client], overrides=override, by="bob")
    # Not a failure: nothing is approved (the month is posted), the override is kept.
    assert result.approved == [] and result.skipped == []
    (recorded,) = result.overridden
    assert recorded.reason.startswith("the override of NEGATIVE_MARGIN is recorded; posted to")
    assert (
        f"its adjustment goes there (`trueup post {MONTH} --to halo-invoice --adjust`, or P on the"
        in (recorded.reason)
    )
    events = [e for e in read_log(db, limit=500) if e["event"] == "error_overridden"]
    assert events and {e["details"]["reason"] for e in events} == {"agreed promotion"}


def test_hold_on_a_posted_month_says_how_to_free_it_from_either_front(db, batch):
    from trueup.core.batch.review import set_invoice_state

    client = approved(db, batch).approved[0]
    post(db, batch, FakeSink())
    with pytest.raises(BatchError) as refused:
        set_invoice_state(db, batch.batch_id, client, "held")
    said = str(refused.value)
    assert re.search(r"already posted to halo-invoice as TU2611-\d+: hold and ready come", said)
    assert f"`trueup void 2026-11 --to halo-invoice --client {client}`" in said
    assert "(or v on the workbench's Batch screen)" in said


def test_a_month_trued_up_in_a_recurring_invoice_is_not_adjusted_elsewhere(db, batch):
    """A halo-recurring post counts what the month bills (its invoice), not its one-off
    document: a bulk adjustment elsewhere passes over it, and one asked for by name is told
    to void and post again (a recurring true-up has no adjustment)."""
    from trueup.core.posting.adjustment_plan import plan_adjustments

    client = approved(db, batch).approved[0]
    post(db, batch, FakeSink("halo-recurring"))
    assert plan_adjustments(db, batch.batch_id, "halo-invoice").blocked == []
    (named,) = plan_adjustments(db, batch.batch_id, "halo-invoice", clients=[client]).blocked
    assert "a recurring true-up is not adjusted; void it (`trueup void" in str(named.problem)


def test_a_month_rejected_from_one_batch_posts_from_the_next_under_a_new_reference(db, batch):
    """The journal's key is (destination, reference, action): a batch built after a rejection
    must not plan the rejected reference again (the whole queue failed on it)."""
    client = approved(db, batch).approved[0]
    refused = FakeSink(script=["refuse"])
    plan = plan_posting(db, batch.batch_id, "halo-invoice", clients=[client], today=TODAY)
    queue_posting(db, plan, by="alice")
    asyncio.run(run_posting(db, refused, batch.batch_id))
    assert refused.documents == {}
    import_rules(db, f'[clients."{client}"]\nprice = "markup"\nmarkup_percent = "5"\n')
    rebuilt = build_batch(db, MONTH, today=TODAY)
    assert approve(db, rebuilt.batch_id, [client], by="bob").approved == [client]
    sink = FakeSink()
    post(db, rebuilt, sink)
    mine = [reference for reference in sink.documents if reference.startswith(f"TU2611-{client}")]
    assert mine == [f"TU2611-{client}-2"]


def test_a_recurring_line_halo_holds_at_the_price_sent_is_not_changed_again(db):
    """From a review: a markup's exact price (2.5% on 1.05: 1.07625) was compared with the
    price Halo holds, which is the one sent to it (4 places, 1.0763), so a line already trued
    up was planned as a price change on every post. It is compared at the precision sent now."""
    from trueup.core.posting.halo_invoice import wire_price

    import_rules(db, '[defaults]\nprice = "markup"\nmarkup_percent = "2.5"\n')
    batch = build_batch(db, MONTH, today=TODAY)
    codes = [(c.code, "reviewed") for c in standing_codes(db, batch.batch_id)]
    approve(db, batch.batch_id, overrides=codes, by="alice")
    plan = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    finer = [
        (planned.client_id, line)
        for planned in plan.ready
        for change in planned.document.recurring
        for line in change.lines
        if line.line_id is not None
        and line.unit_price is not None
        and wire_price(line.unit_price) != line.unit_price
    ]
    assert finer  # 2.5% on costs to the cent: prices with 5 places
    client_id, line = finer[0]
    with db.write() as conn:  # as Halo holds the line once the true-up is posted
        conn.exec_driver_sql(
            "UPDATE halo_recurring_invoice_line SET quantity = ?, unit_price = ? WHERE id = ?",
            (str(line.quantity), str(wire_price(line.unit_price)), line.line_id),
        )
    again = plan_posting(db, batch.batch_id, "halo-recurring", today=TODAY)
    (planned,) = [p for p in again.ready if p.client_id == client_id]
    lines = [c.line_id for change in planned.document.recurring for c in change.lines]
    assert line.line_id not in lines
