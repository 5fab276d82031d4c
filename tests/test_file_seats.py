"""A subscription's seats by day from a file's charges (files/lines/seats.py): the one-pass
sweep gives exactly the states, figures byte for byte, of the definition it replaced (each day
summing every charge that holds it), kept here as the judge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trueup.core.sources.files.history import ACTIVE, CANCELLED, State
from trueup.core.sources.files.kinds import ADD, CANCEL, CREDIT, CYCLE, REMOVE
from trueup.core.sources.files.lines.charge import ZERO, Charge, seats_of
from trueup.core.sources.files.lines.seats import seat_states, unit_cost, unit_price

BASE = Charge(
    row=1, customer_id="c1", customer_name="Contoso", product_id="SKU", product_name="M365",
    vendor=None, subscription_ref="sub", statement="2026-10:sub", invoice_number=None,
    charge_type="cycleCharge", kind=CYCLE, start=date(2026, 10, 1), end=date(2026, 10, 31),
    quantity=Decimal(1), seats=Decimal(1), unit_cost=None, cost=Decimal(0), unit_price=None,
    price=None, currency="USD", billing_term=None, cells={},
)  # fmt: skip


def judge(charges: Sequence[Charge]) -> list[State]:
    """The definition: each day a charge starts, the seats of every charge holding it."""
    seated = [c for c in charges if c.seats]
    cancels = [c for c in charges if c.kind == CANCEL]
    states: list[State] = []
    for day in sorted({c.start for c in [*seated, *cancels]}):
        held = sum((c.seats for c in seated if c.start <= day <= c.end), ZERO)
        added = [c for c in seated if c.start <= day and c.seats > 0]
        ended = [c for c in cancels if c.start <= day]
        cancelled = bool(ended) and (not added or ended[-1].start >= added[-1].start)
        priced = [c for c in added if unit_cost(c) is not None]
        newest = priced[-1] if priced else None
        state = State(
            day,
            max(ZERO, held),
            CANCELLED if cancelled else ACTIVE,
            None if newest is None else unit_price(newest),
            None if newest is None else unit_cost(newest),
            ended[-1].start if cancelled else None,
        )
        if not states or states[-1][1:] != state[1:]:
            states.append(state)
    return states or [State(charges[0].start, ZERO, ACTIVE, None, None, None)]


KINDS = (CYCLE, CYCLE, ADD, REMOVE, CANCEL, CREDIT)


@st.composite
def charge(draw: st.DrawFn) -> Charge:
    kind = draw(st.sampled_from(KINDS))
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 120)))
    end = start + timedelta(days=draw(st.sampled_from([0, 10, 27, 30, 110, 364])))
    quantity = draw(st.sampled_from([Decimal(1), Decimal(2), Decimal("2.0"), Decimal("0.5")]))
    cost = draw(st.sampled_from([Decimal("10.00"), Decimal("-3.00"), Decimal("100")]))
    unit = draw(st.sampled_from([None, Decimal("9.5")]))
    return replace(
        BASE, kind=kind, start=start, end=end, quantity=quantity, cost=cost, price=cost,
        seats=seats_of(kind, quantity, cost), unit_cost=unit, unit_price=unit,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(charge(), min_size=1, max_size=40))
def test_the_sweep_gives_the_definitions_states(charges: list[Charge]) -> None:
    ordered = sorted(charges, key=lambda c: (c.start, KINDS.index(c.kind or CYCLE), c.end))
    swept = seat_states(ordered)
    assert swept == judge(ordered)
    assert [tuple(map(str, state)) for state in swept] == [
        tuple(map(str, state)) for state in judge(ordered)
    ]  # byte for byte: 12.0 stays 12.0
