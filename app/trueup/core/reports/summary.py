"""The month for a manager: totals and margin per currency; posted, held and outstanding; the
leakage the seat diff found (seats Halo billed too few of, now billed; too many, now removed;
of a closed month, what its invoices corrected, as known then: history.py);
the clients whose totals moved most against last month and why, ranked within each currency;
the overrides with their reasons; the 12 months to this one with the seat mismatches their
invoices corrected, at the prices they bill (history.py; the month's leakage above is the seat
diff's, at Pax8's price). Figures only: the fronts lay them out (text, Markdown, HTML)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from trueup.core.batch.body import StoredInvoice
from trueup.core.diff.seats import seat_diff
from trueup.core.ledger.month import ClientMonth, MonthLedger, month_ledger
from trueup.core.reports.history import ZERO, Figures, History, month_history
from trueup.core.store.database import Database
from trueup.core.store.postings import IN_FLIGHT
from trueup.core.values.money import money_json
from trueup.core.values.months import Month

# The clients whose totals moved most, shown for each currency: a change is told in its own
# currency, so clients are ranked only against others billed in it (¥50,000 is about $330;
# ranked together, a yen or forint client crowded out every dollar mover).
MOVERS = 5
POSTED_STATES = ("posted", "adjusted")
# A client's documents that stand at a destination, or may: posted, or on their way.
_STANDING = {"posted", *(state.lower() for state in IN_FLIGHT)}
# The anomalies that say why a client's total moved against last month.
REASONS = ("QTY_SWING", "PRICE_CHANGED", "USAGE_ESTIMATED", "INVOICE_REISSUED")


@dataclass
class CurrencyTotals(Figures):
    """The month's figures; its leakage is the seat diff's, a month's worth of each seat (of a
    closed month: its invoices' corrections, at the prices billed)."""

    posted: Decimal = ZERO
    held: Decimal = ZERO
    outstanding: Decimal = ZERO  # neither posted nor held: still to decide or send
    to_adjust: Decimal = ZERO  # what posted clients bill otherwise now: their adjustments


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
    client_id: int  # apart from the name: two clients may share one


@dataclass(frozen=True)
class Voided:
    """A client whose month was voided and not posted again: billed nothing, for now."""

    client_id: int
    client_name: str
    currency: str
    total: Decimal  # what the month's batch bills now
    references: tuple[str, ...]  # the documents voided


@dataclass
class MonthSummary:
    month: Month
    batch_id: str
    clients: int
    states: dict[str, int]
    by_month: History  # the 12 months to this one, from their invoices
    known_on: datetime | None = None  # a closed month: when its batch was built (MonthLedger)
    currencies: dict[str, CurrencyTotals] = field(default_factory=dict)
    movers: list[Mover] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    voided: list[Voided] = field(default_factory=list)  # by name


def month_summary(
    db: Database, month: Month, *, today: date, closing: Month | None = None
) -> MonthSummary:
    """From the month ledger's batch: a closed month's last stored (`closing`: month_ledger)."""
    ledger = month_ledger(db, month, today=today, closing=closing)
    stored = ledger.batch
    by_month = month_history(db, month, batch_id=ledger.batch_id)
    summary = MonthSummary(
        month, ledger.batch_id, len(ledger.clients), _states(ledger), by_month, ledger.known_on
    )
    invoices = stored.by_client
    for client in ledger.clients:
        sums = summary.currencies.setdefault(client.currency, CurrencyTotals())
        invoice = invoices.get(client.client_id)  # none: the client left the month's batch
        sums.total += client.total
        if invoice is not None:
            sums.subtotal += invoice.subtotal
            sums.cost += invoice.cost or ZERO
        _place(sums, client)
    if ledger.known_on is None:
        _seat_diff_leakage(summary, db, month, today)
    else:  # today's Halo lines no longer say what the month's were
        for currency, figures in by_month.figures.get(month, {}).items():
            sums = summary.currencies.setdefault(currency, CurrencyTotals())
            sums.under_billed, sums.over_billed = figures.under_billed, figures.over_billed
            sums.leakage_known = figures.leakage_known
    summary.voided = [
        Voided(
            client.client_id,
            client.client_name,
            client.currency,
            client.total,
            tuple(p.reference for p in client.postings if p.state == "voided"),
        )
        for client in ledger.clients
        if _voided_since(client)
    ]
    summary.movers = _movers(stored.head.get("changes") or [], invoices)
    names = {c.client_id: c.client_name for c in ledger.clients}
    # One row per client, code and reason: an error let through on several lines at once
    # (one override each) is one decision.
    summary.overrides = list(
        dict.fromkeys(
            Override(names.get(client, str(client)), code, reason, client)
            for (client, code, _), reason in sorted(
                stored.overrides.items(), key=lambda kv: kv[0][:2]
            )
        )
    )
    return summary


def _seat_diff_leakage(summary: MonthSummary, db: Database, month: Month, today: date) -> None:
    """An open month's leakage: the seat diff's, at Pax8's prices, a month's worth."""
    for row in seat_diff(db, month, today=today):
        sums = summary.currencies.setdefault(row.currency, CurrencyTotals())
        if row.status in ("under", "missing_in_halo"):
            sums.under_billed += -row.monthly_impact
        elif row.status == "over":
            sums.over_billed += row.monthly_impact


def _states(ledger: MonthLedger) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for client in ledger.clients:
        counts[client.state] += 1
    return dict(sorted(counts.items()))


def _voided_since(client: ClientMonth) -> bool:
    """Voided and nothing posted or on its way since: told by its documents, not its state,
    which reads `approved` (or held, ready) again once the operator decides on it anew."""
    states = {p.state for p in client.postings}
    return "voided" in states and not states & _STANDING


def _place(sums: CurrencyTotals, client: ClientMonth) -> None:
    if client.state in POSTED_STATES:
        sums.posted += client.posted_total
        sums.to_adjust += client.difference
    elif client.state == "held":
        sums.held += client.total
    elif client.state != "voided" or client.total:
        sums.outstanding += client.total


def _movers(changes: list[Mapping[str, Any]], invoices: Mapping[int, StoredInvoice]) -> list[Mover]:
    """The MOVERS largest changes of each currency, currencies in the order the summary lays
    out its totals (by code), each currency's largest change first."""
    moved = [c for c in changes if c.get("delta") not in (None, "0.00")]
    moved.sort(key=lambda c: (str(c["currency"] or ""), -abs(Decimal(c["delta"]))))
    shown: dict[str, int] = defaultdict(int)
    kept = []
    for change in moved:
        currency = str(change["currency"] or "")
        if shown[currency] < MOVERS:
            shown[currency] += 1
            kept.append(change)
    return [
        Mover(
            str(c["client_name"] or c["client_id"]),
            str(c["currency"] or ""),
            Decimal(c["then"] or 0),
            Decimal(c["now"] or 0),
            _why(invoices.get(int(c["client_id"]))),
        )
        for c in kept
    ]


def _why(invoice: StoredInvoice | None) -> tuple[str, ...]:
    """The line anomalies that explain a change against last month, in their own words."""
    lines = invoice.lines if invoice is not None else ()
    found = [a.message for line in lines for a in line.anomalies if a.code in REASONS]
    return tuple(dict.fromkeys(found))[:3]


def summary_json(summary: MonthSummary) -> dict[str, Any]:
    """`trueup summary --json`; `by_month`: each of the 12 months, null with no invoice."""
    by_month = summary.by_month
    return {
        "month": summary.month,
        "batch_id": summary.batch_id,
        "as_known_on": summary.known_on.isoformat() if summary.known_on else None,
        "clients": summary.clients,
        "by_state": summary.states,
        "by_currency": {
            currency: _figures_json(s, "leakage")
            | {
                "posted": money_json(s.posted),
                "held": money_json(s.held),
                "outstanding": money_json(s.outstanding),
                "to_adjust": money_json(s.to_adjust),
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
            {
                "client_id": o.client_id,
                "client_name": o.client_name,
                "code": o.code,
                "reason": o.reason,
            }
            for o in summary.overrides
        ],
        "voided": [
            {
                "client_id": v.client_id,
                "client_name": v.client_name,
                "currency": v.currency,
                "total": money_json(v.total),
                "references": list(v.references),
            }
            for v in summary.voided
        ],
        "by_month": [
            {
                "month": month,
                "by_currency": {
                    currency: _figures_json(f, "leakage_recovered")
                    for currency, f in sorted(by_month.figures[month].items())
                }
                if month in by_month.figures
                else None,
            }
            for month in by_month.months
        ],
    }


def _figures_json(figures: Figures, leakage: str) -> dict[str, Any]:
    percent = figures.margin_percent
    return {
        "total": money_json(figures.total),
        "cost": money_json(figures.cost),
        "margin": money_json(figures.margin),
        "margin_percent": None if percent is None else str(percent),
        # null: a batch built before its lines carried what they recovered (history.py)
        leakage: {
            "under_billed_now_billed": money_json(figures.under_billed),
            "over_billed_now_removed": money_json(figures.over_billed),
        }
        if figures.leakage_known
        else None,
    }
