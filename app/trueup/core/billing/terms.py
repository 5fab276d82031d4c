"""Billing terms other than Monthly (billing-rules §5): term charges, co-termed adds, one-time.

Annual, 2-Year and 3-Year prices are per term. The term charge falls in the month holding the
term's start or renewal (an anniversary of the billing start); seats added mid-term are billed
in the month they are added, for the days left in the term over the days of the term. A decrease
mid-term is credited the same way only inside the 7-day window (`billing_nce`): after it Pax8
keeps charging until renewal, so the client keeps paying too.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from trueup.core.billing.facts import SubscriptionFacts
from trueup.core.billing.lines import seats_text
from trueup.core.billing.pricing import Pricing
from trueup.core.billing.proration import Charge, Piece, partner_cost, price_text
from trueup.core.billing.timeline import (
    Snapshot,
    change_days,
    day_text,
    quantity_on,
    snapshot_on,
)

# Months per term, keyed by the term with everything but letters and digits dropped, so that
# "2-Year" (subscriptions), "2 Year" (invoice items) and "P2Y" (Microsoft) agree.
TERM_MONTHS = {
    "monthly": 1,
    "1month": 1,
    "p1m": 1,
    "annual": 12,
    "1year": 12,
    "p1y": 12,
    "2year": 24,
    "p2y": 24,
    "3year": 36,
    "p3y": 36,
    "triennial": 36,
}
ONE_TIME = "onetime"
NOT_CHARGED = frozenset({"trial", "activation"})


@cache
def term_key(term: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (term or "").casefold())


def term_months(term: str | None) -> int | None:
    return TERM_MONTHS.get(term_key(term))


@cache
def is_monthly(billing_term: str | None) -> bool:
    """Billed by the month under §3: Monthly, and any term trueup does not know."""
    key = term_key(billing_term)
    return key not in NOT_CHARGED and key != ONE_TIME and term_months(billing_term) in (None, 1)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, on the month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def last_anniversary(anchor: date, months: int, day: date) -> date:
    """The latest `anchor + k × months` (k of any sign) on or before `day`."""
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    k = elapsed // months
    while add_months(anchor, k * months) > day:
        k -= 1
    return add_months(anchor, k * months)


def billing_anchor(subscription: SubscriptionFacts) -> date | None:
    """The billing start, else the day the oldest snapshot takes effect."""
    if subscription.billing_start is not None:
        return subscription.billing_start
    return subscription.snapshots[0].effective if subscription.snapshots else None


def term_charge(
    subscription: SubscriptionFacts,
    first: date,
    last: date,
    pricing: Pricing,
    *,
    credited: Collection[date],
    halo_quantity: Decimal | None,
    held: bool,
) -> Charge:
    """The charge of a non-monthly subscription in the month [first, last].

    `credited`: the days of the month whose decrease Pax8 refunds (inside the 7-day window).
    `held`: vendor sync is off, so the Halo quantity replaces Pax8's at the term charge and
    mid-term changes are not billed.
    """
    snapshots = subscription.snapshots
    key, anchor = term_key(subscription.billing_term), billing_anchor(subscription)
    term = subscription.billing_term or ""
    if key in NOT_CHARGED or anchor is None:
        return _charge((), f"{term or 'no term'}: not charged", "not charged", term, None, pricing)
    if key == ONE_TIME:
        if not first <= anchor <= last:
            text = f"one-time charge, billed in the month of {day_text(anchor, year=True)}"
            return _charge((), text, "one-time charge", "one-time", None, pricing)
        seats, snapshot = _seats_on(snapshots, anchor, halo_quantity if held else None)
        price = pricing.price(snapshot)
        piece = Piece(seats, price, partner_cost(snapshot))
        text = (
            f"{seats_text(seats, pricing.unit)} × {price_text(price)}, "
            f"one-time on {day_text(anchor)}"
        )
        return _charge((piece,), text, "one-time charge", "one-time", snapshot, pricing, held)
    months = term_months(term) or 12
    mode = f"{term.casefold()} term"
    start = last_anniversary(anchor, months, last)
    pieces: list[Piece] = []
    texts: list[str] = []
    if start >= first and start >= anchor:
        seats, snapshot = _seats_on(snapshots, start, halo_quantity if held else None)
        if seats:
            price = pricing.price(snapshot)
            pieces.append(Piece(seats, price, partner_cost(snapshot)))
            end = add_months(start, months) - timedelta(days=1)
            texts.append(
                f"{seats_text(seats, pricing.unit)} × {price_text(price)} for the term "
                f"{day_text(start, year=True)}–{day_text(end, year=True)}"
            )
    if not held:
        for day, change in _changes(snapshots, max(first, anchor), last):
            if day == last_anniversary(anchor, months, day) or (change < 0 and day not in credited):
                continue
            term_start = last_anniversary(anchor, months, day)
            term_end = add_months(term_start, months)
            days_left, term_days = (term_end - day).days, (term_end - term_start).days
            snapshot = snapshot_on(snapshots, day)
            price = pricing.price(snapshot)
            pieces.append(Piece(change, price, partner_cost(snapshot), days_left, term_days))
            sign = "+" if change > 0 else "−"
            texts.append(
                f"{sign}{seats_text(abs(change), pricing.unit)} on {day_text(day)} × "
                f"{price_text(price)} × "
                f"{days_left}/{term_days} days left in the term to "
                f"{day_text(term_end - timedelta(days=1), year=True)}"
            )
    if not texts:
        renews = add_months(start, months)
        texts.append(
            f"no {term} term charge in {first:%B %Y}: the term renews on "
            f"{day_text(renews, year=True)}"
        )
    basis = f"{term} term, charged at its start and for seats changed mid-term"
    reference = snapshot_on(snapshots, last)
    return _charge(tuple(pieces), " + ".join(texts), basis, mode, reference, pricing, held)


def _changes(snapshots: Sequence[Snapshot], first: date, last: date) -> list[tuple[date, Decimal]]:
    changes = []
    for day in change_days(snapshots, first, last):
        change = quantity_on(snapshots, day) - quantity_on(snapshots, day - timedelta(days=1))
        if change:
            changes.append((day, change))
    return changes


def _seats_on(
    snapshots: Sequence[Snapshot], day: date, halo_quantity: Decimal | None
) -> tuple[Decimal, Snapshot | None]:
    seats = quantity_on(snapshots, day) if halo_quantity is None else halo_quantity
    return seats, snapshot_on(snapshots, day)


def _charge(
    pieces: tuple[Piece, ...],
    terms: str,
    basis: str,
    mode: str,
    reference: Snapshot | None,
    pricing: Pricing,
    held: bool = False,
) -> Charge:
    source = "Halo line" if held else f"{pricing.who} history"
    return Charge(pieces, terms, basis, "sync off" if held else mode, source, reference)
