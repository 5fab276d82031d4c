"""The month for a manager: totals and margin per currency; posted, held and outstanding; the
leakage the seat diff found (seats Halo billed too few of, now billed; too many, now removed);
the clients whose totals moved most against last month and why; the overrides with their
reasons. Figures only: the fronts lay them out (text, Markdown, HTML)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from trueup.core.diff.seats import seat_diff
from trueup.core.ledger.month import ClientMonth, MonthLedger, month_ledger
from trueup.core.store.database import Database
from trueup.core.values.money import money_json
from trueup.core.values.months import Month

ZERO = Decimal(0)
MOVERS = 5  # the clients whose totals moved most, shown
POSTED_STATES = ("posted", "adjusted")
# The anomalies that say why a client's total moved against last month.
REASONS = ("QTY_SWING", "PRICE_CHANGED", "USAGE_ESTIMATED", "INVOICE_REISSUED")


@dataclass
class CurrencyTotals:
    total: Decimal = ZERO  # tax included
    subtotal: Decimal = ZERO
    cost: Decimal = ZERO
    posted: Decimal = ZERO
    held: Decimal = ZERO
    outstanding: Decimal = ZERO  # neither posted nor held: still to decide or send
    under_billed: Decimal = ZERO  # a month of seats Halo billed too few of (now billed)
    over_billed: Decimal = ZERO  # a month of seats Halo billed too many of (now removed)

    @property
    def margin(self) -> Decimal:
        """Of the subtotal, as an invoice's (billing-rules.md §7): tax is not the MSP's."""
        return self.subtotal - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        if not self.subtotal:
            return None
        return (self.margin * 100 / self.subtotal).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Mover:
    client_name: str
    currency: str
    then: Decimal
    now: Decimal
    why: tuple[str, ...]

    @property
    def change(self) -> Decimal:
        return self.now - self.then


@dataclass(frozen=True)
class Override:
    client_name: str
    code: str
    reason: str


@dataclass
class MonthSummary:
    month: Month
    batch_id: str
    clients: int
    states: dict[str, int]
    currencies: dict[str, CurrencyTotals] = field(default_factory=dict)
    movers: list[Mover] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)


def month_summary(db: Database, month: Month, *, today: date) -> MonthSummary:
    ledger = month_ledger(db, month, today=today)
    stored = ledger.batch
    body = stored.body
    summary = MonthSummary(month, ledger.batch_id, len(ledger.clients), _states(ledger))
    invoices = {int(i["client_id"]): i for i in body["invoices"]}
    for client in ledger.clients:
        sums = summary.currencies.setdefault(client.currency, CurrencyTotals())
        invoice = invoices.get(client.client_id, {})
        sums.total += client.total
        sums.subtotal += Decimal(invoice.get("subtotal") or 0)
        sums.cost += Decimal(invoice.get("cost") or 0)
        _place(sums, client)
    for row in seat_diff(db, month, today=today):
        sums = summary.currencies.setdefault(row.currency, CurrencyTotals())
        if row.status in ("under", "missing_in_halo"):
            sums.under_billed += -row.monthly_impact
        elif row.status == "over":
            sums.over_billed += row.monthly_impact
    summary.movers = _movers(body.get("changes") or [], invoices)
    names = {c.client_id: c.client_name for c in ledger.clients}
    summary.overrides = [
        Override(names.get(client, str(client)), code, reason)
        for (client, code, _), reason in sorted(stored.overrides.items(), key=lambda kv: kv[0][:2])
    ]
    return summary


def _states(ledger: MonthLedger) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for client in ledger.clients:
        counts[client.state] += 1
    return dict(sorted(counts.items()))


def _place(sums: CurrencyTotals, client: ClientMonth) -> None:
    if client.state in POSTED_STATES:
        sums.posted += client.posted_total
    elif client.state == "held":
        sums.held += client.total
    elif client.state != "voided" or client.total:
        sums.outstanding += client.total


def _movers(changes: list[Mapping[str, Any]], invoices: Mapping[int, Any]) -> list[Mover]:
    moved = [c for c in changes if c.get("delta") not in (None, "0.00")]
    moved.sort(key=lambda c: -abs(Decimal(c["delta"])))
    return [
        Mover(
            str(c["client_name"] or c["client_id"]),
            str(c["currency"] or ""),
            Decimal(c["then"] or 0),
            Decimal(c["now"] or 0),
            _why(invoices.get(int(c["client_id"]), {})),
        )
        for c in moved[:MOVERS]
    ]


def _why(invoice: Mapping[str, Any]) -> tuple[str, ...]:
    """The line anomalies that explain a change against last month, in their own words."""
    found = [
        a["message"]
        for line in invoice.get("lines", ())
        for a in line.get("anomalies", ())
        if a["code"] in REASONS
    ]
    return tuple(dict.fromkeys(found))[:3]


def summary_json(summary: MonthSummary) -> dict[str, Any]:
    """`trueup summary --json`."""
    return {
        "month": summary.month,
        "batch_id": summary.batch_id,
        "clients": summary.clients,
        "by_state": summary.states,
        "by_currency": {
            currency: {
                "total": money_json(s.total),
                "cost": money_json(s.cost),
                "margin": money_json(s.margin),
                "margin_percent": None if s.margin_percent is None else str(s.margin_percent),
                "posted": money_json(s.posted),
                "held": money_json(s.held),
                "outstanding": money_json(s.outstanding),
                "leakage": {
                    "under_billed_now_billed": money_json(s.under_billed),
                    "over_billed_now_removed": money_json(s.over_billed),
                },
            }
            for currency, s in sorted(summary.currencies.items())
        },
        "movers": [
            {
                "client_name": m.client_name,
                "currency": m.currency,
                "last_month": money_json(m.then),
                "this_month": money_json(m.now),
                "change": money_json(m.change),
                "why": list(m.why),
            }
            for m in summary.movers
        ],
        "overrides": [
            {"client_name": o.client_name, "code": o.code, "reason": o.reason}
            for o in summary.overrides
        ],
    }
