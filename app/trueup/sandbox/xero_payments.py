"""Money put against invoices and credit notes in the Xero simulator: payments and credit note
allocations, enough to settle a document and see what Xero refuses of it then (developer.xero.com
Payments and Credit Notes; the official OpenAPI's Payment and Allocation shapes).

- `PUT /Payments` (`{"Payments": [...]}`, the OpenAPI's createPayments) or `POST /Payments`
  (one payment, its createPayment, as xero-python sends it): an `Invoice` or a `CreditNote` (a
  refund) by its id or number, an `Account` by `Code` or `AccountID` (a BANK account, or one with
  EnablePaymentsToAccount), an `Amount` and a `Date`. The document's AmountPaid (a credit note's
  RemainingCredit) moves, the payment is listed in its `Payments`, and a document nothing is left
  due on is PAID.
- `PUT /CreditNotes/{id}/Allocations` (`{"Allocations": [{"Invoice": {"InvoiceID"}, "Amount",
  "Date"}]}`): the credit note's RemainingCredit and the invoice's AmountDue go down by the
  amount, the invoice's AmountCredited up; either is PAID at 0 (a Xero developer's answer on the
  community: "Once you allocate the Credit note to an invoice the status of the credit note changes
  from 'AUTHORISED' to 'PAID' and hence you cannot void them").

Only an AUTHORISED document takes money, and no more than it has due. A refusal is the usual 400
ValidationException; these refusals' words are this simulator's own (unconfirmed). What a
document with money against it refuses is xero_documents' (`settled`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from trueup.sandbox.xero_book import Organisation
from trueup.sandbox.xero_documents import CREDIT_NOTES, INVOICES, Documents, Kind
from trueup.sandbox.xero_lines import number
from trueup.sandbox.xero_wire import (
    Json,
    day_date,
    day_string,
    money,
    ms_date,
    parse_day,
    utc_string,
    validation_exception,
)

Now = Callable[[], datetime]


class Payments:
    def __init__(self, org: Organisation, documents: Documents, now: Now) -> None:
        self.org = org
        self.documents = documents
        self.now = now

    def pay(self, elements: list[Any]) -> list[Json]:
        """Apply each payment, or refuse them all (Xero's default, summarizeErrors)."""
        given = [e if isinstance(e, dict) else {} for e in elements]
        checked = [self._check_payment(e) for e in given]
        refused = [
            {**element, "ValidationErrors": [{"Message": m} for m in found[4]]}
            for element, found in zip(given, checked, strict=True)
            if found[4]
        ]
        if refused:
            raise validation_exception(refused)
        return [self._apply_payment(*found[:4]) for found in checked]

    def allocate(self, credit_note_id: str, elements: list[Any]) -> list[Json]:
        """Allocate the credit note to invoices, or refuse them all."""
        note = self.documents.get(CREDIT_NOTES, credit_note_id)
        answered: list[Json] = []
        for element in elements:
            given = element if isinstance(element, dict) else {}
            errors: list[str] = []
            invoice = self._document(INVOICES, given.get("Invoice"), errors)
            amount = number(given.get("Amount"), "Amount", errors)
            if note is None:
                errors.append("The Credit Note with the specified CreditNoteID could not be found")
            for document, left in ((note, "RemainingCredit"), (invoice, "AmountDue")):
                if document is not None and amount is not None:
                    errors += _takes(document, amount, left)
            if errors:
                refused = {**given, "ValidationErrors": [{"Message": m} for m in errors]}
                raise validation_exception([refused])
            assert note is not None and invoice is not None and amount is not None
            day = _day(given.get("Date"), self.now)
            _settle(note, "RemainingCredit", amount, self.now())
            _settle(invoice, "AmountDue", amount, self.now())
            invoice["AmountCredited"] = money(Decimal(str(invoice["AmountCredited"])) + amount)
            summary = {"CreditNoteID": note["CreditNoteID"], "Total": note["Total"],
                       "CreditNoteNumber": note.get("CreditNoteNumber")}  # fmt: skip
            invoice.setdefault("CreditNotes", []).append(summary)
            allocation = {"AllocationID": str(uuid.uuid4()), "Amount": money(amount),
                          "Date": day_date(day), "Invoice": _brief(invoice, INVOICES)}  # fmt: skip
            note.setdefault("Allocations", []).append(allocation)
            answered.append({**allocation, "CreditNote": _brief(note, CREDIT_NOTES)})
        return answered

    def _check_payment(
        self, given: Json
    ) -> tuple[Kind | None, Json | None, Decimal | None, Json, list[str]]:
        errors: list[str] = []
        kind = CREDIT_NOTES if "CreditNote" in given else INVOICES
        document = self._document(kind, given.get(kind.entity), errors)
        amount = number(given.get("Amount"), "Amount", errors)
        account = self._account(given.get("Account"), errors)
        if document is not None and amount is not None:
            left = "AmountDue" if kind is INVOICES else "RemainingCredit"
            errors += _takes(document, amount, left)
        return kind, document, amount, {**given, "Account": account or {}}, errors

    def _apply_payment(
        self, kind: Kind | None, document: Json | None, amount: Decimal | None, given: Json
    ) -> Json:
        assert kind is not None and document is not None and amount is not None
        now, day = self.now(), _day(given.get("Date"), self.now)
        payment_id = str(uuid.uuid4())
        left = "AmountDue" if kind is INVOICES else "RemainingCredit"
        _settle(document, left, amount, now)
        if kind is INVOICES:
            document["AmountPaid"] = money(Decimal(str(document["AmountPaid"])) + amount)
        document.setdefault("Payments", []).append(
            {"PaymentID": payment_id, "Date": day_date(day), "Amount": money(amount),
             "Reference": str(given.get("Reference") or ""), "CurrencyRate": 1.0,
             "HasAccount": True, "HasValidationErrors": False}
        )  # fmt: skip
        account = given["Account"]
        return {
            "PaymentID": payment_id,
            "Date": day_date(day),
            "DateString": day_string(day),
            "Amount": money(amount),
            "BankAmount": money(amount),
            "Reference": str(given.get("Reference") or ""),
            "CurrencyRate": 1.0,
            "PaymentType": "ACCRECPAYMENT" if kind is INVOICES else "ARCREDITPAYMENT",
            "Status": "AUTHORISED",
            "UpdatedDateUTC": ms_date(now),
            "UpdatedDateUTCString": utc_string(now),
            "HasAccount": True,
            "IsReconciled": False,
            "Account": {"AccountID": account["AccountID"], "Code": account.get("Code")},
            kind.entity: _brief(document, kind),
            "HasValidationErrors": False,
        }

    def _document(self, kind: Kind, given: Any, errors: list[str]) -> Json | None:
        key = ""
        if isinstance(given, dict):
            key = str(given.get(kind.id_field) or given.get(kind.number_field) or "")
        found = self.documents.get(kind, key) if key else None
        if found is None:
            errors.append(f"The {kind.noun} with the specified {kind.id_field} could not be found")
        return found

    def _account(self, given: Any, errors: list[str]) -> Json | None:
        account = None
        if isinstance(given, dict):
            account = self.org.account(
                code=str(given["Code"]) if given.get("Code") else None,
                account_id=str(given["AccountID"]) if given.get("AccountID") else None,
            )
        if account is None:
            errors.append("Account could not be found")
        elif account.get("Type") != "BANK" and not account.get("EnablePaymentsToAccount"):
            errors.append("Account type is invalid for making a payment to/from")
        return account


def _takes(document: Json, amount: Decimal, left: str) -> list[str]:
    """Why the document cannot take `amount` more of money, if it cannot."""
    if document.get("Status") != "AUTHORISED":
        return [f"Payments and allocations can only be made to AUTHORISED documents, not "
                f"{document.get('Status')}"]  # fmt: skip
    if amount <= 0:
        return ["The payment amount must be greater than zero"]
    if amount > Decimal(str(document.get(left, 0))):
        return ["The payment amount exceeds the amount outstanding on this document"]
    return []


def _settle(document: Json, left: str, amount: Decimal, now: datetime) -> None:
    """Take `amount` off what the document has left; PAID at nothing left."""
    remaining = Decimal(str(document[left])) - amount
    document[left] = money(remaining)
    if remaining == 0:
        document["Status"] = "PAID"
        document["FullyPaidOnDate"] = day_date(now.astimezone(UTC).date())
    document["UpdatedDateUTC"] = ms_date(now)
    document["UpdatedDateUTCString"] = utc_string(now)


def _brief(document: Json, kind: Kind) -> Json:
    return {key: document.get(key) for key in ("Type", kind.id_field, kind.number_field,
                                               "Contact", "CurrencyCode", "Status")}  # fmt: skip


def _day(value: Any, now: Now) -> Any:
    try:
        return parse_day(value) if value not in (None, "") else now().astimezone(UTC).date()
    except ValueError:
        return now().astimezone(UTC).date()
