"""Stored batches: the inputs that name a batch (batch/build.py bills it), and a stored batch
read back: its head, its invoices from their digests (batch/rows.py), the operator's word on it.
Nothing here bills, so reading what is stored needs none of the engine."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, select

from trueup.core.batch.body import StoredInvoice, parsed_body
from trueup.core.batch.rows import body_bytes, invoice_texts, stored_invoices
from trueup.core.errors import TrueupError
from trueup.core.rules.in_force import rules_id_in_force
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.values.months import Month, reference_day


class BatchError(TrueupError, ValueError):
    """A batch cannot be built or read as asked (an unknown client, no such batch); the message
    says which."""


STATES = ("draft", "held", "ready")

# The billing code is an input too: a stored batch is reused while its inputs are the same, so
# a change that makes the same inputs give other bytes must come with a new number here (a
# test pins the demo's batch to it). Batches built by other code are then built again.
ENGINE = 20


_BATCHES = m.table_of(m.InvoiceBatch)
_ENTRIES = m.table_of(m.PostingEntry)
_ENTRY = _ENTRIES.alias("entry")
_APPROVALS = m.table_of(m.Approval)


@dataclass(frozen=True)
class BatchInputs:
    """Everything a batch's content depends on; its id is a hash of these."""

    engine: int
    month: str
    clients: tuple[int, ...]  # as asked; () = every mapped client
    sync_runs: dict[str, int | None]  # source -> the latest successful sync run
    rules_id: int | None
    mapping_change: int | None
    counted_on: str  # the day Pax8 seats are counted on (billing-rules §9)
    previous: str | None  # the batch of the month before whose lines PRICE_CHANGED compares to
    compared: str | None  # the earlier batch of the same clients the changes are against

    @property
    def batch_id(self) -> str:
        text = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"))
        return f"{self.month}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class BatchSummary:
    batch_id: str
    month: str
    created_at: datetime
    created_by: str
    clients: tuple[int, ...]


@dataclass(frozen=True)
class StoredBatch:
    batch_id: str
    month: str
    created_at: datetime
    created_by: str
    clients: tuple[int, ...]
    head: dict[str, Any]  # the batch JSON but its invoices
    invoices: tuple[StoredInvoice, ...]  # in the body's order, each parsed only when read
    states: dict[int, str]  # client -> held | ready (draft when absent)
    overrides: dict[tuple[int, str, str | None], str]  # (client, code, subscription) -> reason

    @cached_property
    def body(self) -> dict[str, Any]:
        """The whole batch JSON as values (contract §3): every invoice parsed."""
        whole = self.head | {"invoices": [invoice.source for invoice in self.invoices]}
        return {key: whole[key] for key in sorted(whole)}

    @cached_property
    def by_client(self) -> dict[int, StoredInvoice]:
        return {invoice.client_id: invoice for invoice in self.invoices}


def batch_inputs(
    conn: Connection, month: str, clients: Sequence[int] | None, today: date, rules_id: int | None
) -> BatchInputs:
    month = Month(month)
    asked = tuple(sorted(set(clients))) if clients is not None else ()
    # A file import that changed nothing leaves the batch as it was (sync/file_import.py).
    runs: dict[str, int] = dict(
        conn.exec_driver_sql(
            f"SELECT source, max(id) FROM {m.table_of(m.SyncRun)} WHERE status = 'ok' "
            "AND (source IN ('pax8', 'halo') OR created + updated + deleted > 0) "
            "GROUP BY source"
        ).all()
    )
    change = conn.exec_driver_sql(f"SELECT max(id) FROM {m.table_of(m.MappingChange)}").scalar()
    imported = {source: run for source, run in runs.items() if source not in ("pax8", "halo")}
    return BatchInputs(
        engine=ENGINE,
        month=month,
        clients=asked,
        # A store with no import names the same inputs, and so the same batch ids, as before.
        sync_runs={"pax8": runs.get("pax8"), "halo": runs.get("halo"), **imported},
        rules_id=rules_id,
        mapping_change=change,
        counted_on=reference_day(month, today).isoformat(),
        **_compared_with(conn, month, asked),
    )


def current_batch(
    db: Database,
    month: str,
    *,
    clients: Sequence[int] | None = None,
    today: date,
    by: str | None = None,
) -> str:
    """The id of the month's batch for the store as it is now: the stored one when its inputs
    have not changed since (the same inputs give the same bytes, so no rebuild), else a new
    one, built and stored."""
    with db.read() as conn:
        batch_id = batch_inputs(conn, month, clients, today, rules_id_in_force(conn)).batch_id
        stored = conn.execute(select(_BATCHES.c.id).where(_BATCHES.c.id == batch_id)).first()
    if stored is not None:
        return batch_id
    # Imported to bill, and only then: a command that reads a stored batch (`trueup month`,
    # `status`) starts without the engine and the facts it reads (bench/README.md).
    from trueup.core.batch.build import build_batch

    return build_batch(db, month, clients=clients, today=today, by=by).batch_id


def _compared_with(conn: Connection, month: Month, asked: tuple[int, ...]) -> dict[str, str | None]:
    """The earlier batches a month's batch compares with (`previous`, `compared`): once an
    invoice of the month is approved, those the batch holding the oldest approval compared
    with, else the newest; and always, for last month, the batch it was last posted from and
    not voided (what its clients were billed). So looking at last month after approving (which
    builds and stores its batch) moves nothing, and lapses no approval with new PRICE_CHANGED or
    QTY_SWING warnings; posting last month does (what was billed is then known)."""
    last_month = month.shifted(-1)
    voided = (
        select(_ENTRIES.c.id)
        .where(
            (_ENTRIES.c.destination == _ENTRY.c.destination)
            & (_ENTRIES.c.reference == _ENTRY.c.reference)
            & (_ENTRIES.c.action == "void")
            & (_ENTRIES.c.state == "POSTED")
        )
        .exists()
    )
    posted = conn.execute(
        select(_ENTRY.c.batch_id)
        .join(_BATCHES, _BATCHES.c.id == _ENTRY.c.batch_id)
        .where(
            (_ENTRY.c.month == last_month)
            & (_ENTRY.c.action == "create")
            & (_ENTRY.c.state == "POSTED")
            & ~voided
        )
        # The whole month's batch before one of chosen clients, then the newest.
        .order_by((_BATCHES.c.clients == "[]").desc(), _ENTRY.c.id.desc())
        .limit(1)
    ).scalar()
    pinned = conn.execute(
        select(_BATCHES.c.inputs)
        .join(_APPROVALS, _APPROVALS.c.batch_id == _BATCHES.c.id)
        .where((_BATCHES.c.month == month) & (_BATCHES.c.clients == json.dumps(list(asked))))
        .order_by(_APPROVALS.c.approved_at)
        .limit(1)
    ).scalar()
    if pinned is not None:
        then = json.loads(pinned)
        return {"previous": posted or then.get("previous"), "compared": then.get("compared")}
    newest = (_BATCHES.c.month.desc(), _BATCHES.c.created_at.desc(), _BATCHES.c.id)
    previous = conn.execute(
        select(_BATCHES.c.id).where(_BATCHES.c.month == last_month).order_by(*newest).limit(1)
    ).scalar()
    compared = conn.execute(
        select(_BATCHES.c.id)
        .where((_BATCHES.c.month < month) & (_BATCHES.c.clients == json.dumps(list(asked))))
        .order_by(*newest)
        .limit(1)
    ).scalar()
    return {"previous": posted or previous, "compared": compared}


def no_batch(batch_id: str) -> BatchError:
    """No batch is stored by that id: a month given for one is told where its batches are."""
    if re.fullmatch(r"\d{4}-\d{2}", batch_id):
        return BatchError(
            f"no batch {batch_id}: a batch id is its month and 16 hex digits; `trueup batch "
            f"--month {batch_id}` prints the month's, `trueup batches --month {batch_id}` lists "
            "those stored"
        )
    return BatchError(f"no batch {batch_id}; `trueup batch --month YYYY-MM` builds one")


def batch_bytes(db: Database, batch_id: str) -> bytes:
    """A stored batch's JSON, as canonical UTF-8 bytes (contract §3)."""
    with db.read() as conn:
        head = conn.execute(select(_BATCHES.c.body).where(_BATCHES.c.id == batch_id)).scalar()
        if head is None:
            raise no_batch(batch_id)
        return body_bytes(head, invoice_texts(conn, batch_id))


def list_batches(db: Database, month: str | None = None) -> list[BatchSummary]:
    """Stored batches, newest first."""
    query = select(
        _BATCHES.c.id,
        _BATCHES.c.month,
        _BATCHES.c.created_at,
        _BATCHES.c.created_by,
        _BATCHES.c.clients,
    )
    if month is not None:
        query = query.where(_BATCHES.c.month == month)
    with db.read() as conn:
        rows = conn.execute(query.order_by(_BATCHES.c.created_at.desc(), _BATCHES.c.id)).all()
    return [
        BatchSummary(r.id, r.month, utc(r.created_at), r.created_by, tuple(json.loads(r.clients)))
        for r in rows
    ]


def load_batch(db: Database, batch_id: str) -> StoredBatch:
    states_t, overrides_t = m.table_of(m.BatchInvoiceState), m.table_of(m.BatchOverride)
    with db.read() as conn:
        row = conn.execute(select(_BATCHES).where(_BATCHES.c.id == batch_id)).first()
        if row is None:
            raise no_batch(batch_id)
        states = {
            r.client_id: r.state
            for r in conn.execute(select(states_t).where(states_t.c.batch_id == batch_id))
        }
        overrides = {
            (r.client_id, r.code, r.subscription_id): r.reason
            for r in conn.execute(
                select(overrides_t)
                .where(overrides_t.c.batch_id == batch_id)
                .order_by(overrides_t.c.id)
            )
        }
        invoices = tuple(stored_invoices(conn, batch_id))
    return StoredBatch(
        row.id,
        row.month,
        utc(row.created_at),
        row.created_by,
        tuple(json.loads(row.clients)),
        parsed_body(row.body),
        invoices,
        states,
        overrides,
    )


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
