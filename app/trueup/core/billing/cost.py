"""What the distributor (Pax8, Partner Center) charges for a line in the month, from its invoice
items (billing-rules §7); messages name the distributor of the items.

An item belongs to the month its period starts in. A calendar-month item (end inclusive or
exclusive) then lies in that month, as §7 asks; an item spanning months (an annual term, a
co-termed add, an anniversary period) counts once, in the month the charge is billed. Items of
an invoice Pax8 credited (or voided) never count: its re-issue carries the charge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from operator import attrgetter
from typing import NamedTuple

from trueup.core.billing.facts import CostItem
from trueup.core.billing.lines import EXACT, ZERO, Anomaly, Exact, anomaly
from trueup.core.billing.rules import Rules
from trueup.core.values.distributors import distributor_name
from trueup.core.values.money import money_prose

COST_TYPES = frozenset(
    {"subscription", "prorate", "payment-credit", "service-credit", "invoice-credit"}
)
REPLACED_STATUSES = frozenset({"credited", "void"})


class InvoicedCost(NamedTuple):
    amount: Exact  # signed, in the subscription's currency
    text: str  # where it comes from, e.g. "Pax8 invoice 8f2c…, 2 items"
    anomalies: tuple[Anomaly, ...]  # items in a currency with no rate


def replaced(item: CostItem) -> bool:
    return (item.invoice_status or "").casefold() in REPLACED_STATUSES


_INVOICE_AND_ITEM = attrgetter("invoice_id", "item_id")


def items_by_subscription(
    items: Iterable[CostItem], first: date, last: date, reissued: Collection[str] = ()
) -> dict[str, list[CostItem]]:
    """The items that count for the month, each once, by subscription id. A subscription with
    an item of the month on a credited invoice not `reissued` yet has none: its month's invoice
    was withdrawn, and what is left (a prorate item of a later invoice) is not its cost."""
    found: dict[str, list[CostItem]] = defaultdict(list)
    withdrawn: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for item in sorted(items, key=_INVOICE_AND_ITEM):
        key = (item.invoice_id, item.item_id)
        if (
            key in seen
            or item.subscription_id is None
            or (item.type or "").casefold() not in COST_TYPES
            or item.start_period is None
            or not first <= item.start_period <= last
            or item.cost_total is None
        ):
            continue
        if replaced(item):
            if _awaits_reissue(item, reissued):
                withdrawn.add(item.subscription_id)
            continue
        seen.add(key)
        found[item.subscription_id].append(item)
    for subscription_id in withdrawn:
        found.pop(subscription_id, None)
    return found


def _awaits_reissue(item: CostItem, reissued: Collection[str]) -> bool:
    """On an invoice Pax8 credited whose re-issue is not in yet."""
    return (item.invoice_status or "").casefold() == "credited" and item.invoice_id not in reissued


def invoiced_cost(items: list[CostItem], currency: str, rules: Rules) -> InvoicedCost | None:
    """The signed sum of the items' partner cost, None when no item counts."""
    if not items:
        return None
    total, problems = ZERO, []
    for item in items:
        cost, item_currency = item.cost_total or ZERO, item.currency or currency
        if item_currency == currency:  # most items: no rate to look up or multiply by
            total = EXACT.add(total, cost)
            continue
        rate = rules.rate(item_currency, currency)
        if rate is None:
            problems.append(
                anomaly(
                    "CURRENCY_MISMATCH",
                    f"{distributor_name(item.invoice_id)} item {item.item_id} costs "
                    f"{money_prose(cost)} "
                    f"{item_currency}, the subscription is in {currency}: no rate configured, "
                    "left out of the cost",
                )
            )
            continue
        total = EXACT.add(total, EXACT.multiply(cost, rate))
    invoices = sorted({item.invoice_id for item in items})
    count = len(items)
    text = (
        f"{distributor_name(invoices[0])} invoice{'s' if len(invoices) > 1 else ''} "
        f"{', '.join(invoices)}, "
        f"{count} item{'s' if count > 1 else ''}"
    )
    return InvoicedCost(Exact(total), text, tuple(problems))
