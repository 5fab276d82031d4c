"""A Partner Center subscription, rebuilt from every charge the store holds of it, as the
subscription and dated history the seat diff and the batch read for Pax8 (files/history.py).

The seats: a cycle charge (new, renew, the cycle's charge) bills the whole quantity from its
ChargeStartDate; an add or a removal changes it from its own; a cancellation ends the
subscription on its day (its last snapshot Cancelled, ending then). A subscription whose cycle
charge is in no imported file counts its seats from its adds and removals alone. Usage-based
subscriptions (an Azure plan) are one seat at no price, as Pax8 lists its Azure plans; their
money is in their arrears items. The billing term is the cycle charges' period (a month or a
year); the commitment comes from TermAndBillingCycle ("One-Year commitment for monthly/yearly
billing"), else from the subscription's start and end dates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from trueup.core.sources.files.history import (
    ACTIVE,
    CANCELLED,
    State,
    Subscription,
    months_between,
    term_of,
)
from trueup.core.sources.files.history import subscription_rows as history_rows
from trueup.core.sources.files.kinds import ADD, CANCEL, CYCLE, REMOVE
from trueup.core.sources.files.partner_center.charges import Charge
from trueup.core.sources.files.partner_center.subtotal import per_unit
from trueup.core.values.distributors import PARTNER_CENTER, namespaced

ZERO = Decimal(0)
_ORDER = {CYCLE: 0, ADD: 1, REMOVE: 2, CANCEL: 3}  # of charges starting on the same day
_COMMITMENT = re.compile(r"\b(one|1|two|2|three|3)[- ]?(month|year)", re.IGNORECASE)
_NUMBERS = {"one": 1, "1": 1, "two": 2, "2": 2, "three": 3, "3": 3}


def subscription_id(charge: Charge) -> str:
    return namespaced(PARTNER_CENTER, charge.subscription_ref)


def product_id(charge: Charge) -> str:
    return namespaced(PARTNER_CENTER, charge.product_id, charge.sku_id)


def company_id(charge: Charge) -> str:
    return namespaced(PARTNER_CENTER, charge.customer_id)


def subscription_rows(charges: Sequence[Charge]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The subscription's row and its snapshot rows (position 0 the newest), from its charges."""
    ordered = sorted(charges, key=_order)
    first = ordered[0]
    states = _usage_states(ordered) if all(c.usage for c in ordered) else _seat_states(ordered)
    starts = [c.subscription_start for c in ordered if c.subscription_start]
    start = min(starts) if starts else ordered[0].charge_start
    cycles = [c for c in ordered if c.kind == CYCLE and not c.usage]
    billing_term = term_of(cycles[-1].charge_start, cycles[-1].charge_end) if cycles else "Monthly"
    ends = [c.subscription_end for c in ordered if c.subscription_end]
    commitment = _commitment(ordered[-1], start, ends[-1] if ends else None)
    subscription = Subscription(
        id=subscription_id(first),
        company_id=company_id(first),
        product_id=product_id(first),
        product_name=first.sku_name,
        currency=first.currency,
        start=start,
        billing_term=billing_term,
        commitment=commitment,
        commitment_end=ends[-1] if commitment and ends else None,
        distributor=PARTNER_CENTER,
        raw={
            "subscriptionId": first.subscription_ref,
            "customerId": first.customer_id,
            "productId": first.product_id,
            "skuId": first.sku_id,
            "billingTerm": billing_term,
            "commitmentTerm": commitment,
        },
    )
    return history_rows(subscription, states)


def _order(charge: Charge) -> tuple[Any, ...]:
    # Whole and stable: the same charges give the same history whatever order they came in.
    return (charge.charge_start, _ORDER.get(charge.kind or "", 4), sorted(charge.cells.items()))


def _seat_states(charges: Sequence[Charge]) -> list[State]:
    """The subscription's states, one a day on which its seats or status changed."""
    states: list[State] = []
    quantity, status, end = ZERO, ACTIVE, None
    price: Decimal | None = None
    cost: Decimal | None = None
    for charge in charges:
        seats = abs(charge.billable_quantity)
        if charge.kind == CYCLE:
            quantity, status, end = seats, ACTIVE, None
            price = per_unit(charge.unit_price, charge.exchange_rate)
            cost = per_unit(charge.effective_unit_price, charge.exchange_rate)
        elif charge.kind == ADD:
            quantity += seats
        elif charge.kind == REMOVE:
            quantity = max(ZERO, quantity - seats)
        elif charge.kind == CANCEL:
            status, end = CANCELLED, charge.charge_start
        else:
            continue  # a credit, or a charge type trueup does not know: no seats change
        state = State(charge.charge_start, quantity, status, price, cost, end)
        if states and states[-1].day == state.day:
            states[-1] = state  # a day's changes leave only its last state
        else:
            states.append(state)
    return states or [State(charges[0].charge_start, ZERO, ACTIVE, None, None, None)]


def _usage_states(charges: Sequence[Charge]) -> list[State]:
    return [State(charges[0].charge_start, Decimal(1), ACTIVE, ZERO, ZERO, None)]


def _commitment(charge: Charge, start: date, end: date | None) -> str | None:
    """The commitment, in Pax8's spelling (`1-Year`), when the file says it."""
    found = _COMMITMENT.search(charge.term_and_billing_cycle or "")
    if found:
        return f"{_NUMBERS[found.group(1).casefold()]}-{found.group(2).capitalize()}"
    if end is None:
        return None
    months = months_between(start, end)
    if months == 1:
        return "1-Month"
    return f"{months // 12}-Year" if months and months % 12 == 0 else None
