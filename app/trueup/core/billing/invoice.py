"""A client's invoice for a service month, from its billing facts (billing-rules.md, whole).

Pure: `bill_client` reads only the facts it is given, and the same facts give an equal invoice
whatever their order. Lines come per Pax8 subscription (`billing_subscription`), per usage
subscription (`billing_usage`) and per manual Halo line (passed through), in that order, then
by description and subscription id. Each line is converted into the invoice currency at the
configured rate, then rounded once (§8); a line with no rate keeps its own currency, is flagged
CURRENCY_MISMATCH and stays out of the totals.

`ClientInvoice.anomalies` holds the invoice's own anomalies (INVOICE_REISSUED) and every line's,
each once, errors first: what stands between the invoice and approval, in one place. Lines
keep their own as well.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from trueup.core.billing import anomalies as flags
from trueup.core.billing.cost import replaced
from trueup.core.billing.facts import ClientFacts, ManualLine, PreviousLine
from trueup.core.billing.lines import (
    CENT,
    FOUR_PLACES,
    NOTHING,
    ONE,
    ZERO,
    Anomaly,
    Exact,
    InvoiceLine,
    LineDraft,
    anomaly,
    converted,
    ordered,
    product,
)
from trueup.core.billing.rules import Rules
from trueup.core.billing.subscription import subscription_drafts
from trueup.core.billing.usage import usage_drafts
from trueup.core.values.distributors import distributor_name
from trueup.core.values.money import money_prose, quantity_prose

__all__ = ["Anomaly", "ClientInvoice", "InvoiceLine", "bill_client"]

HUNDRED = Decimal(100)
KIND_ORDER = {"subscription": 0, "usage": 1, "manual": 2}
FALLBACK_CURRENCY = "USD"  # a client with nothing in any currency


@dataclass(frozen=True)
class ClientInvoice:
    client_id: int
    client_name: str
    currency: str
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal  # Σ rounded amounts of the lines in the invoice currency
    tax: Decimal  # on the rounded subtotal, rounded once
    total: Decimal
    cost: Decimal
    margin: Decimal
    margin_percent: Decimal | None  # of the subtotal, to 0.01 %; None when the subtotal is 0
    anomalies: tuple[Anomaly, ...]


def bill_client(facts: ClientFacts, month: str, rules: Rules) -> ClientInvoice:
    client = rules.for_client(facts.client_id)
    currency = client.currency or invoice_currency(facts)
    drafts = [
        *subscription_drafts(facts, month, rules, currency),
        *usage_drafts(facts, month, rules),
        *(_manual_draft(line) for line in facts.manual_lines),
    ]
    drafts.sort(key=lambda d: (KIND_ORDER[d.kind], d.description, d.subscription_id or "", d.tie))
    lines = tuple(_finish(draft, currency, rules, facts.previous) for draft in drafts)
    counted = [line for line in lines if line.currency == currency]
    subtotal = sum((line.amount for line in counted), ZERO.quantize(CENT))
    tax = Exact(product(subtotal, client.tax_percent), 100).cents()
    cost = sum((line.cost for line in counted), ZERO.quantize(CENT))
    margin = subtotal - cost
    margin_percent = (
        None if subtotal == 0 else (margin / subtotal * HUNDRED).quantize(CENT, ROUND_HALF_UP)
    )
    own = _reissued(facts)
    if facts.halo_client != "active" and lines:
        own.append(flags.client_inactive(facts.client_id, facts.client_name, facts.halo_client))
    return ClientInvoice(
        client_id=facts.client_id,
        client_name=facts.client_name,
        currency=currency,
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        cost=cost,
        margin=margin,
        margin_percent=margin_percent,
        anomalies=ordered([*own, *(a for line in lines for a in line.anomalies)]),
    )


def invoice_currency(facts: ClientFacts) -> str:
    """Without a configured currency: the one most of the client's subscriptions bill in (ties
    alphabetically), else its manual lines', else its usage's."""
    for currencies in (
        [s.currency for s in facts.subscriptions],
        [line.currency for line in facts.manual_lines],
        [u.currency for u in facts.usage],
    ):
        if currencies:
            counts = Counter(currencies)
            return max(sorted(counts), key=lambda c: counts[c])
    return FALLBACK_CURRENCY


def _manual_draft(line: ManualLine) -> LineDraft:
    return LineDraft(
        kind="manual",
        subscription_id=None,
        product_id=None,
        sku=None,
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        unit_cost=None,
        amount=Exact(product(line.quantity, line.unit_price)),
        cost=NOTHING,
        currency=line.currency,
        policy="manual",
        charge_text=f"{quantity_prose(line.quantity)} × {money_prose(line.unit_price)}",
        sources=f"manual, kept as in Halo: quantity and price of Halo line {line.line_id}",
        cost_text="",
        # Still billed (the invoice shows what Halo bills), but approval waits on the operator.
        anomalies=[flags.missing_halo_item(line)] if line.item_missing else [],
        min_margin_percent=None,
        tie=f"{line.line_id:012d}",
    )


def _finish(
    draft: LineDraft, currency: str, rules: Rules, previous: Mapping[str, PreviousLine]
) -> InvoiceLine:
    """Convert into the invoice currency, round once, and flag what needs the final figures."""
    anomalies = list(draft.anomalies)
    # A line in the invoice's own currency (most) has no rate to look up.
    rate = ONE if draft.currency == currency else rules.rate(draft.currency, currency)
    conversion = ""
    if rate is None:
        anomalies.append(
            anomaly(
                "CURRENCY_MISMATCH",
                f"line in {draft.currency}, invoice in {currency}: no {draft.currency}→"
                f"{currency} rate configured; {money_prose(draft.amount.cents())} "
                f"{draft.currency} held out of the totals",
            )
        )
        line_currency, exact_amount, exact_cost = draft.currency, draft.amount, draft.cost
        recovered = None  # held out of the totals: it corrects nothing on this invoice
    else:
        line_currency = currency
        exact_amount, exact_cost = draft.amount.times(rate), draft.cost.times(rate)
        recovered = None if draft.recovered is None else draft.recovered.times(rate)
        if draft.currency != currency:
            conversion = (
                f"; {draft.amount.text()} {draft.currency} × {rate} ({draft.currency}→"
                f"{currency}, rules)"
            )
    amount, cost = exact_amount.cents(), exact_cost.cents()
    unit_price = amount if draft.unit_price is None else converted(draft.unit_price, rate)
    unit_cost = None if draft.unit_cost is None else converted(draft.unit_cost, rate)
    if draft.cost_estimated:
        who = distributor_name(draft.subscription_id)
        anomalies.append(
            anomaly(
                "COST_ESTIMATED",
                f"cost {money_prose(cost)} {line_currency} estimated from {who} partner cost: "
                f"no {who} invoice item for the month yet",
            )
        )
    absurd = flags.implausible(draft.quantity, unit_price, amount, line_currency)
    if absurd is not None:
        anomalies.append(absurd)
    if draft.min_margin_percent is not None:
        margin = flags.margin(amount, cost, draft.min_margin_percent)
        if margin is not None:
            anomalies.append(margin)
    last_month = previous.get(draft.subscription_id or "") if draft.kind == "subscription" else None
    if last_month is not None and draft.swing_percent is not None:
        shown_price = unit_price if draft.priced else None
        anomalies += flags.against_previous(
            last_month, draft.quantity, shown_price, unit_cost, draft.swing_percent
        )
    cost_part = f"; cost {money_prose(cost)} ({draft.cost_text})" if draft.cost_text else ""
    return InvoiceLine(
        kind=draft.kind,
        subscription_id=draft.subscription_id,
        product_id=draft.product_id,
        sku=draft.sku,
        description=draft.description,
        quantity=draft.quantity,
        unit_price=unit_price,
        amount=amount,
        cost=cost,
        currency=line_currency,
        policy=draft.policy,
        explanation=(
            f"{draft.charge_text}{conversion} = {money_prose(amount)} ({draft.sources}){cost_part}"
        ),
        anomalies=ordered(anomalies),
        unit_cost=unit_cost,
        proration=draft.proration,
        recovered=(
            None if recovered is None else recovered.decimal().quantize(FOUR_PLACES, ROUND_HALF_UP)
        ),
    )


def _reissued(facts: ClientFacts) -> list[Anomaly]:
    """INVOICE_REISSUED for each credited Pax8 invoice: its re-issue alone counts; until one is
    in, the message says so (and the cost is estimated: billing/cost.py)."""
    credited: dict[str, Decimal] = dict.fromkeys(facts.reissued_invoices, ZERO)
    counts: Counter[str] = Counter()
    for item in facts.cost_items:
        if replaced(item) and (item.invoice_status or "").casefold() == "credited":
            credited[item.invoice_id] = credited.get(item.invoice_id, ZERO) + (
                item.cost_total or ZERO
            )
            counts[item.invoice_id] += 1
    found = []
    for invoice_id in sorted(credited):
        items = f"{counts[invoice_id]} item{'' if counts[invoice_id] == 1 else 's'}"
        head = f"{distributor_name(invoice_id)} invoice {invoice_id} was credited"
        held = f"its {items} of this client ({money_prose(credited[invoice_id])})"
        found.append(
            anomaly(
                "INVOICE_REISSUED",
                f"{head} and re-issued: {held} are replaced by the re-issue, not added"
                if invoice_id in facts.reissued_invoices
                else f"{head}, its re-issue not in yet: {held} count for nothing, the cost is "
                "estimated until the re-issue is synced",
            )
        )
    return found
