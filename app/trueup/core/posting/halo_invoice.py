"""The halo-invoice sink: one Halo invoice per document, found again by our reference.

Halo takes no idempotency key, so posting exactly once rests on lookup: every invoice carries our
deterministic reference in the header field `reference`, and lookup lists the documents' invoices
in bulk (one date window, paged) and matches that field exactly. Halo's `search` is a substring
match over fields it does not document, so it is never trusted to find a reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from trueup.core.posting.line_amounts import consistent_amounts, stepped_price
from trueup.core.posting.sink import Document, DocumentLine, Posted
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import Row

# Halo's storage precision for unit_price is UNCONFIRMED; 4 places is what SQL Server's money
# type keeps, so a price is never sent with more.
PRICE_STEP = Decimal("0.0001")
# Halo stores dates in UTC and may show a midnight invoice date on the day before (the real RI in
# halo-api.md §7 reads 23:00): the window reaches a day further each way.
WINDOW_SLACK = timedelta(days=1)
# Up to this many clients are named in one `client_ids` filter; beyond, the whole window is read.
CLIENT_FILTER_LIMIT = 100


class HaloInvoiceSink:
    """Destination "halo-invoice": `POST /api/Invoice`, one invoice per request."""

    destination = "halo-invoice"
    batch_size = 1

    def __init__(self, client: HaloClient) -> None:
        self._client = client

    async def lookup(self, documents: Sequence[Document]) -> dict[str, Posted]:
        return await find_invoices(self._client, documents)

    async def create(self, documents: Sequence[Document]) -> list[Posted]:
        if len(documents) > self.batch_size:
            raise ValueError(f"{self.destination} creates one document at a time")
        return [await self.create_one(document) for document in documents]

    async def create_one(self, document: Document) -> Posted:
        return posted_invoice(await self._client.create_invoice(invoice_body(document)))

    async def void(self, document: Document, posted: Posted) -> None:
        await self._client.void_invoice(int(posted.remote_id))


async def find_invoices(client: HaloClient, documents: Sequence[Document]) -> dict[str, Posted]:
    """The documents' invoices that exist and are not void, by reference (exact match)."""
    wanted = {document.reference for document in documents}
    if not wanted:
        return {}
    start = min(document.invoice_date for document in documents) - WINDOW_SLACK
    end = max(document.invoice_date for document in documents) + WINDOW_SLACK
    clients = sorted({document.client_id for document in documents})
    client_ids = clients if len(clients) <= CLIENT_FILTER_LIMIT else []
    found: dict[str, Posted] = {}
    async for page in client.invoices(start=start, end=end, client_ids=client_ids):
        for row in page:
            reference = row.get("reference")
            if reference in wanted and reference not in found and not row.get("voided"):
                found[reference] = posted_invoice(row)
    return found


def posted_invoice(row: Row) -> Posted:
    number = row.get("invoicenumber")
    return Posted(str(row["id"]), str(number) if number else None)


def halo_date(day: date) -> str:
    """Halo's date-times carry no zone."""
    return f"{day.isoformat()}T00:00:00"


def invoice_body(document: Document) -> Row:
    """The InvoiceHeader to create. Tax and currency are left to Halo, which takes them from the
    client and the items, as it does for invoices made in its own screens."""
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


def decimal(value: Any) -> Decimal:
    """A number from Halo's JSON (already Decimal when parsed by ApiClient); missing is 0."""
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))
