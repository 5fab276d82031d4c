"""What trueup sends Xero for a document: the invoice or credit note, its lines as Xero takes
them (no negative quantity), the idempotency key, and Xero's refusals read back as words."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from trueup.core.posting.sink import Document, DocumentLine
from trueup.core.posting.xero import document_body, idempotency_key
from trueup.core.sources.http import ApiError
from trueup.core.sources.xero import validation_messages, xero_string
from trueup.sandbox.xero_where import compile_where


def document(reference: str = "TU2611-7", **changes: object) -> Document:
    lines = (
        DocumentLine("subscription", "Managed seats", Decimal(25), Decimal("50.00"),
                     Decimal("1250.00"), xero_item_code="MS-SEAT", xero_account_code="200",
                     xero_tax_type="OUTPUT2"),
        DocumentLine("manual", "Onsite visit", Decimal(3), Decimal("33.333"), Decimal("100.00"),
                     xero_item_code="LAB", xero_account_code="200"),
    )  # fmt: skip
    base = Document(
        reference=reference, client_id=7, client_name="Acme Dental", month="2026-11",
        invoice_date=date(2026, 11, 30), currency="GBP", subtotal=Decimal("1350.00"),
        tax=Decimal(0), total=Decimal("1350.00"), note="trueup batch 42", lines=lines,
        xero_contact_id="4c1f", due_date=date(2026, 12, 30),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_invoice_is_accrec_authorised_numbered_by_our_reference() -> None:
    assert document_body(document()) == {
        "Type": "ACCREC", "Contact": {"ContactID": "4c1f"}, "Date": "2026-11-30",
        "DueDate": "2026-12-30", "Reference": "2026-11", "CurrencyCode": "GBP",
        "Status": "AUTHORISED", "LineAmountTypes": "Exclusive", "InvoiceNumber": "TU2611-7",
        "LineItems": [
            {"Description": "Managed seats", "Quantity": Decimal(25),
             "UnitAmount": Decimal("50.00"), "LineAmount": Decimal("1250.00"),
             "AccountCode": "200", "ItemCode": "MS-SEAT", "TaxType": "OUTPUT2"},
            {"Description": "Onsite visit", "Quantity": Decimal(3),
             "UnitAmount": Decimal("33.333"), "LineAmount": Decimal("100.00"),
             "AccountCode": "200", "ItemCode": "LAB"},
        ],
    }  # fmt: skip
    assert document_body(document(draft=True))["Status"] == "DRAFT"


def test_a_line_taking_money_back_keeps_its_quantity_positive() -> None:
    back = DocumentLine(
        "adjustment", "Seats removed", Decimal(-2), Decimal("50.00"), Decimal("-100.00"),
        xero_item_code="MS-SEAT", xero_account_code="200",
    )  # fmt: skip
    line = document_body(document(lines=(back, *document().lines)))["LineItems"][0]
    assert (line["Quantity"], line["UnitAmount"], line["LineAmount"]) == (
        Decimal(2),
        Decimal("-50.00"),
        Decimal("-100.00"),
    )


def test_a_credit_is_a_credit_note_of_positive_lines() -> None:
    back = DocumentLine(
        "adjustment", "Seats removed", Decimal(-2), Decimal("50.00"), Decimal("-100.00"),
        xero_item_code="MS-SEAT", xero_account_code="200",
    )  # fmt: skip
    credit = document("TU2611-7-A1", lines=(back,), subtotal=Decimal(-100), total=Decimal(-100))
    body = document_body(credit)
    assert body["Type"] == "ACCRECCREDIT" and body["CreditNoteNumber"] == "TU2611-7-A1"
    assert "InvoiceNumber" not in body and "DueDate" not in body
    line = body["LineItems"][0]
    assert (line["Quantity"], line["UnitAmount"], line["LineAmount"]) == (
        Decimal(2),
        Decimal("50.00"),
        Decimal("100.00"),
    )


def test_a_document_without_a_contact_is_refused_by_name() -> None:
    with pytest.raises(ApiError, match="Acme Dental has no Xero contact"):
        document_body(document(xero_contact_id=None))


def test_the_idempotency_key_follows_the_body_and_fits_xero() -> None:
    docs = [document()]
    body = {"Invoices": [document_body(document())]}
    same = idempotency_key(docs, {"Invoices": [document_body(document())]})
    changed = idempotency_key(docs, {"Invoices": [document_body(document(currency="EUR"))]})
    assert idempotency_key(docs, body) == same != changed
    assert same.startswith("trueup-TU2611-7-1-") and len(same) <= 128


def test_validation_errors_are_read_from_either_shape() -> None:
    refused = {
        "ErrorNumber": 10, "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": "Account code '999' is not valid."}]},
                     {"ValidationErrors": []}],
    }  # fmt: skip
    assert validation_messages(refused) == ["Account code '999' is not valid."]
    element = {"HasErrors": True, "ValidationErrors": [{"Message": "Invoice not of valid\nstatus"}]}
    assert validation_messages(element) == ["Invoice not of valid status"]
    assert validation_messages({"Elements": []}) == []
    assert validation_messages(None) == []


def test_where_strings_are_quoted_as_xero_reads_them() -> None:
    """A quote doubled, a backslash as it is: a backslash escape is Xero's syntax error."""
    value = 'TU"1\\ & <2>'
    assert xero_string(value) == '"TU""1\\ & <2>"'
    matches = compile_where(f"CreditNoteNumber=={xero_string(value)}", "CreditNote")
    assert matches({"CreditNoteNumber": value})
    assert not matches({"CreditNoteNumber": 'TU"1\\\\ & <2>'})


def test_a_quantity_xero_would_round_goes_as_one_times_the_amount() -> None:
    prorated = DocumentLine(
        "subscription", "Seats, 11 of 30 days", Decimal("3.666667"), Decimal(30),
        Decimal("110.00"), xero_item_code="MS-SEAT", xero_account_code="200",
    )  # fmt: skip
    line = document_body(document(lines=(prorated,)))["LineItems"][0]
    assert (line["Quantity"], line["UnitAmount"], line["LineAmount"]) == (
        Decimal(1),
        Decimal("110.00"),
        Decimal("110.00"),
    )
    assert line["Description"] == "Seats, 11 of 30 days (3.666667 x 30)"
