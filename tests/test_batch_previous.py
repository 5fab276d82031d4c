"""Later batches read an earlier one through its line digest, or through its body when it was
stored before digests existed: the same batch either way."""

from datetime import date

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.approval import approval_states, approve
from trueup.core.batch.build import build_batch
from trueup.core.batch.previous import read_earlier

TODAY = date(2026, 11, 21)


def forget_digest(db, batch_id):
    with db.write() as conn:
        conn.exec_driver_sql(
            "UPDATE invoice_batch SET line_digest = NULL WHERE id = ?", (batch_id,)
        )


def test_the_digest_says_what_the_body_says(db):
    october = build_batch(db, "2026-10", today=TODAY, by="test")
    with db.read() as conn:
        digested = read_earlier(conn, october.batch_id)
    forget_digest(db, october.batch_id)
    with db.read() as conn:
        from_body = read_earlier(conn, october.batch_id)
    assert digested == from_body
    invoices = october.body["invoices"]
    assert set(digested.totals()) == {i["client_id"] for i in invoices}
    lines = digested.lines([i["client_id"] for i in invoices])
    assert sum(len(by_sub) for by_sub in lines.values()) > 100
    assert digested.lines([]) == {}


def test_a_month_after_a_batch_without_digest_is_the_same_batch(db):
    october = build_batch(db, "2026-10", today=TODAY, by="test")
    november = build_batch(db, "2026-11", today=TODAY, by="test")
    assert november.inputs.previous == october.batch_id
    assert any(c["then"] is not None for c in november.body["changes"])
    with db.write() as conn:
        conn.exec_driver_sql("DELETE FROM invoice_batch WHERE id = ?", (november.batch_id,))
    forget_digest(db, october.batch_id)
    again = build_batch(db, "2026-11", today=TODAY, by="test")
    assert (again.batch_id, again.data, again.line_digest) == (
        november.batch_id,
        november.data,
        november.line_digest,
    )


def test_looking_at_last_month_after_approving_moves_nothing(db):
    """The operator approves November, then looks at October (which builds and stores its
    batch for the first time): November's batch stays the same and its approvals hold, where
    comparing with the new October batch added QTY_SWING warnings and lapsed four of them."""
    november = build_batch(db, "2026-11", today=TODAY, by="test")
    assert november.inputs.previous is None
    approved = approve(db, november.batch_id, by="test").approved
    assert len(approved) > 10
    build_batch(db, "2026-10", today=TODAY, by="test")
    again = build_batch(db, "2026-11", today=TODAY, by="test")
    assert again.batch_id == november.batch_id
    states = approval_states(db, again.batch_id, today=TODAY)
    assert sorted(s.client_id for s in states if s.status == "approved") == sorted(approved)


def test_before_any_approval_the_month_compares_with_last_months_newest_batch(db):
    november = build_batch(db, "2026-11", today=TODAY, by="test")
    october = build_batch(db, "2026-10", today=TODAY, by="test")
    again = build_batch(db, "2026-11", today=TODAY, by="test")
    assert november.inputs.previous is None
    assert (again.inputs.previous, again.inputs.compared) == (october.batch_id,) * 2
