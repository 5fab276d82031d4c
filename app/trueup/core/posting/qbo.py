"""The `qbo` posting destination: one QuickBooks Online invoice per document, one at a time; a
credit (an adjustment that takes money back) is a CreditMemo, which QuickBooks deletes to undo.

Exactly once rests on our DocNumber (the document's reference): `lookup` finds invoices by it,
QuickBooks refuses a second invoice with it (error 6140, answered here as "already posted"), and
the `requestid` of a create is derived from the reference and the body, so a resend of the same
document is answered with the first answer while QuickBooks still remembers it.

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

from trueup.core.posting.line_amounts import consistent_amounts
from trueup.core.posting.sink import Document, DocumentLine, Posted
from trueup.core.sources.http import ApiError, Row, encode_json
from trueup.core.sources.qbo import QboClient, fault_code, parse_fault
from trueup.core.values.parsing import to_decimal

log = logging.getLogger("trueup.sink.qbo")

MAX_REQUEST_ID = 50
MAX_DOC_NUMBER = 21
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
    return {
        "CustomerRef": {"value": document.qbo_customer_id},
        "DocNumber": document.reference,
        "TxnDate": document.invoice_date.isoformat(),
        "CurrencyRef": {"value": document.currency},
        "PrivateNote": document.note,
        "Line": [_line(line, sign) for line in document.lines],
    }


def _line(line: DocumentLine, sign: int) -> Row:
    """Amount = Qty x UnitPrice, as QuickBooks requires of an item line (line_amounts.py). A
    credit memo's lines are what it credits: the document's, negated."""
    quantity, price, description = consistent_amounts(line, PRICE_STEP)
    detail: Row = {"Qty": sign * quantity, "UnitPrice": price}
    if line.qbo_item_id is not None:
        detail = {"ItemRef": {"value": line.qbo_item_id}, **detail}
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": sign * line.amount,
        "Description": description,
        "SalesItemLineDetail": detail,
    }


def request_id(reference: str, body: Row) -> str:
    """Deterministic: the same document gives the same id, a changed body a new one."""
    digest = hashlib.sha256(encode_json(body).encode()).hexdigest()
    prefix = reference[:MAX_DOC_NUMBER]
    return f"{prefix}-{digest}"[:MAX_REQUEST_ID]


def is_voided(invoice: Row) -> bool:
    """As QuickBooks reports a void: "Voided" put before whatever PrivateNote held, and a total
    of 0 (our own notes begin "trueup batch", so never read as voided)."""
    note = str(invoice.get("PrivateNote") or "").strip().lower()
    return note.startswith(VOIDED_NOTE) and _number(invoice.get("TotalAmt")) == 0


class QboSink:
    """The Sink protocol (trueup.core.posting.sink) for QuickBooks Online invoices."""

    destination = "qbo"
    batch_size = 1

    def __init__(self, client: QboClient) -> None:
        self._client = client

    async def lookup(self, documents: Sequence[Document]) -> dict[str, Posted]:
        found: dict[str, Posted] = {}
        for credit in (False, True):
            wanted = {d.reference for d in documents if d.credit == credit}
            if wanted:
                found |= await self._lookup(wanted, "CreditMemo" if credit else "Invoice")
        return found

    async def _lookup(self, wanted: set[str], entity: str) -> dict[str, Posted]:
        found: dict[str, Row] = {}
        for invoice in await self._client.invoices_by_doc_number(wanted, entity):
            number = invoice.get("DocNumber")
            if number not in wanted or is_voided(invoice):
                continue
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
        return {number: _posted(invoice) for number, invoice in found.items()}

    async def create(self, documents: Sequence[Document]) -> list[Posted]:
        if len(documents) > self.batch_size:
            raise ValueError(f"the qbo sink creates one document per call, not {len(documents)}")
        return [await self._create(document) for document in documents]

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
            try:
                await self._client.void_invoice(posted.remote_id, str(invoice.get("SyncToken")))
                return
            except ApiError as error:
                # Someone changed it since we read it: read it again, once.
                if fault_code(error) != STALE_OBJECT or attempt == 2:
                    raise
            invoice = await self._client.get_invoice(posted.remote_id)

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
                await self._client.delete_credit_memo(posted.remote_id, str(memo.get("SyncToken")))
                return
            except ApiError as error:
                if fault_code(error) == NOT_FOUND:  # deleted already
                    return
                if fault_code(error) != STALE_OBJECT or attempt == 2:
                    raise

    async def _create(self, document: Document) -> Posted:
        body = invoice_body(document)
        create = self._client.create_credit_memo if document.credit else self._client.create_invoice
        try:
            invoice = await create(body, request_id(document.reference, body))
        except ApiError as error:
            if fault_code(error) != DUPLICATE_DOC_NUMBER:
                raise
            return await self._already_posted(document, error)
        _check_totals(document, invoice)
        return _posted(invoice)

    async def _already_posted(self, document: Document, error: ApiError) -> Posted:
        """QuickBooks says the DocNumber is taken: the document is there, unless voided."""
        found = await self.lookup([document])
        if document.reference in found:
            return found[document.reference]
        fault = parse_fault(error.body)
        holder = re.search(r"TxnId=(\w+)", fault.detail if fault else "")
        holder_text = f" (transaction {holder.group(1)})" if holder else ""
        raise ApiError(
            "QuickBooks",
            "bad_request",
            error.status,
            f"QuickBooks already uses DocNumber {document.reference}{holder_text} on a voided "
            "invoice or another kind of transaction: posting it again needs a new number",
            body=error.body,
        ) from error


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
