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
