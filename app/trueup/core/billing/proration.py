"""The charge of a monthly-billed subscription line: the four proration policies (§3).

A charge is a list of pieces, each `seats × unit price × days / period` (`daily`: the days of a
run over the days of the month; the other policies: 1 of 1). The same pieces priced at the
Pax8 partner cost estimate what Pax8 charges when its invoice is not there yet (§7), so the
`daily` pieces double as the Pax8 side of every monthly line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from math import lcm
from typing import NamedTuple

from trueup.core.billing.lines import (
    EXACT,
    ZERO,
    Exact,
    days_text,
    seats_text,
)
from trueup.core.billing.pricing import Pricing
from trueup.core.billing.timeline import (
    Snapshot,
    billable_quantity,
    change_days,
    day_text,
    snapshot_on,
)
from trueup.core.values.money import money_prose, quantity_prose

# In a prorated quantity's words, what precedes a part's own price (only a price that moved
# within the month is said there): a posted line's description then carries its arithmetic.
PRICED_PART = " × "


class Run(NamedTuple):
    """Consecutive days of the month with one snapshot in effect and one billable quantity."""

    first: date
    days: int
    quantity: Decimal
    snapshot: Snapshot | None


class Piece(NamedTuple):
    seats: Decimal
    price: Decimal | None  # the client's unit price
    cost: Decimal | None  # the Pax8 partner cost of one unit
    days: int = 1  # the share of the unit price: `days` of a `period` (1 of 1: all of it)
    period: int = 1


@dataclass(slots=True)
class Charge:
    pieces: tuple[Piece, ...]
    terms: str  # the arithmetic, up to the "="
    basis: str  # how the quantity was found, e.g. "daily proration"
    mode: str  # the quantity part of the policy column: "daily", "annual term", "sync off"
    quantity_source: str  # "Pax8 history" (the distributor's) or "Halo line"
    reference: Snapshot | None  # the snapshot whose price the line shows
    # The seats and days behind a prorated quantity, in words a client can follow ("17 seats
    # for 4 days, 18 for 26 days, of 30"): posted documents carry it. None when not prorated.
    words: str | None = None
    # Σ seats × share, Σ seats × price × share (None when a piece with seats has no price) and
    # the same at the Pax8 partner cost (0 where none is known), in one pass.
    quantity: Exact = field(init=False)
    amount: Exact | None = field(init=False)
    estimated_cost: Exact = field(init=False)

    def __post_init__(self) -> None:
        pieces = self.pieces
        if len(pieces) == 1:  # most lines: no lcm, no sums
            period = pieces[0].period
        else:
            period = lcm(*(piece.period for piece in pieces)) if pieces else 1
        seats = amount = cost = ZERO
        priced = True
        for piece in pieces:
            # seats × share once; × price and × cost on it (exact, so in any order)
            seat_share = EXACT.multiply(piece.seats, piece.days * (period // piece.period))
            seats = EXACT.add(seats, seat_share)
            if piece.price is None:
                priced = priced and not piece.seats
            else:
                amount = EXACT.add(amount, EXACT.multiply(seat_share, piece.price))
            if piece.cost is not None:
                cost = EXACT.add(cost, EXACT.multiply(seat_share, piece.cost))
        self.quantity = Exact(seats, period)
        self.amount = Exact(amount, period) if priced else None
        self.estimated_cost = Exact(cost, period)


def month_runs(snapshots: Sequence[Snapshot], first: date, last: date) -> list[Run]:
    """The month cut where a snapshot takes effect, a cancellation ends or the subscription
    ends: few runs, not days (one for most subscriptions)."""
    cuts = {first, *change_days(snapshots, first, last)}
    if len(cuts) == 1:  # most subscriptions: one run, the whole month
        in_effect = snapshot_on(snapshots, first)
        days = (last - first).days + 1
        return [Run(first, days, billable_quantity(in_effect, first), in_effect)]
    starts = sorted(cuts)
    ends = [*starts[1:], last + timedelta(days=1)]
    runs = []
    for start, end in zip(starts, ends, strict=True):
        in_effect = snapshot_on(snapshots, start)
        runs.append(Run(start, (end - start).days, billable_quantity(in_effect, start), in_effect))
    return runs


def monthly_charge(runs: Sequence[Run], pricing: Pricing, proration: str) -> Charge:
    """The charge of the month under a proration policy: start | end | max | daily."""
    match proration:
        case "start":
            return _on_day(runs[0], runs[0].first, pricing, "start", "start-of-month quantity")
        case "end":
            last_day = runs[-1].first + timedelta(days=runs[-1].days - 1)
            return _on_day(runs[-1], last_day, pricing, "end", "end-of-month quantity")
        case "max":
            return _peak(runs, pricing)
        case "daily":
            return daily_charge(runs, pricing)
    raise ValueError(f"unknown proration policy {proration!r}")


def daily_charge(runs: Sequence[Run], pricing: Pricing) -> Charge:
    """Σ qty(d) × price(d) / days in the month, one piece per run of equal seats and price."""
    if len(runs) == 1:
        return _whole_month(runs[0], pricing)
    days_in_month = sum(run.days for run in runs)
    merged: list[Piece] = []
    for run in runs:
        price, cost = pricing.price(run.snapshot), partner_cost(run.snapshot)
        last = merged[-1] if merged else None
        if last and (last.seats, last.price, last.cost) == (run.quantity, price, cost):
            merged[-1] = Piece(run.quantity, price, cost, last.days + run.days, days_in_month)
        else:
            merged.append(Piece(run.quantity, price, cost, run.days, days_in_month))
    pieces = tuple(piece for piece in merged if piece.seats)
    texts = [
        f"{seats_text(p.seats, pricing.unit) if not n else quantity_prose(p.seats)} × "
        f"{price_text(p.price)} for {days_text(p.days)}"
        for n, p in enumerate(pieces)
    ]
    terms = (
        f"{' + '.join(texts)}, ÷ {days_text(days_in_month)}"
        if texts
        else f"{seats_text(ZERO, pricing.unit)} on each of the {days_text(days_in_month)}"
    )
    billed = [run for run in runs if run.quantity]
    reference = (billed or list(runs))[-1].snapshot
    words = _words(pieces, days_in_month, pricing.unit)
    return Charge(pieces, terms, "daily proration", "daily", _history(pricing), reference, words)


def _words(pieces: Sequence[Piece], days_in_month: int, unit: str) -> str | None:
    """`17 seats for 4 days, 18 for 26 days, of 30`: what a prorated quantity is made of; with
    each part's price when the price moved within the month (`6 seats × 27.99 for 20 days, 6
    × 29.99 for 10 days, of 30`), as one quantity at the last price would not bill the amount."""
    if not pieces or (len(pieces) == 1 and pieces[0].days == days_in_month):
        return None
    priced = len({p.price for p in pieces}) > 1
    said = [
        f"{seats_text(p.seats, unit) if not n else quantity_prose(p.seats)}"
        f"{f'{PRICED_PART}{price_text(p.price)}' if priced else ''} for {days_text(p.days)}"
        for n, p in enumerate(pieces)
    ]
    return f"{', '.join(said)}, of {days_in_month}"


def _whole_month(run: Run, pricing: Pricing) -> Charge:
    """`daily_charge` of one run (most lines), without the merging and joining of several."""
    price, days = pricing.price(run.snapshot), days_text(run.days)
    if run.quantity:
        pieces: tuple[Piece, ...] = (
            Piece(run.quantity, price, partner_cost(run.snapshot), run.days, run.days),
        )
        terms = (
            f"{seats_text(run.quantity, pricing.unit)} × {price_text(price)} for {days}, ÷ {days}"
        )
    else:
        pieces, terms = (), f"{seats_text(ZERO, pricing.unit)} on each of the {days}"
    return Charge(pieces, terms, "daily proration", "daily", _history(pricing), run.snapshot)


def held_charge(runs: Sequence[Run], pricing: Pricing, halo_quantity: Decimal | None) -> Charge:
    """Vendor sync off for the line: the Halo quantity for the whole month, at the policy price."""
    seats = halo_quantity if halo_quantity is not None else ZERO
    reference = runs[-1].snapshot
    price = pricing.price(reference)
    terms = f"{seats_text(seats, pricing.unit)} × {price_text(price)}"
    piece = Piece(seats, price, partner_cost(reference))
    return Charge((piece,), terms, "quantity kept as in Halo", "sync off", "Halo line", reference)


def _on_day(run: Run, day: date, pricing: Pricing, mode: str, basis: str) -> Charge:
    price = pricing.price(run.snapshot)
    piece = Piece(run.quantity, price, partner_cost(run.snapshot))
    terms = f"{seats_text(run.quantity, pricing.unit)} on {day_text(day)} × {price_text(price)}"
    return Charge((piece,), terms, basis, mode, _history(pricing), run.snapshot)


def _peak(runs: Sequence[Run], pricing: Pricing) -> Charge:
    # The peak's first day names it; the price is the last day's (billing-rules §3).
    peak = max(runs, key=lambda run: run.quantity)
    reference = runs[-1].snapshot
    price = pricing.price(reference)
    piece = Piece(peak.quantity, price, partner_cost(reference))
    peak_seats = seats_text(peak.quantity, pricing.unit)
    terms = f"{peak_seats} (peak, from {day_text(peak.first)}) × {price_text(price)}"
    return Charge((piece,), terms, "peak quantity", "max", _history(pricing), reference)


def _history(pricing: Pricing) -> str:
    """Where the quantities come from: the distributor's dated history (`Pax8 history`)."""
    return f"{pricing.who} history"


def partner_cost(snapshot: Snapshot | None) -> Decimal | None:
    return snapshot.partner_cost if snapshot else None


def price_text(price: Decimal | None) -> str:
    return "no price" if price is None else money_prose(price)
