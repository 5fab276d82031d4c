"""QTY_SWING compares a month's seats with last month's (billing-rules §10); a term line's
quantity is not a month's seats but a term's, or an add's share of one (§5)."""

from billing_builders import D, bill, client, codes, only_line, previous, snap, sub


def annual(*snapshots):
    return sub(*snapshots, term="Annual", commitment="Annual")


def test_a_mid_term_add_is_no_swing_against_the_term_start():
    # 10 seats from 1 Jan (the term charge, January's line), +2 on 10 Feb: February bills
    # 2 × 264 × 325/365, a quantity of 1.78; the seats rose 10 → 12 (20%, under the 25%).
    subscription = annual(
        snap("2025-01-01", 10, "264.00", "237.60"), snap("2025-02-10", 12, "264.00", "237.60")
    )
    january = only_line(bill(client(subscription), "2025-01"))
    assert january.quantity == 10
    last_month = previous("10", "264.00", "237.60")
    february = only_line(bill(client(subscription, last_month=last_month), "2025-02"))
    assert february.amount == D("470.14")
    assert "QTY_SWING" not in codes(february), february.anomalies


def test_a_monthly_line_still_swings():
    subscription = sub(snap("2025-01-01", 10), snap("2025-02-10", 20))
    line = only_line(bill(client(subscription, last_month=previous("10", "22.00")), "2025-03"))
    assert "QTY_SWING" in codes(line)
