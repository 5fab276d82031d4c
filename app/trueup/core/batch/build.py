"""The dry-run invoice batch (contract.md §2-§3): every chosen client's invoice for a month, as it
would post, with batch-level anomalies and the change against the last batch. Nothing is posted.

A batch is named by a hash of its inputs (month, clients, the sync runs of both sources, the
rules document, the latest mapping change, the day Pax8 seats are counted on and the earlier
batches it reads), and its body carries no timestamp: building it again from the same inputs
gives the same id and the same bytes, and storing it again changes nothing. The operator's
word on an invoice (held, ready, an error let through with a reason) is kept beside the body,
never in it.

A batch is built in one process, and bills only the clients a change touched since the month's
newest batch (batch/touched.py): a rule on one client's line or a company mapped bills one or
two clients again and reuses the other invoices, each stored once (batch/rows.py). The
inputs that name a batch, and a stored batch read back, are batch/stored.py's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property, partial
from typing import Any

from sqlalchemy import Connection, insert, select

from trueup.core.batch.body import (
    anomaly_order,
    canonical_bytes,
    invoice_digest,
    invoice_json,
    totals_json,
)
from trueup.core.batch.carry import carry_review
from trueup.core.batch.facts import BatchFacts, BatchWide, assemble
from trueup.core.batch.previous import EarlierBatch, line_digest, read_earlier
from trueup.core.batch.rows import Listed, store_invoices, text_sha
from trueup.core.batch.rows import listed as listed_invoices
from trueup.core.batch.stored import BatchInputs, batch_bytes, batch_inputs, load_batch, utc
from trueup.core.batch.strays import stray_anomalies
from trueup.core.batch.touched import touched_clients
from trueup.core.batch.usage import UsageRow
from trueup.core.billing.invoice import bill_client
from trueup.core.billing.rules import Rules
from trueup.core.billing.timeline import day_text
from trueup.core.diff.seats import cyclic_gc_paused
from trueup.core.mapping.index import MappingIndex, load_mapping_index
from trueup.core.rules.current import current_rules, rules_of
from trueup.core.settings.operator import current_user
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.values.distributors import distributor_name
from trueup.core.values.money import money_json, money_json_or_none
from trueup.core.values.months import Month

_BATCHES = m.table_of(m.InvoiceBatch)


@dataclass(frozen=True)
class Batch:
    batch_id: str
    inputs: BatchInputs
    head: bytes  # the batch JSON but its invoices, as stored
    listed: list[Listed]  # its invoices in order
    texts: dict[str, bytes | memoryview]  # the texts of the invoices billed for it, by sha256
    line_digest: bytes  # what later batches read of this one (batch/previous.py)
    main_currency: str  # the store's, which every invoice depends on (batch/touched.py)
    db: Database = field(repr=False, compare=False)

    @property
    def month(self) -> str:
        return self.inputs.month

    # Building and storing a batch needs none of these: they are read back when asked for.
    @cached_property
    def data(self) -> bytes:
        """The batch JSON's canonical UTF-8 bytes (contract §3)."""
        return batch_bytes(self.db, self.batch_id)

    @cached_property
    def text(self) -> str:
        return self.data.decode()

    @cached_property
    def body(self) -> dict[str, Any]:
        """The body (contract §3) as JSON values."""
        return load_batch(self.db, self.batch_id).body


# --- building -----------------------------------------------------------------------------------


def build_batch(
    db: Database,
    month: str,
    *,
    clients: Sequence[int] | None = None,
    today: date,
    by: str | None = None,
    reuse: bool = True,
) -> Batch:
    """Build the month's batch and store it (a no-op when the same batch is stored). With
    `reuse`, the invoices of clients no change touched since the month's newest batch are that
    batch's (batch.touched); without, every client is billed (the same bytes, more slowly)."""
    # ~1M acyclic objects: collections would cost ~0.4 s, so none while building.
    with cyclic_gc_paused():
        batch, index, wide = _built(db, month, clients, today, reuse=reuse)
        stored_at = _store(db, batch, by or current_user())
    if stored_at is not None:
        listed, key = tuple(batch.listed), _store_key(batch.inputs)
        _LAST_STORED[str(db.path)] = _Stored(batch.batch_id, stored_at, listed, key, index, wide)
    return batch


@dataclass(frozen=True)
class _Stored:
    """A batch as this process stored it: its rows never change once stored, so the next build
    after a change reuses its invoices from here, not read and parsed back (a digest each:
    bench/README.md, "A one-client change"). Its time tells it from a batch of the same id in
    another file put at the same path. What it read of the whole store is the same for a build
    under the same sync runs and mapping journal (`store_key`), as its invoices are for the
    clients no change touched: such a build reads none of it again."""

    batch_id: str
    created_at: datetime
    listed: tuple[Listed, ...]
    store_key: tuple[str, int | None]
    index: MappingIndex
    wide: BatchWide


_LAST_STORED: dict[str, _Stored] = {}  # per store path: one batch's digests, no more


def _store_key(inputs: BatchInputs) -> tuple[str, int | None]:
    return json.dumps(inputs.sync_runs, sort_keys=True), inputs.mapping_change


@dataclass(frozen=True)
class _Reusable:
    """The month's newest batch, as far as building the next one can use it."""

    listed: list[Listed]
    touched: set[int]  # the clients to bill again
    main_currency: str


def _built(
    db: Database, month: str, clients: Sequence[int] | None, today: date, *, reuse: bool
) -> tuple[Batch, MappingIndex, BatchWide]:
    rules, rules_id = current_rules(db)
    with db.read() as conn:
        inputs = batch_inputs(conn, month, clients, today, rules_id)
        previous = read_earlier(conn, inputs.previous)
        compared = (
            previous if inputs.compared == inputs.previous else read_earlier(conn, inputs.compared)
        )
        newest = _newest(conn, inputs) if reuse else None
        last = _LAST_STORED.get(str(db.path))
        if newest is None or last is None or (last.batch_id, last.created_at) != newest[:2]:
            last = None  # not the batch this process stored last: read from the store
        same = last if last is not None and last.store_key == _store_key(inputs) else None
        # Read once: the reuse check and the facts share it.
        index = same.index if same is not None else load_mapping_index(conn)
        source = None if newest is None else _reusable(conn, inputs, rules, index, newest, last)
        read = partial(
            assemble, conn, month, clients=clients, today=today, rules=rules, index=index
        )
        only = None if source is None else source.touched
        facts = read(previous=previous, only=only, wide=same.wide if same is not None else None)
        if source is not None and facts.main_currency != source.main_currency:
            source, facts = None, read(previous=previous)  # every client's default moved
    fresh: list[Listed] = []
    texts: dict[str, bytes | memoryview] = {}
    for client in facts.clients:
        invoice = invoice_json(bill_client(client, month, rules))
        text = canonical_bytes(invoice)
        fresh.append(Listed(client.client_id, text_sha(text), invoice_digest(invoice)))
        texts[fresh[-1].sha256] = text
    billed, chosen = {item.client_id for item in fresh}, set(facts.chosen)
    kept = [] if source is None else [i for i in source.listed if i.client_id not in billed]
    kept = [item for item in kept if item.client_id in chosen]
    if len(kept) + len(fresh) != len(facts.chosen):  # a client neither billed nor stored
        return _built(db, month, clients, today, reuse=False)
    listed = sorted(kept + fresh, key=lambda i: (i.digest["client_name"].casefold(), i.client_id))
    digests = [item.digest for item in listed]
    head = canonical_bytes(_head(inputs, facts, digests, compared))
    batch = Batch(
        inputs.batch_id, inputs, head, listed, texts, line_digest(digests), facts.main_currency, db
    )
    return batch, index, facts.wide


def _newest(conn: Connection, inputs: BatchInputs) -> tuple[str, datetime, str] | None:
    """The month's newest batch of the same clients: its id, when it was stored, its inputs."""
    row = conn.execute(
        select(_BATCHES.c.id, _BATCHES.c.created_at, _BATCHES.c.inputs)
        .where(
            (_BATCHES.c.month == inputs.month)
            & (_BATCHES.c.clients == json.dumps(list(inputs.clients)))
            & _BATCHES.c.inputs.is_not(None)
        )
        .order_by(_BATCHES.c.created_at.desc(), _BATCHES.c.id)
        .limit(1)
    ).first()
    return None if row is None else (row.id, utc(row.created_at), row.inputs)


def _reusable(
    conn: Connection,
    inputs: BatchInputs,
    rules: Rules,
    index: MappingIndex,
    newest: tuple[str, datetime, str],
    last: _Stored | None,
) -> _Reusable | None:
    """`last`: the batch this process stored last, when it is `newest`."""
    batch_id, _, stored_inputs = newest
    then = json.loads(stored_inputs)
    now = _as_stored(inputs)
    earlier = rules if then["rules_id"] == now["rules_id"] else rules_of(conn, then["rules_id"])
    touched = touched_clients(conn, then, now, earlier, rules, index)
    if touched is None:
        return None
    listed = list(last.listed) if last is not None else listed_invoices(conn, batch_id)
    return _Reusable(listed, touched, then["main_currency"])


def _as_stored(inputs: BatchInputs) -> dict[str, Any]:
    """The inputs as JSON values, as the batch's row keeps them."""
    loaded: dict[str, Any] = json.loads(json.dumps(inputs.__dict__))
    return loaded


def _head(
    inputs: BatchInputs,
    facts: BatchFacts,
    digests: list[dict[str, Any]],
    compared: EarlierBatch | None,
) -> dict[str, Any]:
    """The batch JSON but its invoices: what the whole batch says, from the invoices' digests."""
    everyone = not inputs.clients
    chosen = {digest["client_id"] for digest in digests}
    usage = [u for u in facts.usage if u.client_id in chosen or (everyone and u.client_id is None)]
    anomalies = _batch_anomalies(facts, usage) if everyone else []
    return {
        "batch_id": inputs.batch_id,
        "month": inputs.month,
        "clients": list(inputs.clients),
        "sync_runs": inputs.sync_runs,
        "rules_id": inputs.rules_id,
        "anomalies": anomalies,
        "usage": [_usage_json(u) for u in usage],
        "usage_lines": [line for digest in digests for line in digest["usage_lines"]],
        "summary": [_summary(digest) for digest in digests],
        "totals": totals_json(digests, anomalies),
        "compared_with": inputs.compared,
        "changes": _changes(digests, compared),
    }


def _batch_anomalies(facts: BatchFacts, usage: list[UsageRow]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for company in facts.unmapped:
        plural = "s" if company.subscriptions != 1 else ""
        found.append(
            {
                "code": "UNMAPPED_CLIENT",
                "severity": "error",
                "message": f"{company.name} has {company.subscriptions} billable "
                f"{distributor_name(company.company_id)} subscription{plural} and no Halo "
                "client: map it or ignore it",
                "company_id": company.company_id,
            }
        )
    for row in usage:
        if row.client_id is not None:
            continue
        where = row.resource_group or row.product_name
        month = day_text(Month(row.usage_month).first, year=True)[2:]
        found.append(
            {
                "code": "UNASSIGNED_USAGE",
                "severity": "error",
                "message": f"{where} ({row.product_name}, {month}): cost {money_json(row.cost)}, "
                f"charge {money_json(row.charge)} {row.currency} held out: "
                f"{row.held_out_because}",
                "company_id": row.company_id,
                "subscription_id": row.subscription_id,
                "resource_group": row.resource_group,
                "cost": money_json(row.cost),
                "charge": money_json(row.charge),
                "currency": row.currency,
            }
        )
    found += stray_anomalies(facts.strays)
    return sorted(found, key=anomaly_order)


def _summary(digest: dict[str, Any]) -> dict[str, Any]:
    """An invoice in a few keys, in the invoices' order: the Batch screen lists these without
    reading the ~13 kB of each invoice."""
    keys = ("client_id", "client_name", "currency", "total", "cost", "margin_percent")
    return {key: digest[key] for key in keys} | {"anomalies": digest["anomaly_counts"]}


def _usage_json(row: UsageRow) -> dict[str, Any]:
    return {
        "usage_month": row.usage_month,
        "client_id": row.client_id,
        "company_id": row.company_id,
        "subscription_id": row.subscription_id,
        "product_id": row.product_id,
        "product_name": row.product_name,
        "resource_group": row.resource_group,
        "charge": money_json(row.charge),
        "cost": money_json(row.cost),
        "currency": row.currency,
        "source": row.source,
    }


def _changes(digests: list[dict[str, Any]], compared: EarlierBatch | None) -> list[dict[str, Any]]:
    """Per client: the total then (the compared batch) and now, and the change when both are
    in one currency. Clients new to this batch, or gone from it, are listed too."""
    if compared is None:
        return []
    then = compared.totals()
    now = {int(d["client_id"]): d for d in digests}
    found = []
    for client_id in sorted(then.keys() | now.keys()):
        before, after = then.get(client_id), now.get(client_id)
        same = before and after and before["currency"] == after["currency"]
        delta = Decimal(after["total"]) - Decimal(before["total"]) if same else None  # type: ignore[index]
        found.append(
            {
                "client_id": client_id,
                "client_name": (after or before or {}).get("client_name"),
                "currency": (after or before or {}).get("currency"),
                "then": before["total"] if before else None,
                "now": after["total"] if after else None,
                "delta": money_json_or_none(delta),
            }
        )
    return sorted(found, key=lambda c: (str(c["client_name"]).casefold(), c["client_id"]))


# --- the store ----------------------------------------------------------------------------------


def _store(db: Database, batch: Batch, by: str) -> datetime | None:
    """Store the batch; when it was stored, None if it was already."""
    inputs = batch.inputs
    clients = json.dumps(list(inputs.clients))
    now = datetime.now(UTC)
    with db.write() as conn:
        if conn.execute(select(_BATCHES.c.id).where(_BATCHES.c.id == batch.batch_id)).first():
            return None  # the same inputs, so the same batch: keep the first one and its history
        conn.execute(
            insert(_BATCHES).values(
                id=batch.batch_id,
                month=inputs.month,
                created_at=now,
                created_by=by,
                sync_runs=json.dumps(inputs.sync_runs, sort_keys=True),
                rules_id=inputs.rules_id,
                clients=clients,
                body=batch.head.decode(),
                line_digest=batch.line_digest.decode(),
                inputs=json.dumps(_as_stored(inputs) | {"main_currency": batch.main_currency}),
            )
        )
        store_invoices(conn, batch.batch_id, batch.listed, batch.texts)
        carry_review(conn, batch.batch_id, inputs.month, clients)
    return now
