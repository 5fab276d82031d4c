"""Billing facts built by hand for the billing tests (the batch tests cover the store path)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from trueup.core.billing.facts import (
    ClientFacts,
    CostItem,
    ManualLine,
    PreviousLine,
    SubscriptionFacts,
    UsageFacts,
)
from trueup.core.billing.invoice import ClientInvoice, InvoiceLine, bill_client
from trueup.core.billing.rules import LineRule, Policy, Rules
from trueup.core.billing.timeline import Snapshot

D = Decimal
CLIENT = 14


def day(text: str) -> date:
    return date.fromisoformat(text)


def snap(
    effective: str,
    quantity: int | str,
    price: str | None = "22.00",
    cost: str | None = "19.80",
    status: str = "Active",
    end: str | None = None,
    at: str | None = None,
) -> Snapshot:
    """A snapshot taking effect on `effective`, changed at `at` (default 09:00 UTC that day)."""
    changed = (
        datetime.fromisoformat(at).astimezone(UTC)
        if at
        else datetime.combine(day(effective), time(9), tzinfo=UTC)
    )
    return Snapshot(
        effective=day(effective),
        quantity=D(quantity),
        status=status,
        price=D(price) if price is not None else None,
        partner_cost=D(cost) if cost is not None else None,
        end=day(end) if end else None,
        changed_at=changed,
    )


def sub(
    *snapshots: Snapshot,
    sid: str = "s1",
    term: str | None = "Monthly",
    commitment: str | None = "1-Year",
    commitment_end: str | None = None,
    item_id: int | None = 501,
    halo_quantity: int | str | None = None,
    halo_price: str | None = None,
    halo_currency: str | None = None,
    diff: str | None = "match",
    counted: int | str | None = None,  # the seat diff's Pax8 seats; default: the newest snapshot's
    product_id: str | None = "p-bp",
    sku: str | None = "MST-BP",
    name: str = "M365 Business Premium",
    company: str = "co-1",
    currency: str = "USD",
) -> SubscriptionFacts:
    # As `chain_snapshots` does: every snapshot carries the newest one's end date.
    until = snapshots[-1].end if snapshots else None
    snapshots = tuple(s._replace(until=until) for s in snapshots)
    return SubscriptionFacts(
        subscription_id=sid,
        company_id=company,
        product_id=product_id,
        sku=sku,
        product_name=name,
        billing_term=term,
        commitment_term=commitment,
        commitment_end=day(commitment_end) if commitment_end else None,
        currency=currency,
        billing_start=snapshots[0].effective if snapshots else None,
        snapshots=snapshots,
        item_id=item_id,
        halo_quantity=D(halo_quantity) if halo_quantity is not None else None,
        halo_unit_price=D(halo_price) if halo_price is not None else None,
        diff_status=diff,
        halo_currency=halo_currency,
        diff_quantity=(
            D(counted) if counted is not None else snapshots[-1].quantity if snapshots else None
        ),
    )


def item(
    cost_total: str,
    start: str,
    end: str,
    *,
    sid: str = "s1",
    invoice: str = "INV-1",
    status: str = "Unpaid",
    item_id: str | None = None,
    kind: str = "subscription",
    currency: str | None = "USD",
) -> CostItem:
    return CostItem(
        invoice_id=invoice,
        invoice_status=status,
        invoice_date=None,
        item_id=item_id or f"{invoice}/{sid}/{start}",
        subscription_id=sid,
        type=kind,
        term="Monthly",
        start_period=day(start),
        end_period=day(end),
        quantity=None,
        cost_total=D(cost_total),
        total=None,
        currency=currency,
    )


def usage(
    cost: str,
    charge: str = "0",
    *,
    sid: str = "az-1",
    group: str | None = "Contoso",
    source: str = "invoice",
    currency: str = "USD",
) -> UsageFacts:
    return UsageFacts(
        subscription_id=sid,
        resource_group=group,
        product_id="p-azure",
        product_name="Azure plan",
        charge=D(charge),
        cost=D(cost),
        currency=currency,
        source=source,
    )


def manual(
    description: str, quantity: str, price: str, line_id: int = 900, currency: str = "USD"
) -> ManualLine:
    return ManualLine(line_id, None, description, D(quantity), D(price), currency)


def previous(
    quantity: str, price: str, cost: str | None = None, sid: str = "s1"
) -> dict[str, PreviousLine]:
    return {sid: PreviousLine(sid, D(quantity), D(price), D(cost) if cost else None)}


def client(
    *subscriptions: SubscriptionFacts,
    manual_lines: tuple[ManualLine, ...] = (),
    items: tuple[CostItem, ...] = (),
    usage_facts: tuple[UsageFacts, ...] = (),
    last_month: dict[str, PreviousLine] | None = None,
    reissued: tuple[str, ...] = (),
) -> ClientFacts:
    return ClientFacts(
        client_id=CLIENT,
        client_name="Contoso",
        subscriptions=subscriptions,
        manual_lines=manual_lines,
        cost_items=items,
        usage=usage_facts,
        previous=last_month or {},
        reissued_invoices=reissued,
    )


def rules(
    lines: tuple[LineRule, ...] = (),
    rates: dict[tuple[str, str], Decimal] | None = None,
    **defaults: object,
) -> Rules:
    return Rules(defaults=Policy(**defaults), lines=lines, rates=rates or {})


def bill(facts: ClientFacts, month: str, rules_in_force: Rules | None = None) -> ClientInvoice:
    return bill_client(facts, month, rules_in_force or Rules())


def only_line(invoice: ClientInvoice) -> InvoiceLine:
    assert len(invoice.lines) == 1, invoice.lines
    return invoice.lines[0]


def codes(line_or_invoice: InvoiceLine | ClientInvoice) -> set[str]:
    return {a.code for a in line_or_invoice.anomalies}
