"""The evidence pack as plain blocks of text: headings, paragraphs and tables of strings.
The HTML page and the PDF are both laid out from these, so they say the same thing. Every string
is written as the export's sheets write a cell (tables.plain_text): names, descriptions and
messages carry what the APIs sent, and an escape, a bell or a bidi override (U+202E shows the
rest backwards) reads as U+FFFD where it was."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from trueup.core.batch.body import AnomalyView
from trueup.core.ledger.month import Posting, told_from
from trueup.core.reports.evidence import EvidencePack, SubscriptionEvidence
from trueup.core.reports.tables import overrider, plain_text
from trueup.core.values.distributors import distributor_name


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # 1: the pack, 2: a subscription


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Grid:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


Block = Heading | Para | Grid


def title(pack: EvidencePack) -> str:
    return plain_text(f"{pack.invoice.client_name} · {pack.month}")


def blocks(pack: EvidencePack) -> list[Block]:
    return [_plain(block) for block in _blocks(pack)]


def _plain(block: Block) -> Block:
    if isinstance(block, Grid):
        rows = [tuple(plain_text(cell) for cell in row) for row in block.rows]
        return replace(block, title=plain_text(block.title), rows=rows)
    return replace(block, text=plain_text(block.text))


def _blocks(pack: EvidencePack) -> list[Block]:
    invoice = pack.invoice
    found: list[Block] = [
        Heading(f"{title(pack)} · {_basis(pack)}", 1),
        Para(
            f"Subtotal {_money(invoice.subtotal)} + tax {_money(invoice.tax)} = "
            f"{_money(invoice.total)} {invoice.currency}; cost {_money(invoice.cost)}, margin "
            f"{_money(invoice.margin)}"
        ),
    ]
    if pack.basis != "current":
        found.append(
            Para(
                "The seat timelines, distributor invoice items and Halo lines below (and "
                "records.json) are read from the store as it is now."
            )
        )
    found.append(
        Grid(
            "Every line and its arithmetic",
            ("Line", "Amount", "How it was computed"),
            [(li.description, _money(li.amount), li.explanation) for li in invoice.lines],
        )
    )
    if invoice.anomalies:
        found.append(
            Grid(
                "What was flagged",
                ("Code", "Severity", "Message", "Let through because"),
                [(a.code, a.severity, a.message, _let_through(pack, a)) for a in invoice.anomalies],
            )
        )
    for subscription in pack.subscriptions:
        found += _subscription(subscription)
    found += _postings(pack) if pack.postings else [Para("Nothing was posted for this month.")]
    return found


def _let_through(pack: EvidencePack, anomaly: AnomalyView) -> str:
    """The override's reason, who gave it and when, as the export's Anomalies sheet reads it."""
    if anomaly.overridden is None:
        return ""
    who = overrider(pack.overriders, pack.invoice.client_id, anomaly)
    if who is None:
        return anomaly.overridden
    return f"{anomaly.overridden} (by {who.by}, {who.at:%Y-%m-%d %H:%M} UTC)"


def _basis(pack: EvidencePack) -> str:
    batch = f"batch {pack.batch_id}"
    if pack.basis == "posted":
        adjustments = [p.reference for p in pack.postings if p.adjusts and p.state == "posted"]
        if adjustments:
            return f"{batch}, as posted with its adjustments ({', '.join(adjustments)})"
        return f"{batch}, as posted (the batch that posted it)"
    if pack.basis == "stored":  # as the closed month's other reports say it
        known = told_from(pack.batch_id, pack.built_at)
        return f"{known} (the last batch stored for this closed month)"
    return f"{batch}, as the store is now"


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _quantity(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.normalize():f}"


def _subscription(s: SubscriptionEvidence) -> list[Block]:
    who = distributor_name(s.subscription_id)  # Pax8, Partner Center, Sherweb ...
    return [
        Heading(f"{s.product} ({who} subscription {s.subscription_id})", 2),
        Grid(
            f"Seats through the month ({who} history)",
            ("From", "To", "Seats", "Status", "What changed"),
            [
                (str(e.start), str(e.end), _quantity(e.quantity), e.status, e.note)
                for e in s.timeline
            ],
        ),
        Grid(
            f"{who} invoice items behind the cost",
            ("Invoice", "Status", "Period", "Qty", "Cost", "Charge"),
            [
                (
                    item.invoice_id,
                    item.invoice_status or "",
                    f"{item.start_period} – {item.end_period}",
                    _quantity(item.quantity),
                    _money(item.cost_total),
                    _money(item.total),
                )
                for item in s.cost_items
            ],
        ),
        Grid(
            f"Halo lines compared (seat diff: {s.diff_status or '-'})",
            ("Line", "Description", "Qty", "Price"),
            [
                (str(h.line_id), h.description or "", _quantity(h.quantity), _money(h.unit_price))
                for h in s.halo_lines
            ],
        ),
    ]


def _postings(pack: EvidencePack) -> list[Block]:
    """Each document sent, then what they bill the month together (the ledger's posted total)."""
    grid = Grid(
        "What was posted",
        ("Reference", "Where", "Number", "State", "Amount", "When, who"),
        [
            (
                p.reference,
                p.destination if p.document == "invoice" else f"{p.destination} ({p.document})",
                p.document_number or p.document_id or "",
                _state(p),
                _money(p.amount),
                ", ".join(filter(None, (_when(p.at), p.by))),
            )
            for p in pack.postings
        ],
    )
    found: list[Block] = [grid]
    for p in pack.postings:
        if p.billed is not None and p.state == "posted":
            # A recurring true-up's one-off document is not what the month is billed.
            found.append(
                Para(
                    f"{p.reference} at {p.destination} holds the month's difference and usage "
                    f"({_money(p.amount)}); with the recurring invoice it trued up, it bills the "
                    f"month {_money(p.billed)}."
                )
            )
    posted = sum(
        (p.amount if p.billed is None else p.billed for p in pack.postings if p.state == "posted"),
        Decimal(0),
    )
    currency = pack.postings[0].currency
    found.append(Para(f"Posted for the month, voided documents aside: {_money(posted)} {currency}"))
    return found


def _state(posting: Posting) -> str:
    """Its state, a void with when and who: the row's own time is when it was posted; a Xero
    draft said so (at the destination, not issued to the client), as `trueup month` says it."""
    if posting.state != "voided" or not posting.voided_at:
        return f"{posting.state} (draft)" if posting.draft else posting.state
    by = f" by {posting.voided_by}" if posting.voided_by else ""
    return f"voided {_when(posting.voided_at)}{by}"


def _when(at: str | None) -> str:
    """A journal time (ISO, UTC) as the product writes one: 2026-11-21 09:12 UTC."""
    return f"{at[:16].replace('T', ' ')} UTC" if at else ""
