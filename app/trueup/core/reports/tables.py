"""The month as tables an accountant can filter: invoices, lines, anomalies and overrides,
usage, changes against last month, and the posting journal. Typed cells (money, numbers,
percentages, text) so each writer shows them as what they are; no file format here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select

from trueup.core.ledger.month import ClientMonth, month_ledger
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.postings import month_entries
from trueup.core.values.months import Month

Kind = Literal["text", "money", "number", "percent", "integer"]


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


def month_tables(db: Database, month: Month, *, today: date) -> list[Table]:
    """Every table of the month's workbook, from the month's batch for the store as it is."""
    ledger = month_ledger(db, month, today=today)
    stored = ledger.batch
    body = stored.body
    who = _override_authors(db, ledger.batch_id)
    return [
        _invoices(ledger.clients, {int(i["client_id"]): i for i in body["invoices"]}),
        _lines(body["invoices"]),
        _anomalies(body, stored.overrides, who),
        _usage(body.get("usage_lines") or []),
        _changes(body.get("changes") or []),
        _journal(db, month),
    ]


def _money(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _invoices(clients: Sequence[ClientMonth], invoices: Mapping[int, Any]) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("State"), Column("Currency"),
        Column("Subtotal", "money"), Column("Tax", "money"), Column("Total", "money"),
        Column("Cost", "money"), Column("Margin", "money"), Column("Margin %", "percent"),
        Column("Posted", "money"), Column("Difference", "money"), Column("Destination"),
        Column("Reference"), Column("Number there"), Column("Settled"),
    )  # fmt: skip
    rows = []
    for client in clients:
        invoice = invoices.get(client.client_id, {})
        live = [p for p in client.postings if p.state == "posted"]
        percent = _money(invoice.get("margin_percent"))  # 58.96 for 58.96%
        rows.append((
            client.client_id, client.client_name, client.state, client.currency,
            _money(invoice.get("subtotal")), _money(invoice.get("tax")), client.total,
            _money(invoice.get("cost")), _money(invoice.get("margin")),
            percent,
            client.posted_total, client.difference,
            ", ".join(sorted({p.destination for p in live})),
            ", ".join(p.reference for p in live),
            ", ".join(p.document_number or p.document_id or "" for p in live),
            "yes" if client.settled else "no: " + "; ".join(client.unsettled),
        ))  # fmt: skip
    return Table("Invoices", columns, rows)


def _lines(invoices: Iterable[Any]) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("Kind"), Column("SKU"),
        Column("Description"), Column("Quantity", "number"), Column("Unit price", "money"),
        Column("Amount", "money"), Column("Cost", "money"), Column("Currency"),
        Column("Policy"), Column("Explanation"),
    )  # fmt: skip
    rows = [
        (
            int(i["client_id"]),
            i["client_name"],
            line["kind"],
            line.get("sku") or "",
            line["description"],
            _money(line["quantity"]),
            _money(line["unit_price"]),
            _money(line["amount"]),
            _money(line["cost"]),
            line.get("currency") or i["currency"],
            line["policy"],
            line["explanation"],
        )
        for i in invoices
        for line in i["lines"]
    ]
    return Table("Lines", columns, rows)


def _anomalies(
    body: Mapping[str, Any],
    overrides: Mapping[tuple[int, str, str | None], str],
    who: Mapping[tuple[int, str, str | None], str],
) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("Where"), Column("Subscription"),
        Column("Code"), Column("Severity"), Column("Message"), Column("Override reason"),
        Column("Overridden by"),
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
        )
        for a in body.get("anomalies") or []
    ]
    for invoice in body["invoices"]:
        client_id, name = int(invoice["client_id"]), invoice["client_name"]
        found: list[tuple[Mapping[str, Any] | None, Mapping[str, Any]]] = [
            (None, a) for a in invoice["anomalies"]
        ]
        found += [(line, a) for line in invoice["lines"] for a in line["anomalies"]]
        seen = set()
        for line, a in found:
            subscription = (line or {}).get("subscription_id") or a.get("subscription_id")
            key = (client_id, a["code"], subscription)
            if (key, a["message"]) in seen:
                continue  # an invoice lists its lines' anomalies too
            seen.add((key, a["message"]))
            rows.append((
                client_id, name, "line" if line else "invoice", subscription or "", a["code"],
                a["severity"], a["message"], overrides.get(key, ""), who.get(key, ""),
            ))  # fmt: skip
    return Table("Anomalies", columns, rows)


def _usage(lines: Iterable[Any]) -> Table:
    columns = (
        Column("Client ID", "integer"), Column("Client"), Column("Subscription"),
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
        Column("Reference"), Column("State"), Column("Id there"), Column("Number there"),
        Column("Amount", "money"), Column("Currency"), Column("When"), Column("By"),
        Column("Batch"),
    )  # fmt: skip
    with db.read() as conn:
        entries = month_entries(conn, month)
    rows = [
        (
            e.client_id,
            e.destination,
            "adjustment" if e.adjustment else "invoice",
            e.reference,
            e.state.lower(),
            e.remote_id or "",
            e.remote_number or "",
            e.total,
            e.currency,
            e.at.isoformat(timespec="seconds") if e.at else "",
            e.by,
            e.batch_id,
        )
        for e in entries
    ]
    return Table("Journal", columns, rows)


def _override_authors(db: Database, batch_id: str) -> dict[tuple[int, str, str | None], str]:
    table = m.table_of(m.BatchOverride)
    with db.read() as conn:
        rows = conn.execute(
            select(table.c.client_id, table.c.code, table.c.subscription_id, table.c.by)
            .where(table.c.batch_id == batch_id)
            .order_by(table.c.id)
        ).all()
    return {(r.client_id, r.code, r.subscription_id): r.by for r in rows}
