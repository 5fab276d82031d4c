"""A line's `recovered`: the seat diff's mismatch it corrects this month, a month's worth at the
price it bills (the summary's 12 months sum it). 10 seats at 22.00 in Pax8, June 2025."""

from decimal import Decimal

from billing_builders import bill, client, codes, only_line, rules, snap, sub

D = Decimal
EUR_USD = {("EUR", "USD"): D("1.085")}


def test_under_billed_seats_now_billed_and_over_billed_ones_removed():
    under = only_line(
        bill(client(sub(snap("2025-01-01", 10), halo_quantity=8, diff="under")), "2025-06")
    )
    assert under.recovered == D("44.0000")  # 2 seats × 22.00
    over = only_line(
        bill(client(sub(snap("2025-01-01", 10), halo_quantity=13, diff="over")), "2025-06")
    )
    assert over.recovered == D("-66.0000")
    unbilled = only_line(
        bill(client(sub(snap("2025-01-01", 10), diff="missing_in_halo")), "2025-06")
    )
    assert unbilled.recovered == D("220.0000")
    matched = only_line(bill(client(sub(snap("2025-01-01", 10), halo_quantity=10)), "2025-06"))
    assert matched.recovered is None


def test_the_seats_the_seat_diff_counted_on_its_day_not_the_month_end():
    """Within the month the diff counts today's seats; a change stored for later in the month
    (11 from the 20th) moves the line's charge, but the mismatch recovered is the one the
    status names (under by 1 on the 10th), so the figure and the status agree."""
    facts = client(
        sub(snap("2025-01-01", 9), snap("2025-06-20", 11), halo_quantity=8, diff="under", counted=9)
    )
    assert only_line(bill(facts, "2025-06")).recovered == D("22.0000")


def test_at_the_price_the_line_bills_and_nothing_with_halos_seats():
    facts = client(sub(snap("2025-01-01", 10), halo_quantity=8, diff="under"))
    marked_up = only_line(bill(facts, "2025-06", rules(price="markup", markup_percent=D(20))))
    assert marked_up.recovered == 2 * marked_up.unit_price == D("47.5200")  # 19.80 × 1.2
    held = only_line(bill(facts, "2025-06", rules(sync=False)))
    assert held.recovered is None  # it bills Halo's 8 seats: nothing corrected


def test_a_term_line_corrects_a_months_share_only_in_a_month_it_charges():
    annual = sub(
        snap("2025-03-10", 12, price="264.00"),
        term="Annual",
        halo_quantity=10,
        diff="under",
    )
    renewal = only_line(bill(client(annual), "2025-03"))
    assert renewal.amount and renewal.recovered == D("44.0000")  # 2 × 264.00 / 12
    between = bill(client(annual), "2025-06")
    assert all(line.recovered is None for line in between.lines)


def test_a_line_held_out_for_want_of_a_rate_corrects_nothing():
    facts = client(sub(snap("2025-01-01", 10), halo_quantity=8, diff="under", currency="EUR"))
    held = only_line(bill(facts, "2025-06", rules(currency="USD")))
    assert "CURRENCY_MISMATCH" in codes(held) and held.recovered is None
    converted = only_line(bill(facts, "2025-06", rules(currency="USD", rates=EUR_USD)))
    assert converted.recovered == D("47.7400")  # 2 × 22.00 EUR at 1.085
