"""What a batch is built from: every chosen client's billing facts, read from the store at once.

A handful of queries for the whole batch, never one per client or per row, each table read once:
the seat diff's loaders (subscriptions with their history and commitments, active Halo lines,
mappings), then the Pax8 invoice items touching the month and the usage of the usage months.
Manual Halo lines and unmapped companies come from the seat diff's reading, last month's lines
from its batch's line digest, subscriptions no invoice can hold from batch.strays, manual lines
that look like an unmapped subscription from batch.alike (the mapping engine's evidence). Billing
itself (`core.billing`) never touches the store.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from trueup.core.batch.alike import look_alikes
from trueup.core.batch.body import parsed_body
from trueup.core.batch.previous import EarlierBatch
from trueup.core.batch.stored import BatchError
from trueup.core.batch.strays import StraySubscription, load_strays
from trueup.core.batch.usage import UsageRow, load_usage
from trueup.core.billing.cost import REPLACED_STATUSES
from trueup.core.billing.facts import (
    ClientFacts,
    CostItem,
    ManualLine,
    SubscriptionFacts,
)
from trueup.core.billing.timeline import Snapshot, known_status
from trueup.core.diff.reading import (
    DiffStore,
    Numbers,
    StoredSubscription,
    StoreWide,
    halo_currency,
    load_diff_store,
)
from trueup.core.diff.seats import (
    SeatCount,
    cyclic_gc_paused,  # the seat diff's own guard, reused for the same reason
    seat_counts,  # the seat diff of an already loaded store: loading it twice costs ~1 s
)
from trueup.core.mapping.index import MappingIndex, load_mapping_index
from trueup.core.rules.current import Rules
from trueup.core.store import tables as m
from trueup.core.values.months import Month, reference_day

ZERO = Decimal(0)


@dataclass(frozen=True)
class UnmappedCompany:
    """A Pax8 company with billable subscriptions and no Halo client (UNMAPPED_CLIENT)."""

    company_id: str
    name: str
    subscriptions: int


@dataclass(frozen=True)
class BatchWide:
    """What a batch reads of the whole store whichever clients it bills again: the seat diff's
    (diff.reading.StoreWide) and the batch anomalies' companies and subscriptions. The same
    while the sync runs and the mapping journal are (batch/build.py keeps them between builds)."""

    store: StoreWide
    unmapped: list[UnmappedCompany]  # by name
    strays: list[StraySubscription]  # on no invoice, maybe revenue (batch.strays); by id
    # usage month -> its rows (load_usage), read once: what asks which subscriptions bill
    # usage scans them all, as long as the rest of a one-client build.
    usage: dict[str, list[UsageRow]] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchFacts:
    month: str
    clients: list[ClientFacts]  # by name, then id
    usage: list[UsageRow]  # every usage row of the usage months, unassigned ones included
    chosen: tuple[int, ...]  # every client of the batch, `clients` holding the facts read
    wide: BatchWide

    @property
    def unmapped(self) -> list[UnmappedCompany]:
        return self.wide.unmapped

    @property
    def strays(self) -> list[StraySubscription]:
        return self.wide.strays

    @property
    def main_currency(self) -> str:
        """Of the store: of clients whose subscriptions name none."""
        return self.wide.store.main_currency


def assemble(
    conn: Connection,
    month: str,
    *,
    clients: Sequence[int] | None,
    today: date,
    rules: Rules,
    previous: EarlierBatch | None,
    only: Collection[int] | None = None,
    index: MappingIndex | None = None,
    wide: BatchWide | None = None,
) -> BatchFacts:
    """The facts of `clients` (default: every client a Pax8 company is mapped to) for `month`.

    With `only`, the client facts are those of the chosen clients it names, read alone (the
    clients a change touched: batch.touched); the batch's own facts (unmapped companies, usage,
    strays) are the whole batch's either way, `wide` when given (read by a build of the same
    store: the same sync runs and mapping journal)."""
    with cyclic_gc_paused():
        index = index or load_mapping_index(conn)
        chosen = _chosen(conn, index, clients)
        mine = chosen if only is None else [c for c in chosen if c in only]
        scoped = clients is not None or only is not None
        store = load_diff_store(conn, mine if scoped else None, index, wide.store if wide else None)
        day = reference_day(month, today)
        counts = seat_counts(store, day)
        subscriptions = _subscription_facts(store, month, mine, counts)
        manual = _manual_lines(conn, store, rules, subscriptions, mine, Month(month).bounds[0])
        alike = look_alikes(conn, subscriptions, manual, day)
        wanted = {s.subscription_id for subs in subscriptions.values() for s in subs}
        costs, reissued = _cost_items(conn, month, wanted)
        offsets = {rules.for_client(c).usage_month_offset for c in chosen}
        read = wide.usage if wide is not None else {}
        for offset in sorted(offsets):
            usage_month = Month(month).shifted(offset)
            if usage_month not in read:
                read[usage_month] = load_usage(conn, index, usage_month, store.products)
        usage = [row for offset in sorted(offsets) for row in read[Month(month).shifted(offset)]]
        last_month = previous.lines(mine) if previous else {}
        usage_of: dict[tuple[int | None, str], list[UsageRow]] = defaultdict(list)
        for u in usage:
            usage_of[(u.client_id, u.usage_month)].append(u)
        facts = []
        for client_id in mine:
            offset = rules.for_client(client_id).usage_month_offset
            client_usage = usage_of.get((client_id, Month(month).shifted(offset)), [])
            own = subscriptions.get(client_id, [])
            items = tuple(i for s in own for i in costs.get(s.subscription_id, ()))
            facts.append(
                ClientFacts(
                    client_id=client_id,
                    client_name=store.client_name(client_id),
                    subscriptions=tuple(own),
                    manual_lines=tuple(manual.get(client_id, ())),
                    cost_items=items,
                    usage=tuple(u.facts() for u in client_usage),
                    previous=last_month.get(client_id, {}),
                    reissued_invoices=tuple(sorted({i.invoice_id for i in items} & reissued)),
                    look_alikes=tuple(alike.get(client_id, ())),
                    halo_client=store.halo_state(client_id),
                )
            )
        facts.sort(key=_client_order)
        if wide is None:
            wide = BatchWide(
                store.wide,
                _unmapped_companies(conn, store.unmapped),
                # Batch anomalies: only a batch of every client has them (build._head).
                load_strays(conn, index) if clients is None else [],
                read,
            )
        return BatchFacts(month, facts, usage, tuple(chosen), wide)


def _client_order(facts: ClientFacts) -> tuple[str, int]:
    """Invoices are listed by client name, then id."""
    return facts.client_name.casefold(), facts.client_id


def _chosen(conn: Connection, index: MappingIndex, clients: Sequence[int] | None) -> list[int]:
    if clients is None:
        return sorted(set(index.companies.values()))
    known = {r[0] for r in conn.exec_driver_sql(f"SELECT id FROM {m.table_of(m.HaloClient)}")}
    unknown = sorted(c for c in set(clients) if c not in known)
    if unknown:
        names = ", ".join(str(c) for c in unknown)
        raise BatchError(f"no Halo client {names} in the store; sync, or check the id")
    return sorted(set(clients))


def _subscription_facts(
    store: DiffStore,
    month: str,
    chosen: list[int],
    counts: dict[str, SeatCount],
) -> dict[int, list[SubscriptionFacts]]:
    first, last = Month(month).bounds
    wanted = set(chosen)
    # (client, recurring invoice) -> its currency as Halo names it: a `halo` price is in it.
    symbols: dict[tuple[int, int], str | None] = {}
    for client_id in wanted:
        for line in store.client_lines.get(client_id, ()):
            symbols.setdefault((client_id, line.line.invoice_id), line.currency)
    found: dict[int, list[SubscriptionFacts]] = defaultdict(list)
    for client_id, sub in store.subscriptions:
        if client_id not in wanted or sub.product_id in store.index.ignored_products:
            continue
        count = counts.get(sub.id)
        if count is None and not _shows_within(sub.snapshots, first, last):
            continue
        found[client_id].append(_facts_of(store, client_id, sub, count, symbols))
    for subs in found.values():
        subs.sort(key=lambda s: s.subscription_id)
    return found


def _facts_of(
    store: DiffStore,
    client_id: int,
    sub: StoredSubscription,
    count: SeatCount | None,
    symbols: dict[tuple[int, int], str | None],
) -> SubscriptionFacts:
    sku, name = store.product_label(sub.product_id, sub.product_name)
    lines = count.halo_lines if count else ()
    return SubscriptionFacts(
        subscription_id=sub.id,
        company_id=sub.company_id or "",
        product_id=sub.product_id,
        sku=sku,
        product_name=name,
        billing_term=sub.billing_term,
        commitment_term=sub.commitment_term,
        commitment_end=sub.commitment_end,
        currency=sub.currency or store.currency_of(client_id),
        billing_start=sub.started,
        snapshots=tuple(sub.snapshots),
        item_id=store.index.item_for(sub.product_id or "", client_id),
        halo_quantity=count.halo_qty if count and lines else None,
        halo_unit_price=lines[0].unit_price if lines else None,
        diff_status=count.status if count else None,
        diff_quantity=count.pax8_qty if count else None,
        halo_currency=(
            halo_currency(
                symbols.get((client_id, lines[0].invoice_id)), store.currency_of(client_id)
            )
            if lines
            else None
        ),
        unit=store.units.get(sub.product_id or ""),
    )


def _shows_within(snapshots: Sequence[Snapshot], first: date, last: date) -> bool:
    """Whether any day of [first, last] bills, or is under a status Pax8 does not document (it
    bills nothing, and the line flags it): checked on the days a snapshot starts applying."""
    for position, snapshot in enumerate(snapshots):
        ends = snapshots[position + 1].effective if position + 1 < len(snapshots) else None
        if snapshot.effective > last or (ends is not None and ends <= first):
            continue
        day = max(snapshot.effective, first)
        if snapshot.billable_on(day):
            return True
        if not known_status(snapshot.status) and (snapshot.until is None or day < snapshot.until):
            return True
    return False


def _manual_lines(
    conn: Connection,
    store: DiffStore,
    rules: Rules,
    subscriptions: dict[int, list[SubscriptionFacts]],
    chosen: list[int],
    first: date,
) -> dict[int, list[ManualLine]]:
    """The client's active Halo lines that bill no Pax8 product, and those of products whose
    rule turns vendor sync off and that no subscription bills this month; not those that ended
    before the month's `first` day (Halo no longer bills them).

    A sync-off product with a subscription is billed on the subscription's line, at the Halo
    quantity (the engine's "sync off"); passing its Halo line too would bill it twice. A line
    naming an item Halo no longer lists passes too (it is what Halo bills), marked: it may be
    the same service as a subscription line under a deleted or merged item (MISSING_HALO_ITEM)."""
    index = store.index
    billed_items = set(index.products.values())
    overriding = {client for _, client in index.overrides}
    billed_products = {
        client: {s.product_id for s in subs} for client, subs in subscriptions.items()
    }
    covered: dict[tuple[int, int], bool] = {}  # (client, item): a subscription line stands for it

    by_item: dict[int, set[str]] = defaultdict(set)
    for product, item in index.products.items():
        by_item[item].add(product)

    def is_covered(client_id: int, item_id: int) -> bool:
        products = (
            index.products_of_item(item_id, client_id)
            if client_id in overriding
            else set(by_item.get(item_id, ()))
        ) - index.ignored_products
        return bool(products) and (
            any(
                rules.for_line(client_id, p, store.products.get(p, (None, None))[0]).sync
                for p in products
            )
            or bool(products & billed_products.get(client_id, set()))
        )

    items = {
        r[0]: r[1] for r in conn.exec_driver_sql(f"SELECT id, name FROM {m.table_of(m.HaloItem)}")
    }
    found: dict[int, list[ManualLine]] = defaultdict(list)
    for client_id in chosen:
        for line, quantity, currency, ends in store.client_lines.get(client_id, ()):
            if ends is not None and ends < first:
                continue
            item_id = line.item_id
            if item_id is not None and (item_id in billed_items or client_id in overriding):
                key = (client_id, item_id)
                if key not in covered:
                    covered[key] = is_covered(client_id, item_id)
                if covered[key]:
                    continue
            found[client_id].append(
                ManualLine(
                    line_id=line.line_id,
                    item_id=item_id,
                    description=line.description
                    or items.get(item_id)
                    or f"Halo line {line.line_id}",
                    quantity=quantity,
                    unit_price=ZERO if line.unit_price is None else line.unit_price,
                    currency=halo_currency(currency, store.currency_of(client_id)),
                    item_missing=item_id is not None and item_id not in items,
                )
            )
    return found


def _cost_items(
    conn: Connection, month: str, wanted: set[str]
) -> tuple[dict[str, list[CostItem]], set[str]]:
    """Pax8 invoice items whose period touches the month, of the `wanted` subscriptions (usage
    apart: it is billed from the usage month), and the credited invoices that were re-issued.

    The items are read alone and their invoices' few fields looked up here: joining them in
    SQL costs an index search per item (~0.1 s a month on a 2,000-client MSP)."""
    first, last = Month(month).bounds
    window = (last.isoformat(), first.isoformat(), first.isoformat(), first.isoformat())
    days: dict[str | None, date | None] = {}  # a few distinct days, each parsed once
    numbers = Numbers()

    def day(text: str | None) -> date | None:
        if text not in days:
            days[text] = _day(text)
        return days[text]

    invoices = {
        invoice_id: (status, day(invoice_date), currency)
        for invoice_id, status, invoice_date, currency in conn.exec_driver_sql(
            f"SELECT id, status, invoice_date, currency FROM {_INVOICES}"
        )
    }
    by_subscription: dict[str, list[CostItem]] = defaultdict(list)
    for (
        invoice_id,
        item_id,
        subscription_id,
        kind,
        term,
        start,
        end,
        quantity,
        cost_total,
        total,
        currency,
    ) in conn.exec_driver_sql(
        "SELECT i.invoice_id, i.id, i.subscription_id, i.type, i.term, i.start_period, "
        f"i.end_period, i.quantity, i.cost_total, i.total, i.currency FROM {_ITEMS} i "
        f"WHERE {'' if len(wanted) <= _SEARCHED_UP_TO else '+'}i.subscription_id "
        f"IN (SELECT value FROM json_each(?)) AND {_in_month('i')}",  # billing orders them
        (json.dumps(sorted(wanted)), *window),
    ).all():
        status, invoice_date, invoice_currency = invoices[invoice_id]
        by_subscription[subscription_id].append(
            CostItem(  # by position: ~37k items a month on a large store
                invoice_id,
                status,
                invoice_date,
                item_id,
                subscription_id,
                kind,
                term,
                day(start),
                day(end),
                numbers[quantity],
                numbers[cost_total],
                numbers[total],
                invoice_currency if currency is None else currency,
            )
        )
    return by_subscription, _reissued(conn, window)


_ITEMS, _INVOICES = m.table_of(m.Pax8InvoiceItem), m.table_of(m.Pax8Invoice)
# Up to this many subscriptions, their items are searched by subscription; beyond, the month's
# items are scanned by period instead ("+" keeps SQLite off the subscription index): each
# search is a random read, and for half of 2,000 clients the scan is a third faster.
_SEARCHED_UP_TO = 2_000
# The statuses of an invoice that owes nothing, as SQL: constant words, no quote in them.
_REPLACED = f"({', '.join(repr(status) for status in sorted(REPLACED_STATUSES))})"


def _in_month(item: str) -> str:
    """Whether the item (by its alias) bills the month: its period touches it (an end on the
    1st after an earlier start is the month before's exclusive end) and it is not usage."""
    return (
        f"{item}.start_period <= ? AND {item}.end_period >= ? "
        f"AND ({item}.end_period > ? OR {item}.start_period >= ?) "
        f"AND coalesce({item}.term, '') != 'Arrears'"
    )


def _reissued(conn: Connection, window: tuple[str, ...]) -> set[str]:
    """Credited invoices that another invoice of the same company re-issues: one neither
    credited nor void (a void one owes nothing, billing/cost.py) that bills a subscription of
    it for the same period, in the same currency. Found from every item (a re-issue may bill
    another client's subscriptions too), starting from the credited invoices (CROSS JOIN keeps
    that order): a few searches, not a read of the month."""
    return {
        row[0]
        for row in conn.exec_driver_sql(
            f"SELECT DISTINCT c.invoice_id FROM {_INVOICES} cv CROSS JOIN {_ITEMS} c "
            f"ON c.invoice_id = cv.id WHERE lower(cv.status) = 'credited' AND {_in_month('c')} "
            f"AND EXISTS (SELECT 1 FROM {_ITEMS} i JOIN {_INVOICES} v ON v.id = i.invoice_id "
            "WHERE i.subscription_id IS c.subscription_id "
            f"AND lower(coalesce(v.status, '')) NOT IN {_REPLACED} "
            "AND v.company_id IS cv.company_id "
            "AND coalesce(i.currency, v.currency) IS coalesce(c.currency, cv.currency) "
            "AND substr(i.start_period, 1, 10) IS substr(c.start_period, 1, 10) "
            f"AND {_in_month('i')})",
            window * 2,
        )
    }


def _unmapped_companies(conn: Connection, counts: dict[str, int]) -> list[UnmappedCompany]:
    """Companies Pax8 lists and nobody mapped. A company it does not list cannot be mapped:
    its subscriptions are UNKNOWN_COMPANY instead (batch.strays)."""
    if not counts:
        return []
    table = m.table_of(m.Pax8Company)
    names: dict[str, str | None] = {
        r[0]: r[1] for r in conn.exec_driver_sql(f"SELECT id, name FROM {table}")
    }
    found = [UnmappedCompany(c, names.get(c) or c, n) for c, n in counts.items() if c in names]
    return sorted(found, key=lambda u: (u.name.casefold(), u.company_id))


def load_body(text: str | bytes) -> dict[str, Any]:
    body: dict[str, Any] = parsed_body(text)
    return body


def _day(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text[:10])
