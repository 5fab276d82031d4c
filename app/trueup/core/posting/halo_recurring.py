"""The halo-recurring sink: true up clients' recurring invoices, plus a one-off adjustment invoice.

A recurring invoice (RI) is changed by POSTing its header with its WHOLE line set: Halo may drop
the lines a POST leaves out (halo-api.md §5, unconfirmed), so every line is echoed as Halo last
showed it and only the listed lines get a new qty_order/unit_price. Lines a RecurringChange does
not list (those opted out of vendor sync among them) go back exactly as they were.

Setting a quantity is idempotent, so an RI write is never ambiguous for long: lookup re-reads the
RIs and compares each listed line with its target. The RIs are read in bulk (the list with
includelines, paged) and kept in the sink; a write forgets the RIs it sent until Halo shows them
again, so a lost answer can never leave a stale line set to post (and a line added twice).

An RI deleted in Halo since the last sync is gone for good: a true-up of it is refused alone
(Refused: the journal's REJECTED), saying to sync and build again, never sent again and again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from trueup.core.posting.halo_invoice import HaloInvoiceSink, refused, void_invoice, wire_price
from trueup.core.posting.sink import (
    Document,
    Posted,
    RecurringChange,
    RecurringLineChange,
    Refused,
)
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiError, Row
from trueup.core.values.parsing import to_decimal

# Up to this many clients are named in one `client_ids` filter; beyond, every RI is read (one or
# two per client, so the whole list takes fewer pages than the chunks would).
CLIENT_FILTER_LIMIT = 100
# Amounts Halo derives from qty x price: echoing the old ones back with a new quantity would only
# contradict it.
_DERIVED_LINE_FIELDS = frozenset({"net_amount", "total_price", "tax_amount"})
# The array element a field-keyed 400 is about: "[2].lines[0]._itemid" is the third one sent.
_ELEMENT = re.compile(r"\[(\d+)\]")


class HaloRecurringSink:
    """Destination "halo-recurring": many RIs per `POST /api/RecurringInvoice`, then one
    adjustment invoice per document that has proration lines (as halo-invoice makes them)."""

    destination = "halo-recurring"

    def __init__(self, client: HaloClient, *, batch_size: int = 20) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        self.batch_size = batch_size
        self._client = client
        self._invoices = HaloInvoiceSink(client)
        self._recurring: dict[int, Row] = {}  # RI id -> the RI with its lines, as Halo showed it
        self._adjustments: dict[str, Posted] = {}  # reference -> its adjustment invoice

    async def lookup(self, documents: Sequence[Document]) -> dict[str, Posted]:
        """Posted when every listed line is at its target and the adjustment invoice, if the
        document has one, exists. One whose RI Halo deleted is not: create refuses it."""
        gone = await self._read_recurring(documents, refresh=True)
        adjusted = [document for document in documents if document.lines]
        invoices = await self._invoices.lookup(adjusted)
        for document in adjusted:
            self._adjustments.pop(document.reference, None)
        self._adjustments |= invoices
        posted = {}
        for document in documents:
            if _touched(document) & gone:
                continue
            if not all(self._in_effect(change) for change in document.recurring):
                continue
            if not document.lines:
                posted[document.reference] = Posted(_recurring_label(document))
            elif document.reference in invoices:
                posted[document.reference] = invoices[document.reference]
        return posted

    async def create(self, documents: Sequence[Document]) -> list[Posted | Refused]:
        """All the documents' RIs in one POST, then each adjustment invoice that lookup did not
        find. A document whose RI Halo deleted is refused alone, nothing sent for it. A failure
        after other documents were written is ambiguous: lookup settles it."""
        if len(documents) > self.batch_size:
            raise ValueError(f"{self.destination} takes at most {self.batch_size} documents")
        gone = await self._read_recurring(documents, refresh=False)
        refusals = {
            document.reference: self._gone(document, gone)
            for document in documents
            if _touched(document) & gone
        }
        sent = [document for document in documents if document.reference not in refusals]
        headers = self._headers(sent, restore=False)
        if headers:
            try:
                await self._save(headers)
            except ApiError as error:
                if error.kind != "bad_request" or error.ambiguous:
                    raise
                raise _refused(error, headers, sent) from error
            await self._confirm(sent)
        results: list[Posted | Refused] = []
        try:
            for document in documents:
                refusal = refusals.get(document.reference)
                results.append(refusal or await self._adjustment(document))
        except ApiError as error:
            if error.ambiguous or len(sent) == 1:
                raise
            # The other documents' changes are in Halo: only a lookup can sort the batch out.
            raise ApiError(
                error.service, error.kind, error.status, str(error), ambiguous=True
            ) from error
        return results

    async def void(self, document: Document, posted: Posted) -> None:
        """Put listed lines back to their previous quantity and price (a price the line did not
        have is nulled again; an added line goes to 0 and keeps its price: it stays, since
        removing a line relies on Halo dropping omitted lines; an RI deleted in Halo is passed
        over), and void the adjustment invoice."""
        await self._read_recurring([document], refresh=True)
        headers = self._headers([document], restore=True)
        if headers:
            await self._save(headers)
        if document.lines:
            await void_invoice(self._client, int(posted.remote_id))
            self._adjustments.pop(document.reference, None)

    # -- recurring invoices ------------------------------------------------------------------

    async def _read_recurring(self, documents: Sequence[Document], *, refresh: bool) -> set[int]:
        """Bring the documents' RIs into the cache: all of them, or those it lacks. Returns the
        RIs Halo no longer has, left out of the cache: the list just read, a single GET's 404
        is the RI's, not the URL's (a wrong URL fails the list). A void passes them over (an RI
        deleted bills nothing: nothing to put back), a create refuses their true-ups."""
        wanted = {change.recurring_invoice_id for change in _changes(documents)}
        missing = wanted if refresh else wanted - self._recurring.keys()
        gone: set[int] = set()
        if not missing:
            return gone
        clients = sorted(
            {
                document.client_id
                for document in documents
                if any(change.recurring_invoice_id in missing for change in document.recurring)
            }
        )
        client_ids = clients if len(clients) <= CLIENT_FILTER_LIMIT else []
        seen: set[int] = set()
        pages = self._client.recurring_invoices(client_ids=client_ids, include_disabled=True)
        async for page in pages:
            for row in page:
                if row.get("id") in missing and isinstance(row.get("lines"), list):
                    self._recurring[row["id"]] = row
                    seen.add(row["id"])
        # Billed to another client's account, or listed without lines (whether the list carries
        # lines is unconfirmed): a single GET always has them.
        for recurring_id in sorted(missing - seen):
            try:
                self._recurring[recurring_id] = await self._client.recurring_invoice(recurring_id)
            except ApiError as error:
                if error.kind != "not_found" or error.ambiguous:
                    raise
                self._recurring.pop(recurring_id, None)
                gone.add(recurring_id)
        return gone

    async def _save(self, headers: list[Row]) -> None:
        sent = {header["id"] for header in headers}
        for recurring_id in sent:
            self._recurring.pop(recurring_id)  # unknown until Halo shows it again
        for row in await self._client.save_recurring_invoices(headers):
            if row.get("id") in sent and isinstance(row.get("lines"), list):
                self._recurring[row["id"]] = row

    async def _confirm(self, documents: Sequence[Document]) -> None:
        """Every listed line at its target as Halo answered the write, else as it shows the RIs
        read again: a write answered 200 that did not take is not recorded posted (the month
        would read billed at quantities Halo does not bill)."""
        changes = [change for change in _changes(documents) if change.lines]
        if all(
            change.recurring_invoice_id in self._recurring and self._in_effect(change)
            for change in changes
        ):
            return
        await self._read_recurring(documents, refresh=True)
        not_taken = sorted({c.recurring_invoice_id for c in changes if not self._in_effect(c)})
        if not_taken:
            service = self._client.service
            raise ApiError(
                service,
                "bad_response",
                None,
                f"{service} answered the change of recurring invoice "
                f"{', '.join(map(str, not_taken))} but does not show it made: check it in "
                f"{service}, then post again",
            )

    def _in_effect(self, change: RecurringChange) -> bool:
        recurring_id = change.recurring_invoice_id
        if recurring_id not in self._recurring:
            return False  # gone from Halo as the write was confirmed
        lines = self._recurring[recurring_id]["lines"]
        for wanted in change.lines:
            line = _target_line(lines, wanted)
            if line is None or self._number(line, "qty_order", recurring_id) != wanted.quantity:
                return False
            if wanted.unit_price is not None and self._number(
                line, "unit_price", recurring_id
            ) != wire_price(wanted.unit_price):
                return False
        return True

    def _number(self, line: Row, field: str, recurring_id: int) -> Decimal:
        """A line's figure as Halo shows it (missing: 0); anything but a number stops: whether
        the line is at its target cannot be told."""
        value = line.get(field)
        number = Decimal(0) if value is None else to_decimal(value)
        if number is None:
            service = self._client.service
            raise ApiError(
                service,
                "bad_response",
                None,
                f"{service} shows recurring invoice {recurring_id} line "
                f"{repr(line.get('id'))[:20]} with {field} {repr(value)[:40]}, not a number: "
                f"check it in {service}",
            )
        return number

    def _headers(self, documents: Sequence[Document], *, restore: bool) -> list[Row]:
        """One header per RI touched, each with its whole line set, targets applied."""
        line_sets: dict[int, list[Row]] = {}
        for change in _changes(documents):
            recurring_id = change.recurring_invoice_id
            if not change.lines:
                continue  # names the recurring invoice that bills the month as it is
            if restore and recurring_id not in self._recurring:
                continue  # deleted in Halo: nothing to put back
            if recurring_id not in line_sets:
                current = self._recurring[recurring_id]["lines"]
                line_sets[recurring_id] = [_echo(line) for line in current]
            for wanted in change.lines:
                _apply(line_sets[recurring_id], recurring_id, wanted, restore=restore)
        return [{"id": recurring_id, "lines": lines} for recurring_id, lines in line_sets.items()]

    def _gone(self, document: Document, gone: set[int]) -> Refused:
        """The refusal of a true-up whose RI Halo deleted since the last sync: posting it again
        cannot help, only a batch built from a sync that no longer sees the RI can."""
        service = self._client.service
        ids = ", ".join(map(str, sorted(_touched(document) & gone)))
        said = (
            f"{service} recurring invoice {ids} of {document.client_name} (Halo client "
            f"{document.client_id}) is gone from {service} (deleted since the last sync): "
            "nothing was written. Run `trueup sync`, then build the batch again, approve and "
            "post it"
        )
        live = self._adjustments.get(document.reference)
        if live is not None:
            said += (
                f" (its adjustment invoice {live.remote_number or live.remote_id} from an "
                f"earlier attempt is in {service}: void it there)"
            )
        return Refused(said)

    async def _adjustment(self, document: Document) -> Posted:
        if not document.lines:
            return Posted(_recurring_label(document))
        known = self._adjustments.get(document.reference)
        if known is None:
            known = await self._invoices.create_one(document)
            self._adjustments[document.reference] = known
        return known


def _refused(error: ApiError, headers: list[Row], documents: Sequence[Document]) -> ApiError:
    """The refusal, naming the recurring invoice Halo's field-keyed error points at, or all of
    them when it points at none."""
    keys = list(error.body) if isinstance(error.body, dict) else []
    element = _ELEMENT.match(keys[0]) if keys else None
    if element is not None and int(element[1]) < len(headers):
        recurring_id = headers[int(element[1])]["id"]
        culprits = [
            document
            for document in documents
            if any(change.recurring_invoice_id == recurring_id for change in document.recurring)
        ]
        return refused(error, f"recurring invoice {recurring_id}", culprits)
    return refused(error, "the recurring invoice changes", documents)


def _changes(documents: Iterable[Document]) -> Iterable[RecurringChange]:
    return (change for document in documents for change in document.recurring)


def _touched(document: Document) -> set[int]:
    """The RIs a document names."""
    return {change.recurring_invoice_id for change in document.recurring}


def _recurring_label(document: Document) -> str:
    """The remote id of a document without an adjustment invoice: its (first) recurring
    invoice's id, "-12" ("RI" for a client with none)."""
    ids = [str(change.recurring_invoice_id) for change in document.recurring]
    return ids[0] if ids else "RI"


def _target_line(lines: list[Row], wanted: RecurringLineChange) -> Row | None:
    """The line a change is about: by id, or for a line to add, the RI's line for that item."""
    for line in lines:
        if wanted.line_id is not None:
            if line.get("id") == wanted.line_id:
                return line
        elif line.get("_itemid") == wanted.halo_item_id:
            return line
    return None


def _echo(line: Row) -> Row:
    return {key: value for key, value in line.items() if key not in _DERIVED_LINE_FIELDS}


def _apply(
    lines: list[Row], recurring_id: int, wanted: RecurringLineChange, *, restore: bool
) -> None:
    line = _target_line(lines, wanted)
    quantity = wanted.previous_quantity if restore else wanted.quantity
    if line is None:
        if restore:
            return  # nothing of ours to put back
        if wanted.line_id is not None:
            raise ApiError(
                "HaloPSA",
                "bad_request",
                None,
                f"HaloPSA recurring invoice {recurring_id} has no line {wanted.line_id} any "
                "more: sync Halo and build the batch again",
            )
        line = {"ihid": recurring_id, "_itemid": wanted.halo_item_id}
        line["item_shortdescription"] = wanted.description
        lines.append(line)
    line["qty_order"] = quantity
    if wanted.unit_price is None:
        return  # the true-up left Halo's price alone: so does its void
    if not restore:
        line["unit_price"] = wire_price(wanted.unit_price)
    elif wanted.previous_unit_price is not None:
        line["unit_price"] = wire_price(wanted.previous_unit_price)
    elif wanted.line_id is not None:
        # The line had no price (Halo leaves a null out): null it again, or it would go on
        # billing the true-up's price. (The swagger's InvoiceDetail.unit_price is nullable.)
        line["unit_price"] = None
    # A line the true-up added keeps its price at quantity 0: it bills nothing, and it is not
    # removed, since that would rely on Halo dropping the lines a POST leaves out.
