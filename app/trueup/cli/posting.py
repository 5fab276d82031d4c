"""`trueup approve`, `trueup post`, `trueup void` and `trueup journal` (contract.md §2).

Posting is the one step that writes money documents elsewhere, so it shows what it will do and
asks for the month typed back before anything leaves (`--yes` for scripts). Whatever stops a
run (the network, a rate limit, a crash, kill -9), running the same command again finishes it:
the journal knows what may have been sent and looks it up before sending anything again.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.cli.options import CLIENT_ID, checked_month
from trueup.core.service.batches import Batches, override_problem
from trueup.core.service.posting import (
    EntryView,
    Posting,
    PostingError,
    PostingPlan,
    RunReport,
    Sink,
    check_destination,
    configured_sinks,
)
from trueup.core.service.stores import Database
from trueup.core.service.types import Skipped
from trueup.core.settings.config import load_settings
from trueup.core.settings.config import today as configured_today
from trueup.core.values.months import Month, MonthError
from trueup.core.values.text import some

# A batch id is its month and 16 hex digits of its inputs' hash (batch/stored.py); a month
# and more is meant as one, mistyped or cut short as it may be.
_BATCH_ID = re.compile(r"\d{4}-\d{2}-\S+")


def _checked_batch(batch: str) -> str:
    """A batch id as given (one the store lacks is named there: "no batch ...; `trueup
    batches` lists them"); a month checked as `--month` is (exit 2 before anything runs), so
    a month given here can never be billed, approved or posted where `--month` refuses it."""
    if _BATCH_ID.fullmatch(batch):
        return batch
    try:
        checked_month(batch)
    except typer.BadParameter as exc:
        raise typer.BadParameter(
            f"{exc} (BATCH is a batch id, as `trueup batches` lists them, or a month YYYY-MM)"
        ) from None
    return batch.strip()


_BATCH = "A batch id, or a month YYYY-MM: "
BatchArgument = Annotated[
    str,
    typer.Argument(
        metavar="BATCH", help=f"{_BATCH}that month's current batch.", callback=_checked_batch
    ),
]
VoidBatchArgument = Annotated[
    str,
    typer.Argument(
        metavar="BATCH",
        help=f"{_BATCH}whichever batches posted the month there.",
        callback=_checked_batch,
    ),
]
JournalBatchArgument = Annotated[
    str,
    typer.Argument(
        metavar="BATCH",
        help=f"{_BATCH}every batch of that month (the journal of the whole month).",
        callback=_checked_batch,
    ),
]
ClientsOption = Annotated[
    list[int] | None,
    typer.Option(
        "--client", help="Only this Halo client id (repeat for more; default: all).", **CLIENT_ID
    ),
]


def _checked_destination(destination: str | None) -> str | None:
    """Checked while parsing: an unknown destination is a usage error (exit 2)."""
    if destination is None:
        return None
    try:
        return check_destination(destination)
    except PostingError as exc:
        raise typer.BadParameter(str(exc)) from None


_DESTINATIONS = (
    "halo-invoice (a Halo invoice per client), halo-recurring (true up each client's recurring "
    "invoice; proration on a one-off invoice), qbo (QuickBooks Online) or xero (Xero; a credit "
    "note for an adjustment that gives money back)."
)
VoidDestinationOption = Annotated[
    str,
    typer.Option(
        "--to",
        help="Where the documents to void were posted: halo-invoice, halo-recurring, qbo or xero.",
        callback=_checked_destination,
    ),
]
PostDestinationOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help=f"{_DESTINATIONS} Default: halo-invoice, unless some of the month went elsewhere: "
        "then it must be said.",
        callback=_checked_destination,
        show_default=False,
    ),
]
YesOption = Annotated[
    bool, typer.Option("--yes", help="Do not ask for the month to be typed back (for scripts).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

err = Console(stderr=True, highlight=False)


@handles_errors
def approve_command(
    ctx: typer.Context,
    batch_id: BatchArgument,
    client: ClientsOption = None,
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override",
            metavar="CODE",
            help="Let this error code through on the chosen invoices (needs --reason; repeat "
            "both for several codes).",
        ),
    ] = None,
    reason: Annotated[
        list[str] | None,
        typer.Option("--reason", help="Why the error is let through (kept for the audit log)."),
    ] = None,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Only show each invoice's approval and what lapsed (with --client, theirs); "
            "records nothing.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Approve a batch's invoices for posting (all, or those of --client).

    An approval records who and when, and the overrides with their reasons. An invoice with an
    error is approved only with `--override CODE --reason TEXT`; a held invoice is not. If a
    later sync changes what an approved invoice would bill, its approval lapses: `--status`
    shows which and why.
    """
    codes, reasons = override or [], reason or []
    if status and codes:  # it records nothing: an override given here was silently dropped
        raise typer.BadParameter(
            "--status only shows the approvals; approve without it to record an override",
            param_hint="--override",
        )
    if len(codes) != len(reasons):
        raise typer.BadParameter("give one --reason for each --override", param_hint="--reason")
    for code, why in zip(codes, reasons, strict=True):  # before a month's batch is built
        problem = override_problem(code, why)
        if problem:
            raise typer.BadParameter(problem, param_hint="--override")
    db = state(ctx).open_db(existing=True)
    try:
        batch_id = resolved_batch(db, batch_id)
        if status:
            states = Batches(db, today=configured_today()).approval_states(batch_id)
            if client:  # those clients' alone, as the approval itself would take
                unknown = [str(c) for c in sorted(set(client) - {s.client_id for s in states})]
                if unknown:
                    render.fail(f"batch {batch_id} has no invoice for client(s) {some(unknown)}")
                    raise typer.Exit(1)
                states = [s for s in states if s.client_id in client]
            if as_json:
                _print_json(
                    [
                        {
                            "client_id": s.client_id,
                            "client_name": s.client_name,
                            "status": s.status,
                            "approved_by": s.approved_by,
                            "approved_at": s.approved_at.isoformat() if s.approved_at else None,
                            "changes": list(s.changes),
                        }
                        for s in states
                    ]
                )
            else:
                sys.stdout.write(f"Approvals of batch {batch_id} ({batch_id[:7]})\n")
                for s in states:
                    line = Text(f"{s.status:<10} {s.client_name} ({s.client_id})")
                    if s.approved_by:
                        line.append(f" by {s.approved_by}")
                    sys.stdout.write(str(line) + "\n")
                    for change in s.changes:
                        sys.stdout.write(f"             {change}\n")
            return
        overrides = list(zip(codes, reasons, strict=True))
        result = Batches(db, today=configured_today()).approve(
            batch_id, client or None, overrides=overrides
        )
    finally:
        db.dispose()
    if as_json:
        _print_json(
            {
                "approved": result.approved,
                "skipped": _reasons(result.skipped),
                "overridden": _reasons(result.overridden),
                "posted": _reasons(result.posted),
            }
        )
    else:
        sys.stdout.write(f"approved {len(result.approved)} invoice(s) of batch {batch_id}\n")
        for done in result.overridden:
            sys.stdout.write(f"override recorded: {done.client_name}: {done.reason}\n")
        for done in result.posted:
            sys.stdout.write(f"{done.client_name}: {done.reason}\n")
        for skipped in result.skipped:
            sys.stdout.write(f"not approved: {skipped.client_name}: {skipped.reason}\n")
    if client and result.skipped:
        raise typer.Exit(1)


def _reasons(clients: list[Skipped]) -> list[dict[str, Any]]:
    return [
        {"client_id": c.client_id, "client_name": c.client_name, "reason": c.reason}
        for c in clients
    ]


@handles_errors
def post_command(
    ctx: typer.Context,
    batch_id: BatchArgument,
    to: PostDestinationOption = None,
    client: ClientsOption = None,
    yes: YesOption = False,
    adjust: Annotated[
        bool,
        typer.Option(
            "--adjust",
            help="For clients already posted there: post what the batch bills now less what "
            "was posted, as one more invoice (a credit note when it is less). Nothing else.",
        ),
    ] = False,
    unsettled: Annotated[
        bool,
        typer.Option(
            "--unsettled",
            help="Post invoices of a month that is not settled yet (a cost or usage still "
            "estimated: the Pax8 invoice for the month is not in). Without it they are refused.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Post a batch's approved invoices, exactly once; run it again to finish an interrupted one.

    Shows how many invoices, the total per currency and the destination, then asks you to type
    the month. Each invoice's progress goes to stderr; the result to stdout (with --client,
    those clients' documents), each document done by an earlier run marked "already posted
    before this run" (in JSON, `this_run` is false). Exit 0 when every approved invoice is
    posted, 1 when some are still to do or a client asked for by name did not post (the
    message says why); with
    `--adjust`, 1 while a posted client whose month bills differently cannot be adjusted (held,
    an error standing, its adjustment due at another destination), not for tax alone. Ctrl-C
    lets the request in flight be answered and recorded, sends no more and exits 130 (a second
    Ctrl-C stops at once); the same command again sends the rest, nothing twice.

    A posted invoice never changes. When the month bills differently after posting (a late seat
    change, the Pax8 invoice, a rules fix), `--adjust` posts the difference per client under
    the next reference (TU2611-420-A1): an invoice at Halo (negative lines for a credit), an
    invoice or a credit memo at QuickBooks, an invoice or a credit note at Xero.

    A month is settled when every cost and usage is backed by the Pax8 invoice; invoices of a
    month that is not settled post only with `--unsettled` (`trueup month` says which).
    """
    current = state(ctx)
    db = current.open_db(existing=True)
    try:
        batch_id = resolved_batch(db, batch_id)
        posting = _posting(db, current.config_path)
        destination = _post_destination(posting, batch_id[:7], to)
        with posting.exclusive():  # another post is refused before the journal is touched
            if adjust:
                plan = posting.plan_adjustments(batch_id, destination, client or None)
                _show_adjustments(plan)
            else:
                plan = posting.plan(batch_id, destination, client or None)
                _show_plan(plan)
                if plan.done and destination != "halo-recurring":
                    # Against what the month bills now, whichever batch was named.
                    now = resolved_batch(db, plan.month)
                    _hint_adjustments(posting, now, destination, client)
            if not plan.ready:
                entries = posting.entries(batch_id, destination, "create")
                _print_result(_of(entries, client), as_json, now=set())  # all from before
                if plan.blocked and not plan.done:
                    raise PostingError(_nothing_to_post(plan, adjust))
                if _left_to_do(plan, client):  # said above
                    raise typer.Exit(1)
                return
            if plan.unsettled() and not unsettled:
                raise PostingError(_not_settled(plan))
            if not yes:
                what = "adjustment(s)" if adjust else "invoice(s)"
                _confirm(plan.month, f"post {len(plan.ready)} {what} to {destination}")
            posting.queue(plan)
            again = f"trueup post {batch_id} --to {destination}{' --adjust' if adjust else ''}"
            run = _Interruptible(posting, destination, again)
            report = asyncio.run(run(batch_id, "create"))
        _print_result(_of(report.entries, client), as_json, now=run.moved)
    finally:
        db.dispose()
    _finish(report, batch_id, "post", again)
    if _left_to_do(plan, client):  # said above
        raise typer.Exit(1)


def _left_to_do(plan: PostingPlan, clients: list[int] | None) -> bool:
    """Exit 1's case: an approved invoice that cannot post, or a client asked for by name that
    did not (a script must not read the month as done)."""
    return bool(plan.stuck() or (clients and plan.blocked))


def _post_destination(posting: Posting, month: str, given: str | None) -> str:
    """`--to` as given; without it Halo's invoice, unless some of the month went elsewhere: a
    month is billed from one system, and a bare `trueup post` must not split it unawares."""
    if given is not None:
        return given
    went = sorted(
        {
            e.destination
            for e in posting.month_entries(month)
            if e.action == "create" and e.state not in ("REJECTED", "VOIDED")
        }
        - {"halo-invoice"}
    )
    if went:
        raise PostingError(
            f"{month} is posted, or on its way, to {', '.join(went)}: say where this post goes, "
            f"`--to {went[0]}` (or `--to halo-invoice` to post these clients there)"
        )
    return "halo-invoice"


def _of(entries: list[EntryView], clients: list[int] | None) -> list[EntryView]:
    """The entries of the clients asked for by name (all without --client)."""
    return [e for e in entries if not clients or e.client_id in clients]


@handles_errors
def void_command(
    ctx: typer.Context,
    batch_id: VoidBatchArgument,
    to: VoidDestinationOption = "halo-invoice",
    client: ClientsOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Void what a batch posted (all, or the invoices of --client), journaled like posting;
    a client's adjustments go with its invoice, whichever batch posted them.

    Halo, QuickBooks and Xero invoices are voided (a QuickBooks credit memo is deleted, a Xero
    draft too); a recurring invoice gets its previous quantities
    and prices back. Run it again to finish an interrupted void (Ctrl-C: as for post, exit 130
    once the request in flight is answered). A voided client's month can be
    posted again (from this batch or a newer one) under the next reference.
    """
    current = state(ctx)
    destination = check_destination(to)
    month = _month(batch_id)
    db = current.open_db(existing=True)
    try:
        posting = _posting(db, current.config_path)
        if month is None:
            Batches(db, today=configured_today()).month_of(batch_id)  # no such batch: say so
            # With the adjustments other batches posted of its documents: a client's month is
            # voided whole, as by month.
            targets: dict[str, list[int] | None] = posting.void_targets(
                batch_id, destination, client or None
            )
        else:
            targets = dict(posting.posted_batches(month, destination, client or None))
        err.print(f"Void of {month or batch_id[:7]} at {destination}")  # the month, first
        posted = [
            e for b, chosen in targets.items()
            for e in posting.entries(b, destination, "create")
            if e.state == "POSTED" and (not chosen or e.client_id in chosen)
        ]  # fmt: skip
        if on_the_way := _on_the_way(posting, month or batch_id[:7], destination, posted):
            raise PostingError(on_the_way)
        if posted and (missed := _not_there(posting, month or batch_id[:7], destination, client)):
            raise PostingError(
                f"{_nothing_to_void(posting, month or batch_id[:7], destination, missed)}; "
                "nothing was voided (leave them out to void the others)"
            )
        if not posted:  # a void run again is done, and says so; else where the month went
            done = _voided_before(posting, month or batch_id[:7], destination, client)
            if not done:
                raise PostingError(
                    _nothing_to_void(posting, month or batch_id[:7], destination, client)
                )
            _print_result(done, as_json, now=set())
            return
        if not yes:
            err.print(f"void {len(posted)} posted invoice(s) of {batch_id} at {destination}:")
            for entry in posted:  # what the client will see voided, before the word is typed
                there = f"{entry.document} {entry.remote_number or entry.remote_id}"
                err.print(
                    Text(
                        f"  {entry.reference:<16} {entry.client_name}: {entry.total:,.2f} "
                        f"{entry.currency} ({there})"
                    ),
                    soft_wrap=True,
                )
            _confirm(batch_id[:7], f"void {len(posted)} invoice(s)")
        reports = []
        named = "".join(f" --client {c}" for c in client or ())
        again = f"trueup void {batch_id} --to {destination}{named}"
        run = _Interruptible(posting, destination, again)
        with posting.exclusive():
            # Every void journaled before any is sent: one cut short between batches (a kill,
            # Ctrl-C) leaves the rest pending, so the month says its void is unfinished.
            for target, chosen in targets.items():
                posting.queue_void(target, destination, chosen)
            for target in targets:
                if run.stop.is_set():  # Ctrl-C: the next batch's voids wait for the next run
                    break
                reports.append((target, asyncio.run(run(target, "void"))))
        voided = [e for _, report in reports for e in report.entries]
        _print_result(_of(voided, client), as_json, now=run.moved)
    finally:
        db.dispose()
    for target, report in reports:
        _finish(report, target, "void", again)


def _on_the_way(
    posting: Posting, month: str, destination: str, posted: list[EntryView]
) -> str | None:
    """Why a void must wait: a document of a client it voids (an adjustment killed mid-way,
    a run stopped) may be at the destination, or get there, after the void; the client would
    keep it, though its month reads voided."""
    flying = posting.on_the_way(month, destination, {e.client_id for e in posted})
    if not flying:
        return None
    first = flying[0]
    return (
        f"{first.reference} of {first.client_name} ({first.client_id}) is still on its way to "
        f"{destination} ({first.state.lower()}): `trueup post {first.batch_id} --to "
        f"{destination}` finishes it, then void again; nothing was voided"
    )


def _voided_before(
    posting: Posting, month: str, destination: str, clients: list[int] | None
) -> list[EntryView]:
    """The month's voids done at `destination` (of the clients asked), when each client asked
    has one and no document of theirs stands or is on its way there; said on stderr, with
    where the month was posted since, if it was."""
    mine = [e for e in posting.month_entries(month) if not clients or e.client_id in clients]
    there = [e for e in mine if e.destination == destination]
    if any(e.action == "create" and e.state not in ("VOIDED", "REJECTED") for e in there):
        return []
    done = [e for e in there if e.action == "void"]
    if not done or set(clients or ()) - {e.client_id for e in done}:
        return []
    names = list(dict.fromkeys(f"{e.client_name} ({e.client_id})" for e in done))
    said = (
        f"{month} is already voided at {destination} for {some(names)} "
        f"({some([e.reference for e in done])}): nothing to send"
    )
    went = _went(posting, month, clients)
    if went:
        said += f"; posted again since: {went}"
    err.print(Text(said), soft_wrap=True)
    return done


def _not_there(
    posting: Posting, month: str, destination: str, clients: list[int] | None
) -> list[int]:
    """The clients asked for by name with nothing at `destination` to void, posted or voided
    before: a typo, or a client posted elsewhere, that a void of the others passed over unsaid
    (exit 0, the script reading it voided)."""
    there = {
        e.client_id
        for e in posting.month_entries(month)
        if e.destination == destination and e.action == "create" and e.state in ("POSTED", "VOIDED")
    }
    return [c for c in dict.fromkeys(clients or ()) if c not in there]


def _nothing_to_void(
    posting: Posting, month: str, destination: str, clients: list[int] | None
) -> str:
    """Why a void by month found nothing, and where the month went if elsewhere."""
    whose = f" for client(s) {', '.join(map(str, clients))}" if clients else ""
    said = f"nothing of {month} is posted to {destination}{whose} to void"
    went = _went(posting, month, clients)
    if went:
        return f"{said}; {went}"
    return f"{said}: nothing of it is posted anywhere"


def _went(posting: Posting, month: str, clients: list[int] | None) -> str | None:
    """Where the month (of the clients asked) stands posted, and the void that frees it."""
    elsewhere = sorted(
        {
            e.destination
            for e in posting.month_entries(month)
            if e.action == "create" and e.state == "POSTED"
            and (not clients or e.client_id in clients)
        }
    )  # fmt: skip
    if not elsewhere:
        return None
    only = f" --client {clients[0]}" if clients and len(clients) == 1 else ""
    command = f"trueup void {month} --to {elsewhere[0]}{only}"
    return f"it went to {', '.join(elsewhere)}: `{command}`"


@handles_errors
def journal_command(
    ctx: typer.Context,
    batch_id: JournalBatchArgument,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Only this destination (halo-invoice, halo-recurring, qbo or xero).",
            callback=_checked_destination,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The posting journal: each document's state at each destination and its id there (of a
    batch, or with a month, of every batch that posted it)."""
    db = state(ctx).open_db(existing=True)
    month = _month(batch_id)
    try:
        posting = Posting(db, today=configured_today())
        if month is not None:
            entries = posting.month_entries(month, to)
            said = f"Journal of {month}, every batch"
        else:
            entries = posting.entries(resolved_batch(db, batch_id), to)
            said = f"Journal of batch {batch_id} ({batch_id[:7]})"
    finally:
        db.dispose()
    if not as_json:
        sys.stdout.write(said + (f" at {to}" if to else "") + "\n")
    _print_result(entries, as_json)


def _month(batch: str) -> Month | None:
    """The month a BATCH argument names, or None for a batch id."""
    try:
        return Month(batch)
    except MonthError:
        return None


def resolved_batch(db: Database, batch: str) -> str:
    """A batch id as given, or the current batch of the month given instead."""
    month, batches = _month(batch), Batches(db, today=configured_today())
    if month is None:
        batches.month_of(batch)  # BatchError when there is no such batch
        return batch
    return batches.current_id(month)


def _posting(db: Database, config_path: Path) -> Posting:
    """Posting on the configured destinations; the config is read when a run opens its sink."""

    def sinks(destination: str) -> AbstractAsyncContextManager[Sink]:
        return configured_sinks(load_settings(config_path))(destination)

    settings = load_settings(config_path)
    return Posting(
        db,
        today=configured_today(),
        sinks=sinks,
        xero=settings.xero,
        qbo_realm=settings.qbo.realm_id,
        backups_kept=settings.backup.keep,
    )


class _Interruptible:
    """Runs of the journal at one destination that Ctrl-C stops between requests: the first
    says at once what is in flight, lets it be answered and recorded, and sends nothing more
    (the run's report is `interrupted`: exit 130); a second stops at once, as safely, since
    the next run looks up whatever may have been sent. `again` is the command that finishes."""

    def __init__(self, posting: Posting, destination: str, again: str) -> None:
        self.posting = posting
        self.destination = destination
        self.again = again
        self.stop = threading.Event()
        self.sending: set[int] = set()  # the entries of the request in flight
        self.moved: set[int] = set()  # the entries these runs sent or settled

    async def __call__(self, batch_id: str, action: str) -> RunReport:
        task = asyncio.current_task()
        assert task is not None

        def interrupted() -> None:
            if self.stop.is_set():
                task.cancel()
                return
            self.stop.set()
            what = f" ({len(self.sending)} document(s) being sent)" if self.sending else ""
            err.print(
                f"interrupted: finishing the request in flight{what}, then stopping; nothing "
                f"will be sent twice: `{self.again}` again sends the rest (Ctrl-C again stops "
                "at once, as safely: that run looks up what was in flight)",
                soft_wrap=True,
            )

        with _on_interrupt(interrupted):
            try:
                return await self.posting.run(
                    batch_id, self.destination, action=action, progress=self._progress,
                    stop=self.stop,
                )  # fmt: skip
            except asyncio.CancelledError:
                if not self.stop.is_set():
                    raise
                # Stopped mid-request: the journal holds it as SENDING, for the next run.
                entries = self.posting.entries(batch_id, self.destination, action)
                return RunReport(interrupted=True, entries=entries)

    def _progress(self, entry: EntryView) -> None:
        self.moved.add(entry.id)
        if entry.state == "SENDING":
            self.sending.add(entry.id)
        else:
            self.sending.discard(entry.id)
        if sys.stderr.isatty() or entry.state in ("POSTED", "REJECTED", "UNKNOWN"):
            where = f" {entry.document} {entry.remote_id}" if entry.remote_id else ""
            err.print(
                Text(f"{entry.said:<8} {entry.reference:<16} {entry.client_name}{where}"),
                soft_wrap=True,
            )


@contextmanager
def _on_interrupt(handler: Callable[[], None]) -> Iterator[None]:
    """`handler` on Ctrl-C (SIGINT) while the loop runs. A process started with SIGINT
    ignored (a background job of a script) keeps ignoring it, as any program does; where the
    loop cannot take signals (not the main thread) Ctrl-C stays KeyboardInterrupt."""
    loop = asyncio.get_running_loop()
    taken = False
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        try:
            loop.add_signal_handler(signal.SIGINT, handler)
            taken = True
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        yield
    finally:
        if taken:
            loop.remove_signal_handler(signal.SIGINT)


def _show_plan(plan: PostingPlan) -> None:
    _show_counts(plan, "invoice(s) to post", "already posted", "cannot post")
    for planned in plan.ready:  # a month posted again: said, never silently among many
        if planned.follows and planned.document:
            err.print(
                Text(
                    f"  re-issue: {planned.client_name} as {planned.document.reference}, after "
                    f"{planned.follows} (`trueup journal {plan.month}` shows the chain)"
                ),
                soft_wrap=True,
            )
    whole = [p.client_name for p in plan.without_recurring()]
    if whole:
        err.print(
            Text(
                f"  no active recurring invoice in Halo for {some(whole)}: a one-off invoice "
                "bills the whole month, and will every month until Halo has one"
            ),
            soft_wrap=True,
        )
    waiting = [p.client_name for p in plan.blocked if p.problem == "not approved"]
    if waiting:  # one line, not one per client: most of a month may wait
        err.print(
            Text(f"  not approved: {some(waiting)} (`trueup approve` approves them)"),
            soft_wrap=True,
        )
    for planned in plan.blocked:
        if planned.problem != "not approved":
            err.print(
                Text(f"  cannot post {planned.client_name}: {planned.problem}"), soft_wrap=True
            )


def _show_counts(plan: PostingPlan, ready: str, done: str, blocked: str) -> None:
    totals = ", ".join(f"{amount:,.2f} {currency}" for currency, amount in plan.totals().items())
    err.print(
        Text(
            f"batch {plan.batch_id} ({plan.month}) to {plan.destination}: "
            f"{len(plan.ready)} {ready}{f', {totals}' if totals else ''}; "
            f"{len(plan.done)} {done}; {len(plan.blocked)} {blocked}"
        ),
        soft_wrap=True,
    )


def _show_adjustments(plan: PostingPlan) -> None:
    _show_counts(plan, "adjustment(s) to post", "bill as posted", "cannot adjust")
    for planned in plan.ready:
        document = planned.document
        if document is None:  # a ready adjustment always has its document
            continue
        kind = "credit" if document.credit else "debit"
        err.print(
            Text(
                f"  {kind} {document.reference} {planned.client_name}: {planned.total:,.2f} "
                f"{planned.currency} ({len(document.lines)} line(s); adjusts "
                f"{', '.join(document.adjusts)})"
            ),
            soft_wrap=True,
        )
    for planned in plan.blocked:
        err.print(Text(f"  cannot adjust {planned.client_name}: {planned.problem}"), soft_wrap=True)


def _hint_adjustments(
    posting: Posting, batch_id: str, destination: str, clients: list[int] | None
) -> None:
    """How many posted invoices bill differently now (as `trueup month` counts them to
    adjust), and of those which cannot be adjusted and why, in short."""
    try:
        plan = posting.plan_adjustments(batch_id, destination, clients)
    except PostingError:  # a client named that the month bills no more: nothing to adjust
        return
    held_back = [p for p in plan.blocked if p.differs]
    if not plan.ready and not held_back:
        return
    command = f"`trueup post {plan.month} --to {plan.destination} --adjust`"
    said = f"{len(plan.ready) + len(held_back)} posted invoice(s) bill differently now"
    if not held_back:
        said += f": {command} shows and posts the differences"
    else:
        why = some([f"{p.client_name}: {_in_short(p.problem)}" for p in held_back], 2, "; ")
        said += f"; {len(held_back)} cannot be adjusted ({why}): {command} shows why"
        if plan.ready:
            said += f" and posts the {len(plan.ready)} other(s)"
    err.print(Text(said), soft_wrap=True)


def _in_short(problem: str | None) -> str:
    """A blocked client's reason up to its first clause: what, not what to do about it."""
    return re.split(r": |; ", problem or "")[0]


def _not_settled(plan: PostingPlan) -> str:
    found = plan.unsettled()
    names = some([p.client_name for p in found])
    reasons = sorted({why for p in found for why in p.unsettled})
    return (
        f"{len(found)} of the invoices to post ({names}) are not settled: {'; '.join(reasons)}. "
        "Wait for the Pax8 invoice and sync, or add --unsettled to post them as they are "
        "(a later difference goes out as an adjustment); nothing was sent"
    )


def _nothing_to_post(plan: PostingPlan, adjust: bool) -> str:
    if adjust:
        return f"nothing to adjust: none of the {len(plan.blocked)} client(s) can be (why is above)"
    if all(p.problem == "not approved" for p in plan.blocked):
        return "nothing to post: approve invoices first (`trueup approve`)"
    return f"nothing to post: none of the {len(plan.blocked)} invoice(s) can post (why is above)"


def _confirm(expected: str, what: str) -> None:
    if not sys.stdin.isatty():
        raise PostingError(f"to {what}, run it in a terminal to confirm, or add --yes")
    # On stderr: with --json, stdout is the data (a file, a pipe) and the prompt would open it.
    typed = typer.prompt(f"Type {expected} to {what}", default="", show_default=False, err=True)
    if typed.strip() != expected:
        raise PostingError(f"not confirmed ({typed.strip() or 'nothing'} typed): nothing was sent")


def _print_result(entries: list[EntryView], as_json: bool, *, now: set[int] | None = None) -> None:
    """The entries, one a line or as JSON. With `now` (a post's or a void's result: the ids of
    the entries this run sent, or settled for an earlier run cut short), each says whether it
    is news of this run (`this_run`), or was done before it."""
    if as_json:
        _print_json(
            [
                {
                    "client_id": e.client_id,
                    "client_name": e.name_as_sent,
                    "destination": e.destination,
                    "action": e.action,
                    "reference": e.reference,
                    "state": e.state,
                    "attempts": e.attempts,
                    "remote_id": e.remote_id,
                    "remote_number": e.remote_number,
                    "total": str(e.total),
                    "currency": e.currency,
                    "document": e.document,
                    "error": e.error,
                    "batch_id": e.batch_id,
                    "created_at": e.created_at.isoformat(),
                    "created_by": e.created_by,
                    "updated_at": e.updated_at.isoformat(),
                }
                | ({} if now is None else {"this_run": e.id in now})
                for e in entries
            ]
        )
        return
    for e in entries:
        line = Text(
            f"{e.action:<6} {e.said:<8} {e.destination:<14} {e.reference:<16} "
            f"{e.total:>12,.2f} {e.currency} {e.client_name}"
        )
        if e.remote_id:
            line.append(f" -> {e.document} {e.remote_id}")
        if e.error and e.state != "POSTED":  # a destination's words, perhaps stored raw before
            line.append(f" ({render.visible_lines(e.error)})")
        if now is not None and e.id not in now:
            done = {"POSTED": "already posted", "VOIDED": "already voided"}
            line.append(f" ({done.get(e.said, e.said.lower())} before this run)")
        sys.stdout.write(str(line) + "\n")


def _finish(report: RunReport, batch_id: str, verb: str, again: str) -> None:
    if report.interrupted:
        _interrupted(report, verb, again)
    if report.complete:
        return
    if report.stopped:
        raise PostingError(
            f"{verb} stopped: {report.stopped}; run `trueup {verb} {batch_id}` again"
        )
    left = report.unknown + report.pending
    parts = []
    if left:
        parts.append(f"{left} not settled: run `trueup {verb} {batch_id}` again")
    if report.rejected:
        parts.append(
            f"{report.rejected} rejected by the destination (see `trueup journal {batch_id}`); "
            f"fix the cause and run `trueup {verb} {batch_id}` again"
        )
    raise PostingError("; ".join(parts))


def _interrupted(report: RunReport, verb: str, again: str) -> None:
    """Exit 130, saying what the stopped run leaves to do (as the wrapper does for Ctrl-C)."""
    # A void entry done reads POSTED; a post's entry voided since reads VOIDED: not this run's.
    done = sum(1 for e in report.entries if e.state == "POSTED")
    left = sum(1 for e in report.entries if e.state in ("PENDING", "SENDING", "UNKNOWN"))
    if left:
        said = (
            f"{verb} stopped with {left} still to send ({done} done); `{again}` again "
            "finishes it (what may have been sent is looked up first: nothing is sent twice)"
        )
    else:
        said = f"the request in flight was the last: {done} done, nothing left to send"
    render.fail(f"interrupted: {said}")
    raise typer.Exit(130)


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
