"""One client line per Pax8 subscription: quantity, price, charge, cost and what to flag.

The charge follows the line's policies (§3-§5); the Pax8 side (what Pax8 charges: the daily
quantities, or the term charge) gives the cost estimate and tells whether the subscription is
left unbilled. A subscription with nothing to bill and nothing to flag makes no line (an annual
term between renewals, a subscription cancelled before the month that Halo no longer bills).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from trueup.core.billing import anomalies as flags
from trueup.core.billing.cost import invoiced_cost, items_by_subscription
from trueup.core.billing.facts import ClientFacts, CostItem, ManualLine, SubscriptionFacts
from trueup.core.billing.lines import (
    NOTHING,
    ZERO,
    Anomaly,
    Exact,
    LineDraft,
    anomaly,
    converted,
    unit_word,
)
from trueup.core.billing.nce import decreases
from trueup.core.billing.pricing import Pricing
from trueup.core.billing.proration import (
    Charge,
    Run,
    daily_charge,
    held_charge,
    month_runs,
    monthly_charge,
)
from trueup.core.billing.rules import Policy, Rules
from trueup.core.billing.terms import is_monthly, term_charge, term_months
from trueup.core.values.distributors import distributor_name
from trueup.core.values.months import Month


def subscription_drafts(
    facts: ClientFacts, month: str, rules: Rules, invoice_currency: str
) -> Iterator[LineDraft]:
    first, last = Month(month).bounds
    name = Month(month).name
    runs_of = {s.subscription_id: month_runs(s.snapshots, first, last) for s in facts.subscriptions}
    billable = {sid for sid, runs in runs_of.items() if flags.billable_in_month(runs)}
    duplicates = flags.possible_duplicates(facts.subscriptions, billable)
    items = items_by_subscription(facts.cost_items, first, last, facts.reissued_invoices)
    alike: dict[str, dict[int, str]] = defaultdict(dict)  # subscription -> manual line -> why
    for look in facts.look_alikes:
        alike[look.subscription_id][look.line_id] = look.evidence
    policies: dict[tuple[str | None, str | None], Policy] = {}
    for subscription in sorted(facts.subscriptions, key=lambda s: s.subscription_id):
        sid, key = subscription.subscription_id, (subscription.product_id, subscription.sku)
        if key not in policies:
            policies[key] = rules.for_line(facts.client_id, *key)
        draft = _draft(
            subscription,
            (first, last, name),
            policies[key],
            rules,
            runs_of[sid],
            items.get(sid, []),
            sid in billable,
            _priced_in(subscription, policies[key], invoice_currency),
        )
        if sid in duplicates:
            draft.anomalies.append(duplicates[sid])
        if sid in alike:
            draft.anomalies += _double_bills(subscription, draft, facts.manual_lines, alike[sid])
        if draft.quantity or draft.amount.numerator or draft.anomalies:
            yield draft


def _draft(
    subscription: SubscriptionFacts,
    month: tuple[date, date, str],  # first day, last day, name
    policy: Policy,
    rules: Rules,
    runs: list[Run],
    items: list[CostItem],
    billable: bool,
    currency: str,
) -> LineDraft:
    first, last, name = month
    who = distributor_name(subscription.subscription_id)
    pricing = Pricing(policy, subscription.halo_unit_price, who, unit_word(subscription.unit))
    found = decreases(subscription, first, last)
    if is_monthly(subscription.billing_term):
        pax8 = daily_charge(runs, pricing)
        if not policy.sync:
            charge = held_charge(runs, pricing, subscription.halo_quantity)
        elif policy.proration == "daily":
            charge = pax8
        else:
            charge = monthly_charge(runs, pricing, policy.proration)
    else:
        credited = {decrease.day for decrease in found if not decrease.locked}
        pax8 = term_charge(
            subscription, first, last, pricing, credited=credited, halo_quantity=None, held=False
        )
        charge = pax8
        if not policy.sync:
            charge = term_charge(
                subscription,
                first,
                last,
                pricing,
                credited=credited,
                halo_quantity=subscription.halo_quantity,
                held=True,
            )
    anomalies = _anomalies(subscription, runs, pax8, charge, pricing, billable, last)
    if found:  # only ever found on a commitment
        commitment = subscription.commitment_term or subscription.billing_term or "term"
        who = distributor_name(subscription.subscription_id)
        anomalies += [flags.decrease_locked(d, commitment, who) for d in found if d.locked]
    invoiced = invoiced_cost(items, subscription.currency, rules)
    if invoiced is not None:
        anomalies += invoiced.anomalies
    reference = charge.reference
    price = pricing.price(reference)
    pax8_cost = _Cost(
        invoiced.amount if invoiced else pax8.estimated_cost,
        reference.partner_cost if reference else None,
        invoiced.text if invoiced else _estimate_text(subscription, name),
    )
    cost = _cost_in(currency, pax8_cost, subscription, rules)
    if cost.anomaly is not None:
        anomalies.append(cost.anomaly)
    return LineDraft(
        kind="subscription",
        subscription_id=subscription.subscription_id,
        product_id=subscription.product_id,
        sku=subscription.sku,
        description=subscription.product_name,
        quantity=charge.quantity.decimal(),
        unit_price=ZERO if price is None else price,
        unit_cost=cost.unit,
        amount=NOTHING if charge.amount is None else charge.amount,
        cost=cost.amount,
        currency=currency,
        policy=f"{charge.mode} · {pricing.label}",
        charge_text=charge.terms,
        sources=(
            f"{charge.basis}, {pricing.source}, {charge.quantity_source}; rules: {policy.source}"
        ),
        cost_text=cost.text,
        anomalies=anomalies,
        min_margin_percent=policy.min_margin_percent,
        # A term line's quantity is a term's seats or an add's share of one (2 seats × 325/365):
        # against last month's it says nothing of a swing in seats.
        swing_percent=policy.qty_swing_percent if is_monthly(subscription.billing_term) else None,
        cost_estimated=invoiced is None and bool(cost.amount.numerator),
        priced=charge.amount is not None,
        proration=charge.words,
        recovered=_recovered(subscription, policy, price, charge),
    )


# The seat diff's statuses whose seats the batch bills differently from Halo (§ seat diff).
_MISMATCHED = ("under", "over", "missing_in_halo")


def _recovered(
    subscription: SubscriptionFacts,
    policy: Policy,
    price: Decimal | None,
    charge: Charge,
) -> Exact | None:
    """LineDraft.recovered: the seats the seat diff counted over Halo's (on its day: the
    month's last, or today within the month, so the figure and the status agree), at a month's
    share of the price the line bills (the client's, under the rules). A term line counts only
    in a month it charges: between renewals it bills nothing, so it corrects nothing."""
    counted = subscription.diff_quantity
    if subscription.diff_status not in _MISMATCHED or counted is None:
        return None
    if not policy.sync or price is None:
        return None
    monthly = is_monthly(subscription.billing_term)
    if not monthly and (charge.amount is None or not charge.amount.numerator):
        return None
    seats = counted - (subscription.halo_quantity or ZERO)
    months = 1 if monthly else term_months(subscription.billing_term)
    return Exact(seats * price, months or 1)


def _double_bills(
    subscription: SubscriptionFacts,
    draft: LineDraft,
    manual_lines: Sequence[ManualLine],
    evidence: dict[int, str],
) -> list[Anomaly]:
    """POSSIBLE_DOUBLE_BILL for each manual line the batch found looking like the service of a
    line flagged UNMAPPED_SKU, when both bill something: letting the error through bills both."""
    if draft.amount.numerator <= 0 or all(a.code != "UNMAPPED_SKU" for a in draft.anomalies):
        return []
    return [
        flags.possible_double_bill(
            subscription, draft.quantity, draft.unit_price or ZERO, line, evidence[line.line_id]
        )
        for line in manual_lines
        if line.line_id in evidence and line.quantity * line.unit_price > 0
    ]


def _priced_in(subscription: SubscriptionFacts, policy: Policy, invoice_currency: str) -> str:
    """The currency of the line's unit price: a fixed price is held in the invoice's (it must
    not move with the rate), a Halo price is in its recurring invoice's, Pax8's in Pax8's."""
    match policy.price:
        case "fixed":
            return invoice_currency
        case "halo":
            return subscription.halo_currency or subscription.currency
    return subscription.currency


class _Cost(NamedTuple):
    amount: Exact
    unit: Decimal | None  # the partner cost of one unit on the reference day
    text: str  # where it comes from
    anomaly: Anomaly | None = None


def _cost_in(currency: str, cost: _Cost, subscription: SubscriptionFacts, rules: Rules) -> _Cost:
    """The distributor's cost, in the subscription's currency, in the line's currency."""
    pax8_currency = subscription.currency
    if currency == pax8_currency:  # most lines
        return cost
    rate = rules.rate(pax8_currency, currency)
    amount = f"{cost.amount.text()} {pax8_currency}"
    who = distributor_name(subscription.subscription_id)
    if rate is None:
        problem = anomaly(
            "CURRENCY_MISMATCH",
            f"{who} cost {amount}, the line is priced in {currency}: no {pax8_currency}→"
            f"{currency} rate configured, left out of the cost",
        )
        return _Cost(NOTHING, None, f"{who} cost {amount} left out: no rate", problem)
    unit = None if cost.unit is None else converted(cost.unit, rate)
    text = f"{cost.text}; {amount} × {rate} ({pax8_currency}→{currency}, rules)"
    return _Cost(cost.amount.times(rate), unit, text)


def _anomalies(
    subscription: SubscriptionFacts,
    runs: list[Run],
    pax8: Charge,
    charge: Charge,
    pricing: Pricing,
    billable: bool,
    last: date,
) -> list[Anomaly]:
    found: list[Anomaly] = []
    if billable and subscription.item_id is None:
        found.append(flags.unmapped_sku(subscription))
    if subscription.diff_status not in (None, "match"):
        found.append(flags.qty_mismatch(subscription, runs[-1].quantity, last))
    pax8_quantity = pax8.quantity.decimal()
    if pax8_quantity > 0 and (not charge.quantity.numerator or charge.amount is None):
        reason = pricing.missing if charge.amount is None else _zero_reason(charge)
        found.append(flags.unbilled(subscription, pax8_quantity, pax8.basis, reason))
    cancelled = flags.cancelled_before(runs)
    if cancelled is not None and (subscription.halo_quantity or ZERO) > 0:
        found.append(flags.cancelled_still_billed(subscription, cancelled))
    for flag in (flags.zero_quantity_active(runs), flags.unknown_status(subscription, runs)):
        if flag is not None:
            found.append(flag)
    return found


def _zero_reason(charge: Charge) -> str:
    if charge.quantity_source == "Halo line":
        return "vendor sync is off and Halo bills no seats"
    return f"{charge.basis} is 0 ({charge.terms})"


def _estimate_text(subscription: SubscriptionFacts, month: str) -> str:
    """Said of a cost with no invoice item for the month: items of other periods (an annual
    term's, last month's) may well be listed beside it, so the words name the month."""
    who = distributor_name(subscription.subscription_id)
    return (
        f"estimated: {who} partner cost × {who}'s quantities; no {who} invoice item covers {month}"
    )
