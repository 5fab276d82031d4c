"""What one subscription line would bill under each price policy, before the operator picks one
(the invoice screen's `p`): the client billed again with the line's price rule set each way.

A choice that bills at cost (markup at 0%) or bills nothing (no Halo line to take a price from,
no fixed price yet) says so beside its amount, so no pick surprises: a fixed price is asked for
when chosen without one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from trueup.core.batch.facts import assemble
from trueup.core.billing.invoice import bill_client
from trueup.core.billing.lines import Anomaly
from trueup.core.billing.pricing import Pricing
from trueup.core.billing.rules import PRICE_POLICIES, LineRule, Policy, Rules
from trueup.core.errors import TrueupError
from trueup.core.rules.current import current_rules
from trueup.core.store.database import Database


@dataclass(frozen=True)
class PriceOption:
    price: str | None  # pax8 | markup | fixed | halo; None: back to the client's policy
    label: str  # "markup 20%", "fixed 12.50", "the client's policy (pax8)"
    amount: Decimal | None  # what the line would bill; None: not known until a price is given
    note: str  # what to know before picking it ("bills at cost", "no Halo line: bills nothing")
    current: bool  # the line bills this way now


def price_options(
    db: Database, month: str, client_id: int, subscription_id: str, *, today: date
) -> list[PriceOption]:
    """The line's amount under each price policy, then under the client's own."""
    rules, _ = current_rules(db)
    with db.read() as conn:
        facts = assemble(
            conn, month, clients=[client_id], today=today, rules=rules, previous=None
        ).clients
    client = next((c for c in facts if c.client_id == client_id), None)
    subscription = next(
        (
            s
            for s in (client.subscriptions if client else ())
            if s.subscription_id == subscription_id
        ),
        None,
    )
    if client is None or subscription is None or subscription.product_id is None:
        raise TrueupError(f"client {client_id} has no subscription {subscription_id} in {month}")
    product, sku = subscription.product_id, subscription.sku
    now = rules.for_line(client_id, product, sku)
    own = now.origin("price").startswith("line")  # else the client's (or the defaults')
    options = []
    for price in (*PRICE_POLICIES, None):
        trial = _with_price(rules, client_id, product, sku, price)
        policy = trial.for_line(client_id, product, sku)
        line = next(
            li
            for li in bill_client(client, month, trial).lines
            if li.subscription_id == subscription_id
        )
        waiting = policy.price == "fixed" and policy.fixed_price is None
        options.append(
            PriceOption(
                price,
                _label(policy) if price else f"the client's policy ({_label(policy)})",
                None if waiting else line.amount,
                _note(policy, waiting, line.anomalies),
                price == now.price if own else price is None,
            )
        )
    return options


def _label(policy: Policy) -> str:
    """As the line's policy column says it: `pax8`, `markup 20%`, `fixed 12.50`."""
    return Pricing(policy, None).label


def _note(policy: Policy, waiting: bool, anomalies: tuple[Anomaly, ...]) -> str:
    if waiting:
        return "asks for a price"
    if policy.price == "markup" and policy.markup_percent == 0:
        return "0% markup: bills at cost"
    if any(a.code == "UNBILLED_SUBSCRIPTION" for a in anomalies):
        return "no price to take: bills nothing"
    return ""


def _with_price(
    rules: Rules, client_id: int, product: str, sku: str | None, price: str | None
) -> Rules:
    """The rules with the line's price set to `price` (None: no price of its own), in the
    [[lines]] entry the engine reads for it (by product id, else sku) or a new one."""
    found = rules.line_rule(client_id, product) or (
        rules.line_rule(client_id, sku) if sku else None
    )
    rule = found or LineRule(client_id, product, {})
    overrides = {k: v for k, v in rule.overrides.items() if k != "price"}
    if price is not None:
        overrides["price"] = price
    lines = [r for r in rules.lines if r is not found]
    if overrides:
        lines.append(replace(rule, overrides=overrides))
    return replace(rules, lines=tuple(lines))
