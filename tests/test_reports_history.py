"""The 12 months of a client's invoices (the invoice screen's chart) and of every client's (the
summary's months): as posted when posted, else as the month's batch bills it (the one asked
for; else its last of every client, as the ledger tells a closed month), absent with no batch;
and the leakage each month's invoices recovered, which for the month being summed up
is the seat diff's."""

import asyncio
from datetime import date
from decimal import Decimal

import pytest

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from test_posting import FakeSink, post
from trueup.core.batch.approval import approve
from trueup.core.batch.build import build_batch
from trueup.core.diff.seats import seat_diff
from trueup.core.ledger.month import month_ledger
from trueup.core.ledger.posted import posted_months
from trueup.core.posting.plan import queue_void
from trueup.core.posting.run import run_posting
from trueup.core.reports.history import month_history
from trueup.core.reports.summary import month_summary, summary_json
from trueup.core.reports.summary_page import MONTH_TITLE, summary_markdown
from trueup.core.rules.current import import_rules
from trueup.core.values.money import money_json
from trueup.core.values.months import Month

TODAY = date(2026, 11, 21)
MONTH = Month("2026-11")


@pytest.fixture
def built(db):
    """August and October billed, then November (the month the history runs to)."""
    return {month: build_batch(db, month, today=TODAY) for month in ("2026-08", "2026-10", MONTH)}


def invoices(batch):
    return {i["client_id"]: i for i in batch.body["invoices"]}


def test_a_client_month_is_its_invoice_and_a_month_without_a_batch_is_absent(db, built):
    november = built[MONTH]
    client, invoice = next(iter(invoices(november).items()))
    currency = invoice["currency"]
    history = month_history(db, MONTH, batch_id=november.batch_id, client_id=client)
    assert history.months == (
        "2025-12",
        *(f"2026-{n:02d}" for n in range(1, 12)),
    )
    assert set(history.figures) == set(built)
    for month, batch in built.items():
        billed = invoices(batch)[client]
        (figures,) = history.figures[month].values()
        assert set(history.figures[month]) == {currency}
        assert figures.total == Decimal(billed["total"])
        assert figures.margin == Decimal(billed["margin"])
    totals = dict(zip(history.months, history.series(currency, lambda f: f.total), strict=True))
    assert {month for month, total in totals.items() if total is None} == {
        month for month in history.months if month not in built
    }


def test_every_client_adds_up_to_each_batch_s_totals(db, built):
    history = month_history(db, MONTH, batch_id=built[MONTH].batch_id)
    for month, batch in built.items():
        for currency, sums in batch.body["totals"]["by_currency"].items():
            figures = history.figures[month][currency]
            assert money_json(figures.total) == sums["total"]
            assert money_json(figures.margin) == sums["margin"]


def test_each_line_corrects_what_the_seat_diff_found_for_it_when_it_bills(db, built):
    """Under the demo's `pax8` prices a line's `recovered` is its seat-diff row's monthly impact
    (the signs reversed: the diff's delta is Halo less Pax8); a term line between renewals bills
    nothing this month, so it corrects nothing, though the seat diff counts its monthly share."""
    rows = {(r.client_id, r.subscription_id): r for r in seat_diff(db, MONTH, today=TODAY)}
    between_renewals = 0
    for client, invoice in invoices(built[MONTH]).items():
        for line in invoice["lines"]:
            row = rows.get((client, line["subscription_id"]))
            counted = ("under", "over", "missing_in_halo")  # as the summary counts the diff
            if line["kind"] != "subscription" or row is None or row.status not in counted:
                continue
            if line["recovered"] is None:  # between renewals, or no price to bill it at
                assert Decimal(line["amount"]) == 0
                between_renewals += "term" in line["policy"]
            else:
                impact = (-row.monthly_impact).quantize(Decimal("0.0001"))
                assert Decimal(line["recovered"]) == impact
    assert between_renewals  # the demo has such lines: the rule is exercised
    summary = month_summary(db, MONTH, today=TODAY)
    november = summary.by_month.figures[MONTH]["USD"]
    assert november.under_billed > 0 and november.over_billed > 0  # the demo drifts
    assert november.recovered == november.under_billed + november.over_billed


def test_a_flagged_line_says_what_it_recovers_and_a_line_at_halo_s_seats_nothing(db, built):
    def flagged(batch):
        return {
            (client, line["product_id"]): line
            for client, invoice in invoices(batch).items()
            for line in invoice["lines"]
            if any(a["code"] == "QTY_MISMATCH" for a in line["anomalies"])
            and line["kind"] == "subscription"
        }

    (client, product), line = next(  # whole seats all month: the month-end count
        (key, line)
        for key, line in flagged(built[MONTH]).items()
        if line["policy"].startswith("daily") and Decimal(line["quantity"]) % 1 == 0
    )
    import_rules(db, f'[[lines]]\nclient = "{client}"\nproduct = "{product}"\nsync = false\n')
    held = flagged(build_batch(db, MONTH, today=TODAY))[(client, product)]
    assert held["policy"].startswith("sync off") and held["recovered"] is None  # still flagged
    seats = Decimal(line["quantity"]) - Decimal(held["quantity"])  # Pax8's less Halo's
    assert Decimal(line["recovered"]) == seats * Decimal(line["unit_price"])
    lines = [ln for invoice in invoices(built[MONTH]).values() for ln in invoice["lines"]]
    recovering = [ln for ln in lines if ln["recovered"] is not None]
    assert recovering and all(
        any(a["code"] == "QTY_MISMATCH" for a in ln["anomalies"]) for ln in recovering
    )


def test_a_posted_month_stays_as_posted_when_the_batch_moves_on_until_voided(db, built):
    november = built[MONTH]
    approved = approve(db, november.batch_id, by="alice").approved  # those with no error
    client = approved[0]
    sink = FakeSink()
    post(db, november, sink)
    import_rules(db, '[defaults]\nmarkup_percent = "5"\nprice = "markup"\n')
    again = build_batch(db, MONTH, today=TODAY)
    then, now = invoices(november)[client], invoices(again)[client]
    assert now["total"] != then["total"]

    def november_of(client_id):
        history = month_history(db, MONTH, batch_id=again.batch_id, client_id=client_id)
        return history.figures[MONTH][then["currency"]]

    posted = november_of(client)
    assert (posted.total, posted.margin) == (Decimal(then["total"]), Decimal(then["margin"]))
    other = next(c for c in invoices(again) if c not in approved)  # not posted
    assert november_of(other).total == Decimal(invoices(again)[other]["total"])
    ledger = month_ledger(db, MONTH, today=TODAY)
    with db.read() as conn:
        sent = posted_months(conn, MONTH, MONTH)[MONTH]
    assert {c.client_id: c.posted_total for c in ledger.clients if c.postings} == {
        c: p.total for c, p in sent.items()
    }
    assert queue_void(db, november.batch_id, sink.destination, [client]) == 1
    assert asyncio.run(run_posting(db, sink, november.batch_id, action="void")).complete
    assert november_of(client).total == Decimal(now["total"])


def test_a_month_is_its_last_batch_of_every_client_as_its_own_reports_tell_it(db, built):
    """A closed month is told by `trueup month`, `export` and `summary` from its last batch of
    every client (ledger.month.last_stored_batch); the 12 months took each client's newest
    invoice, one of a batch of chosen clients (`trueup batch --client`) too, so October's row
    in November's summary read another total than October's own summary."""
    october = built["2026-10"]
    client, invoice = next(iter(invoices(october).items()))
    currency = invoice["currency"]
    import_rules(db, '[defaults]\nmarkup_percent = "5"\nprice = "markup"\n')
    alone = build_batch(db, "2026-10", clients=[client], today=TODAY)
    assert invoices(alone)[client]["total"] != invoice["total"]

    def row(summary_of):
        shown = summary_json(month_summary(db, summary_of, today=TODAY))
        if summary_of == "2026-10":
            return shown["by_currency"][currency]
        return {m["month"]: m["by_currency"] for m in shown["by_month"]}["2026-10"][currency]

    own = row(Month("2026-10"))
    assert own["total"] == october.body["totals"]["by_currency"][currency]["total"]
    in_november = row(MONTH)
    assert (in_november["total"], in_november["margin"]) == (own["total"], own["margin"])
    chart = month_history(db, MONTH, batch_id=built[MONTH].batch_id, client_id=client)
    assert chart.figures["2026-10"][currency].total == Decimal(invoice["total"])

    whole = build_batch(db, "2026-10", today=TODAY)  # from today's data: the month's from now on
    assert row(MONTH)["total"] == whole.body["totals"]["by_currency"][currency]["total"]
    # A month with only a batch of chosen clients has none its reports are told from.
    build_batch(db, "2026-09", clients=[client], today=TODAY)
    assert "2026-09" not in month_history(db, MONTH).figures


def test_invoices_stored_before_digests_read_the_same_totals_and_no_leakage(db, built):
    """A text stored before digests (schema 10) or by a batch before ENGINE 12 names no leakage
    recovered: its month's is unknown, never zero."""
    before = month_history(db, MONTH, batch_id=built[MONTH].batch_id).figures[MONTH]["USD"]
    assert before.leakage_known and before.recovered
    with db.write() as conn:
        conn.exec_driver_sql("UPDATE batch_invoice_text SET digest = NULL")
    after = month_history(db, MONTH, batch_id=built[MONTH].batch_id).figures[MONTH]["USD"]
    assert (after.total, after.subtotal, after.cost) == (before.total, before.subtotal, before.cost)
    assert not after.leakage_known and after.recovered is None
    shown = summary_json(month_summary(db, MONTH, today=TODAY))
    (november,) = [m for m in shown["by_month"] if m["month"] == MONTH]
    assert november["by_currency"]["USD"]["leakage_recovered"] is None


def test_the_summary_lists_the_12_months_in_json_and_markdown(db, built):
    summary = month_summary(db, MONTH, today=TODAY)
    shown = summary_json(summary)
    assert {"by_currency", "movers", "overrides"} <= set(shown)  # the keys scripts read stay
    by_month = {m["month"]: m["by_currency"] for m in shown["by_month"]}
    assert list(by_month) == list(summary.by_month.months)
    assert {m for m, figures in by_month.items() if figures is not None} == set(built)
    usd = by_month[MONTH]["USD"]
    assert usd["total"] == shown["by_currency"]["USD"]["total"]
    lines = [
        ln for i in invoices(built[MONTH]).values() if i["currency"] == "USD" for ln in i["lines"]
    ]
    under = sum(
        Decimal(ln["recovered"])
        for ln in lines
        if (ln["recovered"] or "0")[0] != "-" and ln["recovered"]
    )
    assert Decimal(usd["leakage_recovered"]["under_billed_now_billed"]) == under.quantize(
        Decimal("0.01")
    )
    markdown = summary_markdown(summary)
    assert f"## {MONTH_TITLE}" in markdown
    assert "| 2026-01 |  | no batch |" in markdown
    assert f"| {MONTH} | USD | {Decimal(usd['total']):,.2f} |" in markdown
