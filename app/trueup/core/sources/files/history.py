"""A subscription rebuilt from a file's charges, as the store holds Pax8's: its row and its
dated history (snapshots, position 0 the newest) for the seat diff and the batch.

A file has no subscription list, only charges; each import rebuilds the subscriptions it
touches from every charge stored of them, whichever files they came from and in whatever order
those were imported. Each format folds its charges into `State`s, one a day on which the seats,
the status or the price changed; this module writes those as the store's rows.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

ACTIVE, CANCELLED = "Active", "Cancelled"
Record = dict[str, Any]


class State(NamedTuple):
    day: date  # the first day it applies to
    quantity: Decimal
    status: str
    price: Decimal | None  # the client's, per unit
    partner_cost: Decimal | None  # the partner's, per unit
    end: date | None


@dataclass(frozen=True)
class Subscription:
    """What a subscription is besides its history."""

    id: str
    company_id: str
    product_id: str
    product_name: str
    currency: str
    start: date
    billing_term: str
    commitment: str | None
    commitment_end: date | None
    distributor: str
    raw: dict[str, Any]  # the file's ids and terms; the history is added to it


def subscription_rows(
    subscription: Subscription, states: Sequence[State]
) -> tuple[Record, list[Record]]:
    """The subscription's row and its snapshot rows, from its states (oldest first)."""
    newest, start = states[-1], subscription.start
    row: Record = {
        "id": subscription.id,
        "company_id": subscription.company_id,
        "product_id": subscription.product_id,
        "product_name": subscription.product_name,
        "quantity": newest.quantity,
        "status": newest.status,
        "billing_term": subscription.billing_term,
        "commitment_term": subscription.commitment,
        "commitment_end": subscription.commitment_end,
        "price": newest.price,
        "partner_cost": newest.partner_cost,
        "currency": subscription.currency,
        "start_at": midnight(start),
        "end_at": midnight(newest.end),
        "billing_start": start,
        "created_at": midnight(start),
        "updated_at": midnight(newest.day),
        "distributor": subscription.distributor,
        # Every column the file decides is in the raw, which an import compares with the
        # stored row's: a corrected download that changes only the currency or the name must
        # still rewrite the row.
        "raw": {
            **subscription.raw,
            "productName": subscription.product_name,
            "currency": subscription.currency,
            "history": [_state_json(s) for s in reversed(states)],
        },
    }
    snapshots = [
        {
            "subscription_id": subscription.id,
            "position": position,
            "quantity": state.quantity,
            "status": state.status,
            "price": state.price,
            "partner_cost": state.partner_cost,
            "updated_at": midnight(state.day),
            "end_at": midnight(state.end),
            "raw": _state_json(state),
        }
        for position, state in enumerate(reversed(states))
    ]
    return row, snapshots


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to the inclusive `end` (a day's slack either way)."""
    return round(((end - start).days + 1) / 30.44)


def whole_term(start: date, end: date) -> bool:
    """Whether `start` to the inclusive `end` is a whole month, year, 2 or 3 years (a day's
    slack): a billing cycle's period, where a co-termed add's or a proration's is not (111
    days to the term's end round to 4 months, no term)."""
    months = months_between(start, end)
    if months not in (1, 12, 24, 36):
        return False
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    expected = (date(year, month + 1, min(start.day, last)) - start).days
    return abs((end - start).days + 1 - expected) <= 1


def term_of(start: date, end: date) -> str:
    """The billing term, in Pax8's spelling, of a charge for `start` to `end`."""
    months = months_between(start, end)
    return {12: "Annual", 24: "2-Year", 36: "3-Year"}.get(months, "Monthly")


def midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


def _state_json(state: State) -> dict[str, Any]:
    return {
        "date": state.day.isoformat(),
        "quantity": state.quantity,
        "status": state.status,
        "price": state.price,
        "partnerCost": state.partner_cost,
        "endDate": state.end.isoformat() if state.end else None,
    }
