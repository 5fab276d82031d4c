"""Invoices and credit notes in the Xero simulator: create (PUT), update or create (POST), status
changes, and the reads (developer.xero.com Invoices and Credit Notes; the official OpenAPI).

Writes take `{"Invoices": [...]}` (or one invoice object). With `summarizeErrors=false` the answer
is 200 and every element comes back on its own: a saved one with `"StatusAttributeString": "OK"`,
a refused one as sent with `"InvoiceID": "00000000-..."`, `"HasErrors": true`,
`"StatusAttributeString": "ERROR"` and its `ValidationErrors`. Otherwise (the default, whatever
the OpenAPI's schema says) any refused element makes the whole request a 400 ValidationException
whose Elements are the refused ones, and nothing is saved (that nothing is saved is this
simulator's reading, unconfirmed).

Kept as Xero has them:
- ACCREC invoice numbers are unique: "Invoice # must be unique." (the OpenAPI's own example;
  pyxero's maintainers: "If creating an AR invoice the document number is unique, so if you PUT
  said invoice and run the request twice, the second will fail"); a voided or deleted invoice
  keeps its number. ACCPAY numbers may repeat (the docs: "non-unique"). A missing number is
  INV-0001, INV-0002... Credit note numbers are not checked for repeats (Xero's rule for them is
  not documented; trueup must not rely on a refusal); a missing one is CN-0001...
- ACCPAY bills and ACCPAYCREDIT notes are kept, as Xero keeps them, with the same checks.
- A Contact given by ContactID must exist ("The Contact with the specified ContactID could not be
  found", as integrators quote it); by Name alone it is matched, or created as Xero does; an
  archived one is refused ("The contact with the specified contact details has been archived. The
  contact must be un-archived before creating new invoices or credit notes.", Re-Leased's table).
- CurrencyCode must be the base currency or one the organisation added: "Organisation is not
  subscribed to currency EUR". CurrencyRate is what is sent, else 1.0 (no XE.com feed here).
- A Total below zero is refused once the document is SUBMITTED or AUTHORISED: "The Total for this
  document must be greater than or equal to zero." (Neto's table; a DRAFT may be negative, Kindo's
  guide: "Xero will not allow this invoice to be approved").
- Status moves (the docs' status codes): DRAFT and SUBMITTED to each other, to AUTHORISED or to
  DELETED; AUTHORISED to VOIDED (AmountDue, or a credit note's RemainingCredit, becomes 0); nothing
  from VOIDED, DELETED or PAID. Any other move: "Invoice not of valid status for modification"
  (quoted by Neto, WorkGuru and Dext), "Credit Note not of valid status for modification" for
  credit notes.
- A document with money against it (a payment, or a credit note allocated: xero_payments) keeps
  its status and lines: moving it (voiding a part-paid invoice, or an allocated credit note) or
  sending it lines is refused with "This document cannot be edited as it has a payment or credit
  note allocated to it." (Expedo's and WorkGuru's tables of Xero errors; a Stack Overflow report
  quotes it for a credit note with a payment; Ascora's support page quotes Xero answering both
  sentences at once for an invoice with a payment). Other fields (SentToContact) still change,
  as that report shows for invoices.
- Reads: `GET /Invoices` without `page` leaves the line items out (Linx's guide to the API: "no
  line details are returned ... The line item details will be returned when you retrieve an
  individual invoice ... or by using the optional paging parameter"); with `page`, 100 a page
  (`pageSize` up to 1000) and `pagination`. Voided and deleted invoices are listed unless
  `Statuses` or `where` leaves them out (the OpenAPI's own list example holds a VOIDED invoice).
  `IDs`, `InvoiceNumbers`, `ContactIDs`, `Statuses`, `createdByMyApp`, `searchTerm`, `where`,
  `order`, `If-Modified-Since`. `GET /Invoices/{id}` also takes an InvoiceNumber, as Xero's does.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from trueup.sandbox.xero_book import (
    Organisation,
    filtered,
    id_list,
    page_params,
    paged,
    unit_amounts,
)
from trueup.sandbox.xero_lines import Line, build_line, number
from trueup.sandbox.xero_wire import (
    ZERO_ID,
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
AMOUNT_TYPES = {"exclusive": "Exclusive", "inclusive": "Inclusive", "notax": "NoTax"}
MOVES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
}
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
NOT_MODIFIABLE = "not of valid status for modification"
SETTLED = "This document cannot be edited as it has a payment or credit note allocated to it."
CONTACT_SUMMARY = ("ContactID", "ContactNumber", "AccountNumber", "ContactStatus", "Name",
                   "FirstName", "LastName", "EmailAddress", "Addresses", "Phones", "ContactGroups",
                   "ContactPersons", "HasValidationErrors")  # fmt: skip


@dataclass(frozen=True)
class Kind:
    collection: str
    entity: str
    id_field: str
    number_field: str
    sales: str  # the receivable type; the other one is payable
    payable: str
    prefix: str
    noun: str


INVOICES = Kind("Invoices", "Invoice", "InvoiceID", "InvoiceNumber", "ACCREC", "ACCPAY", "INV-",
                "Invoice")  # fmt: skip
CREDIT_NOTES = Kind("CreditNotes", "CreditNote", "CreditNoteID", "CreditNoteNumber",
                    "ACCRECCREDIT", "ACCPAYCREDIT", "CN-", "Credit Note")  # fmt: skip
KINDS = {kind.collection.lower(): kind for kind in (INVOICES, CREDIT_NOTES)}


@dataclass
class _Prepared:
    record: Json
    errors: list[str]
    element: Json
    new_contact: str | None = None
    existing: Json | None = None


class Documents:
    def __init__(self, org: Organisation, xero: Json, now: Now) -> None:
        self.org = org
        self.now = now
        self.rows: dict[str, dict[str, Json]] = {}
        self.created_by: dict[str, str] = {}
        for kind, key in ((INVOICES, "invoices"), (CREDIT_NOTES, "credit_notes")):
            given = copy.deepcopy(xero.get(key) or [])
            self.rows[kind.collection] = {
                str(r[kind.id_field]).lower(): r for r in given if isinstance(r, dict)
            }

    # -- reads ---------------------------------------------------------------------------------

    def get(self, kind: Kind, key: str) -> Json | None:
        rows = self.rows[kind.collection]
        found = rows.get(key.lower())
        if found is None:
            found = next(
                (r for r in rows.values() if str(r.get(kind.number_field, "")) == key), None
            )
        return found

    def list_documents(
        self, kind: Kind, query: Any, since: datetime | None, client_id: str
    ) -> tuple[list[Json], Json | None]:
        rows = list(self.rows[kind.collection].values())
        for param, field in (("IDs", kind.id_field), ("InvoiceNumbers", kind.number_field),
                             ("Statuses", "Status")):  # fmt: skip
            wanted = id_list(query.get(param))
            if wanted is not None and (kind is INVOICES or param != "InvoiceNumbers"):
                rows = [r for r in rows if str(r.get(field, "")).lower() in wanted]
        contacts = id_list(query.get("ContactIDs"))
        if contacts is not None:
            rows = [r for r in rows if r["Contact"]["ContactID"].lower() in contacts]
        if query.get("createdByMyApp", "").lower() == "true":
            rows = [r for r in rows if self.created_by.get(r[kind.id_field]) == client_id]
        term = (query.get("searchTerm") or "").strip().casefold()
        if term:
            rows = [r for r in rows if any(term in str(r.get(f) or "").casefold()
                                           for f in (kind.number_field, "Reference"))]  # fmt: skip
        found = filtered(rows, query, since, kind.entity)
        paging = page_params(query)
        if paging is None:  # Xero lists line items only on a page, or on one document
            return [{**r, "LineItems": []} for r in found], None
        return paged(found, paging)

    # -- writes --------------------------------------------------------------------------------

    def write(
        self,
        kind: Kind,
        elements: list[Any],
        *,
        target: str | None,
        create_only: bool,
        summarize: bool,
        unitdp: int,
        client_id: str,
    ) -> list[Json]:
        """Validate every element, then save them all (or, summarizing, none if one fails)."""
        prepared: list[_Prepared] = []
        numbers: set[str] = set()
        for element in elements:
            if not isinstance(element, dict):
                prepared.append(_Prepared({}, ["The element is not an object."], {}))
                continue
            existing, missing = self._existing(kind, element, target, create_only)
            if missing:
                prepared.append(_Prepared({}, [missing], element))
                continue
            item = self._prepare(kind, element, existing, unitdp, numbers)
            prepared.append(item)
        refused = [p for p in prepared if p.errors]
        if refused and summarize:
            raise validation_exception([self._echo(kind, p) for p in refused])
        answered = []
        for item in prepared:
            if item.errors:
                answered.append(self._echo(kind, item))
                continue
            record = self._commit(kind, item, client_id)
            shown = unit_amounts(record, unitdp)
            for line in shown.get("LineItems") or []:
                line["ValidationErrors"] = []
            answered.append({**shown, "StatusAttributeString": "OK"})
        return answered

    def _existing(
        self, kind: Kind, element: Json, target: str | None, create_only: bool
    ) -> tuple[Json | None, str | None]:
        if create_only:
            return None, None
        wanted = target or element.get(kind.id_field)
        missing = f"An existing {kind.noun} with the specified {kind.id_field} could not be found"
        if wanted and wanted != ZERO_ID:
            found = self.rows[kind.collection].get(str(wanted).lower())
            return (found, None) if found else (None, missing)
        number_ = element.get(kind.number_field)
        if number_ and str(element.get("Type", "")).upper() in ("", kind.sales):
            found = next((r for r in self.rows[kind.collection].values()
                          if r.get(kind.number_field) == number_ and r["Type"] == kind.sales),
                         None)  # fmt: skip
            return found, None
        return None, None

    def _prepare(
        self, kind: Kind, element: Json, existing: Json | None, unitdp: int, numbers: set[str]
    ) -> _Prepared:
        if existing is not None:
            status = str(element.get("Status") or existing["Status"]).upper()
            moves = MOVES.get(existing["Status"], set())
            errors = [] if status in moves else [f"{kind.noun} {NOT_MODIFIABLE}"]
            if settled(existing) and (status != existing["Status"] or "LineItems" in element):
                errors.append(SETTLED)
            if errors:
                return _Prepared(existing, errors, element, existing=existing)
            if status in ("VOIDED", "DELETED"):
                return _Prepared(self._closed(kind, existing, status), [], element, None, existing)
            merged = {**existing, **element, "Status": status}
            if "LineItems" not in element:  # the stored lines, at the precision they were taken
                unitdp = 4
        else:
            merged = dict(element)
        return self._build(kind, merged, existing, unitdp, numbers)

    def _closed(self, kind: Kind, existing: Json, status: str) -> Json:
        record = {**existing, "Status": status}
        record["AmountDue" if kind is INVOICES else "RemainingCredit"] = 0.0
        return record

    def _build(
        self, kind: Kind, element: Json, existing: Json | None, unitdp: int, numbers: set[str]
    ) -> _Prepared:
        errors: list[str] = []
        doc_type = str(element.get("Type") or "").upper()
        if doc_type not in (kind.sales, kind.payable):
            errors.append(f"{kind.noun} Type must be {kind.sales} or {kind.payable}.")
        status = str(element.get("Status") or "DRAFT").upper()
        if existing is None and status not in CREATE_STATUSES:
            errors.append(f"{kind.noun} not of valid status for creation")
        approving = status in ("SUBMITTED", "AUTHORISED")
        contact, new_contact = self._contact(element.get("Contact"), errors)
        day = self._day(element.get("Date"), "Date", errors) or self.now().astimezone(UTC).date()
        due = self._day(element.get("DueDate"), "DueDate", errors)
        amounts = AMOUNT_TYPES.get(str(element.get("LineAmountTypes") or "Exclusive").lower())
        if amounts is None:
            errors.append("LineAmountTypes must be Exclusive, Inclusive or NoTax.")
            amounts = "Exclusive"
        currency = str(element.get("CurrencyCode") or self.org.base_currency).upper()
        if currency not in self.org.currencies:
            errors.append(f"Organisation is not subscribed to currency {currency}")
        rate = number(element.get("CurrencyRate"), "CurrencyRate", errors) or Decimal(1)
        raw_lines = element.get("LineItems") or []
        lines: list[Line] = [
            build_line(self.org, raw if isinstance(raw, dict) else {}, sales=doc_type == kind.sales,
                       approving=approving, amounts=amounts, unitdp=unitdp)
            for raw in (raw_lines if isinstance(raw_lines, list) else [])
        ]  # fmt: skip
        for line in lines:
            errors += [e for e in line.errors if e not in errors]
        line_sum = sum((line.amount for line in lines), Decimal(0))
        tax = sum((line.tax for line in lines), Decimal(0))
        subtotal = line_sum - tax if amounts == "Inclusive" else line_sum
        total = subtotal + tax
        if total < 0 and approving:
            errors.append("The Total for this document must be greater than or equal to zero.")
        doc_number = str(element.get(kind.number_field) or "").strip() or None
        if kind is INVOICES and doc_type == kind.sales and doc_number:
            taken = doc_number.casefold() in numbers or any(
                str(r.get(kind.number_field, "")).casefold() == doc_number.casefold()
                and r["Type"] == kind.sales
                and r is not existing
                for r in self.rows[kind.collection].values()
            )
            if taken:
                errors.append("Invoice # must be unique.")
            numbers.add(doc_number.casefold())
        record: Json = {
            "Type": doc_type,
            kind.id_field: existing[kind.id_field] if existing else None,
            kind.number_field: doc_number,
            "Reference": str(element.get("Reference") or ""),
            "Payments": [],
        }
        if kind is INVOICES:
            record |= {"CreditNotes": [], "Prepayments": [], "Overpayments": [],
                       "AmountDue": money(total), "AmountPaid": 0.0, "AmountCredited": 0.0,
                       "SentToContact": bool(element.get("SentToContact", False)),
                       "IsDiscounted": any(line.discounted for line in lines)}  # fmt: skip
        else:  # as the OpenAPI's examples show a credit note: its id twice, no discount flag
            record |= {"Allocations": [], "RemainingCredit": money(total)}
        record |= {
            "CurrencyRate": float(rate),
            "HasAttachments": False,
            "HasErrors": False,
            "Contact": _summary(contact) if contact else {"Name": new_contact},
            "DateString": day_string(day),
            "Date": day_date(day),
        }
        if due is not None:
            record |= {"DueDateString": day_string(due), "DueDate": day_date(due)}
        record |= {
            "Status": status,
            "LineAmountTypes": amounts,
            "LineItems": [line.wire for line in lines],
            "SubTotal": money(subtotal),
            "TotalTax": money(tax),
            "Total": money(total),
            "CurrencyCode": currency,
        }
        for passthrough in ("Url", "BrandingThemeID", "ExpectedPaymentDate", "PlannedPaymentDate"):
            if element.get(passthrough):
                record[passthrough] = element[passthrough]
        return _Prepared(record, errors, element, new_contact, existing)

    def _contact(self, given: Any, errors: list[str]) -> tuple[Json | None, str | None]:
        if not isinstance(given, dict) or not any(
            given.get(k) for k in ("ContactID", "Name", "ContactNumber")
        ):
            errors.append(
                "The Contact must contain at least 1 of the following elements to identify the "
                "contact: Name, ContactID, ContactNumber"
            )
            return None, None
        if given.get("ContactID"):
            contact = self.org.contact(str(given["ContactID"]))
            if contact is None:
                errors.append("The Contact with the specified ContactID could not be found")
        elif given.get("ContactNumber"):
            contact = self.org.one_of("Contacts", str(given["ContactNumber"]))
            if contact is None:
                errors.append("The Contact with the specified ContactNumber could not be found")
        else:
            contact = self.org.contact_named(str(given["Name"]))
            if contact is None:
                return None, str(given["Name"]).strip()
        if contact is not None and contact.get("ContactStatus") == "ARCHIVED":
            errors.append(
                "The contact with the specified contact details has been archived. The contact "
                "must be un-archived before creating new invoices or credit notes."
            )
        return contact, None

    @staticmethod
    def _day(value: Any, name: str, errors: list[str]) -> date | None:
        if value in (None, ""):
            return None
        try:
            return parse_day(value)
        except ValueError:
            errors.append(f"{name} '{value}' is not a valid date.")
            return None

    def _commit(self, kind: Kind, item: _Prepared, client_id: str) -> Json:
        record = item.record
        now = self.now()
        if item.new_contact:
            record["Contact"] = _summary(self.org.add_contact(item.new_contact, now))
        if record.get(kind.id_field) is None:
            record[kind.id_field] = str(uuid.uuid4())
            self.created_by[record[kind.id_field]] = client_id
        if kind is CREDIT_NOTES:
            record["ID"] = record[kind.id_field]
        if record.get(kind.number_field) is None and record["Type"] == kind.sales:
            record[kind.number_field] = self._next_number(kind)
        if record.get(kind.number_field) is None:
            record.pop(kind.number_field, None)
        record["UpdatedDateUTC"] = ms_date(now)
        record["UpdatedDateUTCString"] = utc_string(now)
        if item.existing is not None:  # the stored dict stays the same object
            item.existing.clear()
            item.existing.update(record)
            record = item.existing
        self.rows[kind.collection][record[kind.id_field].lower()] = record
        return record

    def _next_number(self, kind: Kind) -> str:
        pattern = re.compile(re.escape(kind.prefix) + r"(\d+)$")
        used = [int(m[1]) for r in self.rows[kind.collection].values()
                if (m := pattern.match(str(r.get(kind.number_field, ""))))]  # fmt: skip
        return f"{kind.prefix}{max(used, default=0) + 1:04d}"

    def _echo(self, kind: Kind, item: _Prepared) -> Json:
        return {
            **item.element,
            kind.id_field: ZERO_ID,
            "HasErrors": True,
            "StatusAttributeString": "ERROR",
            "ValidationErrors": [{"Message": message} for message in item.errors],
        }


def settled(document: Json) -> bool:
    """Whether money stands against the document: a payment, or a credit note allocated (to an
    invoice, or of a credit note to one)."""
    return any(document.get(key) for key in ("Payments", "Allocations", "CreditNotes"))


def _summary(contact: Json) -> Json:
    return {key: contact[key] for key in CONTACT_SUMMARY if key in contact}
