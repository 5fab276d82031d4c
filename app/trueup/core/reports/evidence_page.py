"""The evidence pack laid out with Rich and saved as one self-contained HTML page (Rich's own
export), the raw records beside it as JSON. Names are data: always Text, never markup."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from trueup.core.reports.evidence import EvidencePack, SubscriptionEvidence

WIDTH = 120


def write_pack(pack: EvidencePack, folder: Path) -> list[Path]:
    """evidence.html and records.json in `folder` (made if missing); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    console = Console(record=True, width=WIDTH, file=io.StringIO(), color_system="truecolor")
    for part in renderables(pack):
        console.print(part)
    page, records = folder / "evidence.html", folder / "records.json"
    page.write_text(console.export_html(inline_styles=True), encoding="utf-8")
    records.write_text(json.dumps(pack.records, indent=2, default=str) + "\n", encoding="utf-8")
    return [page, records]


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _table(title: str, *headers: str) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def renderables(pack: EvidencePack) -> list[RenderableType]:
    invoice = pack.invoice
    source = "as posted (the batch that posted it)" if pack.from_posting else "as the store is now"
    head = Text(f"{invoice.client_name} · {pack.month} · batch {pack.batch_id}, {source}\n")
    head.stylize("bold")
    head.append(
        f"Subtotal {_money(invoice.subtotal)} + tax {_money(invoice.tax)} = "
        f"{_money(invoice.total)} {invoice.currency}; cost {_money(invoice.cost)}, margin "
        f"{_money(invoice.margin)}"
    )
    parts: list[RenderableType] = [head]
    lines = _table("Every line and its arithmetic", "Line", "Amount", "How it was computed")
    for line in invoice.lines:
        lines.add_row(Text(line.description), _money(line.amount), Text(line.explanation))
    parts.append(lines)
    if invoice.anomalies:
        found = _table("What was flagged", "Code", "Severity", "Message", "Let through because")
        for a in invoice.anomalies:
            found.add_row(a.code, a.severity, Text(a.message), Text(a.overridden or ""))
        parts.append(found)
    for subscription in pack.subscriptions:
        parts += _subscription(subscription)
    sent = _table("What was posted", "Reference", "Where", "Number", "State", "Amount", "When, who")
    for p in pack.postings:
        when = f"{(p.at or '')[:16].replace('T', ' ')} {p.by}"
        number = p.document_number or p.document_id or ""
        sent.add_row(p.reference, p.destination, number, p.state, _money(p.amount), when)
    parts.append(sent if pack.postings else Text("Nothing was posted for this month."))
    return parts


def _subscription(s: SubscriptionEvidence) -> list[RenderableType]:
    title = Text(f"\n{s.product} (Pax8 subscription {s.subscription_id})", style="bold")
    timeline = _table("Seats through the month (Pax8 history)", "From", "To", "Seats", "Status",
                      "What changed")  # fmt: skip
    for entry in s.timeline:
        timeline.add_row(str(entry.start), str(entry.end), f"{entry.quantity.normalize():f}",
                         entry.status, Text(entry.note))  # fmt: skip
    items = _table("Pax8 invoice items behind the cost", "Invoice", "Status", "Period", "Qty",
                   "Cost", "Charge")  # fmt: skip
    for item in s.cost_items:
        period = f"{item.start_period} – {item.end_period}"
        quantity = "-" if item.quantity is None else f"{item.quantity.normalize():f}"
        items.add_row(item.invoice_id, item.invoice_status or "", period, quantity,
                      _money(item.cost_total), _money(item.total))  # fmt: skip
    halo = _table(f"Halo lines compared (seat diff: {s.diff_status or '-'})", "Line",
                  "Description", "Qty", "Price")  # fmt: skip
    for line in s.halo_lines:
        price = "-" if line.unit_price is None else f"{line.unit_price:,.2f}"
        halo.add_row(str(line.line_id), Text(line.description or ""),
                     f"{line.quantity.normalize():f}", price)  # fmt: skip
    return [title, timeline, items, halo]
