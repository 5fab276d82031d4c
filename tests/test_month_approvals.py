"""An approval belongs to the client's month: a batch built again after a change that leaves a
client's invoice as it was keeps the client approved, in the ledger, the Batch screen's states
and posting; a client whose invoice moved reads lapsed, with what changed."""

from datetime import date

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.approval import approval_states, approve, revoke
from trueup.core.batch.build import build_batch
from trueup.core.ledger.month import month_ledger
from trueup.core.rules.current import set_client_override
from trueup.core.values.months import Month

TODAY = date(2026, 11, 21)
NOVEMBER = Month("2026-11")


def test_a_rules_change_for_one_client_keeps_the_others_approved(db):
    first = build_batch(db, NOVEMBER, today=TODAY, by="test")
    approved = set(approve(db, first.batch_id, by="test").approved)
    client = min(approved)
    set_client_override(db, client, "markup_percent", "12.5")

    ledger = month_ledger(db, NOVEMBER, today=TODAY)
    assert ledger.batch_id != first.batch_id
    states = {c.client_id: c.state for c in ledger.clients}
    assert {c for c, s in states.items() if s == "approved"} == approved - {client}
    assert states[client] == "lapsed"
    lapsed = {s.client_id: s for s in approval_states(db, ledger.batch_id, today=TODAY)}
    assert lapsed[client].status == "lapsed"
    assert lapsed[client].changes  # what moved, line by line


def test_withdrawn_on_the_later_batch_it_is_gone_from_the_month(db):
    first = build_batch(db, NOVEMBER, today=TODAY, by="test")
    approved = approve(db, first.batch_id, by="test").approved
    client = min(approved)
    set_client_override(db, client, "markup_percent", "12.5")
    later = build_batch(db, NOVEMBER, today=TODAY, by="test")
    other = next(c for c in approved if c != client)

    assert revoke(db, later.batch_id, [other], by="test") == 1
    for batch_id in (first.batch_id, later.batch_id):
        states = {s.client_id: s.status for s in approval_states(db, batch_id, today=TODAY)}
        assert states[other] == "unapproved"


def test_an_approval_vouches_for_another_batch_only_when_it_bills_the_same(db):
    """Approved on A; a rules change builds B (client billed otherwise); the change undone makes
    C, the same as A. B's own invoice was never approved: it reads lapsed and does not post,
    though the store now bills as approved (found in review: B posted unapproved)."""
    from trueup.core.ledger.batches import stored_batches
    from trueup.core.posting.plan import plan_posting

    a = build_batch(db, NOVEMBER, today=TODAY, by="test")
    client = min(approve(db, a.batch_id, by="test").approved)
    set_client_override(db, client, "tax_percent", "10")
    b = build_batch(db, NOVEMBER, today=TODAY, by="test")
    assert b.batch_id != a.batch_id
    set_client_override(db, client, "tax_percent", None)
    c = build_batch(db, NOVEMBER, today=TODAY, by="test")
    assert c.batch_id != b.batch_id
    on_b = {s.client_id: s for s in approval_states(db, b.batch_id, today=TODAY)}
    assert on_b[client].status == "lapsed" and on_b[client].changes
    plan = plan_posting(db, b.batch_id, "halo-invoice", today=TODAY, clients=[client])
    assert plan.ready == [] and "approv" in str(plan.blocked[0].problem)
    on_c = {s.client_id: s.status for s in approval_states(db, c.batch_id, today=TODAY)}
    assert on_c[client] == "approved"
    # The batches' listing counts what waits per client and month, whichever batch approved it.
    listed = {s.batch_id: s for s in stored_batches(db, today=TODAY, month=NOVEMBER)}
    assert listed[a.batch_id].open and not listed[b.batch_id].open
