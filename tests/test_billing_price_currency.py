"""The currency of a line's unit price (billing-rules §4, docs/billing-decisions.md "Currency").

A `halo` price is in the Halo recurring invoice's currency and a `fixed` price in the invoice's,
whatever currency Pax8 bills the subscription in; Pax8's cost is converted into the line's
currency at the rules' rate, or left out and flagged when there is none. Defaults: 10 seats of a
USD subscription at 22.00 (cost 19.80), June 2025, a client billed in EUR.
"""

from decimal import Decimal

from billing_builders import bill, client, codes, only_line, rules, snap, sub

D = Decimal
EUR_USD = {("EUR", "USD"): D("1.085")}  # USD→EUR is its inverse


def halo_priced(currency: str = "EUR"):
    """10 seats billed on a Halo line at 20.00 in `currency`."""
    return client(
        sub(snap("2025-01-01", 10), halo_quantity=10, halo_price="20.00", halo_currency=currency)
    )


def test_a_halo_price_is_in_the_halo_recurring_invoices_currency():
    # 10 × EUR 20.00 = EUR 200.00, not 20.00 read as USD and converted (EUR 184.33).
    invoice = bill(halo_priced(), "2025-06", rules(price="halo", currency="EUR", rates=EUR_USD))
    line = only_line(invoice)
    assert (line.currency, line.unit_price, line.amount) == ("EUR", D("20.00"), D("200.00"))
    assert line.cost == D("182.49")  # the Pax8 estimate 198.00 USD ÷ 1.085
    assert "198.00 USD × 0.9216" in line.explanation and "(USD→EUR, rules)" in line.explanation
    assert "CURRENCY_MISMATCH" not in codes(line)
    assert invoice.subtotal == D("200.00")


def test_a_halo_price_needs_no_rate_only_its_pax8_cost_does():
    # No rate: the line is billed (it used to be held out as USD 200.00); the USD cost is left
    # out and flagged.
    invoice = bill(halo_priced(), "2025-06", rules(price="halo", currency="EUR"))
    line = only_line(invoice)
    assert (line.currency, line.amount, line.cost) == ("EUR", D("200.00"), D("0.00"))
    (mismatch,) = [a for a in line.anomalies if a.code == "CURRENCY_MISMATCH"]
    assert mismatch.message == (
        "Pax8 cost 198.00 USD, the line is priced in EUR: no USD→EUR rate configured, "
        "left out of the cost"
    )
    assert "COST_ESTIMATED" not in codes(line)
    assert (invoice.subtotal, invoice.cost) == (D("200.00"), D("0.00"))


def test_a_halo_price_in_another_currency_than_the_invoice_is_converted_or_held_out():
    facts = halo_priced()  # an EUR Halo line, a USD invoice
    line = only_line(bill(facts, "2025-06", rules(price="halo", rates=EUR_USD)))
    assert (line.currency, line.amount, line.cost) == ("USD", D("217.00"), D("198.00"))
    held = only_line(bill(facts, "2025-06", rules(price="halo")))
    assert (held.currency, held.amount) == ("EUR", D("200.00"))
    assert "CURRENCY_MISMATCH" in codes(held)


def test_a_halo_line_in_the_subscriptions_currency_is_unchanged():
    line = only_line(bill(halo_priced("USD"), "2025-06", rules(price="halo")))
    assert (line.currency, line.amount, line.cost) == ("USD", D("200.00"), D("198.00"))


def test_a_fixed_price_is_held_in_the_invoices_currency_whatever_the_rate():
    # Decision (b): 10 × EUR 12.50 = EUR 125.00, not 12.50 USD × 0.92 (EUR 115.00).
    facts = client(sub(snap("2025-01-01", 10)))
    fixed = {"price": "fixed", "fixed_price": D("12.50"), "currency": "EUR"}
    for rate in ("0.92", "0.85"):
        line = only_line(bill(facts, "2025-06", rules(rates={("USD", "EUR"): D(rate)}, **fixed)))
        assert (line.currency, line.unit_price, line.amount) == ("EUR", D("12.50"), D("125.00"))
        assert line.cost == D("198.00") * D(rate)
        assert line.unit_cost == D("19.80") * D(rate)


def test_a_fixed_price_needs_no_rate_only_its_pax8_cost_does():
    facts = client(sub(snap("2025-01-01", 10)))
    invoice = bill(facts, "2025-06", rules(price="fixed", fixed_price=D("12.50"), currency="EUR"))
    line = only_line(invoice)
    assert (line.currency, line.amount, line.cost) == ("EUR", D("125.00"), D("0.00"))
    assert "CURRENCY_MISMATCH" in codes(line)
    assert invoice.subtotal == D("125.00")
