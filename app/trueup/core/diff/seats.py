"""The seat diff (billing-rules §9): the seats Pax8 charges against the seats Halo bills.

Rows come per billable subscription of a mapped company, plus one per Halo item billed with no
billable subscription behind it. Halo lines are matched by item: a client's active recurring
lines whose item stands for the subscription's product (the client's override first, else the
product's mapping for every client), but not a line that ended before the month (Halo no longer
bills it). A row of Halo lines alone is in their invoice's currency: its impact is at their price.

Shared lines: when several billable subscriptions of one client map to the same Halo item (two
subscriptions of one product, two companies of one client, or two products billed under one
item), the Halo quantity of that item is handed out in order of subscription start (then id):
each takes up to its own Pax8 quantity, the last takes whatever is left. The deltas of the rows
then add up to the item's delta, a covered subscription shows `match` and the shortfall (or the
surplus) lands on the later ones; each of those rows lists all the item's lines.

A row with zero on one side and nothing on the other is a `match`: nothing is charged, nothing
billed.
"""

from __future__ import annotations

import gc
import json
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select

from trueup.core.billing.timeline import (
    Snapshot,
    TimelineEntry,
    month_timeline,
    snapshot_on,
    snapshots_from,
)
from trueup.core.diff.reading import (
    DiffStore,
    StoredSubscription,
    halo_currency,
    load_diff_store,
    most_common,
)
from trueup.core.diff.reading import HaloLine as HaloLine  # part of this module's interface
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.values.distributors import distributor_name
from trueup.core.values.money import money_json, quantity_json
from trueup.core.values.months import reference_day

ZERO = Decimal(0)
STATUSES = ("under", "missing_in_halo", "over", "missing_in_pax8", "match")
UNDER_BILLING = frozenset({"under", "missing_in_halo"})
OVER_BILLING = frozenset({"over", "missing_in_pax8"})


@dataclass(frozen=True)
class DiffRow:
    client_id: int
    client_name: str
    company_id: str | None
    subscription_id: str | None
    product_id: str | None
    sku: str | None
    product_name: str
    pax8_qty: Decimal
    halo_qty: Decimal
    delta: Decimal  # halo_qty - pax8_qty: below 0 Halo bills fewer seats than Pax8 charges
    status: str  # match | under | over | missing_in_halo | missing_in_pax8
    unit_price: Decimal
    monthly_impact: Decimal  # delta x unit_price, signed, exact
    currency: str
    halo_lines: tuple[HaloLine, ...]

    @property
    def distributor(self) -> str:
        """`Pax8`, `Partner Center`, `Sherweb` ...: whose subscription the row compares."""
        return distributor_name(self.subscription_id)


def seat_diff(
    db: Database, month: str, *, today: date, clients: Collection[int] | None = None
) -> list[DiffRow]:
    """Every row of the month (of `clients`, given some), all statuses, by client name then the
    largest impact first.

    Pax8 quantities are taken on the month's last day, or on `today` within the current month;
    the unit price is the subscription's Pax8 price on that day (price policy `pax8`), its
    monthly share for Annual, 2-Year and 3-Year terms.
    """
    with cyclic_gc_paused():
        with db.read() as conn:
            store = load_diff_store(conn, clients)
        rows = diff_rows(store, reference_day(month, today))
        return sorted(rows, key=_display_order)


def diff_rows(store: DiffStore, day: date) -> list[DiffRow]:
    billable, dormant = _billable_and_dormant(store, day)
    attributed, billed_items = _attribute(store, billable, day)
    rows = [_subscription_row(store, *found) for found in attributed]
    return rows + _rows_missing_in_pax8(store, billed_items, dormant, day)


class SeatCount(NamedTuple):
    """What the diff says of one subscription."""

    halo_qty: Decimal  # the Halo seats attributed to it
    halo_lines: tuple[HaloLine, ...]  # the lines of its item
    status: str
    pax8_qty: Decimal  # the distributor's seats on the diff's day, which `status` compares


def seat_counts(store: DiffStore, day: date) -> dict[str, SeatCount]:
    """By subscription id, the diff of every subscription a row names (a billable one, or the
    latest one of a product Halo bills with none billable), without building the rows: what
    billing reads of the diff, at a fraction of the cost."""
    billable, dormant = _billable_and_dormant(store, day)
    attributed, billed_items = _attribute(store, billable, day)
    found = {
        subscription.id: SeatCount(
            halo_qty, lines, _status(snapshot.quantity, halo_qty, lines), snapshot.quantity
        )
        for _, subscription, snapshot, halo_qty, lines in attributed
    }
    for row in _rows_missing_in_pax8(store, billed_items, dormant, day):
        if row.subscription_id:
            found[row.subscription_id] = SeatCount(
                row.halo_qty, row.halo_lines, row.status, row.pax8_qty
            )
    return found


# A subscription billable on the day, with its client and the snapshot in effect.
_Billable = tuple[int, StoredSubscription, Snapshot]


def _billable_and_dormant(
    store: DiffStore, day: date
) -> tuple[list[_Billable], dict[tuple[int, str], StoredSubscription]]:
    billable: list[_Billable] = []
    dormant: dict[tuple[int, str], StoredSubscription] = {}  # the latest one per client and product
    for client_id, subscription in store.subscriptions:
        if subscription.product_id in store.index.ignored_products:
            continue  # the operator's word: not billed through Halo, so no row and no noise
        snapshot = snapshot_on(subscription.snapshots, day)
        if snapshot is not None and snapshot.billable_on(day):
            billable.append((client_id, subscription, snapshot))
        elif subscription.product_id is not None:
            key = (client_id, subscription.product_id)
            if key not in dormant or subscription.last_change > dormant[key].last_change:
                dormant[key] = subscription
    return billable, dormant


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Building ~100k acyclic objects sets off full garbage collections that cost more than the
    diff itself (~40% of the time on a 40k-subscription store); nothing here makes cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# A billable subscription with the Halo seats handed to it and its item's lines.
_Attributed = tuple[int, StoredSubscription, Snapshot, Decimal, tuple[HaloLine, ...]]


def _attribute(
    store: DiffStore, billable: list[_Billable], day: date
) -> tuple[list[_Attributed], set[tuple[int, int]]]:
    """The Halo seats of each billable subscription, and the (client, item) pairs they account
    for."""
    shared: dict[tuple[int, int], list[tuple[StoredSubscription, Snapshot]]] = defaultdict(list)
    found: list[_Attributed] = []
    for client_id, subscription, snapshot in billable:
        item = store.index.item_for(subscription.product_id or "", client_id)
        if item is None:
            found.append((client_id, subscription, snapshot, ZERO, ()))
        else:
            shared[(client_id, item)].append((subscription, snapshot))
    for (client_id, item), members in shared.items():
        lines = _billed(store.active_lines.get((client_id, item), ()), day)
        remaining = sum((line.quantity for line in lines), ZERO)
        members.sort(key=lambda pair: (pair[0].started or date.min, pair[0].id))
        for position, (subscription, snapshot) in enumerate(members):
            last = position == len(members) - 1
            attributed = remaining if last else min(remaining, snapshot.quantity)
            remaining -= attributed
            found.append((client_id, subscription, snapshot, attributed, lines))
    return found, set(shared)


def _billed(lines: Sequence[HaloLine], day: date) -> tuple[HaloLine, ...]:
    """The lines Halo still bills in the day's month: not one that ended before the month's
    first day (billing leaves such a manual line out alike)."""
    first = day.replace(day=1)
    return tuple(line for line in lines if line.ends is None or line.ends >= first)


def _status(pax8_qty: Decimal, halo_qty: Decimal, lines: tuple[HaloLine, ...]) -> str:
    """A subscription row's status (billing-rules §9)."""
    if lines:
        delta = halo_qty - pax8_qty
        return "match" if delta == 0 else "under" if delta < 0 else "over"
    return "match" if pax8_qty == 0 else "missing_in_halo"


# Months a Pax8 price covers, by billingTerm (Pax8's own CLI divides the same way).
TERM_MONTHS = {"Annual": 12, "2-Year": 24, "3-Year": 36}


def _subscription_row(
    store: DiffStore,
    client_id: int,
    subscription: StoredSubscription,
    snapshot: Snapshot,
    halo_qty: Decimal,
    lines: tuple[HaloLine, ...],
) -> DiffRow:
    pax8_qty = snapshot.quantity
    price = snapshot.price if snapshot.price is not None else subscription.price
    # Annual and multi-year prices are per term: the monthly impact uses the monthly share.
    months = TERM_MONTHS.get(subscription.billing_term or "", 1)
    unit_price = (price if price is not None else ZERO) / months
    delta = halo_qty - pax8_qty
    sku, product_name = store.product_label(subscription.product_id, subscription.product_name)
    return DiffRow(
        client_id=client_id,
        client_name=store.client_name(client_id),
        company_id=subscription.company_id,
        subscription_id=subscription.id,
        product_id=subscription.product_id,
        sku=sku,
        product_name=product_name,
        pax8_qty=pax8_qty,
        halo_qty=halo_qty,
        delta=delta,
        status=_status(pax8_qty, halo_qty, lines),
        unit_price=unit_price,
        monthly_impact=delta * unit_price,
        currency=subscription.currency or store.currency_of(client_id),
        halo_lines=lines,
    )


def _rows_missing_in_pax8(
    store: DiffStore,
    billed: set[tuple[int, int]],
    dormant: dict[tuple[int, str], StoredSubscription],
    day: date,
) -> list[DiffRow]:
    """One row per Halo item a mapped client is billed for whose products it has no billable
    subscription of. It names the client's latest subscription of such a product when there is
    one (usually a cancelled one: the detail then shows when it ended)."""
    mapped_clients = set(store.index.companies.values())
    rows: list[DiffRow] = []
    for (client_id, item), active in store.active_lines.items():
        if client_id not in mapped_clients or (client_id, item) in billed:
            continue
        lines = _billed(active, day)
        if not lines:
            continue  # every line of it ended before the month: Halo bills nothing
        products = store.index.products_of_item(item, client_id) - store.index.ignored_products
        if not products:
            continue  # not a Pax8 item (labour, managed services)
        linked = [dormant[(client_id, p)] for p in products if (client_id, p) in dormant]
        previous = max(linked, key=lambda s: s.last_change) if linked else None
        product_id = previous.product_id if previous else min(products)
        halo_qty = sum((line.quantity for line in lines), ZERO)
        impact = sum((line.quantity * (line.unit_price or ZERO) for line in lines), ZERO)
        sku, product_name = store.product_label(product_id, lines[0].description)
        companies = store.companies.get(client_id, set())
        rows.append(
            DiffRow(
                client_id=client_id,
                client_name=store.client_name(client_id),
                company_id=previous.company_id if previous else _only(companies),
                subscription_id=previous.id if previous else None,
                product_id=product_id,
                sku=sku,
                product_name=product_name,
                pax8_qty=ZERO,
                halo_qty=halo_qty,
                delta=halo_qty,
                status="missing_in_pax8" if halo_qty != 0 else "match",
                unit_price=_line_price(lines, impact, halo_qty),
                monthly_impact=impact,
                # The impact is at Halo's price, so in its invoice's currency.
                currency=halo_currency(
                    lines[0].currency,
                    (previous.currency if previous else None) or store.currency_of(client_id),
                ),
                halo_lines=lines,
            )
        )
    return rows


def _only(values: set[str]) -> str | None:
    return next(iter(values)) if len(values) == 1 else None


def _line_price(lines: tuple[HaloLine, ...], impact: Decimal, quantity: Decimal) -> Decimal:
    """The lines' unit price; their quantity-weighted mean when they differ."""
    prices = {line.unit_price or ZERO for line in lines}
    if len(prices) == 1 or quantity == 0:
        return lines[0].unit_price or ZERO
    return impact / quantity


def _display_order(row: DiffRow) -> tuple[Any, ...]:
    return (
        row.client_name.casefold(),
        row.client_id,
        -abs(row.monthly_impact),
        row.product_name.casefold(),
        row.subscription_id or "",
    )


# --- output shapes ----------------------------------------------------------------------------


def diff_json(rows: list[DiffRow], month: str) -> dict[str, Any]:
    """The `diff` JSON of contract.md §3: money and quantities as exact strings."""
    return {
        "month": month,
        "rows": [
            {
                "client_id": row.client_id,
                "client_name": row.client_name,
                "company_id": row.company_id,
                "subscription_id": row.subscription_id,
                "product_id": row.product_id,
                "sku": row.sku,
                "pax8_qty": quantity_json(row.pax8_qty),
                "halo_qty": quantity_json(row.halo_qty),
                "delta": quantity_json(row.delta),
                "status": row.status,
                "unit_price": money_json(row.unit_price),
                "monthly_impact": money_json(row.monthly_impact),
                "currency": row.currency,
            }
            for row in rows
        ],
    }


@dataclass(frozen=True)
class DiffDetail:
    row: DiffRow
    timeline: list[TimelineEntry]  # the month, from Pax8 history; empty with no subscription
    history: list[Snapshot]  # every snapshot, oldest first


def diff_detail(db: Database, row: DiffRow, month: str) -> DiffDetail:
    """The month's quantity timeline of the row's subscription, read from its raw history."""
    if row.subscription_id is None:
        return DiffDetail(row, [], [])
    subscriptions = m.table_of(m.Pax8Subscription)
    snapshots = m.table_of(m.Pax8SubscriptionSnapshot)
    with db.read() as conn:
        current = conn.execute(
            select(subscriptions.c.raw).where(subscriptions.c.id == row.subscription_id)
        ).scalar_one_or_none()
        history = conn.execute(
            select(snapshots.c.raw)
            .where(snapshots.c.subscription_id == row.subscription_id)
            .order_by(snapshots.c.position)
        ).scalars()
        history_raw = [_load_raw(text) for text in history]
    if current is None:
        return DiffDetail(row, [], [])
    found = snapshots_from(_load_raw(current), history_raw)
    return DiffDetail(row, month_timeline(found, month), found)


def _load_raw(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return loaded


@dataclass(frozen=True)
class DiffSummary:
    """Rows per status and the monthly money at stake, in the main currency.

    The main currency is the one most rows are in (ties: alphabetical); amounts in other
    currencies are never added to it and are kept apart in `by_currency` as (under, over).
    """

    counts: dict[str, int]
    under_billing: Decimal  # Σ |impact| of under + missing_in_halo rows
    over_billing: Decimal  # Σ |impact| of over + missing_in_pax8 rows
    currency: str
    by_currency: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


def summarise(rows: list[DiffRow]) -> DiffSummary:
    counts = {status: 0 for status in STATUSES}
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
        under, over = totals.get(row.currency, (ZERO, ZERO))
        if row.status in UNDER_BILLING:
            under += abs(row.monthly_impact)
        elif row.status in OVER_BILLING:
            over += abs(row.monthly_impact)
        totals[row.currency] = (under, over)
    main = most_common(Counter(row.currency for row in rows))
    under, over = totals.get(main, (ZERO, ZERO))
    return DiffSummary(counts, under, over, main, totals)
