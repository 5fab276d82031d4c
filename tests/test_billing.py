"""Client billing (billing-rules §2-§11) beyond the worked cases: the parts and the edges."""

from datetime import date
from decimal import Decimal

import pytest

from billing_builders import (
    bill,
    client,
    codes,
    item,
    manual,
    only_line,
    previous,
    rules,
    snap,
    sub,
    usage,
)
from trueup.core.billing.lines import Exact
from trueup.core.billing.rules import LineRule
from trueup.core.billing.terms import add_months, last_anniversary
from trueup.core.values.months import MonthError

D = Decimal


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounded"),
    [
        ("2.245", 1, "2.25"),  # half up, not half even
        ("2.235", 1, "2.24"),
        ("-2.245", 1, "-2.25"),  # away from zero
        ("7018", 30, "233.93"),
        ("1", 3, "0.33"),
        ("0.015", 3, "0.01"),  # 0.005 exactly: up
        ("0", 1, "0.00"),
    ],
)
def test_exact_amounts_round_half_up_once(numerator, denominator, rounded):
    assert str(Exact(D(numerator), denominator).cents()) == rounded


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 6, 1), -1) == date(2025, 5, 1)
    assert last_anniversary(date(2025, 1, 1), 12, date(2026, 3, 5)) == date(2026, 1, 1)
    assert last_anniversary(date(2026, 1, 1), 1, date(2025, 6, 4)) == date(2025, 6, 1)


def test_a_malformed_month_is_refused():
    with pytest.raises(MonthError):
        bill(client(sub(snap("2025-01-01", 1))), "2025-13")


def test_seed_003_sync_off_keeps_the_halo_quantity_and_project_work_stays_manual():
    facts = client(
        sub(snap("2025-01-01", 10), halo_quantity=9, diff="under"),
        manual_lines=(manual("Project work, March 2026", "6", "150.00"),),
    )
    opted_out = rules(lines=(LineRule(14, "p-bp", {"sync": False}),))
    invoice = bill(facts, "2025-06", opted_out)
    synced, kept = invoice.lines
    assert (synced.kind, synced.quantity, synced.amount) == ("subscription", 9, D("198.00"))
    assert synced.policy == "sync off · pax8"
    assert "quantity kept as in Halo" in synced.explanation and "Halo line" in synced.explanation
    assert "rules: line 14/p-bp" in synced.explanation
    assert (kept.kind, kept.amount, kept.cost, kept.policy) == (
        "manual",
        D("900.00"),
        D("0.00"),
        "manual",
    )
    assert "kept as in Halo" in kept.explanation
    assert invoice.subtotal == D("1098.00")


def test_sync_off_with_no_halo_line_is_unbilled():
    facts = client(sub(snap("2025-01-01", 10), diff="missing_in_halo"))
    line = only_line(bill(facts, "2025-06", rules(sync=False)))
    assert line.amount == 0
    assert {"UNBILLED_SUBSCRIPTION", "QTY_MISMATCH"} <= codes(line)


def test_fixed_price_holds_whatever_pax8_charges():
    facts = client(sub(snap("2025-01-01", 18, "13.10", "11.20")))
    line = only_line(bill(facts, "2025-06", rules(price="fixed", fixed_price=D("12.50"))))
    assert (line.unit_price, line.amount, line.policy) == (
        D("12.50"),
        D("225.00"),
        "daily · fixed 12.50",
    )
    assert "fixed price (rules: defaults)" in line.explanation


def test_halo_price_policy_takes_the_halo_line_price():
    facts = client(sub(snap("2025-01-01", 10), halo_quantity=10, halo_price="24.00"))
    line = only_line(bill(facts, "2025-06", rules(price="halo")))
    assert (line.unit_price, line.amount) == (D("24.00"), D("240.00"))
    assert "Halo line price" in line.explanation


def test_a_price_change_mid_month_prices_each_day():
    facts = client(sub(snap("2025-01-01", 10, "22.00"), snap("2025-06-16", 10, "24.00")))
    line = only_line(bill(facts, "2025-06"))
    assert line.amount == D("230.00")  # (10 × 22 × 15 + 10 × 24 × 15) / 30
    assert line.unit_price == D("24.00")  # the price on the month's last billed day
    assert "10 seats × 22.00 for 15 days + 10 × 24.00 for 15 days, ÷ 30 days" in line.explanation


def test_unmapped_sku_is_flagged_and_still_shown():
    line = only_line(bill(client(sub(snap("2025-01-01", 10), item_id=None)), "2025-06"))
    assert line.amount == D("220.00")
    assert "UNMAPPED_SKU" in codes(line)
    assert "MST-BP" in next(a.message for a in line.anomalies if a.code == "UNMAPPED_SKU")


@pytest.mark.parametrize(("before", "flagged"), [("10", True), ("10.4", False), ("0", True)])
def test_qty_swing_over_25_percent(before, flagged):
    facts = client(sub(snap("2025-01-01", 13)), last_month=previous(before, "22.00", "19.80"))
    line = only_line(bill(facts, "2025-06"))
    assert ("QTY_SWING" in codes(line)) is flagged  # 13 from 10.4 is exactly +25%
    assert "PRICE_CHANGED" not in codes(line)


def test_a_cancelled_subscription_bills_up_to_its_end_date():
    facts = client(
        sub(snap("2025-01-01", 4), snap("2025-06-10", 4, status="Cancelled", end="2025-06-20"))
    )
    line = only_line(bill(facts, "2025-06"))
    assert line.amount == D("55.73")  # 4 × 22 × 19 / 30 = 55.7333


def test_cost_from_items_in_the_month_inclusive_or_exclusive_credits_signed():
    facts = client(
        sub(snap("2025-01-01", 10)),
        items=(
            item("198.00", "2025-06-01", "2025-07-01", item_id="a"),  # exclusive end
            item("12.54", "2025-06-12", "2025-06-30", kind="prorate", item_id="b"),
            item("-5.00", "2025-06-12", "2025-06-30", kind="service-credit", item_id="c"),
            item("198.00", "2025-05-01", "2025-05-31", item_id="d"),  # May: not June's
            item("7.00", "2025-06-01", "2025-06-30", kind="rebate", item_id="e"),
            item("198.00", "2025-06-01", "2025-07-01", item_id="a"),  # the same item twice
        ),
    )
    line = only_line(bill(facts, "2025-06"))
    assert line.cost == D("205.54")
    assert "COST_ESTIMATED" not in codes(line)
    assert "Pax8 invoice INV-1, 3 items" in line.explanation


def test_a_credited_invoice_is_flagged_even_without_the_assemblers_list():
    facts = client(
        sub(snap("2025-01-01", 10)),
        items=(item("198.00", "2025-06-01", "2025-06-30", invoice="A", status="Credited"),),
    )
    invoice = bill(facts, "2025-06")
    assert "INVOICE_REISSUED" in codes(invoice)
    assert "COST_ESTIMATED" in codes(invoice)  # no re-issue yet: the credited one never counts


def test_item_in_another_currency_without_a_rate_is_left_out_of_the_cost():
    facts = client(
        sub(snap("2025-01-01", 10)),
        items=(item("180.00", "2025-06-01", "2025-06-30", currency="EUR"),),
    )
    line = only_line(bill(facts, "2025-06"))
    assert line.cost == D("0.00")
    assert "CURRENCY_MISMATCH" in codes(line)


def test_one_time_is_billed_in_the_month_of_its_billing_start_only():
    one_time = sub(snap("2025-06-03", 5, "100.00", "80.00"), term="One-Time", commitment=None)
    line = only_line(bill(client(one_time), "2025-06"))
    assert (line.amount, line.policy) == (D("500.00"), "one-time · pax8")
    assert bill(client(one_time), "2025-07").lines == ()


@pytest.mark.parametrize("term", ["Trial", "Activation"])
def test_trial_and_activation_terms_are_not_charged(term):
    assert (
        bill(client(sub(snap("2025-06-03", 5), term=term, commitment=None)), "2025-06").lines == ()
    )


def test_annual_decrease_inside_the_window_is_credited_after_it_is_not():
    seats = [snap("2025-01-01", 10, "264.00", "237.60")]
    inside = sub(
        *seats,
        snap("2025-04-16", 12, "264.00", "237.60", at="2025-04-16T09:00:00Z"),
        snap("2025-04-18", 11, "264.00", "237.60", at="2025-04-18T09:00:00Z"),
        term="Annual",
    )
    # +2 × 264 × 260/365 − 1 × 264 × 258/365 = 69168/365 = 189.5014
    assert only_line(bill(client(inside), "2025-04")).amount == D("189.50")
    late = sub(*seats, snap("2025-04-16", 9, "264.00", "237.60"), term="Annual")
    line = only_line(bill(client(late), "2025-04"))
    assert line.amount == 0
    assert "NCE_DECREASE_LOCKED" in codes(line)


def test_annual_with_vendor_sync_off_bills_the_halo_quantity_at_the_term_charge():
    annual = sub(snap("2025-01-01", 10, "264.00", "237.60"), term="Annual", halo_quantity=8)
    line = only_line(bill(client(annual), "2025-01", rules(sync=False)))
    assert (line.amount, line.policy) == (D("2112.00"), "sync off · pax8")


def test_usage_summary_is_an_estimate_and_currency_groups_apart():
    facts = client(
        usage_facts=(
            usage("100.00", "120.00", source="summary"),
            usage("50.00", "60.00", group="rg-2"),
        )
    )
    line = only_line(bill(facts, "2025-07"))
    assert (line.amount, line.cost, line.quantity, line.unit_price) == (
        D("180.00"),
        D("150.00"),
        1,
        D("180.00"),
    )
    (estimated,) = [a for a in line.anomalies if a.code == "USAGE_ESTIMATED"]
    assert estimated.severity == "info" and "1 Pax8 usage summary" in estimated.message


def test_lines_sort_by_kind_description_subscription():
    facts = client(
        sub(snap("2025-01-01", 1), sid="s2", name="Alpha"),
        sub(snap("2025-01-01", 1), sid="s1", name="Beta"),
        sub(snap("2025-01-01", 1), sid="s0", name="Alpha"),
        manual_lines=(manual("Backup", "1", "10.00", line_id=2), manual("Backup", "1", "5.00", 1)),
        usage_facts=(usage("1.00", "2.00"),),
    )
    order = [
        (line.kind, line.description, line.subscription_id) for line in bill(facts, "2025-06").lines
    ]
    assert order == [
        ("subscription", "Alpha", "s0"),
        ("subscription", "Alpha", "s2"),
        ("subscription", "Beta", "s1"),
        ("usage", "Azure plan usage, May 2025", "az-1"),
        ("manual", "Backup", None),
        ("manual", "Backup", None),
    ]
    assert [line.amount for line in bill(facts, "2025-06").lines][-2:] == [D("5.00"), D("10.00")]


def test_invoice_anomalies_gather_every_lines_errors_first_each_once():
    facts = client(
        sub(snap("2025-01-01", 5), sid="s1", item_id=None),
        sub(snap("2025-01-01", 5), sid="s2", item_id=None),
    )
    invoice = bill(facts, "2025-06")
    severities = [a.severity for a in invoice.anomalies]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert invoice.anomalies[0].code == "UNMAPPED_SKU"
    # The same POSSIBLE_DUPLICATE message sits on both lines and once on the invoice.
    assert [a.code for a in invoice.anomalies].count("POSSIBLE_DUPLICATE") == 1
    assert all("POSSIBLE_DUPLICATE" in codes(line) for line in invoice.lines)


def test_invoice_currency_is_the_subscriptions_unless_configured():
    facts = client(
        sub(snap("2025-01-01", 1), sid="a", currency="GBP"),
        sub(snap("2025-01-01", 1), sid="b", currency="EUR"),
        sub(snap("2025-01-01", 1), sid="c", currency="GBP"),
    )
    assert bill(facts, "2025-06").currency == "GBP"
    assert (
        bill(client(manual_lines=(manual("Labour", "1", "1", currency="CAD"),)), "2025-06").currency
        == "CAD"
    )
    assert bill(client(), "2025-06").currency == "USD"


def test_below_min_margin_names_the_margin_and_the_floor():
    facts = client(sub(snap("2025-01-01", 10)), items=(item("200.00", "2025-06-01", "2025-06-30"),))
    invoice = bill(facts, "2025-06", rules(min_margin_percent=D(15)))
    (below,) = [a for a in invoice.anomalies if a.code == "BELOW_MIN_MARGIN"]
    assert below.message == "margin 20.00 is 9.09% of the charge 220.00, under the 15% floor"
    assert (invoice.margin, invoice.margin_percent) == (D("20.00"), D("9.09"))


def _posted(invoice, destination):
    """The document posting sends for `invoice`, past the JSON boundary as posting reads it."""
    from trueup.core.batch.body import StoredInvoice, invoice_json
    from trueup.core.mapping.index import MappingIndex
    from trueup.core.posting.documents import HaloCatalog, invoice_document

    return invoice_document(
        StoredInvoice.of(invoice_json(invoice)),
        batch_id="2025-06-x",
        month="2025-06",
        reference="TU-1",
        destination=destination,
        index=MappingIndex({}, frozenset(), {}, {}, frozenset()),
        catalog=HaloCatalog({}, {}),
    )


def test_a_prorated_quantity_says_its_seats_and_days_and_the_posted_line_carries_them():
    """Issue 22: a posted Halo invoice showed 17.9667 seats with no words a client could follow.
    The line keeps the seats and days behind a prorated quantity, and the document posted from
    it puts them in the line's description; a whole month at one count needs none."""
    facts = client(sub(snap("2025-01-01", 17), snap("2025-06-05", 18), snap("2025-06-27", 19)))
    invoice = bill(facts, "2025-06")
    line = only_line(invoice)
    assert line.proration == "17 seats for 4 days, 18 for 22 days, 19 for 4 days, of 30"
    assert only_line(bill(client(sub(snap("2025-01-01", 17))), "2025-06")).proration is None
    started = client(sub(snap("2025-06-11", 5)))
    assert only_line(bill(started, "2025-06")).proration == "5 seats for 20 days, of 30"
    document = _posted(invoice, "halo-invoice")
    assert [posted.description for posted in document.lines] == [
        "M365 Business Premium (17 seats for 4 days, 18 for 22 days, 19 for 4 days, of 30)"
    ]


def test_a_price_that_moved_within_the_month_is_in_each_part_and_no_sum_contradicts_it():
    """From a month-end pass: a line whose price moved from 27.99 to 29.99 on the 21st went to
    Xero as "(6 seats for 20 days, 6 for 10 days, of 30) (6 x 29.99)" at 171.94, which reads as
    179.94. Each part now says its price, and the posted line adds no quantity x price."""
    from trueup.core.posting.line_amounts import consistent_amounts

    moved = client(sub(snap("2025-01-01", 6, price="27.99"), snap("2025-06-21", 6, price="29.99")))
    invoice = bill(moved, "2025-06")
    line = only_line(invoice)
    words = "6 seats × 27.99 for 20 days, 6 × 29.99 for 10 days, of 30"
    assert (line.proration, line.amount) == (words, D("171.94"))
    document = _posted(invoice, "xero")
    (posted,) = document.lines
    sent = consistent_amounts(posted, D("0.01"), D("0.0001"))
    assert sent == (D(1), D("171.94"), f"M365 Business Premium ({words})")
    # One price all month: the words name no price, as before.
    same = client(sub(snap("2025-01-01", 6, price="27.99"), snap("2025-06-21", 7, price="27.99")))
    assert only_line(bill(same, "2025-06")).proration == "6 seats for 20 days, 7 for 10 days, of 30"


def test_messages_name_the_subscriptions_distributor():
    """Issue 20: a Partner Center subscription's anomalies name Partner Center, not Pax8."""
    facts = client(sub(snap("2025-01-01", 4, status="Exploded"), sid="pc:tenant:sub-1"))
    [odd] = [a for a in only_line(bill(facts, "2025-06")).anomalies if a.code == "UNKNOWN_STATUS"]
    assert "Partner Center status" in odd.message and "in Partner Center" in odd.message
    assert "Pax8" not in odd.message
