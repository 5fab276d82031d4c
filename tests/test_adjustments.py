"""An adjustment: the document that brings what was posted to what the month bills now, line by
line, adding up to the difference."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from trueup.core.posting.adjustments import adjustment
from trueup.core.posting.sink import Document, DocumentLine

D = Decimal


def line(description: str, quantity: str, price: str, amount: str | None = None) -> DocumentLine:
    amount = amount if amount is not None else str(D(quantity) * D(price))
    return DocumentLine("subscription", description, D(quantity), D(price), D(amount),
                        subscription_id=description, halo_item_id=7)  # fmt: skip


def document(reference: str, *lines: DocumentLine, tax: str = "0") -> Document:
    subtotal = sum((item.amount for item in lines), D(0))
    return Document(
        reference=reference, client_id=420, client_name="Acme", month="2026-11",
        invoice_date=date(2026, 11, 30), currency="USD", subtotal=subtotal, tax=D(tax),
        total=subtotal + D(tax), note="trueup batch B, November 2026, Acme", lines=lines,
    )  # fmt: skip


def test_a_month_that_bills_as_posted_needs_no_adjustment() -> None:
    posted = document("TU2611-420", line("M365 BP", "10", "22.00"), line("Defender", "5", "3"))
    now = document("TU2611-420-A1", *reversed(posted.lines))
    assert adjustment(now, [posted], "TU2611-420-A1") is None


def test_moved_seats_a_line_gone_and_a_new_line_carry_only_the_difference() -> None:
    posted = document("TU2611-420", line("M365 BP", "10", "22.00"), line("Defender", "5", "3"))
    now = document("X", line("M365 BP", "12", "22.00"), line("Copilot", "1", "30.00"))
    found = adjustment(now, [posted], "TU2611-420-A1")
    assert found is not None
    assert [(x.description, x.quantity, x.unit_price, x.amount) for x in found.lines] == [
        ("M365 BP", D(2), D("22.00"), D("44.00")),
        ("Copilot", D(1), D("30.00"), D("30.00")),
        ("Defender (taken back)", D(-5), D(3), D(-15)),
    ]
    assert found.reference == "TU2611-420-A1" and found.adjusts == ("TU2611-420",)
    assert found.subtotal == found.total == D("59.00") and not found.credit
    assert found.note.startswith("Adjustment of TU2611-420: ")


def test_a_price_change_takes_back_the_old_price_and_bills_the_new() -> None:
    posted = document("TU2611-420", line("M365 BP", "10", "22.00"))
    now = document("X", line("M365 BP", "10", "20.00"))
    found = adjustment(now, [posted], "TU2611-420-A1")
    assert found is not None and found.credit and found.total == D("-20.00")
    # Two lines of one name read which is the take-back of what was posted, which the new bill.
    assert [(x.description, x.quantity, x.unit_price) for x in found.lines] == [
        ("M365 BP (now 20.00)", D(10), D("20.00")),
        ("M365 BP (was 22.00, taken back)", D(-10), D("22.00")),
    ]
    # Posted, the adjustment's words do not make its lines new ones: nothing is left to adjust.
    assert adjustment(now, [posted, found], "TU2611-420-A2") is None
    later = document("X", line("M365 BP", "12", "20.00"))
    again = adjustment(later, [posted, found], "TU2611-420-A2")
    assert again is not None
    assert [(x.description, x.quantity) for x in again.lines] == [("M365 BP", D(2))]


def test_an_earlier_adjustment_counts_and_an_amount_alone_is_one_line_of_money() -> None:
    posted = document("TU2611-420", line("M365 BP", "10.5", "22.00", "231.00"))
    first = document("TU2611-420-A1", line("M365 BP", "1", "22.00"))
    now = document("X", line("M365 BP", "11.5", "22.00", "253.01"))
    found = adjustment(now, [posted, first], "TU2611-420-A2")
    assert found is not None and found.adjusts == ("TU2611-420", "TU2611-420-A1")
    assert [(x.description, x.quantity, x.unit_price, x.amount) for x in found.lines] == [
        ("M365 BP (amount)", D(1), D("0.01"), D("0.01"))
    ]


def test_an_amount_alone_adjusted_once_is_not_adjusted_again() -> None:
    """From a review: after an adjustment of money alone (the same seats, another amount), the
    month billing as adjusted gave a second document of two lines cancelling out, and one
    moving a seat more took the first one's cent back on a line of its own."""
    posted = document("TU2611-420", line("M365 BP", "10.5", "22.00", "231.00"))
    now = document("X", line("M365 BP", "10.5", "22.00", "231.01"))
    first = adjustment(now, [posted], "TU2611-420-A1")
    assert first is not None
    assert [(x.description, x.amount) for x in first.lines] == [("M365 BP (amount)", D("0.01"))]
    assert adjustment(now, [posted, first], "TU2611-420-A2") is None
    seat_more = document("X", line("M365 BP", "11.5", "22.00", "253.01"))
    moved = adjustment(seat_more, [posted, first], "TU2611-420-A2")
    assert moved is not None and moved.total == D("22.00")
    assert [(x.description, x.quantity, x.amount) for x in moved.lines] == [
        ("M365 BP", D("1.0"), D("22.00"))
    ]
    gone = adjustment(document("X"), [posted, first], "TU2611-420-A2")
    assert gone is not None
    assert [(x.description, x.quantity, x.amount) for x in gone.lines] == [
        ("M365 BP (taken back)", D("-10.5"), D("-231.01"))
    ]


def test_lines_that_do_not_add_up_to_the_subtotal_leave_a_visible_rounding_line() -> None:
    posted = replace(document("TU2611-420", line("M365 BP", "10", "22.00")), subtotal=D("220.01"))
    now = document("X", line("M365 BP", "10", "22.00"), tax="1.00")
    found = adjustment(now, [posted], "TU2611-420-A1")
    assert found is not None
    assert [(x.description, x.amount) for x in found.lines] == [("Rounding difference", D("-0.01"))]
    assert found.tax == D("1.00")
