"""The operator's word on a batch's invoices: hold one, mark it ready, or let an error through
with a reason. Kept beside the batch (never in its body), each with who and when, for the audit
log; an error blocks `ready` until it is overridden (billing-rules §10)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select

from trueup.core.batch.body import standing_errors
from trueup.core.batch.reading import batch_month, client_invoice, same_month_batches
from trueup.core.batch.stored import STATES, BatchError, load_batch
from trueup.core.settings.operator import current_user
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.logbook import log_event
from trueup.core.store.postings import live_postings
from trueup.core.values.text import visible

_APPROVALS = m.table_of(m.Approval)


def set_invoice_state(
    db: Database,
    batch_id: str,
    client_id: int,
    state: str,
    *,
    by: str | None = None,
    toggle: bool = False,
) -> str:
    """Put one client's invoice in `state` (draft, held or ready); with `toggle` (h and r),
    back in draft when it is in `state` already, decided inside the write, so two quick presses
    are two toggles. The state it is left in."""
    if state not in STATES:
        raise BatchError(f"{state!r} is not a state; use one of {', '.join(STATES)}")
    invoice = client_invoice(db, batch_id, client_id)
    _still_open(db, batch_id, client_id, invoice.client_name)
    table = m.table_of(m.BatchInvoiceState)
    key = (table.c.batch_id == batch_id) & (table.c.client_id == client_id)
    with db.write() as conn:
        current = conn.execute(select(table.c.state).where(key)).scalar()
        if toggle and current == state:
            state = "draft"
        if state == "ready" and invoice.open_errors:
            codes = sorted(
                {
                    a.code
                    for a in invoice.anomalies
                    if a.severity == "error" and a.overridden is None
                }
            )
            raise BatchError(
                f"{invoice.client_name} has {invoice.open_errors} error(s) ({', '.join(codes)}): "
                "override each with a reason, or hold the invoice"
            )
        values = {
            "state": state,
            "changed_at": datetime.now(UTC),
            "changed_by": by or current_user(),
        }
        if current is None:
            conn.execute(insert(table).values(batch_id=batch_id, client_id=client_id, **values))
        else:
            conn.execute(table.update().where(key).values(**values))
    return state


def _still_open(db: Database, batch_id: str, client_id: int, name: str) -> None:
    """Hold and ready are words before approval: BatchError for a client whose month is posted
    (or on its way), or approved (the word would be silently outranked: approval.py)."""
    with db.read() as conn:
        month = batch_month(conn, batch_id)
        sent = live_postings(conn, month).get(client_id)
        approved = conn.execute(
            select(_APPROVALS.c.batch_id).where(
                (_APPROVALS.c.client_id == client_id)
                & _APPROVALS.c.batch_id.in_(same_month_batches(batch_id))
            )
        ).first()
    if sent:  # said for the workbench and `trueup hold` alike: both ways are named
        first = sent[0]
        where = f"{first.destination} as {first.reference}"
        if first.state != "POSTED":
            raise BatchError(
                f"{name}'s month is being posted to {where}: hold and ready wait until "
                f"`trueup post {first.batch_id} --to {first.destination}` finishes it"
            )
        raise BatchError(
            f"{name}'s month is already posted to {where}: hold and ready come before posting; "
            f"to take it back, `trueup void {month} --to {first.destination} --client "
            f"{client_id}` (or v on the workbench's Batch screen)"
        )
    if approved is not None:
        raise BatchError(
            f"{name}'s invoice has an approval (standing or lapsed): withdraw it first (a on "
            "the workbench's Batch screen)"
        )


def override_anomaly(
    db: Database,
    batch_id: str,
    client_id: int,
    code: str,
    reason: str,
    subscription_id: str | None = None,
    *,
    by: str | None = None,
) -> None:
    """Let an error through on one client's invoice: on the line of `subscription_id`, or every
    one of that code on the invoice when None. Only errors are overridden; a reason is required."""
    reason = reason.strip()
    if not reason:
        raise BatchError("an override needs a reason (it is kept for the audit log)")
    invoice = client_invoice(db, batch_id, client_id)
    found = [
        a
        for a in invoice.anomalies
        if a.code == code and (subscription_id is None or a.subscription_id == subscription_id)
    ]
    if not found:
        where = f" on the line of {subscription_id}" if subscription_id else ""
        raise BatchError(f"{invoice.client_name} has no {code}{where} in batch {batch_id}")
    if not any(a.severity == "error" for a in found):
        raise BatchError(f"{code} is a {found[0].severity}, not an error: nothing to override")
    with db.write() as conn:
        record_override(
            conn, batch_id, client_id, code, subscription_id, reason, by or current_user()
        )


@dataclass(frozen=True)
class StandingCode:
    """An error code standing on invoices of a batch (not overridden)."""

    code: str
    errors: int
    invoices: int
    example: str  # one of its messages, with its client's name


def standing_codes(db: Database, batch_id: str) -> list[StandingCode]:
    """The error codes no override lets through yet, the most frequent first."""
    found = _standing(db, batch_id)
    return sorted(
        (
            StandingCode(code, len(errors), len({c for c, _, _ in errors}), errors[0][2])
            for code, errors in found.items()
        ),
        key=lambda s: (-s.errors, s.code),
    )


def override_code(
    db: Database, batch_id: str, code: str, reason: str, *, by: str | None = None
) -> StandingCode:
    """Let every standing error of `code` through, on every invoice of the batch, with one
    reason (in one transaction); what was overridden."""
    reason = visible(reason.strip())
    if not reason:
        raise BatchError("an override needs a reason (it is kept for the audit log)")
    errors = _standing(db, batch_id).get(code)
    if not errors:
        raise BatchError(f"no {code} error stands in batch {batch_id}")
    by = by or current_user()
    now = datetime.now(UTC)
    keys = sorted({(client, subscription) for client, subscription, _ in errors}, key=str)
    with db.write() as conn:
        for client_id, subscription_id in keys:
            record_override(conn, batch_id, client_id, code, subscription_id, reason, by, now)
        invoices = sorted({client for client, _ in keys})
        log_event(
            conn,
            "info",
            "errors_overridden",
            source="batch",
            batch_id=batch_id,
            code=code,
            errors=len(errors),
            clients=invoices,
            reason=reason,
            by=by,
        )
    return StandingCode(code, len(errors), len(invoices), errors[0][2])


def _standing(db: Database, batch_id: str) -> dict[str, list[tuple[int, str | None, str]]]:
    """Per code, each standing error: (client, subscription or None, its message)."""
    stored = load_batch(db, batch_id)
    found: dict[str, list[tuple[int, str | None, str]]] = defaultdict(list)
    for invoice in stored.invoices:
        for a in standing_errors(invoice, stored.overrides):
            message = f"{invoice.client_name}: {a.message}"
            found[a.code].append((invoice.client_id, a.subscription_id, message))
    return found


def record_override(
    conn: Connection,
    batch_id: str,
    client_id: int,
    code: str,
    subscription_id: str | None,
    reason: str,
    by: str,
    at: datetime | None = None,
) -> None:
    """Keep one override inside the caller's transaction. The reason is typed by a person, maybe
    through a script: its control characters are written out, as any text from outside is."""
    conn.execute(
        insert(m.table_of(m.BatchOverride)).values(
            batch_id=batch_id,
            client_id=client_id,
            code=code,
            subscription_id=subscription_id,
            reason=visible(reason),
            at=at or datetime.now(UTC),
            by=by,
        )
    )
