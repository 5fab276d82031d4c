"""A subscription's seats by day, from its charges' periods.

The seats on a day are the sum of the seats each charge bills for a period holding that day;
they are counted on each day a charge starts, and hold until the next such day (a file ends
where the download ends, not where the subscription does). So a mid-cycle add read either way
a distributor may write it gives the same seats: as the seats added (10 for the month, 2 more
from the 20th: 12 from the 20th) or as the whole quantity for the days left (10 until the
19th, 12 from the 20th). A cancellation ends the subscription on its day; a later recurring
charge starts it again.

The price and cost of a state are per unit, from the newest charge adding seats that says
them: the file's unit figures, else its amounts over its seats when it is a recurring charge
for a whole term, a month or a year (a prorated charge's amount is not a month's, and an add's
runs from its day to the term's end: 72.99 for 111 days of an annual term over 2 seats is no
unit price) for one seat or more (an amount over a sliver of a seat is no unit price).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from trueup.core.sources.files.history import ACTIVE, CANCELLED, State, whole_term
from trueup.core.sources.files.kinds import CANCEL, CYCLE
from trueup.core.sources.files.lines.charge import ZERO, Charge

UNIT = Decimal("0.0001")  # a unit figure worked out from an amount, as quantities are kept


def seat_states(charges: Sequence[Charge]) -> list[State]:
    """The states of a subscription billed by seats, one a day its seats or status changed
    (`charges` in the order they apply: by start day first). One pass over the days, each
    summing only the charges that hold it, in that order (a file of thousands of charges for
    one subscription took seconds when every day summed every charge)."""
    seated = [c for c in charges if c.seats]
    cancels = [c for c in charges if c.kind == CANCEL]
    states: list[State] = []
    holding: list[Charge] = []
    started = cancelled_by = 0
    newest_add: Charge | None = None
    newest: Charge | None = None  # the newest add that says its unit figures
    ended: Charge | None = None
    for day in sorted({c.start for c in [*seated, *cancels]}):
        while started < len(seated) and seated[started].start <= day:
            charge = seated[started]
            holding.append(charge)
            if charge.seats > 0:
                newest_add = charge
                if unit_cost(charge) is not None:
                    newest = charge
            started += 1
        while cancelled_by < len(cancels) and cancels[cancelled_by].start <= day:
            ended = cancels[cancelled_by]
            cancelled_by += 1
        holding = [c for c in holding if day <= c.end]
        held = sum((c.seats for c in holding), ZERO)
        cancelled = ended is not None and (newest_add is None or ended.start >= newest_add.start)
        state = State(
            day,
            max(ZERO, held),
            CANCELLED if cancelled else ACTIVE,
            None if newest is None else unit_price(newest),
            None if newest is None else unit_cost(newest),
            ended.start if cancelled and ended is not None else None,
        )
        if not states or states[-1][1:] != state[1:]:
            states.append(state)
    return states or [State(charges[0].start, ZERO, ACTIVE, None, None, None)]


def unit_cost(charge: Charge) -> Decimal | None:
    return _unit(charge, charge.unit_cost, charge.cost)


def unit_price(charge: Charge) -> Decimal | None:
    return _unit(charge, charge.unit_price, charge.price)


def _unit(charge: Charge, unit: Decimal | None, amount: Decimal | None) -> Decimal | None:
    if unit is not None:
        return unit
    if amount is None or charge.kind != CYCLE or abs(charge.seats) < 1:
        return None
    if not whole_term(charge.start, charge.end):
        return None
    return (amount / abs(charge.seats)).quantize(UNIT, rounding=ROUND_HALF_UP)
