"""What a posting destination is: the document trueup posts, and the one interface every sink
(halo-invoice, halo-recurring, qbo, xero) offers the posting journal.

A Document is built once, when the journal entry is written, and stored as JSON in the entry:
every attempt, after any crash, sends exactly the same document under the same reference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

DESTINATIONS = ("halo-invoice", "halo-recurring", "qbo", "xero")


@dataclass(frozen=True)
class DocumentLine:
    """One line of an invoice to create."""

    kind: str  # subscription | usage | manual | adjustment
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal  # rounded, as in the batch: quantity x unit_price may differ by rounding
    subscription_id: str | None = None
    halo_item_id: int | None = None  # the mapped Halo item; None: a free-text line
    nominal_code: str | None = None  # the Halo item's GL code
    qbo_item_id: str | None = None  # the mapped QuickBooks item (qbo only)
    xero_item_code: str | None = None  # the mapped Xero item's code (xero only)
    xero_account_code: str | None = None  # the sales account (xero only)
    xero_tax_type: str | None = None  # None: the account's default (xero only)


@dataclass(frozen=True)
class RecurringLineChange:
    """One line of a Halo recurring invoice to set (halo-recurring only)."""

    line_id: int | None  # the recurring-invoice line; None: add a line for the item
    halo_item_id: int
    description: str
    quantity: Decimal  # the new qty_order
    unit_price: Decimal | None  # the new price; None leaves Halo's price alone
    previous_quantity: Decimal  # what void restores (0 for an added line)
    previous_unit_price: Decimal | None


@dataclass(frozen=True)
class RecurringChange:
    recurring_invoice_id: int  # negative, as Halo numbers them
    lines: tuple[RecurringLineChange, ...]


@dataclass(frozen=True)
class Document:
    """One client's invoice for one month at one destination."""

    reference: str  # ours, deterministic: Halo invoice `reference`, QBO `DocNumber` (<= 21)
    client_id: int  # Halo client id
    client_name: str
    month: str  # YYYY-MM
    invoice_date: date
    currency: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    note: str  # batch, month and client in words, for the invoice's notes
    lines: tuple[DocumentLine, ...]  # halo-recurring: the one-off adjustment lines (may be none)
    qbo_customer_id: str | None = None  # qbo only
    qbo_tax_code: str | None = None  # qbo only: on every line (a company outside the US)
    xero_contact_id: str | None = None  # xero only
    due_date: date | None = None  # xero only: Xero needs one on an authorised invoice
    draft: bool = False  # xero only: created as a DRAFT, not AUTHORISED
    recurring: tuple[RecurringChange, ...] = field(default=())  # halo-recurring only
    adjusts: tuple[str, ...] = field(default=())  # an adjustment: the references it corrects

    @property
    def credit(self) -> bool:
        """An adjustment that takes money back: a credit note where the destination has one."""
        return self.total < 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), default=str)

    @classmethod
    def from_json(cls, text: str) -> Document:
        raw = json.loads(text)
        return cls(
            **{
                **raw,
                "invoice_date": date.fromisoformat(raw["invoice_date"]),
                "due_date": _date_or_none(raw.get("due_date")),
                "subtotal": Decimal(raw["subtotal"]),
                "tax": Decimal(raw["tax"]),
                "total": Decimal(raw["total"]),
                "lines": tuple(_line(line) for line in raw["lines"]),
                "recurring": tuple(
                    RecurringChange(
                        change["recurring_invoice_id"],
                        tuple(_recurring_line(line) for line in change["lines"]),
                    )
                    for change in raw["recurring"]
                ),
                "adjusts": tuple(raw.get("adjusts", ())),
            }
        )


def _date_or_none(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _line(raw: dict[str, Any]) -> DocumentLine:
    return DocumentLine(
        **{
            **raw,
            "quantity": Decimal(raw["quantity"]),
            "unit_price": Decimal(raw["unit_price"]),
            "amount": Decimal(raw["amount"]),
        }
    )


def _recurring_line(raw: dict[str, Any]) -> RecurringLineChange:
    return RecurringLineChange(
        **{
            **raw,
            "quantity": Decimal(raw["quantity"]),
            "unit_price": _decimal_or_none(raw["unit_price"]),
            "previous_quantity": Decimal(raw["previous_quantity"]),
            "previous_unit_price": _decimal_or_none(raw["previous_unit_price"]),
        }
    )


@dataclass(frozen=True)
class Posted:
    """Where a document landed."""

    # The destination's id: a Halo invoice's, a QBO Invoice's; a recurring true-up with no
    # one-off invoice, its recurring invoice's ("-12"; "RI" when it changed none).
    remote_id: str
    remote_number: str | None = None  # its own number, if it gives one (Halo invoicenumber)


@dataclass(frozen=True)
class Refused:
    """A document the destination refused on its own while the rest of its request went
    through (Xero's `summarizeErrors=false`); `reason` is the destination's words."""

    reason: str


class Sink(Protocol):
    """A destination. Every method raises `sources.http.ApiError` on failure; an error with
    `ambiguous` set means the write may have been applied, and the journal settles it by
    `lookup`, never by sending again."""

    destination: str
    batch_size: int  # documents one `create` call may take (1 unless the API takes arrays)

    async def lookup(self, documents: Sequence[Document]) -> dict[str, Posted]:
        """Those of `documents` that already exist at the destination, by reference. Voided
        documents do not count as existing."""
        ...

    async def create(self, documents: Sequence[Document]) -> Sequence[Posted | Refused]:
        """Create the documents (at most `batch_size`), in order; one refused alone is
        `Refused`. Safe to call again for a document that `lookup` did not find, whatever an
        earlier attempt did."""
        ...

    async def void(self, document: Document, posted: Posted) -> None:
        """Undo a posted document (void the invoice; restore recurring lines). Voiding one
        already voided is not an error."""
        ...


def document_kind(destination: str, total: Decimal, remote_id: str | None = None) -> str:
    """What the destination holds a document as, so its id can be looked up there: a credit
    (a negative total) is a QuickBooks credit memo or a Xero credit note; Halo takes it as an
    invoice of negative lines. A recurring true-up with no one-off invoice is its recurring
    invoice (Halo's ids for those are negative; "RI …" as trueup wrote them before)."""
    if (
        destination == "halo-recurring"
        and remote_id
        and (remote_id.startswith("RI") or remote_id.startswith("-"))
    ):
        return "recurring invoice"
    if total >= 0 or destination.startswith("halo"):
        return "invoice"
    return "credit memo" if destination == "qbo" else "credit note"
