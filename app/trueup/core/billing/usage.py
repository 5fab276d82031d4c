"""Usage lines (billing-rules §6): one per usage subscription of the client.

The assembler has already chosen the usage month and, per resource group, the latest posted
total (or the arrears invoice item). Resource groups of one subscription add up to its line;
the markup applies to the summed cost and the line rounds once, so sub-cent posts are not lost
to rounding each one (billing-semantics case 13).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from trueup.core.billing.facts import ClientFacts, UsageFacts
from trueup.core.billing.lines import (
    NOTHING,
    Exact,
    LineDraft,
    anomaly,
    percent_text,
    product,
    total,
)
from trueup.core.billing.rules import Policy, Rules
from trueup.core.values.distributors import distributor_name
from trueup.core.values.money import money_prose
from trueup.core.values.months import Month

HUNDRED = Decimal(100)


def usage_drafts(facts: ClientFacts, month: str, rules: Rules) -> Iterator[LineDraft]:
    groups: dict[tuple[str, str], list[UsageFacts]] = defaultdict(list)
    for usage in facts.usage:
        groups[(usage.subscription_id, usage.currency)].append(usage)
    # The assembler chose the usage by the client's offset: a line's would misname the month.
    offset = rules.for_client(facts.client_id).usage_month_offset
    usage_month = Month(month).shifted(offset).name
    for (subscription_id, currency), rows in sorted(groups.items()):
        rows.sort(key=lambda u: (u.resource_group or "", u.source, u.charge, u.cost))
        policy = rules.for_line(facts.client_id, rows[0].product_id, rows[0].sku)
        yield _draft(subscription_id, currency, rows, policy, usage_month)


def _draft(
    subscription_id: str, currency: str, rows: list[UsageFacts], policy: Policy, usage_month: str
) -> LineDraft:
    charge, cost = total(u.charge for u in rows), total(u.cost for u in rows)
    who = distributor_name(subscription_id)
    match policy.usage_price:
        case "pax8":
            amount, terms, label = Exact(charge), f"{who} charges {money_prose(charge)}", "pax8"
            price_source = f"{who} customer charge"
        case "markup":
            factor = 1 + policy.markup_percent / HUNDRED
            amount, terms = Exact(product(cost, factor)), f"cost {money_prose(cost)} × {factor}"
            label = f"markup {percent_text(policy.markup_percent)}"
            price_source = f"{label} on {who} cost"
        case "absorb":
            amount, terms, label = NOTHING, f"cost {money_prose(cost)} absorbed", "absorb"
            price_source = "absorbed, not charged"
        case other:
            raise ValueError(f"unknown usage price policy {other!r}")
    estimates = [u for u in rows if u.source != "invoice"]
    # "none": no invoice item nor summary, only a usage subscription whose month may yet bill
    unknown = any(u.source == "none" for u in rows)
    groups = sorted({u.resource_group or "no resource group" for u in rows})
    if unknown:
        evidence = f"no {who} usage known yet (estimate)"
    else:
        evidence = f"{who} usage summaries (estimate)" if estimates else f"{who} invoice, arrears"
    draft = LineDraft(
        kind="usage",
        subscription_id=subscription_id,
        product_id=rows[0].product_id,
        sku=None,
        description=f"{rows[0].product_name} usage, {usage_month}",
        quantity=Decimal(1),
        unit_price=None,
        unit_cost=None,
        amount=amount,
        cost=Exact(cost),
        currency=currency,
        policy=f"usage · {label}",
        charge_text=terms,
        sources=(
            f"usage for {usage_month}, {price_source}, {evidence}; resource group"
            f"{'s' if len(groups) > 1 else ''} {', '.join(groups)}; "
            f"rules: {policy.origin('usage_price')}"
        ),
        cost_text=f"{who} partner cost, {evidence}",
        min_margin_percent=None if policy.usage_price == "absorb" else policy.min_margin_percent,
    )
    for invoice_id, credited in sorted({c for u in rows for c in u.credited}):
        head = f"{who} invoice {invoice_id} was credited"
        held = f"its usage of {usage_month} (cost {money_prose(credited)})"
        if not estimates:
            said = f"{head} and re-issued: {held} is replaced by the re-issue, not added"
        elif unknown:
            said = (
                f"{head}, its re-issue not in yet: {held} counts for nothing, and no usage "
                "summary of the month estimates it: 0.00 until the re-issue is synced"
            )
        else:
            said = (
                f"{head}, its re-issue not in yet: {held} counts for nothing, the summaries "
                "estimate it until the re-issue is synced"
            )
        draft.anomalies.append(anomaly("INVOICE_REISSUED", said))
    if unknown:
        draft.anomalies.append(
            anomaly(
                "USAGE_ESTIMATED",
                f"no usage known yet for {usage_month}: no live {who} invoice bills it and no "
                f"{who} usage summary was synced during the month; billed as 0.00 until one "
                "is synced",
            )
        )
    elif estimates:
        draft.anomalies.append(
            anomaly(
                "USAGE_ESTIMATED",
                f"usage for {usage_month} from {len(estimates)} {who} usage summar"
                f"{'ies' if len(estimates) > 1 else 'y'} (charge {money_prose(charge)}, cost "
                f"{money_prose(cost)}), not yet invoiced by {who}",
            )
        )
    return draft
