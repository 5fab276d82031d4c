"""The NCE 7-day window (billing-semantics §2): which decreases Pax8 actually refunds.

On a commitment term seats may be removed only within 168 hours of being added (bought, added
mid-term or renewed). Seats are taken back newest first, the reading most favourable to the
decrease; if any of them was added more than 168 hours before, Pax8 keeps charging for the
seats until renewal (NCE_DECREASE_LOCKED), whatever the subscription's history now says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from trueup.core.billing.facts import SubscriptionFacts
from trueup.core.billing.terms import (
    add_months,
    billing_anchor,
    is_monthly,
    last_anniversary,
    term_months,
)
from trueup.core.billing.timeline import Snapshot, change_days, quantity_on

WINDOW = timedelta(hours=168)


@dataclass(frozen=True)
class Decrease:
    day: date
    before: Decimal
    after: Decimal
    added: datetime  # when the longest-held seat taken back was added or last renewed
    locked: bool  # past the window: Pax8 keeps charging
    renews: date | None  # the next renewal, when Pax8 stops charging for the seats


def commitment_months(subscription: SubscriptionFacts) -> int | None:
    """The months of the commitment, None when there is none (a month-to-month product).

    A non-monthly billing term is a commitment of its own length even when the commitment
    term is missing.
    """
    months = term_months(subscription.commitment_term)
    if months is None and not is_monthly(subscription.billing_term):
        months = term_months(subscription.billing_term)
    return months


def decreases(subscription: SubscriptionFacts, first: date, last: date) -> list[Decrease]:
    """The decreases dated in [first, last] on a commitment term, locked or not."""
    if not change_days(subscription.snapshots, first, last):
        return []  # most subscriptions: no change in the month
    months = commitment_months(subscription)
    start = billing_anchor(subscription)
    if months is None or start is None:
        return []
    # Renewals are anniversaries of the commitment's end (the day after it), else of the start.
    end = subscription.commitment_end
    anchor = end + timedelta(days=1) if end else start
    snapshots = subscription.snapshots
    lots: list[tuple[Decimal, datetime]] = []  # seats still held, and when they were added
    found: list[Decrease] = []
    held = Decimal(0)
    for day in change_days(snapshots, date.min, last):
        quantity = quantity_on(snapshots, day)
        change, at = quantity - held, _instant(snapshots, day)
        if change > 0:
            lots.append((change, at))
        elif change < 0:
            renewed = _midnight(last_anniversary(anchor, months, day))
            oldest = _take_back(lots, -change)
            added = max(oldest, renewed)
            if first <= day:
                renews = add_months(last_anniversary(anchor, months, day), months)
                found.append(Decrease(day, held, quantity, added, at - added > WINDOW, renews))
        held = quantity
    return found


def _take_back(lots: list[tuple[Decimal, datetime]], seats: Decimal) -> datetime:
    """Remove `seats` from the newest lots; when the oldest of the seats removed was added."""
    oldest = datetime.max.replace(tzinfo=UTC)
    while seats > 0 and lots:
        held, added = lots.pop()
        oldest = min(oldest, added)
        if held > seats:
            lots.append((held - seats, added))
        seats -= held
    return oldest


def _instant(snapshots: tuple[Snapshot, ...], day: date) -> datetime:
    """When the change of `day` happened: its snapshot's change time, else the day's start."""
    for snapshot in reversed(snapshots):
        if snapshot.effective == day and snapshot.changed_at is not None:
            changed = snapshot.changed_at
            changed = changed if changed.tzinfo else changed.replace(tzinfo=UTC)
            if changed.astimezone(UTC).date() == day:
                return changed
    return _midnight(day)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
