"""The `qbo` posting destination: QuickBooks Online invoices, up to BATCH_SIZE (30) per
request through QuickBooks' batch endpoint; a credit (an adjustment that takes money back) is a
CreditMemo, which QuickBooks deletes to undo. Invoices and credit memos share a batch.

Exactly once rests on our DocNumber (the document's reference): `lookup` finds invoices by it,
QuickBooks refuses a second invoice with it (error 6140: that document is looked up and counts
as posted when found), and the batch's `requestid` is derived from the references and the
bodies, so a resend of the same documents is answered with the first answer while QuickBooks
still remembers it. Each document is its own item (its bId is its index in the call): one
QuickBooks refuses (a ValidationFault) is rejected alone and the others post. An answer that
leaves a document unaccounted for is ambiguous, settled by the journal's lookup.

A voided invoice, as QuickBooks keeps it: its DocNumber stays, amounts and quantities are zeroed,
TotalAmt is 0 and "Voided" is put before the PrivateNote it had (Intuit's void reference:
"prepended to existing text if present"). Both must hold for `lookup` to skip it (our own notes
begin "trueup batch", and a live invoice of ours with a zero total still has our note). Since
the number stays taken, posting a voided document again needs a new reference.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from decimal import Decimal

from trueup.core.posting.answers import described, held_by, one_each, without_id
from trueup.core.posting.line_amounts import consistent_amounts
from trueup.core.posting.sink import Document, DocumentLine, Posted, Refused
from trueup.core.sources.http import ApiError, Row, encode_json
from trueup.core.sources.qbo import (
    MAX_BATCH_ITEMS,
    MAX_BATCH_REQUEST_ID,
    QboClient,
    QboFault,
    fault_code,
    parse_fault,
    qbo_string,
)
from trueup.core.values.parsing import to_decimal
from trueup.core.values.text import visible

log = logging.getLogger("trueup.sink.qbo")

BATCH_SIZE = MAX_BATCH_ITEMS  # documents per POST /batch
MAX_DOC_NUMBER = 21
# Intuit's invoice reference: Line.Description and PrivateNote "max 4000 chars"; past it
# QuickBooks refuses the document, error 2050 ("Min:0 Max:4,000 supported", quoted in
# ruckus/quickbooks-ruby PR 436), naming neither the line nor the document.
MAX_TEXT = 4000
DUPLICATE_DOC_NUMBER = "6140"
STALE_OBJECT = "5010"
NOT_FOUND = "610"
VOIDED_NOTE = "voided"
# QuickBooks' UnitPrice precision is not confirmed: 4 places is what Halo keeps too, and a price
# with more goes as 1 x amount (line_amounts.py), which any precision takes.
PRICE_STEP = Decimal("0.0001")


def invoice_body(document: Document) -> Row:
    """The Invoice to create for a document (accounting-and-reliability.md §1.3)."""
    if not document.qbo_customer_id:
        raise ApiError(
            "QuickBooks",
            "config",
            None,
            f"{document.client_name} has no QuickBooks customer: map the client before posting "
            f"{document.reference} to QuickBooks",
        )
    if len(document.reference) > MAX_DOC_NUMBER:
        raise ApiError(
            "QuickBooks",
            "config",
            None,
            f"{document.reference} is too long for a QuickBooks DocNumber "
            f"(at most {MAX_DOC_NUMBER} characters)",
        )
    sign = -1 if document.credit else 1
    body: Row = {
        "CustomerRef": {"value": document.qbo_customer_id},
        "DocNumber": document.reference,
        "TxnDate": document.invoice_date.isoformat(),
        "CurrencyRef": {"value": document.currency},
        "PrivateNote": document.note,
        "Line": [_line(line, sign, document.qbo_tax_code) for line in document.lines],
    }
    if document.qbo_tax_code is not None:  # a company outside the US: our prices exclude tax
        body["GlobalTaxCalculation"] = "TaxExcluded"
    return body


def _line(line: DocumentLine, sign: int, tax_code: str | None) -> Row:
    """Amount = Qty x UnitPrice, as QuickBooks requires of an item line (line_amounts.py). A
    credit memo's lines are what it credits: the document's, negated. Outside the US every
    line carries the client's tax code, and QuickBooks computes the tax from it."""
    quantity, price, description = consistent_amounts(line, PRICE_STEP)
    detail: Row = {"Qty": sign * quantity, "UnitPrice": price}
    if line.qbo_item_id is not None:
        detail = {"ItemRef": {"value": line.qbo_item_id}, **detail}
    if tax_code is not None:
        detail["TaxCodeRef"] = {"value": tax_code}
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": sign * line.amount,
        "Description": description,
        "SalesItemLineDetail": detail,
    }


def overlong_lines(document: Document) -> list[str]:
    """The lines QuickBooks would refuse for the length of their description as it would be sent
    (with the arithmetic a line sent as 1 x its amount adds)."""
    problems = []
    for number, line in enumerate(document.lines, start=1):
        _, _, text = consistent_amounts(line, PRICE_STEP)
        if len(text) > MAX_TEXT:
            problems.append(
                f"line {number} ({visible(text[:40])}…) has a description of {len(text):,} "
                f"characters and QuickBooks takes at most {MAX_TEXT:,}: shorten it where it "
                "comes from (the Halo line's description, or the product's name), then build "
                "the month again"
            )
    return problems


def entity_of(document: Document) -> str:
    return "CreditMemo" if document.credit else "Invoice"


def batch_items(documents: Sequence[Document]) -> list[Row]:
    """The BatchItemRequests creating the documents; each bId is the document's index."""
    return [
        {"bId": str(n), "operation": "create", entity_of(document): invoice_body(document)}
        for n, document in enumerate(documents)
    ]


def batch_request_id(documents: Sequence[Document], items: Sequence[Row]) -> str:
    """Deterministic: the same documents with the same bodies give the same id, another set or
    a changed body a new one; within the 36 characters QuickBooks allows a batch's requestid."""
    digest = hashlib.sha256(
        encode_json({"references": [d.reference for d in documents], "items": items}).encode()
    ).hexdigest()
    return f"{documents[0].reference[:12]}-{digest}"[:MAX_BATCH_REQUEST_ID]


def qbo_id(value: object) -> str | None:
    """A QuickBooks entity Id as text (QuickBooks numbers them 1, 2, ...); None for anything
    else (missing, null, 0, junk, past any count)."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text if re.fullmatch(r"[1-9][0-9]{0,19}", text) else None


def is_answer_for(record: Row, document: Document) -> bool:
    """Whether a created record is `document`: our DocNumber and customer, and an Id to find it
    by."""
    return (
        record.get("DocNumber") == document.reference
        and _customer(record) == document.qbo_customer_id
        and qbo_id(record.get("Id")) is not None
    )


def is_voided(invoice: Row) -> bool:
    """As QuickBooks reports a void: "Voided" put before whatever PrivateNote held, and a total
    of 0 (our own notes begin "trueup batch", so never read as voided)."""
    note = str(invoice.get("PrivateNote") or "").strip().lower()
    return note.startswith(VOIDED_NOTE) and _number(invoice.get("TotalAmt")) == 0


class QboSink:
    """The Sink protocol (trueup.core.posting.sink) for QuickBooks Online invoices."""

    destination = "qbo"
    batch_size = BATCH_SIZE

    def __init__(self, client: QboClient) -> None:
        self._client = client

    async def lookup(self, documents: Sequence[Document]) -> dict[str, Posted]:
        wanted: dict[str, set[str]] = {}
        for document in documents:
            wanted.setdefault(entity_of(document), set()).add(document.reference)
        if not wanted:
            return {}
        rows = await self._client.by_doc_number(wanted)
        live: dict[str, Row] = {}
        for entity, numbers in wanted.items():
            live |= _live(rows[entity], numbers, entity)
        for document in documents:
            if (record := live.get(document.reference)) is not None:
                customer = _customer(record)
                held_by(
                    "QuickBooks", document, entity_of(document), customer, document.qbo_customer_id
                )
        return {number: _posted(record) for number, record in live.items()}

    async def create(self, documents: Sequence[Document]) -> list[Posted | Refused]:
        if len(documents) > self.batch_size:
            raise ValueError(f"the qbo sink creates at most {self.batch_size} per call")
        if not documents:
            return []
        items = batch_items(documents)
        answers = await self._client.batch(items, batch_request_id(documents, items))
        outcomes: list[Posted | Refused] = []
        taken: dict[int, QboFault] = {}  # the DocNumber is used: ours already?
        for document, answer in zip(documents, answers, strict=True):
            record = answer.get(entity_of(document))
            if isinstance(record, dict) and is_answer_for(record, document):
                _check_totals(document, record)
                outcomes.append(_posted(record))
                continue
            if isinstance(record, dict):
                raise ApiError(
                    "QuickBooks",
                    "bad_response",
                    None,
                    f"QuickBooks answered {document.reference} in a batch of {len(documents)} "
                    f"with {entity_of(document)} {described(record, 'Id', 'DocNumber')}: the "
                    "batch is settled by lookup",
                    ambiguous=True,
                )
            fault = parse_fault(answer)
            if fault is None or fault.type.lower() != "validationfault":
                # Neither the document nor a refusal of it: whether it was created is unknown.
                raise ApiError(
                    "QuickBooks",
                    "bad_response",
                    None,
                    f"QuickBooks answered {document.reference} in a batch of {len(documents)} "
                    f"with {fault or 'neither the ' + entity_of(document) + ' nor a Fault'}: "
                    "the batch is settled by lookup",
                    ambiguous=True,
                )
            if fault.code == DUPLICATE_DOC_NUMBER:
                taken[len(outcomes)] = fault
            outcomes.append(Refused(_refused(document, fault)))
        if taken:
            found = await self.lookup([documents[index] for index in taken])
            for index, fault in taken.items():
                document = documents[index]
                outcomes[index] = found.get(document.reference) or Refused(
                    _number_taken(document, fault)
                )
        return one_each("QuickBooks", documents, outcomes)

    async def void(self, document: Document, posted: Posted) -> None:
        if document.credit:
            await self._delete_credit_memo(document, posted)
            return
        invoice = await self._client.get_invoice(posted.remote_id)
        if invoice.get("DocNumber") != document.reference:
            raise ApiError(
                "QuickBooks",
                "bad_request",
                None,
                f"QuickBooks invoice {posted.remote_id} has DocNumber "
                f"{invoice.get('DocNumber')!r}, not {document.reference}: not voiding it",
            )
        for attempt in (1, 2):
            if is_voided(invoice):
                return
            _check_unpaid(document, posted, invoice)
            try:
                answer = await self._client.void_invoice(
                    posted.remote_id, str(invoice.get("SyncToken"))
                )
                await self._confirm_void(document, posted, answer)
                return
            except ApiError as error:
                # Someone changed it since we read it: read it again, once.
                if fault_code(error) != STALE_OBJECT or attempt == 2:
                    raise
            invoice = await self._client.get_invoice(posted.remote_id)

    async def _confirm_void(self, document: Document, posted: Posted, answer: Row) -> None:
        """A void is done when QuickBooks shows the invoice voided: its answer, else the invoice
        read back. One still live is not recorded as voided (its month could be posted again)."""
        if is_voided(answer) or is_voided(await self._client.get_invoice(posted.remote_id)):
            return
        raise ApiError(
            "QuickBooks",
            "bad_response",
            None,
            f"QuickBooks answered the void of invoice {posted.remote_id} ({document.reference}) "
            "but still shows it live: void it in QuickBooks, then run `trueup void` again to "
            "record it",
        )

    async def _delete_credit_memo(self, document: Document, posted: Posted) -> None:
        """A credit memo has no void in QuickBooks: it is deleted (its number is free again)."""
        for attempt in (1, 2):
            try:
                memo = await self._client.get_credit_memo(posted.remote_id)
                if memo.get("DocNumber") != document.reference:
                    raise ApiError(
                        "QuickBooks",
                        "bad_request",
                        None,
                        f"QuickBooks credit memo {posted.remote_id} has DocNumber "
                        f"{memo.get('DocNumber')!r}, not {document.reference}: not deleting it",
                    )
                answer = await self._client.delete_credit_memo(
                    posted.remote_id, str(memo.get("SyncToken"))
                )
            except ApiError as error:
                if fault_code(error) == NOT_FOUND:  # deleted already, or refused: read it back
                    await self._confirm_deleted(document, posted, error)
                    return
                if fault_code(error) != STALE_OBJECT or attempt == 2:
                    raise
                continue
            if answer.get("status") != "Deleted":
                await self._confirm_deleted(document, posted)
            return

    async def _confirm_deleted(
        self, document: Document, posted: Posted, not_found: ApiError | None = None
    ) -> None:
        """A delete answered without `"status": "Deleted"`, or a 610 "Object Not Found", is done
        only if the memo is gone when read back: one still there is not recorded as voided (the
        credit could be posted again beside it). QuickBooks answers 610 for "made inactive" too
        ("Object Not Found : Something you're trying to use has been made inactive",
        QuickBooks-V3-DotNET-SDK issue 353), so the memo is read back by a query, which finds
        nothing for a deleted memo, never by its read, which answers a 610 of its own."""
        rows = await self._client.query("CreditMemo", f"Id = {qbo_string(posted.remote_id)}")
        if not any(str(row.get("Id")) == posted.remote_id for row in rows):
            return
        if not_found is None:
            said = "answered the delete of"
            fix = "delete it in QuickBooks"
        else:
            fault = parse_fault(not_found.body)
            words = str(fault).removeprefix("QuickBooks ") if fault else str(not_found)
            said = f"answered {words} on deleting"
            fix = (
                "QuickBooks says so of a memo naming a customer, item or account made inactive: "
                "make it active in QuickBooks (or delete the memo there)"
            )
        raise ApiError(
            "QuickBooks",
            "bad_request" if not_found is not None else "bad_response",
            None,
            f"QuickBooks {said} credit memo {posted.remote_id} ({document.reference}) but "
            f"still has it: {fix}, then run `trueup void` again to record it",
        )


def _check_unpaid(document: Document, posted: Posted, invoice: Row) -> None:
    """Refuse, before sending it, the void of an invoice a payment is applied to: QuickBooks
    will not void it (LanternOps/breeze issue 5180: a production void refused five times;
    WYRE-AI/qbo-mcp says the same), and the void would be refused in words naming neither the
    payment nor what to do."""
    payments = [
        str(linked.get("TxnId"))[:20]
        for linked in invoice.get("LinkedTxn") or []
        if isinstance(linked, dict) and linked.get("TxnType") == "Payment"
    ]
    total, balance = _number(invoice.get("TotalAmt")), _number(invoice.get("Balance"))
    short = total is not None and balance is not None and balance < total
    if not (payments or short):
        return
    which = f" {', '.join(payments)}" if payments else ""
    owed = f" (balance {balance:,.2f} of {total:,.2f} {document.currency})" if short else ""
    raise ApiError(
        "QuickBooks",
        "bad_request",
        None,
        f"QuickBooks invoice {posted.remote_id} ({document.reference}) has payment{which} "
        f"applied{owed}: QuickBooks does not void an invoice a payment is applied to. Unapply "
        "or delete the payment in QuickBooks, then run `trueup void` again",
    )


def _refused(document: Document, fault: QboFault) -> str:
    """QuickBooks' words on a document it refused alone (a stale customer or item mapping is
    refused so: error 2500, Invalid Reference Id)."""
    words = str(fault).removeprefix("QuickBooks ")
    if "made inactive" in fault.detail:  # QuickBooks' words name neither the record nor a fix
        words += (
            f" (the customer mapped to {document.client_name}, {document.qbo_customer_id}, or "
            "an item of its lines is inactive in QuickBooks: make it active there, or map the "
            "client or the product to an active one, then `trueup qbo refresh` and post again)"
        )
    return (
        f"QuickBooks refused {entity_of(document)} {document.reference} for "
        f"{document.client_name}: {words}"
    )


def _number_taken(document: Document, fault: QboFault) -> str:
    """Why a document whose DocNumber QuickBooks holds, and lookup does not find, is refused."""
    holder = re.search(r"TxnId=(\w+)", fault.detail)
    holder_text = f" (transaction {holder.group(1)})" if holder else ""
    return (
        f"QuickBooks already uses DocNumber {document.reference}{holder_text} on a voided "
        "invoice or another kind of transaction: posting it again needs a new number"
    )


def _customer(record: Row) -> object:
    reference = record.get("CustomerRef")
    return reference.get("value") if isinstance(reference, dict) else None


def _live(rows: Sequence[Row], wanted: set[str], entity: str) -> dict[str, Row]:
    """Ours among `rows`, not voided; the first created wins if QuickBooks holds two."""
    found: dict[str, Row] = {}
    for invoice in rows:
        number = invoice.get("DocNumber")
        if number not in wanted or is_voided(invoice):
            continue
        if qbo_id(invoice.get("Id")) is None:
            raise without_id("QuickBooks", invoice, "Id", "DocNumber")
        earlier = found.get(number)
        if earlier is not None:
            log.warning(
                "QuickBooks has %s %s and %s with DocNumber %s; taking the first",
                entity,
                earlier.get("Id"),
                invoice.get("Id"),
                number,
            )
            if _id_order(earlier) <= _id_order(invoice):
                continue
        found[number] = invoice
    return found


def _posted(invoice: Row) -> Posted:
    number = invoice.get("DocNumber")
    return Posted(str(invoice["Id"]), str(number) if number is not None else None)


def _id_order(invoice: Row) -> tuple[int, str]:
    identifier = str(invoice.get("Id", ""))
    return (int(identifier), "") if identifier.isdigit() else (1 << 62, identifier)


def _check_totals(document: Document, invoice: Row) -> None:
    """Warn when QuickBooks' invoice differs from what was sent (a tax engine, a rounding)."""
    sign = -1 if document.credit else 1
    sent = [sign * line.amount for line in document.lines]
    got = [
        _number(line.get("Amount"))
        for line in invoice.get("Line") or []
        if isinstance(line, dict) and line.get("DetailType") == "SalesItemLineDetail"
    ]
    problems: list[str] = []
    if got != sent:
        problems.append(f"line amounts {_amounts(got)} (sent {_amounts(sent)})")
    total = _number(invoice.get("TotalAmt"))
    if total != sign * document.total:
        problems.append(f"TotalAmt {total} (expected {sign * document.total})")
    if problems:
        log.warning(
            "QuickBooks invoice %s (%s) differs from the document: %s",
            invoice.get("Id"),
            document.reference,
            "; ".join(problems),
        )


def _number(value: object) -> Decimal | None:
    """An amount as Decimal; the client parses JSON numbers as Decimal, a float is taken too."""
    return to_decimal(repr(value) if isinstance(value, float) else value)


def _amounts(values: Sequence[Decimal | None]) -> str:
    return "[" + ", ".join(str(value) for value in values) + "]"
