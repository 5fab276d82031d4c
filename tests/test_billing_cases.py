"""The worked cases of billing-semantics §6 through `bill_client`, on facts built by hand.

Defaults of §6: USD, client price 22.00, Pax8 cost 19.80, 10 seats, NCE P1Y billed monthly.
"""

from decimal import Decimal

import pytest

from billing_builders import (
    bill,
    client,
    codes,
    item,
    only_line,
    previous,
    rules,
    snap,
    sub,
    usage,
)

D = Decimal
POLICIES = ("start", "end", "max", "daily")


def amounts(facts, month, **policy):
    return {
        proration: only_line(bill(facts, month, rules(proration=proration, **policy))).amount
        for proration in POLICIES
    }


def expect(start, end, peak, daily):
    return dict(zip(POLICIES, (D(start), D(end), D(peak), D(daily)), strict=True))


def test_case_1_baseline_no_change_all_policies_agree_margin_22():
    facts = client(
        sub(snap("2025-01-01", 10), commitment_end="2025-12-31"),
        items=(item("198.00", "2025-07-01", "2025-07-31"),),
    )
    assert amounts(facts, "2025-07") == expect("220.00", "220.00", "220.00", "220.00")
    invoice = bill(facts, "2025-07")
    assert (invoice.subtotal, invoice.cost, invoice.margin) == (D("220.00"), D("198.00"), D(22))
    assert invoice.anomalies == ()


def test_case_2_seat_added_12_june_daily_233_93():
    facts = client(sub(snap("2025-01-01", 10), snap("2025-06-12", 11)))
    assert amounts(facts, "2025-06") == expect("220.00", "242.00", "242.00", "233.93")


def test_case_3_seat_added_15_july_31_day_month_232_06():
    facts = client(sub(snap("2025-01-01", 10), snap("2025-07-15", 11)))
    assert amounts(facts, "2025-07") == expect("220.00", "242.00", "242.00", "232.06")


def test_case_4_seat_added_15_february_28_day_month_231_00():
    facts = client(sub(snap("2025-01-01", 10), snap("2026-02-15", 11)))
    assert amounts(facts, "2026-02") == expect("220.00", "242.00", "242.00", "231.00")


def test_case_5_add_and_remove_inside_the_7_day_window():
    facts = client(
        sub(
            snap("2025-01-01", 10),
            snap("2025-06-03", 15, at="2025-06-03T09:00:00Z"),
            snap("2025-06-06", 10, at="2025-06-06T08:00:00Z"),
        )
    )
    assert amounts(facts, "2025-06") == expect("220.00", "220.00", "330.00", "231.00")
    assert "NCE_DECREASE_LOCKED" not in codes(bill(facts, "2025-06"))


def case_6_history():
    return sub(
        snap("2025-01-01", 10),
        snap("2025-06-20", 8),
        commitment="1-Year",
        commitment_end="2025-12-31",
    )


def test_case_6_decrease_after_the_window_is_locked():
    facts = client(case_6_history(), items=(item("198.00", "2025-06-01", "2025-06-30"),))
    assert amounts(facts, "2025-06") == expect("220.00", "176.00", "220.00", "203.87")
    line = only_line(bill(facts, "2025-06"))
    (locked,) = [a for a in line.anomalies if a.code == "NCE_DECREASE_LOCKED"]
    assert locked.severity == "warning"
    assert "−2 seats (10 → 8) on 20 Jun 2025" in locked.message
    assert "Pax8 keeps charging 10 until the renewal on 1 Jan 2026" in locked.message


def test_case_6_july_end_policy_negative_margin_minus_22():
    facts = client(case_6_history(), items=(item("198.00", "2025-07-01", "2025-07-31"),))
    line = only_line(bill(facts, "2025-07", rules(proration="end")))
    assert (line.amount, line.cost) == (D("176.00"), D("198.00"))
    (negative,) = [a for a in line.anomalies if a.code == "NEGATIVE_MARGIN"]
    assert negative.severity == "error"
    assert "margin -22.00" in negative.message


def test_case_6_halo_at_8_while_pax8_charges_10_qty_mismatch():
    # The PSA dropped to 8; Pax8 refused the decrease and still shows 10. With vendor sync off
    # the line bills the Halo quantity, so the margin goes negative.
    facts = client(
        sub(snap("2025-01-01", 10), halo_quantity=8, diff="under"),
        items=(item("198.00", "2025-07-01", "2025-07-31"),),
    )
    line = only_line(bill(facts, "2025-07", rules(sync=False)))
    assert line.amount == D("176.00")
    assert {"QTY_MISMATCH", "NEGATIVE_MARGIN"} <= codes(line)
    (mismatch,) = [a for a in line.anomalies if a.code == "QTY_MISMATCH"]
    assert "Halo bills 8 seats, Pax8 charges 10 seats" in mismatch.message


def test_case_7_decrease_scheduled_at_the_p1m_renewal_is_not_locked():
    facts = client(
        sub(
            snap("2025-01-01", 10, "26.40", "23.76"),
            snap("2025-07-01", 8, "26.40", "23.76", at="2025-07-01T00:05:00Z"),
            commitment="Monthly",
            commitment_end="2025-06-30",
        )
    )
    assert amounts(facts, "2025-07") == expect("211.20", "211.20", "211.20", "211.20")
    assert "NCE_DECREASE_LOCKED" not in codes(bill(facts, "2025-07"))


def annual_case_8():
    return sub(
        snap("2025-01-01", 10, "264.00", "237.60"),
        snap("2025-04-16", 12, "264.00", "237.60"),
        term="Annual",
        commitment="1-Year",
        commitment_end="2025-12-31",
    )


def test_case_8_annual_co_termed_add_376_11():
    line = only_line(bill(client(annual_case_8()), "2025-04"))
    assert line.amount == D("376.11")  # r(2 × 264 × 260/365 = 376.1096)
    assert line.cost == D("338.50")  # estimated: r(2 × 237.60 × 260/365 = 338.4986)
    assert line.quantity.quantize(D("0.0001")) == D("1.4247")
    assert line.policy == "annual term · pax8"
    assert "+2 seats on 16 Apr × 264.00 × 260/365 days left in the term" in line.explanation
    assert "COST_ESTIMATED" in codes(line)
    # An item of another period (the term's first invoice) may be listed beside it: the words
    # name the month no item covers rather than saying there is no invoice at all.
    assert "no Pax8 invoice item covers April 2025" in line.explanation


def test_case_8_annual_term_charge_in_the_month_of_the_term_start_only():
    facts = client(annual_case_8())
    assert only_line(bill(facts, "2025-01")).amount == D("2640.00")
    assert bill(facts, "2025-05").lines == ()  # nothing billed between renewals
    assert only_line(bill(facts, "2026-01")).amount == D("3168.00")  # renewal with 12 seats


def test_case_9_price_rise_at_renewal_price_changed():
    facts = client(
        sub(snap("2024-04-01", 10, "26.40", "23.76"), snap("2025-04-01", 10, "27.72", "24.95")),
        last_month=previous("10", "26.40", "23.76"),
    )
    line = only_line(bill(facts, "2025-04"))
    assert line.amount == D("277.20")
    (changed,) = [a for a in line.anomalies if a.code == "PRICE_CHANGED"]
    assert changed.message == "price 26.40 → 27.72; cost 23.76 → 24.95 since last month"


def exchange_case_10():
    return sub(
        snap("2025-01-01", 5, "4.80", "4.32"),
        snap("2025-06-03", 5, "4.80", "4.32", status="Cancelled", end="2025-06-04"),
        commitment="Monthly",
        commitment_end="2025-06-30",
        name="Exchange Online (Plan 1)",
        halo_quantity=5,
    )


def test_case_10_cancelled_on_the_4th_daily_2_40():
    facts = client(exchange_case_10())
    assert amounts(facts, "2025-06") == expect("24.00", "0.00", "24.00", "2.40")
    assert "NCE_DECREASE_LOCKED" not in codes(bill(facts, "2025-06"))  # 3 days after renewal


def test_case_10_cancelled_still_billed_in_july():
    line = only_line(bill(client(exchange_case_10()), "2025-07"))
    assert (line.quantity, line.amount) == (0, D("0.00"))
    (still,) = [a for a in line.anomalies if a.code == "CANCELLED_STILL_BILLED"]
    assert still.severity == "error"
    assert "Halo still bills 5 seats" in still.message and "4 Jun 2025" in still.message


def test_case_10_no_line_once_halo_stops_billing():
    cancelled = exchange_case_10()
    facts = client(sub(*cancelled.snapshots, halo_quantity=None, commitment="Monthly"))
    assert bill(facts, "2025-07").lines == ()


def trial_case_11():
    return sub(
        snap("2025-05-10", 25, status="Trial"),
        snap("2025-06-09", 25),
        diff="missing_in_halo",
    )


def test_case_11_trial_converted_daily_403_33():
    assert amounts(client(trial_case_11()), "2025-06") == expect(
        "0.00", "550.00", "550.00", "403.33"
    )
    assert "QTY_MISMATCH" in codes(bill(client(trial_case_11()), "2025-06"))


def test_case_11_start_policy_leaves_it_unbilled():
    line = only_line(bill(client(trial_case_11()), "2025-06", rules(proration="start")))
    assert {"UNBILLED_SUBSCRIPTION", "QTY_MISMATCH"} <= codes(line)
    (unbilled,) = [a for a in line.anomalies if a.code == "UNBILLED_SUBSCRIPTION"]
    assert "Pax8 charges for 18.3333 seats" in unbilled.message  # 550 seat-days / 30


def test_case_12_usage_markup_15_percent_1419_75():
    facts = client(usage_facts=(usage("1234.567", "1400.00"),))
    line = only_line(bill(facts, "2025-07", rules(usage_price="markup", markup_percent=D(15))))
    assert (line.kind, line.amount, line.cost) == ("usage", D("1419.75"), D("1234.57"))
    assert line.description == "Azure plan usage, June 2025"
    assert line.policy == "usage · markup 15%"
    assert line.explanation.startswith("cost 1234.567 × 1.15 = 1419.75 (usage for June 2025")
    # The unassigned resource group (86.456 → 99.42) is held out by the batch, not billed here.


def test_case_12_usage_pax8_charge_and_absorb():
    facts = client(usage_facts=(usage("1234.567", "1400.00"),))
    assert only_line(bill(facts, "2025-07")).amount == D("1400.00")
    absorbed = only_line(bill(facts, "2025-07", rules(usage_price="absorb")))
    assert (absorbed.amount, absorbed.cost) == (D("0.00"), D("1234.57"))
    assert "NEGATIVE_MARGIN" not in codes(absorbed)  # absorbing is the policy, not an error


def test_case_13_usage_rounds_the_aggregate_not_each_post():
    facts = client(usage_facts=tuple(usage("0.004", group=g) for g in ("rg-a", "rg-b", "rg-c")))
    line = only_line(bill(facts, "2025-07", rules(usage_price="markup", markup_percent=D(15))))
    assert line.amount == D("0.01")  # r(0.012 × 1.15 = 0.0138), not 3 × r(0.0046) = 0.00
    assert "resource groups rg-a, rg-b, rg-c" in line.explanation


def test_case_14_daily_rate_is_never_rounded_2_27():
    facts = client(sub(snap("2025-06-14", 1, "4.00", "3.40")))
    assert only_line(bill(facts, "2025-06")).amount == D("2.27")  # 4 × 17/30 = 2.2667


def test_case_16_active_with_zero_quantity():
    line = only_line(bill(client(sub(snap("2025-01-01", 0))), "2025-06"))
    assert (line.amount, line.unit_price) == (D("0.00"), D("22.00"))
    assert codes(line) == {"ZERO_QTY_ACTIVE"}
    assert line.anomalies[0].severity == "info"


def test_case_17_two_subscriptions_of_one_product_possible_duplicate():
    facts = client(
        sub(snap("2025-06-02", 5), sid="s1", halo_quantity=5),
        sub(snap("2025-06-04", 5), sid="s2", halo_quantity=0, diff="missing_in_halo"),
        items=(
            item("99.00", "2025-07-01", "2025-07-31", sid="s1"),
            item("99.00", "2025-07-01", "2025-07-31", sid="s2"),
        ),
    )
    invoice = bill(facts, "2025-07")
    assert [line.amount for line in invoice.lines] == [D("110.00"), D("110.00")]
    assert all("POSSIBLE_DUPLICATE" in codes(line) for line in invoice.lines)
    assert "QTY_MISMATCH" in codes(invoice.lines[1])
    assert invoice.cost == D("198.00")
    duplicate = next(a for a in invoice.anomalies if a.code == "POSSIBLE_DUPLICATE")
    assert "2 billable subscriptions" in duplicate.message and "s1, s2" in duplicate.message


def test_case_18_vat_19_percent_on_the_rounded_subtotal():
    facts = client(sub(snap("2025-01-01", 10, "20.60", "18.00"), currency="EUR"))
    invoice = bill(facts, "2025-06", rules(tax_percent=D(19)))
    assert (invoice.currency, invoice.subtotal, invoice.tax) == ("EUR", D("206.00"), D("39.14"))
    assert invoice.total == D("245.14")


def test_case_18_no_rate_currency_mismatch_held_out():
    facts = client(sub(snap("2025-01-01", 10, "22.00", "19.80")))
    invoice = bill(facts, "2025-06", rules(currency="EUR"))
    line = only_line(invoice)
    assert (line.currency, line.amount) == ("USD", D("220.00"))
    assert "CURRENCY_MISMATCH" in codes(line)
    assert (invoice.subtotal, invoice.total, invoice.cost) == (D(0), D(0), D(0))


def test_case_18_configured_rate_converts_then_rounds():
    facts = client(
        sub(snap("2025-01-01", 10, "22.00", "19.80")),
        items=(item("198.00", "2025-06-01", "2025-07-01"),),  # exclusive end
    )
    invoice = bill(facts, "2025-06", rules(currency="EUR", rates={("USD", "EUR"): D("0.92")}))
    line = only_line(invoice)
    assert (line.currency, line.amount, line.cost) == ("EUR", D("202.40"), D("182.16"))
    assert "220.00 USD × 0.92 (USD→EUR, rules) = 202.40" in line.explanation


def test_case_19_us_tax_shape_taxable_share():
    facts = client(sub(snap("2025-01-01", 10)))
    texas = bill(facts, "2025-06", rules(tax_percent=D("6.6")))  # 80% × 8.25%
    assert (texas.tax, texas.total) == (D("14.52"), D("234.52"))
    assert bill(facts, "2025-06").tax == D("0.00")


def test_case_20_credited_and_reissued_invoice_counted_once():
    facts = client(
        sub(snap("2025-01-01", 50)),
        items=(
            item("1000.00", "2025-06-01", "2025-06-30", invoice="A", status="Credited"),
            item("980.00", "2025-06-01", "2025-06-30", invoice="B", status="Unpaid"),
        ),
        reissued=("A",),
    )
    invoice = bill(facts, "2025-06")
    assert only_line(invoice).cost == D("980.00")
    (reissued,) = [a for a in invoice.anomalies if a.code == "INVOICE_REISSUED"]
    assert reissued.severity == "info" and "Pax8 invoice A" in reissued.message
    assert "1000.00" in reissued.message


def test_case_21_p1m_decrease_outside_the_window_241_12():
    facts = client(
        sub(
            snap("2025-01-01", 10, "26.40", "23.76"),
            snap("2025-06-18", 8, "26.40", "23.76"),
            commitment="Monthly",
            commitment_end="2025-06-30",
        )
    )
    assert amounts(facts, "2025-06") == expect("264.00", "211.20", "264.00", "241.12")
    assert "NCE_DECREASE_LOCKED" in codes(bill(facts, "2025-06"))  # 17 days after the renewal


def test_case_22_non_nce_seats_in_and_out_57_50():
    facts = client(
        sub(
            snap("2025-01-01", 10, "5.00", "3.50"),
            snap("2025-06-05", 13, "5.00", "3.50"),
            snap("2025-06-20", 10, "5.00", "3.50"),
            commitment=None,
        )
    )
    assert amounts(facts, "2025-06") == expect("50.00", "50.00", "65.00", "57.50")
    assert "NCE_DECREASE_LOCKED" not in codes(bill(facts, "2025-06"))


def test_case_23_usage_bills_the_posted_total_given():
    # The assembler keeps the latest posted total (150 GB × 0.15), never the sum of the posts.
    facts = client(usage_facts=(usage("15.00", "22.50", group="storage"),))
    assert only_line(bill(facts, "2025-11")).amount == D("22.50")


@pytest.mark.parametrize(("floor", "flagged"), [("10", False), ("10.01", True)])
def test_case_24_margin_exactly_at_the_floor_passes(floor, flagged):
    facts = client(sub(snap("2025-01-01", 1)), items=(item("19.80", "2025-06-01", "2025-06-30"),))
    line = only_line(bill(facts, "2025-06", rules(min_margin_percent=D(floor))))
    assert ("BELOW_MIN_MARGIN" in codes(line)) is flagged


def test_case_24_markup_is_on_cost_not_margin():
    facts = client(sub(snap("2025-01-01", 1)))
    line = only_line(bill(facts, "2025-06", rules(price="markup", markup_percent=D(20))))
    assert (line.unit_price, line.amount, line.policy) == (
        D("23.76"),
        D("23.76"),
        "daily · markup 20%",
    )


def test_bear_creek_17_18_19_18_in_november_2026():
    facts = client(
        sub(
            snap("2026-01-10", 17, "12.50", "10.63"),
            snap("2026-11-05", 18, "12.50", "10.63"),
            snap("2026-11-12", 19, "12.50", "10.63"),
            snap("2026-11-15", 18, "12.50", "10.63"),
            name="Microsoft 365 Business Standard",
        )
    )
    line = only_line(bill(facts, "2026-11"))
    assert line.quantity.quantize(D("0.0001")) == D("17.9667")  # 539 seat-days / 30
    assert line.amount == D("224.58")
    assert line.explanation.startswith(
        "17 seats × 12.50 for 4 days + 18 × 12.50 for 7 days + 19 × 12.50 for 3 days + "
        "18 × 12.50 for 16 days, ÷ 30 days = 224.58 (daily proration, Pax8 price, Pax8 history"
    )
    # The seat removed on the 15th was added on the 12th: inside the window.
    assert "NCE_DECREASE_LOCKED" not in codes(line)
