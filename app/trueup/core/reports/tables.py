"""The month as tables an accountant can filter: invoices, lines, anomalies and overrides,
usage, changes against last month, and the posting journal. Typed cells (money, numbers,
percentages, text, ids) so each writer shows them as what they are; no file format here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select

from trueup.core.batch.body import SEVERITIES, AnomalyView, StoredInvoice, override_reason
from trueup.core.ledger.month import ClientMonth, month_ledger
from trueup.core.posting.sink import document_kind
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.postings import month_entries
from trueup.core.values.months import Month
from trueup.core.values.text import written_out

# "id": text that names a record elsewhere and may read as a number (a Pax8 subscription id, a
# Halo id, a document number, a SKU like 0001): kept text where typed into again, its zeros too.
Kind = Literal["text", "id", "money", "number", "percent", "integer"]


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    """One sheet (or CSV file). A money cell's currency is the row's `currency` column."""

    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]

    @property
    def currency_at(self) -> int | None:
        headers = [c.header for c in self.columns]
        return headers.index("Currency") if "Currency" in headers else None

    def column(self, header: str) -> list[Any]:
        """The cells under `header`, a row each."""
        at = [c.header for c in self.columns].index(header)
        return [row[at] for row in self.rows]


# What a terminal is shown escaped (values.text.visible: the C0 and C1 controls, the bidi marks
# and overrides, the characters that draw nothing) a spreadsheet shows as nothing, or the cell's
# text backwards (U+202E). Each is written as U+FFFD where it was, so the cell holds none and
# reads as something was there; a line break is kept, a cell may hold more than one line.
def plain_text(text: str) -> str:
    """A text cell as the writers write it: no control or invisible character (above)."""
    return written_out(text, lambda _: "\ufffd", keep="\n")


def month_tables(
    db: Database, month: Month, *, today: date, closing: Month | None = None
) -> list[Table]:
    """Every table of the month's workbook, from the month ledger's batch: the month's batch for
    the store as it is, a closed month's last stored (`closing`: ledger.month.month_ledger)."""
    ledger = month_ledger(db, month, today=today, closing=closing)
    stored = ledger.batch
    who = overriders(db, ledger.batch_id)
    return [
        _invoices(ledger.clients, stored.by_client, ledger.told_from),
        _lines(stored.invoices),
        _anomalies(stored.head.get("anomalies") or [], stored.invoices, stored.overrides, who),
        _usage(stored.head.get("usage_lines") or []),
        _changes(stored.head.get("changes") or []),
        _journal(db, month),
    ]


def _money(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _invoices(
    clients: Sequence[ClientMonth], invoices: Mapping[int, StoredInvoice], told_from: str
) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("State"), Column("Currency"),
        Column("Subtotal", "money"), Column("Tax", "money"), Column("Total", "money"),
        Column("Cost", "money"), Column("Margin", "money"), Column("Margin %", "percent"),
        Column("Posted", "money"), Column("Difference", "money"), Column("Destination"),
        Column("Reference", "id"), Column("Number there", "id"), Column("Settled"),
        Column("Voided"),
        Column("Told from"),
    )  # fmt: skip
    rows = []
    for client in clients:
        invoice = invoices.get(client.client_id)  # none: the client left the month's batch
        live = [p for p in client.postings if p.state == "posted"]
        # A voided month names what was voided (its State says so), not nothing.
        live = live or [p for p in client.postings if p.state == "voided"]
        rows.append((
            client.client_id, client.client_name, client.state, client.currency,
            invoice and invoice.subtotal, invoice and invoice.tax, client.total,
            invoice and invoice.cost, invoice and invoice.margin,
            invoice and invoice.margin_percent,  # 58.96 for 58.96%
            client.posted_total, client.difference,
            ", ".join(sorted({p.destination for p in live})),
            ", ".join(p.reference for p in live),
            ", ".join(p.document_number or p.document_id or "" for p in live),
            "yes" if client.settled else "no: " + "; ".join(client.unsettled),
            # Said apart from the State, which reads approved again once the operator decides
            # anew: the chain voided -> re-issued, or what was taken back and not sent again.
            ", ".join(p.reference for p in client.postings if p.state == "voided"),
            # The file travels without the command's output: it says which batch it is of.
            told_from,
        ))  # fmt: skip
    return Table("Invoices", columns, rows)


def _lines(invoices: Iterable[StoredInvoice]) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("Kind"), Column("SKU", "id"),
        Column("Description"), Column("Quantity", "number"), Column("Unit price", "money"),
        Column("Amount", "money"), Column("Cost", "money"), Column("Currency"),
        Column("Policy"), Column("Explanation"),
    )  # fmt: skip
    rows = [
        (
            i.client_id,
            i.client_name,
            line.kind,
            line.sku or "",
            line.description,
            line.quantity,
            line.unit_price_exact,  # quantity x it is the amount (2.05625: the cent reads 2.06)
            line.amount,
            line.cost,
            line.currency,
            line.policy,
            line.explanation,
        )
        for i in invoices
        for line in i.lines
    ]
    return Table("Lines", columns, rows)


def _anomalies(
    of_batch: Iterable[Mapping[str, Any]],
    invoices: Iterable[StoredInvoice],
    overrides: Mapping[tuple[int, str, str | None], str],
    who: Mapping[tuple[int, str, str | None], Overrider],
) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("Where"),
        Column("Subscription", "id"),
        Column("Code"), Column("Severity"), Column("Message"), Column("Override reason"),
        Column("Overridden by"),
        # Said in the header, as an auditor reads the sheet apart from the Journal's offsets.
        Column("Overridden at (UTC)"),
    )  # fmt: skip
    rows: list[tuple[Any, ...]] = [
        (
            None,
            "",
            "batch",
            a.get("subscription_id") or "",
            a["code"],
            a["severity"],
            a["message"],
            "",
            "",
            "",
        )
        for a in of_batch
    ]
    for invoice in invoices:
        client_id, name = invoice.client_id, invoice.client_name
        on_lines = {a for line in invoice.lines for a in line.anomalies}
        # As the batch lists them: errors first, then by code, subscription and message.
        for a in sorted(invoice.anomalies, key=_anomaly_order):
            reason = override_reason(overrides, client_id, a) or ""
            by = overrider(who, client_id, a)
            where = "line" if a in on_lines else "invoice"
            rows.append((
                client_id, name, where, a.subscription_id or "", a.code, a.severity,
                a.message, reason, by.by if reason and by else "",
                # As the Journal's When: ISO 8601 to the second, its +00:00 kept.
                by.at.isoformat(timespec="seconds") if reason and by else "",
            ))  # fmt: skip
    return Table("Anomalies", columns, rows)


def _anomaly_order(anomaly: AnomalyView) -> tuple[int, str, str, str]:
    return (
        SEVERITIES.index(anomaly.severity) if anomaly.severity in SEVERITIES else len(SEVERITIES),
        anomaly.code,
        anomaly.subscription_id or "",
        anomaly.message,
    )


def _usage(lines: Iterable[Any]) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("Subscription", "id"),
        Column("Policy"), Column("Charge", "money"), Column("Cost", "money"), Column("Currency"),
    )  # fmt: skip
    rows = [
        (
            int(u["client_id"]),
            u["client_name"],
            u["subscription_id"],
            u["policy"],
            _money(u["amount"]),
            _money(u["cost"]),
            u["currency"],
        )
        for u in lines
    ]
    return Table("Usage", columns, rows)


def _changes(changes: Iterable[Any]) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("Currency"),
        Column("Last month", "money"), Column("This month", "money"), Column("Change", "money"),
    )  # fmt: skip
    rows = [
        (
            c["client_id"],
            c["client_name"] or "",
            c["currency"] or "",
            _money(c["then"]),
            _money(c["now"]),
            _money(c["delta"]),
        )
        for c in changes
    ]
    return Table("Changes", columns, rows)


def _journal(db: Database, month: Month) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Destination"), Column("Kind"),
        Column("Document"), Column("Reference", "id"), Column("State"), Column("Id there", "id"),
        Column("Number there", "id"),
        Column("Amount", "money"), Column("Bills the month", "money"), Column("Currency"),
        Column("When"), Column("By"),
        Column("Batch", "id"), Column("Voided at"), Column("Voided by"),
        # A Xero draft is at the destination and not issued: the client has not seen it.
        Column("Draft"),
    )  # fmt: skip
    with db.read() as conn:
        entries = month_entries(conn, month)
    rows = [
        (
            e.client_id,
            e.destination,
            "adjustment" if e.adjustment else "invoice",
            document_kind(e.destination, e.total, e.remote_id),  # where "Id there" is looked up
            e.reference,
            e.state.lower(),
            e.remote_id or "",
            e.remote_number or "",
            e.total,
            # Its part of the Invoices sheet's Posted: a recurring true-up's is the invoice it
            # trued the recurring one up to, not its one-off document; a voided one's nothing.
            e.billed if e.state == "POSTED" else Decimal(0),
            e.currency,
            e.at.isoformat(timespec="seconds") if e.at else "",  # posted: when it was sent
            e.by,
            e.batch_id,
            # A voided document's own row says when and by whom, which its period may hang on.
            e.voided_at.isoformat(timespec="seconds") if e.voided_at else "",
            e.voided_by or "",
            "yes" if e.draft else "no",
        )
        for e in entries
    ]
    return Table("Journal", columns, rows)


@dataclass(frozen=True)
class Overrider:
    """Who let an error through, and when (UTC)."""

    by: str
    at: datetime


def overriders(db: Database, batch_id: str) -> dict[tuple[int, str, str | None], Overrider]:
    """The batch's overrides by (client, code, subscription or None), as override_reason keys
    their reasons: the export's Anomalies sheet and the evidence pack read who gave each here."""
    table = m.table_of(m.BatchOverride)
    with db.read() as conn:
        rows = conn.execute(
            select(table.c.client_id, table.c.code, table.c.subscription_id, table.c.by, table.c.at)
            .where(table.c.batch_id == batch_id)
            .order_by(table.c.id)
        ).all()
    return {
        (r.client_id, r.code, r.subscription_id): Overrider(r.by, r.at.replace(tzinfo=UTC))
        for r in rows
    }


def overrider(
    found: Mapping[tuple[int, str, str | None], Overrider], client_id: int, anomaly: AnomalyView
) -> Overrider | None:
    """Who let the anomaly through: its line's override, else the whole invoice's (as
    override_reason finds the reason)."""
    key = (client_id, anomaly.code)
    return found.get((*key, anomaly.subscription_id)) or found.get((*key, None))
