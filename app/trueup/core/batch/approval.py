"""Approving a batch's invoices for posting, and telling when an approval has lapsed.

An approval is for the invoice as the operator saw it: its fingerprint covers the invoice's
JSON and the Halo item each line posts to. When a newer sync, rules or mapping change would
bill the client differently, the approval lapses and the invoice must be approved again; the
changes are listed line by line so the operator sees why.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select

from trueup.core.batch.body import LineView, StoredInvoice, canonical_bytes, standing_errors
from trueup.core.batch.reading import batch_month, same_month_batches
from trueup.core.batch.review import record_override
from trueup.core.batch.rows import stored_invoices
from trueup.core.batch.stored import (
    BatchError,
    StoredBatch,
    batch_inputs,
    current_batch,
    load_batch,
)
from trueup.core.billing.lines import SEVERITIES
from trueup.core.mapping.index import MappingIndex, load_mapping_index
from trueup.core.rules.in_force import rules_id_in_force
from trueup.core.settings.operator import current_user
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.logbook import log_event
from trueup.core.store.postings import adjusted_where, live_postings, taken_by
from trueup.core.values.money import money_json
from trueup.core.values.text import visible

_APPROVALS = m.table_of(m.Approval)


@dataclass(frozen=True)
class Skipped:
    client_id: int
    client_name: str
    reason: str


@dataclass(frozen=True)
class ApprovalResult:
    approved: list[int]
    skipped: list[Skipped]
    # Posted clients whose override was recorded: it lets their adjustment through.
    overridden: list[Skipped] = field(default_factory=list)
    # Posted clients: approved when they were posted, nothing to approve again; not refusals.
    posted: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class ApprovalState:
    client_id: int
    client_name: str
    status: str  # approved | lapsed | unapproved
    approved_by: str | None = None
    approved_at: datetime | None = None
    changes: tuple[str, ...] = ()  # why a lapsed approval lapsed, one line each


def invoice_fingerprint(invoice: StoredInvoice, index: MappingIndex) -> str:
    """The invoice's bytes and where its lines post: what an approval vouches for."""
    targets = {product: index.item_for(product, invoice.client_id) for product in invoice.products}
    # canonical_bytes({"invoice": ..., "targets": targets}), with the invoice's bytes as stored:
    # no invoice parsed and encoded again.
    document = b'{"invoice":%b,"targets":%b}' % (invoice.text, canonical_bytes(targets))
    return hashlib.sha256(document).hexdigest()


def approve(
    db: Database,
    batch_id: str,
    clients: Sequence[int] | None = None,
    *,
    overrides: Sequence[tuple[str, str]] = (),
    by: str | None = None,
) -> ApprovalResult:
    """Approve the invoices of `clients` (all when None) in one transaction. Each (code, reason)
    in `overrides` lets that error through on every chosen invoice that has it; an invoice that
    still has an error, or that the operator held, is skipped with the reason."""
    by = by or current_user()
    stored = load_batch(db, batch_id)
    invoices = stored.by_client
    chosen = list(invoices) if clients is None else list(dict.fromkeys(clients))
    unknown = [c for c in chosen if c not in invoices]
    if unknown:
        raise BatchError(
            f"batch {batch_id} has no invoice for client(s) {', '.join(map(str, unknown))}"
        )
    for code, reason in overrides:
        problem = override_problem(code, reason)
        if problem:
            raise BatchError(problem)
    # Reasons are shown in every view and log: their control characters written out.
    overrides = [(code, visible(reason)) for code, reason in overrides]
    now = datetime.now(UTC)
    approved: list[int] = []
    skipped: list[Skipped] = []
    overridden: list[Skipped] = []
    already: list[Skipped] = []
    with db.write() as conn:
        index = load_mapping_index(conn)
        standing = dict(stored.overrides)
        # Each client's overrides, kept beside `standing`: filtering them out of every override
        # for each invoice cost ~0.6 s of approving 2,000 clients.
        by_client: dict[int, dict[tuple[int, str, str | None], str]] = defaultdict(dict)
        for key, reason in standing.items():
            by_client[key[0]][key] = reason
        posted = live_postings(conn, stored.month)
        for client_id in chosen:
            invoice = invoices[client_id]
            name = invoice.client_name
            if stored.states.get(client_id) == "held":
                skipped.append(Skipped(client_id, name, "held: mark it ready first"))
                continue
            # Overrides count for a posted client too: they let its adjustment through.
            recorded: set[str] = set()
            for code, reason in overrides:
                for anomaly in standing_errors(invoice, standing, code):
                    key = (client_id, code, anomaly.subscription_id)
                    standing[key] = by_client[client_id][key] = reason.strip()
                    _record_override(conn, batch_id, key, reason.strip(), now, by)
                    recorded.add(code)
            if client_id in posted and recorded:
                codes = ", ".join(sorted(recorded))
                where = adjusted_where(posted[client_id][0], stored.month)
                overridden.append(
                    Skipped(client_id, name, f"the override of {codes} is recorded; {where}")
                )
                continue
            if client_id in posted:
                already.append(Skipped(client_id, name, taken_by(posted[client_id][0])))
                continue
            still = sorted({a.code for a in standing_errors(invoice, standing)})
            if still:
                skipped.append(
                    Skipped(
                        client_id,
                        name,
                        f"error(s) {', '.join(still)}: override each with --override CODE "
                        "--reason TEXT, or hold it (`trueup hold`, or h on the workbench's "
                        "Batch screen)",
                    )
                )
                continue
            _record_approval(conn, batch_id, invoice, index, by_client[client_id], now, by)
            approved.append(client_id)
    return ApprovalResult(approved, skipped, overridden, already)


def revoke(db: Database, batch_id: str, clients: Sequence[int], *, by: str | None = None) -> int:
    """Withdraw approvals; returns how many there were. An invoice whose month is posted (or on
    its way) keeps its approval: BatchError, and nothing is withdrawn."""
    with db.write() as conn:
        month = batch_month(conn, batch_id)
        posted = live_postings(conn, month)
        kept = [c for c in clients if c in posted]
        if kept:
            raise BatchError(
                f"the approval of client {kept[0]} stays: {taken_by(posted[kept[0]][0])}"
            )
        # Given on this batch or carried to it from an earlier one of the month: all go.
        gone = conn.execute(
            delete(_APPROVALS).where(
                _APPROVALS.c.batch_id.in_(same_month_batches(batch_id))
                & _APPROVALS.c.client_id.in_(clients)
            )
        ).rowcount
        if gone:
            log_event(
                conn,
                "info",
                "approval_revoked",
                source="posting",
                batch_id=batch_id,
                clients=list(clients),
                by=by or current_user(),
            )
    return int(gone)


def approval_states(
    db: Database,
    batch_id: str,
    *,
    today: date,
    stored: StoredBatch | None = None,
    clients: Collection[int] | None = None,
) -> list[ApprovalState]:
    """Each invoice of the batch (of `clients` only, when given): approved, unapproved, or
    lapsed with what changed (`stored`: the batch, when the caller has read it already: its
    body is large).

    When the store has moved on since the batch was built (a sync, a rules or mapping change),
    the batch is built again from the store as it is and each approved invoice is compared with
    its new self: an equal fingerprint keeps the approval, a different one lapses it."""
    stored = (
        stored if stored is not None and stored.batch_id == batch_id else load_batch(db, batch_id)
    )
    with db.read() as conn:
        approvals = {
            client_id: row
            for client_id, row in month_approvals(conn, batch_id).items()
            if clients is None or client_id in clients
        }
    invoices = [i for i in stored.invoices if clients is None or i.client_id in clients]
    if not approvals:  # nothing to check: no mapping index read, no fingerprint taken
        return [ApprovalState(i.client_id, i.client_name, "unapproved") for i in invoices]
    current = _current_invoices(db, stored.month, stored.clients, batch_id, today, approvals)
    with db.read() as conn:
        index = load_mapping_index(conn)
    elsewhere: dict[str, dict[int, StoredInvoice]] = {}  # read at the first lapse that needs it
    states = []
    for invoice in invoices:
        client_id, name = invoice.client_id, invoice.client_name
        approval = approvals.get(client_id)
        if approval is None:
            states.append(ApprovalState(client_id, name, "unapproved"))
            continue
        now = current.get(client_id) if current is not None else invoice
        # Given on another batch of the month, it vouches for this batch's invoice only when
        # that is the invoice approved too: the store may have moved away and back since.
        mine = approval.batch_id == batch_id
        differs = None if mine else _unless_approved(invoice, approval, index)
        if now is not None and invoice_fingerprint(now, index) != approval.fingerprint:
            differs = now
        changes: tuple[str, ...] = ()
        if now is None:
            changes = ("the client has no invoice in the month any more",)
        elif differs is not None:
            if not mine and not elsewhere:
                with db.read() as conn:
                    elsewhere = _approved_invoices(conn, batch_id, approvals.values())
            seen = invoice if mine else elsewhere[approval.batch_id][client_id]
            changes = tuple(describe_changes(seen, differs, index)) or (
                "the invoice's inputs changed",
            )
        states.append(
            ApprovalState(
                client_id,
                name,
                "lapsed" if changes else "approved",
                approval.approved_by,
                approval.approved_at.replace(tzinfo=UTC),
                changes,
            )
        )
    return states


def month_approvals(conn: Connection, batch_id: str) -> dict[int, Row[Any]]:
    """client -> its newest approval among the month's batches of the same clients as batch
    `batch_id`: the state of billing belongs to the client's month, so an approval given on an
    earlier batch holds on a later one while the invoice and where it posts are the same (one
    fingerprint), and lapses there when they are not."""
    rows = conn.execute(
        select(_APPROVALS)
        .where(_APPROVALS.c.batch_id.in_(same_month_batches(batch_id)))
        # Oldest first, so the newest wins; at the same moment, the batch's own.
        .order_by(_APPROVALS.c.approved_at, _APPROVALS.c.batch_id == batch_id)
    ).all()
    return {row.client_id: row for row in rows}


def _unless_approved(
    invoice: StoredInvoice, approval: Row[Any], index: MappingIndex
) -> StoredInvoice | None:
    """The invoice, when it is not the one the approval vouches for."""
    return None if invoice_fingerprint(invoice, index) == approval.fingerprint else invoice


def _approved_invoices(
    conn: Connection, batch_id: str, approvals: Iterable[Row[Any]]
) -> dict[str, dict[int, StoredInvoice]]:
    """The invoices as approved on other batches of the month: batch -> client -> invoice, read
    in one query per batch (a sync that lapses 2,000 approvals reads them all)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for approval in approvals:
        if approval.batch_id != batch_id:
            wanted[approval.batch_id].add(approval.client_id)
    return {
        other: {i.client_id: i for i in stored_invoices(conn, other) if i.client_id in clients}
        for other, clients in wanted.items()
    }


def describe_changes(before: StoredInvoice, after: StoredInvoice, index: MappingIndex) -> list[str]:
    """What differs between two versions of a client's invoice, one line per change."""
    old, new = _lines_by_key(before), _lines_by_key(after)
    found = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a is None and b is not None:
            found.append(f"{b.description}: new line, {b.quantity} × {b.unit_price} = {b.amount}")
        elif b is None and a is not None:
            found.append(f"{a.description}: line removed (was {a.amount})")
        elif a is not None and b is not None:
            for name, then, now in (
                ("quantity", a.quantity, b.quantity),
                ("unit price", a.unit_price, b.unit_price),
                ("amount", a.amount, b.amount),
            ):
                if then != now:
                    found.append(f"{a.description}: {name} {then} → {now}")
            if a.product_id and index.item_for(a.product_id, before.client_id) is None:
                found.append(f"{a.description}: its product is no longer mapped to a Halo item")
    if before.total != after.total:
        found.append(f"total {before.total} → {after.total}")
    return found


def _lines_by_key(invoice: StoredInvoice) -> dict[str, LineView]:
    keyed: dict[str, LineView] = {}
    for line in invoice.lines:
        base = f"{line.kind}|{line.subscription_id or line.description}"
        key, n = base, 1
        while key in keyed:
            n += 1
            key = f"{base}#{n}"
        keyed[key] = line
    return keyed


def _current_invoices(
    db: Database,
    month: str,
    clients: Sequence[int],
    batch_id: str,
    today: date,
    approvals: Mapping[int, Any],
) -> dict[int, StoredInvoice] | None:
    """The invoices as the store would bill them now; None when the batch is still current."""
    if not approvals:
        return None
    with db.read() as conn:
        inputs = batch_inputs(conn, month, clients or None, today, rules_id_in_force(conn))
        if inputs.batch_id == batch_id:
            return None
    return load_batch(
        db, current_batch(db, month, clients=list(clients) or None, today=today)
    ).by_client


def override_problem(code: str, reason: str) -> str | None:
    """Why an override cannot be recorded as given (an unknown code would let nothing through,
    silently), or None."""
    errors = sorted(code for code, severity in SEVERITIES.items() if severity == "error")
    if code not in errors:
        return f"{code!r} is not an error an override lets through: {', '.join(errors)}"
    if not reason.strip():
        return f"the override of {code} needs a reason (kept for the audit log)"
    return None


def approved_fingerprints(conn: Connection, batch_id: str) -> dict[int, str]:
    return dict(
        conn.execute(
            select(_APPROVALS.c.client_id, _APPROVALS.c.fingerprint).where(
                _APPROVALS.c.batch_id == batch_id
            )
        ).all()
    )


def _record_override(
    conn: Connection,
    batch_id: str,
    key: tuple[int, str, str | None],
    reason: str,
    now: datetime,
    by: str,
) -> None:
    client_id, code, subscription_id = key
    record_override(conn, batch_id, client_id, code, subscription_id, reason, by, now)
    log_event(
        conn,
        "warning",
        "error_overridden",
        source="posting",
        batch_id=batch_id,
        client_id=client_id,
        code=code,
        subscription_id=subscription_id,
        reason=reason,
        by=by,
    )


def _record_approval(
    conn: Connection,
    batch_id: str,
    invoice: StoredInvoice,
    index: MappingIndex,
    standing: Mapping[tuple[int, str, str | None], str],  # the client's own overrides
    now: datetime,
    by: str,
) -> None:
    client_id = invoice.client_id
    key = (_APPROVALS.c.batch_id == batch_id) & (_APPROVALS.c.client_id == client_id)
    before = conn.execute(select(_APPROVALS).where(key)).first()
    overrides = [
        {"code": code, "subscription_id": subscription, "reason": reason}
        for (_, code, subscription), reason in standing.items()
    ]
    values = {
        "batch_id": batch_id,
        "client_id": client_id,
        "fingerprint": invoice_fingerprint(invoice, index),
        "approved_at": now,
        "approved_by": by,
        "overrides": json.dumps(overrides, sort_keys=True),
    }
    conn.execute(delete(_APPROVALS).where(key))
    conn.execute(insert(_APPROVALS).values(**values))
    log_event(
        conn,
        "info",
        "invoice_approved",
        source="posting",
        batch_id=batch_id,
        client_id=client_id,
        client_name=invoice.client_name,
        total=money_json(invoice.total),
        currency=invoice.currency,
        overrides=overrides,
        by=by,
        before=None
        if before is None
        else {"approved_by": before.approved_by, "fingerprint": before.fingerprint},
        after={"fingerprint": values["fingerprint"]},
    )
