"""An adjustment: what a client's month bills now, less what was posted for it.

Posted documents never change (a destination keeps what it was sent), so a rebuild that bills
differently after posting is settled by one more document holding only the difference, line by
line: a line whose quantity moved carries the moved quantity, a line gone is taken back in full,
a new line is added in full. A negative total is a credit (a QuickBooks CreditMemo; a Halo
invoice with negative lines). The lines always add up to the difference of the subtotals.

A line at a price that moved is two lines of one description, the take-back of what was posted
and the bill at the new price: their words say which ("(was 4.50, taken back)", "(now 3.15)"),
and a line gone reads "(taken back)". Those words are left out when lines are matched, so a
later adjustment nets a posted adjustment's lines against the lines they adjusted; a line of
money alone ("(amount)": the same seats, another amount) nets against its subject's amount.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from trueup.core.posting.sink import Document, DocumentLine

ZERO = Decimal(0)
# The words `adjustment` adds to a line's description (see the module's doc), however many.
_ADDED = re.compile(r"(?: \((?:was [^()]*, taken back|now [^()]*|taken back|amount)\))+$")
# A line of money alone (_difference): the same seats, another amount.
_MONEY_ONLY = re.compile(r" \(amount\)(?: \([^()]*\))*$")


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
    billed_now: set[_Key] = set()
    signed = [(1, line) for line in now.lines]
    signed += [(-1, line) for document in posted for line in document.lines]
    # A posted line of money alone adjusted its subject's amount, not its seats: it nets
    # against that subject's priced line (now's first), so a month billing as adjusted needs
    # nothing more. Its own price is its amount, so its key would never meet that line's.
    priced: dict[_Key, _Key] = {}
    for _, line in signed:
        if not _MONEY_ONLY.search(line.description):
            priced.setdefault(_subject(_key(line)), _key(line))
    for sign, line in signed:
        key, seats = _key(line), line.quantity
        if _MONEY_ONLY.search(line.description) and _subject(key) in priced:
            key, seats = priced[_subject(key)], ZERO
        quantity, amount, first = sums.get(key, (ZERO, ZERO, line))
        sums[key] = (quantity + sign * seats, amount + sign * line.amount, first)
        if sign > 0:
            billed_now.add(key)
    moved = {key for key, (quantity, _, _) in sums.items() if quantity}
    # Subjects (a line but its price) with a take-back and a new bill: a price that moved.
    taken_back = {_subject(k) for k in moved - billed_now}
    rebilled = {_subject(k) for k in moved & billed_now} & taken_back
    lines = [
        _difference(_worded(line, key, key in billed_now, rebilled), quantity, amount)
        for key, (quantity, amount, line) in sums.items()
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
        _ADDED.sub("", line.description),
        line.unit_price,
        line.halo_item_id,
        line.qbo_item_id,
    )


def _subject(key: _Key) -> _Key:
    return replace(key, unit_price=ZERO)


def _worded(line: DocumentLine, key: _Key, now: bool, rebilled: set[_Key]) -> DocumentLine:
    """The line with words saying which of two same-named lines is which: the take-back of
    what was posted, or the new bill of a subject whose price moved."""
    text, price = key.description, key.unit_price
    if not now:
        said = f"was {price}, taken back" if _subject(key) in rebilled else "taken back"
    elif _subject(key) in rebilled:
        said = f"now {price}"
    else:
        return line
    return replace(line, description=f"{text} ({said})")


def _difference(line: DocumentLine, quantity: Decimal, amount: Decimal) -> DocumentLine:
    if not quantity:  # the same seats, another amount (a proration moved): one line of money
        return replace(
            line, description=f"{line.description} (amount)", quantity=Decimal(1),
            unit_price=amount, amount=amount,
        )  # fmt: skip
    return replace(line, quantity=quantity, amount=amount)
