"""The `xero` posting destination: ACCREC invoices, many per request; a credit (an adjustment
that takes money back) is an ACCRECCREDIT credit note.

Exactly once rests on our InvoiceNumber (CreditNoteNumber), the document's reference: `lookup`
finds documents by it, and every create carries an `Idempotency-Key` derived from the
references and the body, so a resend within Xero's 6 minutes is answered with the first answer.
After those 6 minutes the journal's lookup by number is the safety (accounting-and-reliability
§2.3). A create sends up to BATCH_SIZE documents with `summarizeErrors=false`: one refused is
rejected alone and the others post.

Xero refuses a negative quantity, so a line that takes money back goes as a positive quantity at
a negative price. A voided invoice (VOIDED) or a deleted draft (DELETED) keeps its number in
Xero: posting that document again needs a new reference, as with QuickBooks.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from trueup.core.posting.answers import described, held_by, one_each, without_id
from trueup.core.posting.line_amounts import consistent_amounts
from trueup.core.posting.sink import Document, DocumentLine, Posted, Refused
from trueup.core.sources.http import ApiError, Row, encode_json
from trueup.core.sources.xero import DAY_ALLOWANCE, XeroClient, validation_messages
from trueup.core.values.parsing import to_decimal

log = logging.getLogger("trueup.sink.xero")

BATCH_SIZE = 25  # documents per PUT: well under Xero's body limits, 40 requests for 1,000
PRICE_STEP = QUANTITY_STEP = Decimal("0.0001")  # Xero rounds both to 4 places (unitdp=4)
MAX_KEY = 128  # Idempotency-Key characters
GONE = frozenset({"VOIDED", "DELETED"})
INVOICES, CREDIT_NOTES = "Invoices", "CreditNotes"
FIELDS = {
    INVOICES: ("InvoiceID", "InvoiceNumber"),
    CREDIT_NOTES: ("CreditNoteID", "CreditNoteNumber"),
}
# Xero's ids are GUIDs; the zero GUID is what it puts on an element it did not save.
GUID = re.compile(
    r"(?!0{8}-0{4}-0{4}-0{4}-0{12})[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
)


def collection_of(document: Document) -> str:
    return CREDIT_NOTES if document.credit else INVOICES


def document_body(document: Document) -> Row:
    """The invoice (or credit note) to create for a document."""
    if not document.xero_contact_id:
        raise ApiError(
            "Xero",
            "config",
            None,
            f"{document.client_name} has no Xero contact: map the client before posting "
            f"{document.reference} to Xero (`trueup xero map suggest`)",
        )
    sign = -1 if document.credit else 1
    body: Row = {
        "Type": "ACCRECCREDIT" if document.credit else "ACCREC",
        "Contact": {"ContactID": document.xero_contact_id},
        "Date": document.invoice_date.isoformat(),
        "Reference": document.month,
        "CurrencyCode": document.currency,
        "Status": "DRAFT" if document.draft else "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [_line(line, sign) for line in document.lines],
    }
    number = "CreditNoteNumber" if document.credit else "InvoiceNumber"
    body[number] = document.reference
    if not document.credit:
        due = document.due_date or document.invoice_date + timedelta(days=30)
        body["DueDate"] = due.isoformat()
    return body


def _line(line: DocumentLine, sign: int) -> Row:
    """LineAmount = Quantity x UnitAmount, as Xero computes it. Xero refuses a negative
    quantity, so the quantity goes unsigned and the price carries the amount's sign; a credit
    note's lines are what it credits, the document's negated."""
    quantity, price, description = consistent_amounts(line, PRICE_STEP, QUANTITY_STEP)
    amount = sign * line.amount
    item: Row = {
        "Description": description,
        "Quantity": abs(quantity),
        "UnitAmount": abs(price) if amount >= 0 else -abs(price),
        "LineAmount": amount,
        "AccountCode": line.xero_account_code,
    }
    if line.xero_item_code is not None:
        item["ItemCode"] = line.xero_item_code
    if line.xero_tax_type is not None:
        item["TaxType"] = line.xero_tax_type
    return item


def idempotency_key(documents: Sequence[Document], body: Row) -> str:
    """Deterministic: the same documents and body give the same key, a changed body a new
    one (Xero refuses a key reused for another body)."""
    digest = hashlib.sha256(encode_json(body).encode()).hexdigest()
    return f"trueup-{documents[0].reference}-{len(documents)}-{digest}"[:MAX_KEY]


class XeroSink:
    """The Sink protocol (trueup.core.posting.sink) for Xero invoices and credit notes."""

    destination = "xero"
    batch_size = BATCH_SIZE

    def __init__(self, client: XeroClient) -> None:
        self._client = client

    async def lookup(self, documents: Sequence[Document]) -> dict[str, Posted]:
        live: dict[str, Row] = {}
        invoices = {d.reference for d in documents if not d.credit}
        notes = {d.reference for d in documents if d.credit}
        if invoices:
            rows = await self._client.invoices_by_number(invoices)
            live |= _live(rows, "InvoiceNumber", "InvoiceID", invoices)
        if notes:
            rows = await self._client.credit_notes_by_number(notes)
            live |= _live(rows, "CreditNoteNumber", "CreditNoteID", notes)
        found: dict[str, Posted] = {}
        for document in documents:
            if (record := live.get(document.reference)) is not None:
                kind = "credit note" if document.credit else "invoice"
                held_by("Xero", document, kind, _contact(record), _lower(document.xero_contact_id))
                found[document.reference] = _posted(record, collection_of(document))
        self._check_allowance(documents, found)
        return found

    def _check_allowance(self, documents: Sequence[Document], found: dict[str, Posted]) -> None:
        """Refuse, before anything is sent, a run that would not fit in what is left of the
        organisation's daily allowance."""
        left = self._client.day_remaining
        to_send = len([d for d in documents if d.reference not in found])
        needed = -(-to_send // self.batch_size) * 2  # each request and, at worst, its lookup
        if left is not None and needed > left:
            raise ApiError(
                "Xero",
                "rate_limited",
                None,
                f"posting {to_send} documents needs up to {needed} calls to Xero and the "
                f"organisation has {left} of its {DAY_ALLOWANCE:,} a day left: post fewer "
                "clients (--client) or wait for the allowance to free up",
            )

    async def create(self, documents: Sequence[Document]) -> list[Posted | Refused]:
        if len(documents) > self.batch_size:
            raise ValueError(f"the xero sink creates at most {self.batch_size} per call")
        outcomes: dict[str, Posted | Refused] = {}
        for collection in (INVOICES, CREDIT_NOTES):
            group = [d for d in documents if collection_of(d) == collection]
            if group:
                answered = await self._create(collection, group)
                outcomes.update(zip([d.reference for d in group], answered, strict=True))
        return one_each("Xero", documents, [outcomes[d.reference] for d in documents])

    async def _create(self, collection: str, documents: list[Document]) -> list[Posted | Refused]:
        bodies = [document_body(d) for d in documents]
        key = idempotency_key(documents, {collection: bodies})
        answered = await self._client.create(collection, bodies, key)
        outcomes: list[Posted | Refused] = []
        taken: dict[int, Document] = {}  # refused because the number is used: ours already?
        for document, record in zip(documents, answered, strict=True):
            messages = validation_messages(record)
            refused = record.get("HasErrors") or record.get("StatusAttributeString") == "ERROR"
            if not (refused or messages):
                if not _is_answer_for(record, document, collection):
                    id_field, number_field = FIELDS[collection]
                    raise ApiError(
                        "Xero",
                        "bad_response",
                        None,
                        f"Xero answered {document.reference} in a request of {len(documents)} "
                        f"with {described(record, id_field, number_field)}: the request is "
                        "settled by looking them up",
                        ambiguous=True,
                    )
                status = record.get("Status")
                if status in GONE:
                    outcomes.append(Refused(_gone_at_once(document, status)))
                    continue
                _check_status(document, status)
                _check_totals(document, record)
                outcomes.append(_posted(record, collection))
                continue
            if any(_number_taken(m) for m in messages):
                taken[len(outcomes)] = document
            outcomes.append(Refused("Xero refused it: " + _explained(messages, document)))
        if taken:
            found = await self.lookup(list(taken.values()))
            for index, document in taken.items():
                outcomes[index] = found.get(document.reference) or Refused(
                    f"Xero already uses the number {document.reference} on a voided or "
                    "deleted document: posting it again needs a new number"
                )
        return outcomes

    async def void(self, document: Document, posted: Posted) -> None:
        collection = collection_of(document)
        record = await self._client.get(collection, posted.remote_id)
        number = record.get("CreditNoteNumber" if document.credit else "InvoiceNumber")
        if number != document.reference:
            raise ApiError(
                "Xero",
                "bad_request",
                None,
                f"Xero {collection[:-1].lower()} {posted.remote_id} has number {number!r}, not "
                f"{document.reference}: not voiding it",
            )
        status = record.get("Status")
        if status in GONE:
            return
        _check_unsettled(document, posted, record)
        # Xero voids what is authorised and deletes what is not.
        target = "VOIDED" if status == "AUTHORISED" else "DELETED"
        key = f"trueup-void-{document.reference}-{posted.remote_id}"[:MAX_KEY]
        answer = await self._client.set_status(collection, posted.remote_id, target, key)
        messages = validation_messages(answer)
        if answer.get("Status") in GONE and not messages:
            return
        # Xero's answer does not show it gone: only the document as Xero shows it now says.
        now = (await self._client.get(collection, posted.remote_id)).get("Status")
        if now not in GONE:
            said = f" ({'; '.join(messages)})" if messages else ""
            raise ApiError(
                "Xero",
                "bad_response",
                None,
                f"Xero answered setting {collection[:-1].lower()} {posted.remote_id} "
                f"({document.reference}) to {target} but still shows it {now}{said}: void it in "
                "Xero, then run `trueup void` again to record it",
            )


def _check_unsettled(document: Document, posted: Posted, record: Row) -> None:
    """Refuse, before sending it, the void of a document with money against it: Xero keeps a
    paid or part-paid invoice, and a credit note allocated or refunded, as it is ("This document
    cannot be edited as it has a payment or credit note allocated to it"), and a PAID one is
    not even deleted (a DELETED sent for it is "not of valid status for modification")."""
    total = to_decimal(record.get("Total")) or Decimal(0)
    if document.credit:
        left = to_decimal(record.get("RemainingCredit"))
        against = [("allocated or refunded", total - left if left is not None else Decimal(0))]
    else:
        against = [
            ("paid", to_decimal(record.get("AmountPaid")) or Decimal(0)),
            ("credited", to_decimal(record.get("AmountCredited")) or Decimal(0)),
        ]
    said = [f"{amount:,.2f} {how}" for how, amount in against if amount]
    if record.get("Status") != "PAID" and not said:
        return
    kind = "credit note" if document.credit else "invoice"
    what = f" ({' and '.join(said)} of {total:,.2f} {document.currency})" if said else ""
    undo = "the allocation or refund" if document.credit else "the payment or credit note"
    raise ApiError(
        "Xero",
        "bad_request",
        None,
        f"Xero {kind} {posted.remote_id} ({document.reference}) has money against it"
        f"{what}, status {str(record.get('Status'))[:40]}: Xero does not void a document with "
        f"a payment or credit note allocated to it. Remove {undo} in Xero, then run "
        "`trueup void` again",
    )


def _explained(messages: list[str], document: Document) -> str:
    """Xero's words, with the rule behind the refusals whose wording does not say it, and what
    to do where its words name neither the record nor a fix."""
    text = "; ".join(messages or ["no reason given"])
    if any("has been archived" in m and "contact" in m.lower() for m in messages):
        # Xero's words (Re-Leased's table of Xero errors) name no contact and no way out.
        text += (
            f" (the Xero contact mapped to {document.client_name}, {document.xero_contact_id}, "
            "is archived in Xero: restore it there, or map the client to an active contact "
            f"(`trueup xero map set --client {document.client_id} --contact ID`), then "
            "`trueup xero refresh` and post again)"
        )
    if any("cannot be used with account code" in m for m in messages):
        text += (
            " (Xero's rule: a sales line's tax type must apply to revenue and suit the account; "
            "set the Xero contact's default sales tax, the Xero item's sales tax type or [xero] "
            "tax_type, then `trueup xero refresh`)"
        )
    return text


def _number_taken(message: str) -> bool:
    text = message.lower()
    return "must be unique" in text or ("already" in text and "number" in text)


def _live(rows: list[Row], number_field: str, id_field: str, wanted: set[str]) -> dict[str, Row]:
    """Ours among `rows`, neither voided nor deleted; the first created wins if Xero holds two."""
    found: dict[str, Row] = {}
    for row in rows:
        number = row.get(number_field)
        if number not in wanted or row.get("Status") in GONE:
            continue
        identifier = xero_id(row.get(id_field))
        if identifier is None:
            raise without_id("Xero", row, id_field, number_field)
        if number in found:
            log.warning("Xero holds two live documents numbered %s; taking the first", number)
            continue
        found[number] = row
    return found


def _contact(record: Row) -> str | None:
    contact = record.get("Contact")
    return _lower(contact.get("ContactID")) if isinstance(contact, dict) else None


def _lower(value: object) -> str | None:
    """A GUID as Xero may case it either way."""
    return value.lower() if isinstance(value, str) else None


def xero_id(value: object) -> str | None:
    """A Xero document id (a GUID, not the zero one); None for anything else."""
    return value if isinstance(value, str) and GUID.fullmatch(value) else None


def _is_answer_for(record: Row, document: Document, collection: str) -> bool:
    """Whether a created record is `document`: our number, and a GUID to find it by."""
    id_field, number_field = FIELDS[collection]
    return (
        record.get(number_field) == document.reference
        and _contact(record) == _lower(document.xero_contact_id)
        and xero_id(record.get(id_field)) is not None
    )


def _posted(record: Row, collection: str) -> Posted:
    if collection == INVOICES:
        return Posted(str(record.get("InvoiceID")), _text(record.get("InvoiceNumber")))
    return Posted(str(record.get("CreditNoteID")), _text(record.get("CreditNoteNumber")))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _gone_at_once(document: Document, status: object) -> str:
    """A create answered with the document voided or deleted: it holds our number but bills
    nothing, so recording it POSTED would show the month billed."""
    return (
        f"Xero answered the create of {document.reference} with it {status}: it bills nothing, "
        "and Xero keeps the number, so posting it again needs a new number"
    )


def _check_status(document: Document, status: object) -> None:
    """Warn when Xero holds a document otherwise than sent: a DRAFT or SUBMITTED invoice bills
    nobody until it is approved in Xero."""
    sent = "DRAFT" if document.draft else "AUTHORISED"
    if status is not None and status != sent:
        log.warning(
            "Xero holds %s as %s, not %s as sent: check it in Xero",
            document.reference,
            str(status)[:40],
            sent,
        )


def _check_totals(document: Document, record: Row) -> None:
    """Warn when Xero holds other money than was sent: a net that is not trueup's (a rounding,
    an item's price), or a total that is not that net plus Xero's tax. Xero's own VAT or GST on
    the net is no surprise: trueup posts net of tax and leaves the tax to the lines' tax types
    (README, Billing rules), so a UK or Australian organisation adds it to every invoice."""
    sign = -1 if document.credit else 1
    subtotal, total = to_decimal(record.get("SubTotal")), to_decimal(record.get("Total"))
    tax = to_decimal(record.get("TotalTax")) or Decimal(0)
    expected, currency = abs(sign * document.subtotal), document.currency
    if subtotal is not None and subtotal != expected:
        log.warning(
            "Xero's %s is %s %s before tax, trueup sent %s %s: check it in Xero",
            document.reference,
            f"{subtotal:,.2f}",
            currency,
            f"{expected:,.2f}",
            currency,
        )
    elif total is not None and subtotal is not None and total != subtotal + tax:
        log.warning(
            "Xero's %s totals %s %s, not its %s %s before tax and %s %s of tax: check it in Xero",
            document.reference,
            f"{total:,.2f}",
            currency,
            f"{subtotal:,.2f}",
            currency,
            f"{tax:,.2f}",
            currency,
        )
    elif tax:
        log.info("Xero added %s %s of tax to %s", f"{tax:,.2f}", currency, document.reference)
