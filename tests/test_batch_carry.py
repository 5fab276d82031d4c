"""The operator's word on a batch carried to the month's batch built again, where it holds."""

import json
from datetime import date

from sqlalchemy import select

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.body import invoice_views
from trueup.core.batch.build import build_batch
from trueup.core.batch.review import override_anomaly, set_invoice_state
from trueup.core.batch.stored import load_batch
from trueup.core.rules.current import set_line_override
from trueup.core.store import tables as m

TODAY = date(2026, 11, 21)


def built(db, clients=None):
    return build_batch(db, "2026-11", clients=clients, today=TODAY, by="test")


def views(batch):
    return invoice_views(load_batch(batch.db, batch.batch_id).invoices, {}, {})


def errors_of(view):
    return sorted({(a.code, a.subscription_id) for a in view.anomalies if a.severity == "error"})


def override_errors(db, batch_id, view):
    for code, subscription_id in errors_of(view):
        override_anomaly(db, batch_id, view.client_id, code, "agreed", subscription_id, by="ann")


def a_line_of(view):
    return next(line for line in view.lines if line.kind == "subscription" and line.product_id)


def carried_events(db):
    with db.read() as conn:
        rows = conn.execute(
            select(m.table_of(m.LogEvent)).where(m.table_of(m.LogEvent).c.event == "review_carried")
        ).all()
    return [json.loads(row.details) for row in rows]


def test_marks_stay_where_invoices_did_not_change_and_ready_goes_where_one_did(db):
    first = built(db)
    clean = [v for v in views(first) if not errors_of(v) and any(li.product_id for li in v.lines)]
    ready, changed, held = clean[0], clean[1], clean[2]
    overridden = next(v for v in views(first) if errors_of(v))
    override_errors(db, first.batch_id, overridden)
    for view in (ready, changed, overridden):
        set_invoice_state(db, first.batch_id, view.client_id, "ready", by="ann")
    set_invoice_state(db, first.batch_id, held.client_id, "held", by="bob")

    set_line_override(db, changed.client_id, a_line_of(changed).product_id, "price", "markup")
    second = built(db)

    assert second.batch_id != first.batch_id
    stored = load_batch(db, second.batch_id)
    assert stored.states == {
        ready.client_id: "ready",
        overridden.client_id: "ready",
        held.client_id: "held",
    }
    assert set(stored.overrides) == set(load_batch(db, first.batch_id).overrides)
    with db.read() as conn:
        table = m.table_of(m.BatchInvoiceState)
        by = dict(
            conn.execute(
                select(table.c.client_id, table.c.changed_by).where(
                    table.c.batch_id == second.batch_id
                )
            ).all()
        )
    assert by[held.client_id] == "bob" and by[ready.client_id] == "ann"
    [event] = carried_events(db)
    assert event["from_batch"] == first.batch_id and event["batch_id"] == second.batch_id
    assert event["ready_dropped"] == [changed.client_id]
    assert (event["held"], event["ready"], event["overrides_dropped"]) == (1, 2, 0)


def test_a_hold_stays_and_an_override_goes_when_its_error_changes(db):
    first = built(db)
    view, code, subscription_id = next(
        (v, code, sub)
        for v in views(first)
        for code, sub in errors_of(v)
        if code == "NEGATIVE_MARGIN"
    )
    override_anomaly(db, first.batch_id, view.client_id, code, "promo", subscription_id)
    set_invoice_state(db, first.batch_id, view.client_id, "held")
    product = next(li.product_id for li in view.lines if li.subscription_id == subscription_id)

    set_line_override(db, view.client_id, product, "price", "markup")
    second = load_batch(db, built(db).batch_id)

    assert second.states == {view.client_id: "held"}
    assert second.overrides == {}
    [event] = carried_events(db)
    assert (event["held"], event["overrides"], event["overrides_dropped"]) == (1, 0, 1)


def test_a_batch_of_other_clients_takes_no_marks(db):
    first = built(db)
    view = views(first)[0]
    set_invoice_state(db, first.batch_id, view.client_id, "held")
    alone = built(db, clients=[view.client_id])
    assert load_batch(db, alone.batch_id).states == {}
    assert carried_events(db) == []
