"""What `trueup post --adjust` would do: per client whose month is posted at the destination,
the document that brings what was posted to what the month's batch bills now.

An adjustment goes where the month went (one destination per client and month) and only for a
client the operator has not held, with no error standing; the operator's word for it is the
plan shown and confirmed. A recurring true-up is not adjusted: it sets the recurring invoice's
quantities, so it is voided and posted again instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from trueup.core.batch.body import StoredInvoice, standing_errors
from trueup.core.batch.settled import unsettled
from trueup.core.batch.stored import StoredBatch, batch_inputs
from trueup.core.diff.seats import DiffRow, cyclic_gc_paused
from trueup.core.posting.adjustments import adjustment
from trueup.core.posting.documents import (
    OWN_TAX,
    HaloCatalog,
    adjustment_reference,
    missing_targets,
)
from trueup.core.posting.plan import (
    UNFINISHED,
    Planned,
    PostingError,
    PostingPlan,
    check_destination,
    document_for,
    plan_inputs,
)
from trueup.core.posting.sink import Document
from trueup.core.rules.in_force import rules_id_in_force
from trueup.core.settings.config import XeroSettings
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.postings import Sent, adjusted_where, taken_by
from trueup.core.values.money import money_prose
from trueup.core.values.text import visible

ZERO = Decimal(0)
_BATCHES = m.table_of(m.InvoiceBatch)


def check_current(db: Database, batch_id: str, destination: str, *, today: date) -> None:
    """PostingError unless the batch is what its month bills now. An adjustment brings what was
    posted to what its batch bills: from a batch the store has moved on from (a sync, a rules
    or mapping change since), it would take the month back to what it billed then."""
    with db.read() as conn:
        month, clients = conn.execute(
            select(_BATCHES.c.month, _BATCHES.c.clients).where(_BATCHES.c.id == batch_id)
        ).one()
        asked = json.loads(clients) or None
        now = batch_inputs(conn, month, asked, today, rules_id_in_force(conn)).batch_id
    if now != batch_id:
        raise PostingError(
            f"batch {batch_id} is not what {month} bills now (a sync, a rules or mapping change "
            "since it was built): adjusting to it would take the posted months back to what it "
            f"billed; nothing was sent. `trueup post {month} --to {destination} --adjust` "
            "adjusts them to what the month bills now"
        )


@cyclic_gc_paused()  # as plan_posting: each posted client's lines read and written again
def plan_adjustments(
    db: Database,
    batch_id: str,
    destination: str,
    *,
    clients: Sequence[int] | None = None,
    xero: XeroSettings | None = None,
    qbo_realm: str | None = None,
) -> PostingPlan:
    """`ready`: the adjustments to send (or to finish); `done`: posted clients whose month
    bills as posted; `blocked`: why a client's adjustment cannot go. A blocked client whose
    month bills differently and is still to adjust (held, an error standing, a target
    missing, its adjustment due elsewhere or on its way) counts as approved: its posting was,
    and it is still to do (`PostingPlan.stuck`); a tax-only difference, which no adjustment
    can clear, does not."""
    check_destination(destination)
    if destination == "halo-recurring":
        raise PostingError(
            "a recurring true-up is not adjusted: void it (`trueup void BATCH --to "
            "halo-recurring --client ID`, or v on the workbench's Batch screen) and post the "
            "month again"
        )
    inputs = plan_inputs(db, batch_id, clients, xero, qbo_realm)
    stored = inputs.stored
    invoices = stored.by_client
    wanted = sorted(invoices) if clients is None else list(dict.fromkeys(clients))
    no_rows: dict[int, Sequence[DiffRow]] = {}
    ready, done, blocked = [], [], []
    for client_id in wanted:
        invoice = invoices[client_id]
        entries = inputs.sent.get(client_id, [])
        live = [e for e in entries if e.live]
        posted = [Document.from_json(e.payload) for e in live if e.state == "POSTED"]
        # What the posted documents bill (a recurring true-up: its invoice's, not the one-off's).
        difference = invoice.total - sum((e.billed for e in live if e.state == "POSTED"), ZERO)
        # The name written out for the plan's views (raw in a batch built before bcb6310).
        base = (client_id, visible(invoice.client_name), invoice.currency, difference)
        elsewhere = next((e for e in live if e.destination != destination), None)
        unfinished = next((e for e in live if e.state in UNFINISHED), None)
        voiding = next((e for e in live if e.voiding), None)
        if voiding is not None:
            # Its void may have reached the destination: an adjustment now would bill (or
            # credit) the difference of a document the client no longer has.
            owed = bool(difference and posted)
            said = _being_voided(voiding, stored.month)
            blocked.append(Planned(*base, None, said, approved=owed, differs=owed))
        elif elsewhere is not None:
            # Adjusted where it went; a bulk run passes over a month billing as posted there.
            if difference or clients is not None:
                said = adjusted_where(elsewhere, stored.month)
                owed = bool(difference and posted)  # not a first post on its way there
                blocked.append(Planned(*base, None, said, approved=owed, differs=owed))
        elif unfinished is not None and unfinished.adjustment and unfinished.batch_id == batch_id:
            document = Document.from_json(unfinished.payload)
            ready.append(Planned(*base[:3], document.total, document, None, unfinished.state))
        elif unfinished is not None:
            said, owed = taken_by(unfinished), bool(difference and posted)
            blocked.append(Planned(*base, None, said, approved=True, differs=owed))
        elif not posted:
            if clients is not None:
                blocked.append(Planned(*base, None, _not_posted(stored.month, entries)))
        else:
            rejected = next(
                (
                    e
                    for e in entries
                    if e.adjustment and e.state == "REJECTED" and e.batch_id == batch_id
                ),
                None,
            )
            reference = (
                rejected.reference
                if rejected is not None
                else _next_adjustment(stored.month, client_id, entries, destination)
            )
            now = document_for(
                invoice, batch_id, stored.month, reference, destination, inputs.index,
                inputs.catalog, inputs.rules, no_rows,
            )  # fmt: skip
            found = adjustment(now, posted, reference)
            if found is None and difference:
                said = _tax_only(now, posted, destination)
                blocked.append(Planned(*base, None, said, differs=True))
            elif found is None:
                done.append(Planned(*base, None, entry_state="POSTED"))
            elif problem := _problem(invoice, stored, found, destination, inputs.catalog):
                blocked.append(Planned(*base, None, problem, approved=True, differs=True))
            else:
                entry_state = "REJECTED" if rejected is not None else None
                why = tuple(unsettled(invoice))
                ready.append(Planned(*base[:3], found.total, found, None, entry_state, why))
    return PostingPlan(batch_id, stored.month, destination, ready, done, blocked)


def _not_posted(month: str, entries: Sequence[Sent]) -> str:
    """Why a client with nothing standing posted has no adjustment: never posted, or voided."""
    voided = [e for e in entries if e.state == "VOIDED" and not e.adjustment]
    if not voided:
        return "not posted yet: `trueup post` (p on the Batch screen) posts it"
    last = voided[-1]
    command = f"trueup post {month} --to {last.destination} --client {last.client_id}"
    return (
        f"voided ({last.reference} at {last.destination}): nothing stands to adjust; "
        f"`{command}` posts the month again"
    )


def _being_voided(sent: Sent, month: str) -> str:
    """Why a month whose void is under way, or refused, gets no adjustment, and what to do."""
    where = f"{sent.reference} at {sent.destination}"
    if sent.voiding == "REJECTED":
        return (
            f"the void of {where} was refused there (`trueup journal {month} --to "
            f"{sent.destination}` says why): no adjustment goes to a month being voided"
        )
    command = f"trueup void {month} --to {sent.destination} --client {sent.client_id}"
    return (
        f"the void of {where} is unfinished: `{command}` again finishes it; no adjustment goes "
        "to a month being voided"
    )


def _next_adjustment(month: str, client_id: int, entries: Sequence[Sent], destination: str) -> str:
    """The client's month's first adjustment reference no entry holds, at any destination: a
    month voided at one and posted at another never has two documents of one reference."""
    used = {e.reference for e in entries}
    number = 1
    while (reference := adjustment_reference(month, client_id, number, destination)) in used:
        number += 1
    return reference


def _tax_only(now: Document, posted: Sequence[Document], destination: str) -> str:
    """Why a month whose lines bill as posted, and whose tax does not, gets no adjustment."""
    then = sum((d.tax for d in posted), ZERO)
    # Never "void and post again": the destination would tax the same lines the same way.
    said = (
        f"only the tax differs (posted {money_prose(then)}, now {money_prose(now.tax)} "
        f"{now.currency}): {destination} taxes what it is sent by the client's own tax "
        "settings, so no line can adjust it; if its tax is wrong, set it there"
    )
    # Sent no tax at all (every destination: OWN_TAX): trueup's own figure only misleads.
    return f"{said}, and tax_percent to 0 for this client ({OWN_TAX[destination][0]} is sent none)"


def _problem(
    invoice: StoredInvoice,
    stored: StoredBatch,
    document: Document,
    destination: str,
    catalog: HaloCatalog,
) -> str | None:
    """Why the client's adjustment cannot go, or None."""
    client_id = invoice.client_id
    if stored.states.get(client_id) == "held":
        return "held by the operator"
    errors = sorted({a.code for a in standing_errors(invoice, stored.overrides)})
    if errors:
        command = (
            f"trueup approve {stored.batch_id} --client {client_id} "
            f"--override {errors[0]} --reason TEXT"
        )
        return (
            f"error(s) {', '.join(errors)} standing: `{command}` lets one through (or x on the "
            "workbench's invoice)"
        )
    problems = missing_targets(document, destination, catalog)
    return "; ".join(problems) if problems else None
