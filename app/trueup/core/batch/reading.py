"""Reading a stored batch for the workbench without parsing the whole body in Python.

A 2,000-client batch is ~25 MB of JSON: `json.loads` of it takes most of a second. SQLite's
JSON functions read the few fields a list needs in C, and one invoice is parsed only when it
is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, select

from trueup.core.batch.body import InvoiceView, StoredInvoice, invoice_view, parsed_body
from trueup.core.batch.rows import invoice_at, invoice_of
from trueup.core.batch.stored import BatchError, BatchSummary, list_batches, no_batch
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.values.months import Month
from trueup.core.values.text import visible

_BATCHES, _ROWS = m.table_of(m.InvoiceBatch), m.table_of(m.BatchInvoice)


@dataclass(frozen=True)
class InvoiceRow:
    """One client's invoice as the Batch screen lists it."""

    client_id: int
    client_name: str
    currency: str
    total: Decimal
    cost: Decimal | None
    margin_percent: Decimal | None
    errors: int  # standing: overridden errors do not count
    warnings: int
    infos: int
    state: str
    position: int  # in the body's invoices, to read it alone

    def count(self, severity: str) -> int:
        return {"error": self.errors, "warning": self.warnings, "info": self.infos}[severity]

    @property
    def open_errors(self) -> int:
        return self.errors


@dataclass(frozen=True)
class BatchOverview:
    batch_id: str
    month: str
    anomalies: list[dict[str, Any]]  # of the whole batch
    totals: dict[str, Any]
    usage: list[dict[str, Any]]
    usage_lines: list[dict[str, Any]]
    invoices: list[InvoiceRow]
    states: dict[int, str]
    overrides: dict[tuple[int, str, str | None], str]
    compared_with: str | None  # the earlier batch of the same clients
    changes: list[dict[str, Any]]  # per client: the total then and now
    # No batch of last month was stored when this one was built, so PRICE_CHANGED and
    # QTY_SWING (against last month's lines) were not checked.
    last_month_missing: bool = False

    @property
    def last_month_note(self) -> str | None:
        """What the batch did not check for want of last month's batch, and how to have it."""
        if not self.last_month_missing:
            return None
        before = Month(self.month).shifted(-1)
        return (
            f"No batch of {before.name} was stored: prices and seats were not compared with "
            f"last month's (PRICE_CHANGED, QTY_SWING). `trueup batch --month {before}` stores "
            "one; this month's batch then builds again with them."
        )


def batch_month(conn: Connection, batch_id: str) -> str:
    """The month of a stored batch; BatchError when there is no such batch."""
    month = conn.execute(select(_BATCHES.c.month).where(_BATCHES.c.id == batch_id)).scalar()
    if month is None:
        raise BatchError(f"no batch {batch_id}; `trueup batches` lists them")
    return str(month)


def same_month_batches(batch_id: str) -> Select[tuple[str]]:
    """The ids of the batches of batch `batch_id`'s month with its clients (itself too): where
    an approval of one of its invoices may have been given (approval.month_approvals)."""
    this = _BATCHES.alias("this")
    return select(_BATCHES.c.id).join(
        this,
        (this.c.id == batch_id)
        & (this.c.month == _BATCHES.c.month)
        & (this.c.clients == _BATCHES.c.clients),
    )


def batch_overview(db: Database, batch_id: str) -> BatchOverview:
    with db.read() as conn:
        head = conn.exec_driver_sql(
            "SELECT month, json_extract(body, '$.anomalies', '$.totals', '$.usage', "
            f"'$.usage_lines', '$.summary', '$.compared_with', '$.changes'), "
            f"inputs IS NOT NULL AND json_extract(inputs, '$.previous') IS NULL FROM {_BATCHES} "
            "WHERE id = ?",
            (batch_id,),
        ).first()
        if head is None:
            raise no_batch(batch_id)
        states, overrides = _reviews(conn, batch_id)
        anomalies, totals, usage, usage_lines, summary, compared, changes = parsed_body(head[1])
        reviewed = {client for client, _, _ in overrides}
        rows = []
        for position, invoice in enumerate(summary):
            client, counts = invoice["client_id"], invoice["anomalies"]
            row = InvoiceRow(
                client,
                # Written out for the screens: a batch built before bcb6310 holds it as sent.
                visible(invoice["client_name"]),
                invoice["currency"],
                Decimal(invoice["total"]),
                _decimal(invoice["cost"]),
                _decimal(invoice["margin_percent"]),
                counts["error"],
                counts["warning"],
                counts["info"],
                states.get(client, "draft"),
                position,
            )
            if client in reviewed:  # count them from the invoice itself, with the word read
                text = invoice_at(conn, batch_id, position)
                assert text is not None  # the summary lists the batch's own invoices
                view = invoice_view(StoredInvoice.of(parsed_body(text)), states, overrides)
                row = replace(row, errors=view.count("error"))
            rows.append(row)
    return BatchOverview(
        batch_id,
        head[0],
        anomalies,
        totals,
        usage,
        usage_lines,
        rows,
        states,
        overrides,
        compared,
        changes,
        bool(head[2]),
    )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def batch_invoice(db: Database, batch_id: str, row: InvoiceRow) -> InvoiceView:
    """One invoice of a batch, read alone, with its state and the overrides on it, for the
    workbench: its name and its lines' descriptions written out."""
    view = _invoice(db, batch_id, row)
    # A batch built before bcb6310 holds them raw (client_invoice's pack writes its own U+FFFD).
    lines = tuple(replace(line, description=visible(line.description)) for line in view.lines)
    return replace(view, client_name=visible(view.client_name), lines=lines)


def _invoice(db: Database, batch_id: str, row: InvoiceRow) -> InvoiceView:
    """One invoice of a batch, read alone, as built, with its state and the overrides on it."""
    with db.read() as conn:
        text = invoice_at(conn, batch_id, row.position)
        states, overrides = _reviews(conn, batch_id)
    if text is None:
        raise BatchError(f"client {row.client_id} has no invoice in batch {batch_id}")
    return invoice_view(StoredInvoice.of(parsed_body(text)), states, overrides)


def _reviews(
    conn: Connection, batch_id: str
) -> tuple[dict[int, str], dict[tuple[int, str, str | None], str]]:
    states: dict[int, str] = dict(
        conn.exec_driver_sql(
            f"SELECT client_id, state FROM {m.table_of(m.BatchInvoiceState)} WHERE batch_id = ?",
            (batch_id,),
        ).all()
    )
    overrides = {
        (client, code, subscription): reason
        for client, code, subscription, reason in conn.exec_driver_sql(
            "SELECT client_id, code, subscription_id, reason "
            f"FROM {m.table_of(m.BatchOverride)} WHERE batch_id = ? ORDER BY id",
            (batch_id,),
        )
    }
    return states, overrides


def client_invoice(db: Database, batch_id: str, client_id: int) -> InvoiceView:
    """A client's invoice in a batch, found by its client id."""
    with db.read() as conn:
        found = invoice_of(conn, batch_id, client_id)
    if found is None:
        raise BatchError(f"client {client_id} has no invoice in batch {batch_id}")
    probe = InvoiceRow(client_id, "", "", Decimal(0), None, None, 0, 0, 0, "", found[0])
    return _invoice(db, batch_id, probe)


def client_batches(db: Database, month: str, client_id: int) -> list[BatchSummary]:
    """The month's stored batches with an invoice for the client, newest first."""
    with db.read() as conn:
        listing = set(
            conn.execute(
                select(_ROWS.c.batch_id)
                .join(_BATCHES, _BATCHES.c.id == _ROWS.c.batch_id)
                .where(_BATCHES.c.month == month, _ROWS.c.client_id == client_id)
            ).scalars()
        )
    return [b for b in list_batches(db, month) if b.batch_id in listing]
