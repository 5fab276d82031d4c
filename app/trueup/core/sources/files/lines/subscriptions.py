"""A subscription of a distributor's billing file, rebuilt from every charge the store holds of
it (files/history.py): its seats by day (seats.py), its billing term (the file's billing
cycle, else the newest charge of a whole period's length) and its dates.

A subscription only ever billed for usage (an Azure plan) is one seat at no price, as Pax8
lists its Azure plans: its money is in its arrears items. None of these files says a
commitment (Sherweb's billing cycle is how often it bills, not how long the term binds), so
none is given, and the seat diff's commitment checks pass them by.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from trueup.core.sources.files.history import (
    ACTIVE,
    Record,
    State,
    Subscription,
    term_of,
    whole_term,
)
from trueup.core.sources.files.history import subscription_rows as history_rows
from trueup.core.sources.files.kinds import ADD, CANCEL, CYCLE, REMOVE, USAGE
from trueup.core.sources.files.lines.charge import ZERO, Charge
from trueup.core.sources.files.lines.seats import seat_states
from trueup.core.values.distributors import namespaced

_ORDER = {CYCLE: 0, ADD: 1, REMOVE: 2, CANCEL: 3}  # of charges starting on the same day


def subscription_rows(distributor: str, charges: Sequence[Charge]) -> tuple[Record, list[Record]]:
    """The subscription's row and its snapshot rows (position 0 the newest)."""
    ordered = sorted(charges, key=_order)
    first = ordered[0]
    if all(c.kind == USAGE for c in ordered):
        states = [State(first.start, Decimal(1), ACTIVE, ZERO, ZERO, None)]
    else:
        states = seat_states(ordered)
    billing_term = _billing_term(ordered)
    subscription = Subscription(
        id=namespaced(distributor, first.subscription_ref),
        company_id=namespaced(distributor, first.customer_id),
        product_id=namespaced(distributor, first.product_id),
        product_name=first.product_name,
        currency=first.currency,
        start=first.start,
        billing_term=billing_term,
        commitment=None,
        commitment_end=None,
        distributor=distributor,
        raw={
            "subscriptionId": first.subscription_ref,
            "customerId": first.customer_id,
            "productId": first.product_id,
            "billingTerm": billing_term,
        },
    )
    return history_rows(subscription, states)


def _order(charge: Charge) -> tuple[Any, ...]:
    # Whole and stable: the same charges give the same history whatever order they came in.
    return (charge.start, _ORDER.get(charge.kind or "", 4), sorted(charge.cells.items()))


def _billing_term(charges: Sequence[Charge]) -> str:
    """The file's billing cycle, else the newest recurring charge's period when it is a whole
    term: never an add's, nor a recurring charge for a resource added mid-term (Ingram's),
    whose period runs from that day to the term's end (111 days of an annual term are no
    term)."""
    seated = [c for c in charges if c.seats > 0]
    said = [c.billing_term for c in seated if c.billing_term]
    if said:
        return said[-1]
    cycles = [c for c in seated if c.kind == CYCLE and whole_term(c.start, c.end)]
    return term_of(cycles[-1].start, cycles[-1].end) if cycles else "Monthly"
