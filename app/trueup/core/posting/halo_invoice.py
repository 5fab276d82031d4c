"""The halo-invoice sink: one Halo invoice per document, many per request, found again by our
reference.

Halo's POST takes an array, so a create sends up to BULK invoices at once (and fewer when their
bodies pass BULK_BYTES), all marked SENDING by the journal first. Halo may answer with every
saved invoice or with only one (unconfirmed): what comes back is matched by reference, and the
rest is looked up; what neither shows makes the whole request ambiguous, which the journal
settles by lookup as after any lost answer. Halo refuses an array whole when one element is
invalid (its 400 names `[i].field`), so a refused request is sent again one invoice at a time,
and only the invoices Halo refuses on their own are rejected.

Halo takes no idempotency key, so posting exactly once rests on lookup: every invoice carries our
deterministic reference in the header field `reference`, and lookup lists every invoice of the
documents' clients (`client_ids` in chunks, paged) and matches that field exactly. No date window
narrows it: the swagger has no invoice date filter (its `invoicedatestart`/`invoicedateend` are
booleans), and an invoice Halo dates a day off must still be found. Halo's `search` is a
substring match over fields it does not document, so it is never trusted to find a reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal

from trueup.core.posting.answers import described, held_by, one_each, without_id
from trueup.core.posting.line_amounts import consistent_amounts, stepped_price
from trueup.core.posting.sink import Document, DocumentLine, Posted, Refused
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiError, Row, encode_json
from trueup.core.values.bounds import INT64
from trueup.core.values.text import visible

# Halo's storage precision for unit_price is UNCONFIRMED; 4 places is what SQL Server's money
# type keeps, so a price is never sent with more.
PRICE_STEP = Decimal("0.0001")
# Clients named in one `client_ids` filter: 200 ids of up to 7 digits keep the query under IIS's
# default 2,048-character limit, and 2,000 clients take 10 chunks.
CLIENTS_PER_LOOKUP = 200
# Invoices per POST: 2,000 clients take 40 requests (Halo allows 300 per 5 minutes). Halo
# documents no maximum; BULK_BYTES keeps each body far below IIS's default request limits
# (maxAllowedContentLength 30 MB, ASP.NET maxRequestLength 4 MB).
BULK = 50
BULK_BYTES = 1_000_000


class HaloInvoiceSink:
    """Destination "halo-invoice": `POST /api/Invoice`, up to BULK invoices per request."""

    destination = "halo-invoice"

    def __init__(self, client: HaloClient, *, batch_size: int = BULK) -> None:
        self._client = client
        self.batch_size = batch_size

    async def lookup(self, documents: Sequence[Document]) -> dict[str, Posted]:
        return await find_invoices(self._client, documents)

    async def create(self, documents: Sequence[Document]) -> list[Posted | Refused]:
        if len(documents) > self.batch_size:
            raise ValueError(f"{self.destination} creates at most {self.batch_size} at a time")
        outcomes: list[Posted | Refused] = []
        for part in _parts(documents):
            outcomes += await self._create_part(part)
        return outcomes

    async def _create_part(self, part: list[tuple[Document, Row]]) -> list[Posted | Refused]:
        documents = [document for document, _ in part]
        if len(documents) == 1:
            return [await self._create_alone(documents[0])]
        try:
            saved = await self._client.create_invoices([body for _, body in part])
        except ApiError as error:
            if error.kind != "bad_request" or error.ambiguous:
                raise
            # One invalid element refuses the array: each on its own, to find which.
            return [await self._create_alone(document) for document in documents]
        by_reference = {document.reference: document for document in documents}
        found = {
            str(row.get("reference")): posted_invoice(row)
            for row in saved
            if (document := by_reference.get(str(row.get("reference"))))
            and _is_saved(row, document)
        }
        missing = [d for d in documents if d.reference not in found]
        if missing:
            found |= await self.lookup(missing)
        if any(d.reference not in found for d in documents):
            raise ApiError(
                self._client.service,
                "bad_response",
                None,
                f"{self._client.service} answered POST /api/Invoice for {len(documents)} "
                f"invoices and {len(found)} can be found: the rest are settled by lookup",
                ambiguous=True,
            )
        return one_each(self._client.service, documents, [found[d.reference] for d in documents])

    async def _create_alone(self, document: Document) -> Posted | Refused:
        try:
            return await self.create_one(document)
        except ApiError as error:
            if error.kind != "bad_request" or error.ambiguous:
                raise
            return Refused(str(error))

    async def create_one(self, document: Document) -> Posted:
        try:
            saved = await self._client.create_invoice(invoice_body(document))
        except ApiError as error:
            if error.kind != "bad_request" or error.ambiguous:
                raise
            raise refused(error, f"invoice {document.reference}", [document]) from error
        if not _is_saved(saved, document):
            raise ApiError(
                self._client.service,
                "bad_response",
                None,
                f"{self._client.service} answered POST /api/Invoice for {document.reference} "
                f"with invoice {described(saved, 'id', 'reference')}: settled by lookup",
                ambiguous=True,
            )
        return posted_invoice(saved)

    async def void(self, document: Document, posted: Posted) -> None:
        await void_invoice(self._client, int(posted.remote_id))


async def find_invoices(client: HaloClient, documents: Sequence[Document]) -> dict[str, Posted]:
    """The documents' invoices that exist and are not void, by reference (exact match)."""
    wanted = {document.reference: document for document in documents}
    found: dict[str, Posted] = {}
    for chunk in client_chunks(document.client_id for document in documents):
        async for page in client.invoices(client_ids=chunk):
            for row in page:
                reference = row.get("reference")
                if reference in wanted and reference not in found and not voided(client, row):
                    if not halo_id(row):
                        raise without_id(client.service, row, "id", "reference")
                    document = wanted[reference]
                    holder = row.get("client_id")
                    held_by(client.service, document, "invoice", holder, document.client_id)
                    found[reference] = posted_invoice(row)
            if len(found) == len(wanted):
                return found  # the rest of the pages cannot add anything
    return found


def _parts(documents: Sequence[Document]) -> Iterator[list[tuple[Document, Row]]]:
    """The documents in order with their bodies, in runs whose bodies stay under BULK_BYTES
    together."""
    part: list[tuple[Document, Row]] = []
    size = 0
    for document in documents:
        body = invoice_body(document)
        length = len(encode_json(body))
        if part and size + length > BULK_BYTES:
            yield part
            part, size = [], 0
        part.append((document, body))
        size += length
    if part:
        yield part


def voided(client: HaloClient, row: Row) -> bool:
    """Whether Halo shows an invoice void: its `voided` is a boolean (absent or null: not void).
    Anything else is not read by truthiness: a string "false" would free a live invoice's month
    to be posted again, and hide it from lookup so it is sent twice."""
    value = row.get("voided")
    if value is None or isinstance(value, bool):
        return bool(value)
    raise ApiError(
        client.service,
        "bad_response",
        None,
        f"{client.service} answered invoice {described(row, 'id', 'reference')} with voided "
        f"{repr(value)[:40]}, not true or false: check it in {client.service}, then "
        "run the command again",
    )


def _is_saved(row: Row, document: Document) -> bool:
    """Whether Halo's answer is `document` saved: our reference, its client, an id."""
    return (
        row.get("reference") == document.reference
        and row.get("client_id") == document.client_id
        and halo_id(row)
    )


def halo_id(row: Row) -> bool:
    """Whether a Halo invoice row has an id to find it by: Halo numbers invoices 1, 2, ..."""
    identifier = row.get("id")
    return type(identifier) is int and 0 < identifier <= INT64


def client_chunks(client_ids: Iterable[int]) -> Iterator[list[int]]:
    """The distinct client ids, sorted, in lists short enough for one `client_ids` filter."""
    ordered = sorted(set(client_ids))
    for start in range(0, len(ordered), CLIENTS_PER_LOOKUP):
        yield ordered[start : start + CLIENTS_PER_LOOKUP]


async def void_invoice(client: HaloClient, invoice_id: int) -> None:
    """Void an invoice, confirmed by reading it back; one already void, or deleted, is done.

    The `/Invoice/{id}/void` route first: newer Halo specs and a live-verified CLI table list it,
    and it is Halo's own void (its accounting sync included). Then the 2024 swagger's writable
    `voided` field, for a tenant without the route: whether setting it runs Halo's void steps is
    unconfirmed. A refusal of either is not final: only the invoice as Halo shows it afterwards
    says whether it is void.
    """
    for attempt in (client.post_invoice_void, client.set_invoice_voided):
        if await _is_void(client, invoice_id):
            return
        try:
            await attempt(invoice_id)
        except ApiError as refusal:
            if refusal.kind not in ("bad_request", "not_found"):
                raise
    if not await _is_void(client, invoice_id):
        # Not bad_request: the journal keeps the void pending, so the next `trueup void` after
        # voiding it by hand reads it back and records it.
        raise ApiError(
            client.service,
            "bad_response",
            None,
            f"{client.service} did not void invoice {invoice_id} (neither `voided: true` nor "
            f"/api/Invoice/{invoice_id}/void took): void it in {client.service}, then run "
            "`trueup void` again to record it",
        )


async def _is_void(client: HaloClient, invoice_id: int) -> bool:
    try:
        return voided(client, await client.invoice(invoice_id))
    except ApiError as error:
        if error.kind == "not_found":
            return True  # deleted in Halo: nothing left to void
        raise


def refused(error: ApiError, what: str, documents: Sequence[Document]) -> ApiError:
    """Halo's refusal of a write, naming the clients and items it was for: a client or item gone
    from Halo (a stale mapping) is refused like this, and only the operator can fix it."""
    clients = ", ".join(f"{d.client_name} (Halo client {d.client_id})" for d in documents)
    items = sorted(set(_item_ids(documents)))
    uses = f"; Halo items {', '.join(map(str, items))}" if items else ""
    service = error.service
    message = (
        f"{service} refused {what} for {clients}{uses}: {error}. A client or item no longer in "
        f"{service} is a stale mapping: sync {service}, fix the mapping, then post again"
    )
    return ApiError(error.service, error.kind, error.status, message, body=error.body)


def _item_ids(documents: Sequence[Document]) -> Iterator[int]:
    for document in documents:
        yield from (line.halo_item_id for line in document.lines if line.halo_item_id)
        for change in document.recurring:
            yield from (line.halo_item_id for line in change.lines)


def posted_invoice(row: Row) -> Posted:
    """Halo's id (checked by the caller) and its own invoice number, which is Halo's text, not
    ours: kept as the journal shows it, control characters visible, cut to NUMBER_LIMIT."""
    number = row.get("invoicenumber")
    shown = visible(str(number))[:NUMBER_LIMIT] if number else None
    return Posted(str(row["id"]), shown)


NUMBER_LIMIT = 64  # Halo numbers its invoices with a few characters ("INV-004213")


def halo_date(day: date) -> str:
    """Halo's date-times carry no zone."""
    return f"{day.isoformat()}T00:00:00"


def invoice_body(document: Document) -> Row:
    """The InvoiceHeader to create. Tax and currency are left to Halo, which takes them from the
    client and the items, as it does for invoices made in its own screens (so a client whose
    rules add tax of trueup's own is refused before: documents.OWN_TAX)."""
    return {
        "client_id": document.client_id,
        "invoice_date": halo_date(document.invoice_date),
        "reference": document.reference,
        "notes_1": document.note,
        "lines": [invoice_line(line) for line in document.lines],
    }


def invoice_line(line: DocumentLine) -> Row:
    quantity, unit_price, description = consistent_amounts(line, PRICE_STEP)
    body: Row = {}
    if line.halo_item_id is not None:
        body["_itemid"] = line.halo_item_id
    body |= {"item_shortdescription": description, "qty_order": quantity, "unit_price": unit_price}
    if line.nominal_code:
        body["nominal_code"] = line.nominal_code
    return body


def wire_price(price: Decimal) -> Decimal:
    """The price as sent: at most PRICE_STEP's places, otherwise exactly the batch's."""
    return stepped_price(price, PRICE_STEP)
