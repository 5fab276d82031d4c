"""The quantity timeline of a Pax8 subscription (billing-rules §2), on plain data.

A subscription's history is a list of full snapshots, newest first. Each snapshot takes effect on
the UTC date of its `updatedDate`, the oldest on its billing start, and applies to the whole of
that day: a seat added counts on the day it was added, a seat removed does not count on the day it
was removed, and two changes on one day leave only the later one.

The newest snapshot's `endDate` ends the subscription: no day from it on bills, whichever snapshot
is in effect. A cancellation is stamped when it is made, often after the day it ends (a US evening
is the next UTC day; a backdated one, days later), and the snapshot before it must not bill those
days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from trueup.core.values.money import price_or_dash, quantity_prose
from trueup.core.values.months import Month
from trueup.core.values.parsing import parse_day, parse_instant, to_decimal, to_str

BILLABLE_STATUSES = frozenset({"active", "pendingcancel", "activated"})
CANCELLED = "cancelled"
# Every status Pax8 documents for a subscription (casefolded). Another one (or none) bills 0
# like the non-billable ones, but it may be revenue Pax8 still charges: it is flagged.
KNOWN_STATUSES = BILLABLE_STATUSES | {
    CANCELLED,
    "pendingmanual",
    "pendingautomated",
    "waitingfordetails",
    "trial",
    "converted",
    "pendingactivation",
}
ZERO = Decimal(0)
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Snapshot(NamedTuple):
    """One state of a subscription (a named tuple: a large store has ~50k of them)."""

    effective: date  # the first UTC day it applies to
    quantity: Decimal
    status: str
    price: Decimal | None
    partner_cost: Decimal | None
    end: date | None  # the UTC date of endDate: a Cancelled snapshot bills up to, not including, it
    changed_at: datetime | None  # updatedDate, in UTC
    until: date | None = None  # the newest snapshot's `end`: the subscription bills before it only

    def billable_on(self, day: date) -> bool:
        if self.until is not None and day >= self.until:
            return False
        status = self.status.casefold()
        if status in BILLABLE_STATUSES:
            return True
        return status == CANCELLED and self.end is not None and day < self.end


def known_status(status: str | None) -> bool:
    """Whether Pax8 documents the status (any spelling of its case)."""
    return (status or "").casefold() in KNOWN_STATUSES


class SnapshotState(NamedTuple):
    """One snapshot's values before its effective date is known (from JSON or from columns)."""

    quantity: Decimal | None
    status: str | None
    price: Decimal | None
    partner_cost: Decimal | None
    end: date | None
    changed_at: datetime | None


def chain_snapshots(
    first_effective: date | None, newest_first: Sequence[SnapshotState]
) -> list[Snapshot]:
    """The snapshots oldest first, each with the day it takes effect.

    The oldest takes effect on `first_effective` (billingStart, else startDate); the others on
    the UTC date of their change, never before the oldest. A snapshot with no change time takes
    effect with the one before it (and, being newer, replaces it); one with no date at all
    applies to every day. Each carries the newest one's end date (`until`).
    """
    until = newest_first[0].end if newest_first else None
    snapshots: list[Snapshot] = []
    for state in reversed(newest_first):
        changed_at = _as_utc(state.changed_at)
        changed_day = changed_at.date() if changed_at else None
        if snapshots:
            # Nothing bills before the billing start, even a change recorded the day before it.
            effective = max(changed_day or snapshots[-1].effective, snapshots[0].effective)
        else:
            effective = first_effective or changed_day or date.min
        snapshots.append(
            Snapshot(
                effective=effective,
                quantity=state.quantity if state.quantity is not None else ZERO,
                status=state.status or "",
                price=state.price,
                partner_cost=state.partner_cost,
                end=state.end,
                changed_at=changed_at,
                until=until,
            )
        )
    return snapshots


def snapshots_from(
    current: Mapping[str, Any], history: Sequence[Mapping[str, Any]]
) -> list[Snapshot]:
    """The snapshots (oldest first) of a subscription from its raw Pax8 JSON.

    `history` is /subscriptions/{id}/history, newest first; it normally begins with the current
    state. The current object stands alone when there is no history, and is added on top when it
    changed after the newest history entry (a history fetched before the last change).
    Parse the raw text with `parse_float=Decimal`; a float is read through its shortest repr.
    """
    states = with_current(_state(current), [_state(entry) for entry in history])
    return chain_snapshots(_first_effective(current, history[-1] if history else current), states)


def with_current(current: SnapshotState, history: Sequence[SnapshotState]) -> list[SnapshotState]:
    """The history, newest first, with the current state on top when it is newer (or alone)."""
    if not history:
        return [current]
    newest, changed = _as_utc(history[0].changed_at), _as_utc(current.changed_at)
    if changed is not None and (newest is None or changed > newest):
        return [current, *history]
    return list(history)


def snapshot_on(snapshots: Sequence[Snapshot], day: date) -> Snapshot | None:
    """The latest snapshot in effect on `day` (None before the subscription starts)."""
    for snapshot in reversed(snapshots):
        if snapshot.effective <= day:
            return snapshot
    return None


def quantity_on(snapshots: Sequence[Snapshot], day: date) -> Decimal:
    """qty(d): the quantity in effect on `day`, 0 when that snapshot does not bill."""
    return billable_quantity(snapshot_on(snapshots, day), day)


def change_days(snapshots: Sequence[Snapshot], first: date, last: date) -> list[date]:
    """The days in [first, last] the billable quantity may change on: a snapshot takes effect,
    a cancellation ends or the subscription ends."""
    days = set()
    for snapshot in snapshots:
        for day in (snapshot.effective, snapshot.end, snapshot.until):
            if day is not None and first <= day <= last:
                days.add(day)
    return sorted(days)


def billable_quantity(snapshot: Snapshot | None, day: date) -> Decimal:
    """qty(d) from the snapshot in effect on `day` (`snapshot_on`), for callers that need both."""
    if snapshot is None or not snapshot.billable_on(day):
        return ZERO
    return snapshot.quantity


@dataclass(frozen=True)
class TimelineEntry:
    start: date
    end: date  # inclusive
    quantity: Decimal  # billable: 0 on days that do not bill
    status: str  # of the snapshot in effect, "" before the subscription starts
    price: Decimal | None
    note: str  # what changed on `start`, e.g. "+1 seat (19) on 12 Nov"


class _Day(NamedTuple):
    quantity: Decimal
    status: str
    price: Decimal | None
    snapshot: Snapshot | None


def month_timeline(snapshots: Sequence[Snapshot], month: str) -> list[TimelineEntry]:
    """The runs of days of `month` with equal billable quantity, price and status."""
    first, _ = Month(month).bounds
    before = _day_state(snapshots, date.fromordinal(first.toordinal() - 1))
    entries: list[TimelineEntry] = []
    run_start, run = first, _day_state(snapshots, first)
    note = (
        _change_note(before, run, first) if _key(before) != _key(run) else _carried_note(run, first)
    )
    for day in Month(month).days()[1:]:
        state = _day_state(snapshots, day)
        if _key(state) == _key(run):
            continue
        previous_day = date.fromordinal(day.toordinal() - 1)
        entries.append(TimelineEntry(run_start, previous_day, *_key(run), note))
        note = _change_note(run, state, day)
        run_start, run = day, state
    entries.append(TimelineEntry(run_start, Month(month).bounds[1], *_key(run), note))
    return entries


def _day_state(snapshots: Sequence[Snapshot], day: date) -> _Day:
    snapshot = snapshot_on(snapshots, day)
    if snapshot is None:
        return _Day(ZERO, "", None, None)
    quantity = snapshot.quantity if snapshot.billable_on(day) else ZERO
    return _Day(quantity, snapshot.status, snapshot.price, snapshot)


def _key(state: _Day) -> tuple[Decimal, str, Decimal | None]:
    return state.quantity, state.status, state.price


def _carried_note(state: _Day, day: date) -> str:
    if state.snapshot is None:
        return "not started"
    until = state.snapshot.until
    if until is not None and day >= until:
        return f"ended {day_text(until, year=True)}"
    if state.quantity == 0 and state.status.casefold() not in BILLABLE_STATUSES:
        return f"{state.status or 'no status'}: not billed"
    return f"{_seats(state.quantity)} since {day_text(state.snapshot.effective, year=True)}"


def _change_note(before: _Day, after: _Day, day: date) -> str:
    if after.snapshot is None:
        return "not started"
    parts: list[str] = []
    until = after.snapshot.until
    if before.snapshot is None and until is not None and day >= until:
        # Dated after its own end date: it holds seats, and none of them bills.
        end_day = day_text(until, year=True)
        parts.append(
            f"started past its end date ({end_day}): {_seats(after.snapshot.quantity)} not billed"
        )
    elif before.snapshot is None:
        parts.append(f"started: {_seats(after.quantity)}")
    elif after.quantity != before.quantity:
        change = after.quantity - before.quantity
        sign = "+" if change > 0 else "−"
        parts.append(f"{sign}{_seats(abs(change))} ({quantity_prose(after.quantity)})")
    if before.snapshot is not None and after.status != before.status:
        parts.append(f"status {before.status or '-'} → {after.status or '-'}")
    elif before.snapshot is not None and after.quantity == 0 and before.quantity != 0:
        # Same status, no seats: the subscription (or a Cancelled snapshot) reaching its end date.
        ended = (until is not None and day >= until) or after.status.casefold() == CANCELLED
        parts.append("cancelled" if ended else "not billed")
    if before.snapshot is not None and after.price != before.price:
        parts.append(f"price {price_or_dash(before.price)} → {price_or_dash(after.price)}")
    return f"{'; '.join(parts)} on {day_text(day)}"


def _as_utc(moment: datetime | None) -> datetime | None:
    # The store keeps UTC instants without their offset; a naive value is UTC, never local time.
    if moment is None or moment.tzinfo is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _first_effective(current: Mapping[str, Any], oldest: Mapping[str, Any]) -> date | None:
    # The subscription's billing start as Pax8 holds it now (the store's column), then the
    # oldest snapshot's.
    for key in ("billingStart", "startDate"):
        for source in (current, oldest):
            day = parse_day(source.get(key))
            if day is not None:
                return day
    return None


def _state(raw: Mapping[str, Any]) -> SnapshotState:
    return SnapshotState(
        quantity=_number(raw.get("quantity")),
        status=to_str(raw.get("status")),
        price=_number(raw.get("price")),
        partner_cost=_number(raw.get("partnerCost")),
        end=parse_day(raw.get("endDate")),
        changed_at=parse_instant(raw.get("updatedDate")),
    )


def _number(value: Any) -> Decimal | None:
    return to_decimal(repr(value) if isinstance(value, float) else value)


def day_text(day: date, *, year: bool = False) -> str:
    """`12 Nov` (`12 Nov 2026`), the same in every locale."""
    text = f"{day.day} {_MONTH_NAMES[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def period_text(start: date, end: date) -> str:
    """`1 Nov – 30 Nov`; with the years when the period crosses one (an annual term's `11 Oct
    2026 – 10 Oct 2027`, which `11 Oct – 10 Oct` would hide)."""
    whole = start.year != end.year
    return f"{day_text(start, year=whole)} – {day_text(end, year=whole)}"


def _seats(quantity: Decimal) -> str:
    return f"{quantity_prose(quantity)} seat{'' if quantity == 1 else 's'}"
