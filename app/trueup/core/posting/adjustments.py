"""An adjustment: what a client's month bills now, less what was posted for it.

Posted documents never change (a destination keeps what it was sent), so a rebuild that bills
differently after posting is settled by one more document holding only the difference, line by
line: a line whose quantity moved carries the moved quantity, a line gone is taken back in full,
a new line is added in full. A negative total is a credit (a QuickBooks CreditMemo; a Halo
invoice with negative lines). The lines always add up to the difference of the subtotals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from trueup.core.posting.sink import Document, DocumentLine

ZERO = Decimal(0)


@dataclass(frozen=True)
class _Key:
    """What makes two lines the same line of a month: its subject and its price."""

    kind: str
    subscription_id: str | None
    description: str
    unit_price: Decimal
    halo_item_id: int | None
    qbo_item_id: str | None


def adjustment(now: Document, posted: Sequence[Document], reference: str) -> Document | None:
    """The document that brings `posted` to `now`, under `reference`; None when they agree."""
    sums: dict[_Key, tuple[Decimal, Decimal, DocumentLine]] = {}
    for sign, documents in ((1, [now]), (-1, list(posted))):
        for document in documents:
            for line in document.lines:
                key = _key(line)
                quantity, amount, first = sums.get(key, (ZERO, ZERO, line))
                sums[key] = (quantity + sign * line.quantity, amount + sign * line.amount, first)
    lines = [
        _difference(line, quantity, amount)
        for quantity, amount, line in sums.values()
        if quantity or amount
    ]
    subtotal = now.subtotal - sum((d.subtotal for d in posted), ZERO)
    residue = subtotal - sum((line.amount for line in lines), ZERO)
    if residue:  # the posted lines did not add up to their subtotal: say so, never hide it
        lines.append(
            DocumentLine("adjustment", "Rounding difference", Decimal(1), residue, residue)
        )
    if not lines:
        return None
    references = tuple(d.reference for d in posted)
    return replace(
        now,
        reference=reference,
        subtotal=subtotal,
        tax=now.tax - sum((d.tax for d in posted), ZERO),
        total=now.total - sum((d.total for d in posted), ZERO),
        note=f"Adjustment of {', '.join(references)}: {now.note}",
        lines=tuple(lines),
        adjusts=references,
    )


def _key(line: DocumentLine) -> _Key:
    return _Key(
        line.kind,
        line.subscription_id,
        line.description,
        line.unit_price,
        line.halo_item_id,
        line.qbo_item_id,
    )


def _difference(line: DocumentLine, quantity: Decimal, amount: Decimal) -> DocumentLine:
    if not quantity:  # the same seats, another amount (a proration moved): one line of money
        return replace(
            line, description=f"{line.description} (amount)", quantity=Decimal(1),
            unit_price=amount, amount=amount,
        )  # fmt: skip
    return replace(line, quantity=quantity, amount=amount)
