"""Random accounts: a product mix sized to the client, old history, a few recent changes, and the
drift between Pax8 and the Halo recurring invoice that a month-end reconciliation turns up."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal

from trueup.sandbox.gen_catalog import AZURE, BY_KEY, PRODUCTS, Product
from trueup.sandbox.gen_names import company_name
from trueup.sandbox.gen_world import (
    PRICE_RISE,
    Account,
    Calendar,
    Sub,
    add_azure,
    add_sub,
    business_moment,
    cancel,
    cents,
    change,
    monthly_term,
    new_account,
    pick_term,
    sized,
    slug_of,
)

SELLABLE = tuple(product for product in PRODUCTS if product.weight > 0)


def random_account(rng: random.Random, cal: Calendar, taken: set[str]) -> Account:
    name = company_name(rng, taken)
    roll = rng.random()
    currency = (
        "USD" if roll < 0.97 else "CAD" if roll < 0.985 else "GBP" if roll < 0.9925 else "EUR"
    )
    roll = rng.random()
    pax8, halo = roll >= 0.025, not 0.025 <= roll < 0.05  # a few exist on one side only
    link = rng.choices(("link", "external_id", "name"), (0.6, 0.2, 0.2))[0]
    account = new_account(rng, cal, name, pax8=pax8, halo=halo, currency=currency, link=link)
    if pax8:
        _fill(rng, cal, account)
        for sub in account.subs:
            sub.halo_qty = _halo_qty(rng, cal, sub)
    if rng.random() < 0.1:
        account.discount = Decimal("0.90")
    dropped = [p for p in SELLABLE if p.halo_name and not account.holds(p)]
    if dropped and rng.random() < 0.05:  # a line for a product the client gave up, deactivated
        product = rng.choice(dropped)
        account.retired.append((product, sized(rng, product, account.headcount)))
    return account


def _fill(rng: random.Random, cal: Calendar, account: Account) -> None:
    count = max(3, min(57, round(rng.lognormvariate(math.log(18), 0.55))))  # room for extras
    for product, term in _mix(rng, count):
        start, quantity = _old_start(rng, cal, account), sized(rng, product, account.headcount)
        sub = add_sub(rng, account, product, term, start, quantity)
        _old_change(rng, cal, sub)
        roll = rng.random()
        if roll < 0.03:
            _cancel_long_ago(rng, cal, sub)
        elif roll < 0.085:
            _recent_change(rng, cal, sub)
        elif roll < 0.105:
            _price_rise(rng, cal, sub)
    if rng.random() < 0.2:
        add_azure(rng, account, _old_start(rng, cal, account), slug_of(account))
    if rng.random() < 0.22:
        _new_recent_sub(rng, cal, account)
    if rng.random() < 0.01:
        trial = BY_KEY[rng.choice(("teams-prem", "copilot"))]
        if not account.holds(trial):
            day = cal.month.replace(day=rng.randint(5, cal.today.day - 1))
            add_sub(rng, account, trial, ("Trial", None), day, rng.randint(3, 25), status="Trial")


def _mix(rng: random.Random, count: int) -> list[tuple[Product, tuple[str, str | None]]]:
    """`count` products by popularity; the biggest clients also hold a second billing term."""
    ranked = sorted(SELLABLE, key=lambda p: rng.random() ** (1 / p.weight), reverse=True)
    picks = [(product, pick_term(rng, product)) for product in ranked[:count]]
    for product, (billing_term, _) in list(picks):
        if len(picks) >= count:
            break
        other = next(((t[0], t[1]) for t in product.terms if t[0] != billing_term), None)
        if other:
            picks.append((product, other))
    return picks


def _old_start(rng: random.Random, cal: Calendar, account: Account) -> date:
    latest = cal.settled - timedelta(days=45)
    start = account.since + timedelta(days=rng.randrange(max(1, (latest - account.since).days)))
    return start.replace(day=min(start.day, 28))


def _random_day(rng: random.Random, first: date, last: date) -> date | None:
    return first + timedelta(days=rng.randrange((last - first).days)) if first < last else None


def _old_change(rng: random.Random, cal: Calendar, sub: Sub) -> None:
    day = _random_day(rng, sub.start + timedelta(days=30), cal.settled - timedelta(days=1))
    if day and rng.random() < 0.45:
        quantity = max(1, sub.current.quantity + rng.choice((-2, -1, 1, 1, 2, 3)))
        if quantity != sub.current.quantity:
            change(sub, business_moment(rng, day), quantity=quantity)


def _cancel_long_ago(rng: random.Random, cal: Calendar, sub: Sub) -> None:
    day = _random_day(rng, sub.current.at.date() + timedelta(days=20), cal.settled)
    if day:
        cancel(sub, business_moment(rng, day))


def _recent_change(rng: random.Random, cal: Calendar, sub: Sub) -> None:
    """Seats added or removed, or a cancellation, between last month's 5th and yesterday.
    Annual commitments only grow, or drop a seat inside the 7-day NCE window."""
    if sub.billing_term != "Monthly" or sub.product is AZURE or sub.current.status != "Active":
        return
    days = cal.recent_days()
    day = rng.choice(days)
    quantity = sub.current.quantity
    step = rng.randint(1, 3) if quantity >= 3 else 1
    kinds = ("add", "temp") if sub.commitment else ("add", "remove", "cancel", "temp")
    weights = (0.7, 0.3) if sub.commitment else (0.45, 0.25, 0.15, 0.15)
    kind = rng.choices(kinds, weights)[0]
    if kind == "remove" and quantity > step:
        change(sub, business_moment(rng, day), quantity=quantity - step)
    elif kind == "cancel":
        cancel(sub, business_moment(rng, day))
    else:
        change(sub, business_moment(rng, day), quantity=quantity + step)
        leaves = day + timedelta(days=rng.randint(2, 6))
        if kind == "temp" and leaves < cal.today:
            change(sub, business_moment(rng, leaves), quantity=quantity)


def _price_rise(rng: random.Random, cal: Calendar, sub: Sub) -> None:
    """A 5% vendor price rise taking effect at the annual renewal, when that fell recently."""
    if (sub.commitment, sub.billing_term, sub.product.vendor) != ("1-Year", "Monthly", "Microsoft"):
        return
    for month in (cal.prev, cal.month):
        renewal = month.replace(day=sub.start.day)
        elapsed = (month.year - sub.start.year) * 12 + month.month - sub.start.month
        if elapsed > 0 and elapsed % 12 == 0 and renewal.day >= 5 and renewal < cal.today:
            price, cost = sub.current.price * PRICE_RISE, sub.current.cost * PRICE_RISE
            change(sub, business_moment(rng, renewal), price=cents(price), cost=cents(cost))
            return


def _new_recent_sub(rng: random.Random, cal: Calendar, account: Account) -> None:
    choices = [p for p in SELLABLE if not account.holds(p)]
    if not choices:
        return
    product = rng.choices(choices, [p.weight for p in choices])[0]
    day = rng.choice(cal.recent_days())
    quantity = max(1, sized(rng, product, account.headcount) // 2)
    sub = add_sub(rng, account, product, monthly_term(product), day, quantity)
    if account.self_service and rng.random() < 0.5:
        sub.ordered_by = "Customer"


def _halo_qty(rng: random.Random, cal: Calendar, sub: Sub) -> int | None:
    """What the client's Halo line says for this subscription; None = no line."""
    if sub.product.halo_name is None or sub.billing_term == "Trial":
        return None
    if sub.product is AZURE:
        return 1
    current, quantity = sub.current, sub.current.quantity
    if sub.end is not None:
        recent = sub.end >= cal.prev
        return sub.versions[-2].quantity if recent and rng.random() < 0.5 else None
    if quantity == 0:
        return None
    if sub.versions[0].at.date() >= cal.prev:  # new: the MSP may not have added it yet
        return quantity if rng.random() < 0.5 else None
    if current.at.date() >= cal.prev:  # changed recently: Halo often still has the old count
        before = sub.version_on(cal.prev)
        return before.quantity if before and rng.random() < 0.6 else quantity
    roll = rng.random()
    if roll < 0.85:
        return quantity
    if roll < 0.91 and quantity > 1:
        return quantity - rng.randint(1, min(3, quantity - 1))
    if roll < 0.95:
        return quantity + rng.randint(1, 2)
    return None
