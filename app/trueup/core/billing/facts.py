"""The inputs of client billing (billing-rules §2-§10), as plain frozen data (named tuples for
the records a large batch holds tens of thousands of).

The batch assembler fills these from the store; `core.billing.bill_client` turns them into a
client invoice without touching the store, so billing is testable from facts built by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from trueup.core.billing.timeline import Snapshot


class SubscriptionFacts(NamedTuple):
    subscription_id: str
    company_id: str
    product_id: str | None
    sku: str | None
    product_name: str
    billing_term: str | None
    commitment_term: str | None
    commitment_end: date | None
    currency: str
    billing_start: date | None
    snapshots: tuple[Snapshot, ...]  # core.timeline, oldest first (as the diff loads them)
    item_id: int | None  # the Halo item it maps to for this client (None → UNMAPPED_SKU)
    halo_quantity: Decimal | None  # Σ qty of the client's active Halo lines attributed to it
    halo_unit_price: Decimal | None  # that line's unit_price (for price policy `halo`)
    diff_status: str | None  # seat diff status for the month (match/under/over/missing_in_halo)
    # The ISO currency of that line's recurring invoice, which `halo_unit_price` is in; None
    # (no Halo line): taken as the subscription's.
    halo_currency: str | None = None
    unit: str | None = None  # the distributor's unit of measure (User, GB); None: not known
    # The distributor's seats the seat diff counted on its day (billing-rules §9), which
    # `diff_status` compares with Halo's; None where the diff names no row for it.
    diff_quantity: Decimal | None = None


@dataclass(frozen=True)
class ManualLine:
    """A Halo recurring line that bills no Pax8 product (labour, managed services), or a line
    the rules keep manual (sync = false)."""

    line_id: int
    item_id: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    currency: str
    # `item_id` names no item Halo lists any more: maybe the same service billed twice.
    item_missing: bool = False


class CostItem(NamedTuple):
    """One Pax8 invoice item."""

    invoice_id: str
    invoice_status: str | None
    invoice_date: date | None
    item_id: str
    subscription_id: str | None
    type: str | None
    term: str | None
    start_period: date | None
    end_period: date | None
    quantity: Decimal | None
    cost_total: Decimal | None
    total: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class UsageFacts:
    """One usage summary or arrears invoice item, chosen by the assembler for the usage month."""

    subscription_id: str
    resource_group: str | None
    product_id: str | None
    product_name: str
    charge: Decimal
    cost: Decimal
    currency: str
    source: str  # "invoice" (final) | "summary", "none" (0.00) (estimates → USAGE_ESTIMATED)
    # Pax8 invoices credited that billed the subscription's usage of the month, with their
    # cost: replaced by the re-issue, or awaiting it (INVOICE_REISSUED).
    credited: tuple[tuple[str, Decimal], ...] = ()
    sku: str | None = None  # the product's, for a [[lines]] entry naming the product by it


class PreviousLine(NamedTuple):
    """Last month's line, for PRICE_CHANGED and QTY_SWING (one per line of a whole batch)."""

    subscription_id: str
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal | None


class LookAlike(NamedTuple):
    """A manual Halo line that looks like the service of a subscription with no Halo item, by
    the mapping engine's evidence: letting UNMAPPED_SKU through would bill it twice."""

    subscription_id: str
    line_id: int  # a ManualLine of the same client
    evidence: str  # why, with the score, e.g. 'the item it bills, "Duo MFA", is ... (84: ...)'


@dataclass(frozen=True)
class ClientFacts:
    client_id: int
    client_name: str
    # Every subscription of the client's mapped companies that could bill in the month,
    # cancelled ones included (for CANCELLED_STILL_BILLED).
    subscriptions: tuple[SubscriptionFacts, ...]
    manual_lines: tuple[ManualLine, ...]
    # Pax8 items whose period touches the month; credited and re-issued both present.
    cost_items: tuple[CostItem, ...]
    usage: tuple[UsageFacts, ...]
    previous: Mapping[str, PreviousLine]
    reissued_invoices: tuple[str, ...] = ()  # Pax8 invoice ids credited and re-issued
    look_alikes: tuple[LookAlike, ...] = ()  # for POSSIBLE_DOUBLE_BILL
    halo_client: str = "active"  # Halo's word on the client: active | inactive | missing
