"""The anomalies of a client's lines (billing-rules §10), each message carrying its numbers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from trueup.core.billing.facts import ManualLine, PreviousLine, SubscriptionFacts
from trueup.core.billing.lines import (
    CENT,
    Anomaly,
    anomaly,
    days_text,
    percent_text,
    seats_text,
)
from trueup.core.billing.nce import Decrease
from trueup.core.billing.proration import Run
from trueup.core.billing.timeline import BILLABLE_STATUSES, CANCELLED, day_text, known_status
from trueup.core.values.distributors import distributor_name
from trueup.core.values.money import money_prose, quantity_prose

HUNDRED = Decimal(100)


def billable_in_month(runs: Sequence[Run]) -> bool:
    """Billable status on some day of the month (a zero quantity still counts)."""
    return any(run.snapshot is not None and run.snapshot.billable_on(run.first) for run in runs)


def unmapped_sku(subscription: SubscriptionFacts) -> Anomaly:
    product = subscription.sku or subscription.product_id or "no product id"
    return anomaly(
        "UNMAPPED_SKU",
        f"{subscription.product_name} ({product}) maps to no Halo item, for this client or "
        "globally: map it before posting",
    )


# The seat diff's statuses in the words its screens use (never the raw status).
_DIFF_WORDS = {"under": "under-billed", "over": "over-billed", "match": "seats match"}


def qty_mismatch(subscription: SubscriptionFacts, pax8_quantity: Decimal, last: date) -> Anomaly:
    halo = subscription.halo_quantity
    charged = f"{_who(subscription)} charges {seats_text(pax8_quantity)} on {day_text(last)}"
    if halo is None:
        said = f"not billed in Halo: no Halo line bills it, {charged}"
    else:
        status = _DIFF_WORDS.get(subscription.diff_status or "", "seats differ")
        said = f"{status}: Halo bills {seats_text(halo)}, {charged}"
    return anomaly("QTY_MISMATCH", said)


def unbilled(
    subscription: SubscriptionFacts, pax8_quantity: Decimal, basis: str, reason: str
) -> Anomaly:
    return anomaly(
        "UNBILLED_SUBSCRIPTION",
        f"{_who(subscription)} charges for {_quantity(pax8_quantity)} seats of "
        f"{subscription.product_name} "
        f"this month ({basis}) and the line bills nothing: {reason}",
    )


def cancelled_before(runs: Sequence[Run]) -> date | None:
    """When a subscription cancelled before the month ended: None if it bills in the month."""
    snapshot = runs[0].snapshot
    if snapshot is None or billable_in_month(runs):
        return None
    if snapshot.until is not None and snapshot.until <= runs[0].first:
        return snapshot.until  # ended, even if the cancellation was stamped in the month
    if snapshot.status.casefold() != CANCELLED:
        return None
    return snapshot.end or snapshot.effective


def cancelled_still_billed(subscription: SubscriptionFacts, cancelled: date) -> Anomaly:
    return anomaly(
        "CANCELLED_STILL_BILLED",
        f"Halo still bills {seats_text(subscription.halo_quantity or Decimal(0))} of "
        f"{subscription.product_name}, cancelled in {_who(subscription)} on "
        f"{day_text(cancelled, year=True)}",
    )


def zero_quantity_active(runs: Sequence[Run]) -> Anomaly | None:
    snapshot = runs[-1].snapshot
    if snapshot is None or snapshot.status.casefold() not in BILLABLE_STATUSES:
        return None
    if snapshot.quantity != 0:
        return None
    return anomaly(
        "ZERO_QTY_ACTIVE",
        f"{snapshot.status} with 0 seats since {day_text(snapshot.effective, year=True)}",
    )


def unknown_status(subscription: SubscriptionFacts, runs: Sequence[Run]) -> Anomaly | None:
    """UNKNOWN_STATUS: days of the month under a status Pax8 does not document. They bill
    nothing (as a non-billable status would), but Pax8 may well charge for them."""
    odd = [
        (run, run.snapshot)
        for run in runs
        if run.snapshot is not None
        and not known_status(run.snapshot.status)
        and (run.snapshot.until is None or run.first < run.snapshot.until)  # not ended yet
    ]
    if not odd:
        return None
    statuses = ", ".join(sorted({status_text(snapshot.status) for _, snapshot in odd}))
    seats = max(snapshot.quantity for _, snapshot in odd)
    days = sum(run.days for run, _ in odd)
    who = _who(subscription)
    return anomaly(
        "UNKNOWN_STATUS",
        f"{who} status {statuses} is not one {who} documents: {seats_text(seats)} of "
        f"{subscription.product_name} billed nothing for {days_text(days)} from "
        f"{day_text(odd[0][0].first)}; check subscription {subscription.subscription_id} in {who}",
    )


def status_text(status: str | None) -> str:
    """A status as quoted in a message: `"Exploded"`, or `none` when Pax8 sent none."""
    return f'"{status}"' if status else "none"


def client_inactive(client_id: int, name: str, state: str) -> Anomaly:
    """CLIENT_INACTIVE: the client's mapped companies still bill, but Halo has it inactive
    (offboarded) or no longer has it (deleted, merged): billed only on the operator's word, and
    a deleted one only outside Halo (posting to Halo refuses it: posting/documents.py)."""
    if state == "missing":
        said = (
            f"Halo client {client_id} is no longer in Halo (deleted or merged), yet its mapped "
            "Pax8 companies still bill this month: map them to the client that bills them now "
            "(`trueup map set --company ID --client ID`), or override with a reason to bill it "
            "in QuickBooks or Xero: Halo takes no invoice for a client it no longer has"
        )
    else:
        said = (
            f"Halo client {client_id} ({name}) is inactive in Halo, yet its mapped Pax8 "
            "companies still bill this month: a client who left is billed only on purpose "
            "(override with a reason); otherwise cancel its subscriptions with the distributor"
        )
    return anomaly("CLIENT_INACTIVE", said)


def missing_halo_item(line: ManualLine) -> Anomaly:
    """MISSING_HALO_ITEM: a Halo line kept as Halo has it though its item is gone."""
    return anomaly(
        "MISSING_HALO_ITEM",
        f"Halo recurring line {line.line_id} names item {line.item_id}, which Halo no longer "
        f"lists: billed as Halo has it ({quantity_prose(line.quantity)} × "
        f"{money_prose(line.unit_price)}), but it may bill a service twice; fix the line in "
        "Halo, or override with a reason",
    )


def possible_double_bill(
    subscription: SubscriptionFacts,
    quantity: Decimal,
    unit_price: Decimal,
    line: ManualLine,
    evidence: str,
) -> Anomaly:
    """POSSIBLE_DOUBLE_BILL: a line with no Halo item and a manual Halo line that look like one
    service; the override of UNMAPPED_SKU alone would bill the client for both."""
    name = subscription.product_name
    # Mapped to the line's item, the product bills on one line and the Halo line stops passing.
    mapping = f"map {name} to Halo item {line.item_id}, or " if line.item_id is not None else ""
    return anomaly(
        "POSSIBLE_DOUBLE_BILL",
        f"{name} ({_quantity(quantity)} × {money_prose(unit_price)}) has no Halo item, and Halo "
        f'line {line.line_id} "{line.description}" bills {quantity_prose(line.quantity)} × '
        f"{money_prose(line.unit_price)}, likely the same service: {evidence}. Letting "
        f"UNMAPPED_SKU through bills both: {mapping}keep only one of the two lines",
    )


def decrease_locked(decrease: Decrease, commitment: str, who: str) -> Anomaly:
    """NCE_DECREASE_LOCKED; `who`: the distributor that keeps charging (`Pax8`, ...)."""
    removed = decrease.before - decrease.after
    held_for = (decrease.day - decrease.added.date()).days
    until = (
        f" until the renewal on {day_text(decrease.renews, year=True)}" if decrease.renews else ""
    )
    return anomaly(
        "NCE_DECREASE_LOCKED",
        f"−{seats_text(removed)} ({quantity_prose(decrease.before)} → "
        f"{quantity_prose(decrease.after)}) on {day_text(decrease.day, year=True)}, {held_for} "
        f"days after they were added: past the 7-day window of the {commitment} commitment, "
        f"{who} keeps charging {quantity_prose(decrease.before)}{until}",
    )


def possible_duplicates(
    subscriptions: Sequence[SubscriptionFacts], billable: set[str]
) -> dict[str, Anomaly]:
    """Two billable subscriptions of one company, product and term: each gets the warning."""
    groups: dict[tuple[str, str, str, str], list[SubscriptionFacts]] = defaultdict(list)
    for subscription in sorted(subscriptions, key=lambda s: s.subscription_id):
        if subscription.subscription_id in billable:
            key = (
                subscription.company_id,
                subscription.product_id or subscription.sku or subscription.product_name,
                subscription.billing_term or "",
                subscription.commitment_term or "",
            )
            groups[key].append(subscription)
    found: dict[str, Anomaly] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        ids = [s.subscription_id for s in group]
        first = group[0]
        term = " / ".join(t for t in (first.billing_term, first.commitment_term) if t) or "no term"
        for subscription in group:
            found[subscription.subscription_id] = anomaly(
                "POSSIBLE_DUPLICATE",
                f"{len(group)} billable subscriptions of {first.product_name} for company "
                f"{first.company_id} on the same term ({term}): {', '.join(ids)}",
            )
    return found


def against_previous(
    previous: PreviousLine,
    quantity: Decimal,
    unit_price: Decimal | None,
    unit_cost: Decimal | None,
    swing_percent: Decimal,
) -> list[Anomaly]:
    """PRICE_CHANGED and QTY_SWING against last month's line (the price when there is one)."""
    found = []
    changes = []
    if unit_price is not None and previous.unit_price != unit_price:
        changes.append(f"price {money_prose(previous.unit_price)} → {money_prose(unit_price)}")
    if previous.unit_cost is not None and unit_cost is not None and previous.unit_cost != unit_cost:
        changes.append(f"cost {money_prose(previous.unit_cost)} → {money_prose(unit_cost)}")
    if changes:
        found.append(anomaly("PRICE_CHANGED", f"{'; '.join(changes)} since last month"))
    before = previous.quantity
    # Compared multiplied out, so that the threshold is exact.
    swing = (
        quantity != 0
        if before == 0
        else abs(quantity - before) * HUNDRED > swing_percent * abs(before)
    )
    if swing:  # the few lines that swing: the change's text is made for them only
        if before == 0:
            moved = "from 0"
        else:
            change = (quantity - before) / before * HUNDRED
            moved = f"{'+' if change > 0 else '−'}{abs(change).quantize(CENT, ROUND_HALF_UP)}%"
        found.append(
            anomaly(
                "QTY_SWING",
                f"quantity {_quantity(before)} → {_quantity(quantity)} ({moved}) since last "
                f"month, more than the {percent_text(swing_percent)} allowed",
            )
        )
    return found


# Figures no MSP client's month has on one line. The boundary refuses what no bill can hold
# (values/bounds.py: a billion seats, a trillion in money); a figure between these and that
# is valid data that is almost surely wrong, so it holds the invoice until someone says why.
PLAUSIBLE_QUANTITY = Decimal(100_000)
PLAUSIBLE_UNIT_PRICE = Decimal(100_000)
PLAUSIBLE_AMOUNT = Decimal(1_000_000)


def implausible(
    quantity: Decimal, unit_price: Decimal, amount: Decimal, currency: str
) -> Anomaly | None:
    """IMPLAUSIBLE_FIGURE: a line's quantity, unit price or amount past what any client bills."""
    found = []
    if abs(quantity) > PLAUSIBLE_QUANTITY:
        found.append(f"{quantity_prose(quantity)} seats or units (over {PLAUSIBLE_QUANTITY:,})")
    if abs(unit_price) > PLAUSIBLE_UNIT_PRICE:
        found.append(
            f"a unit price of {money_prose(unit_price)} {currency} (over {PLAUSIBLE_UNIT_PRICE:,})"
        )
    if abs(amount) > PLAUSIBLE_AMOUNT:
        found.append(f"{money_prose(amount)} {currency} (over {PLAUSIBLE_AMOUNT:,})")
    if not found:
        return None
    return anomaly(
        "IMPLAUSIBLE_FIGURE",
        f"this line bills {' and '.join(found)}: check the figure at its source; if it is "
        "right, override with the reason",
    )


def margin(amount: Decimal, cost: Decimal, floor: Decimal) -> Anomaly | None:
    """NEGATIVE_MARGIN when the charge is under cost, else BELOW_MIN_MARGIN under the floor.

    Rounded figures: the margin a billing person sees. A margin exactly at the floor passes.
    """
    if amount < cost:
        return anomaly(
            "NEGATIVE_MARGIN",
            f"charge {money_prose(amount)} < cost {money_prose(cost)}: margin "
            f"{money_prose(amount - cost)}",
        )
    if amount <= 0 or floor <= 0:
        return None
    if (amount - cost) * HUNDRED >= floor * amount:
        return None
    percent = (amount - cost) / amount * HUNDRED
    return anomaly(
        "BELOW_MIN_MARGIN",
        f"margin {money_prose(amount - cost)} is {percent.quantize(CENT, ROUND_HALF_UP)}% of the "
        f"charge {money_prose(amount)}, under the {percent_text(floor)} floor",
    )


def _quantity(quantity: Decimal) -> str:
    return quantity_prose(quantity.quantize(Decimal("0.0001"), ROUND_HALF_UP).normalize())


def _who(subscription: SubscriptionFacts) -> str:
    """The distributor a message names: `Pax8`, `Partner Center`."""
    return distributor_name(subscription.subscription_id)
