"""Posting, live: each invoice's journal state as the run moves it, a progress bar, and once the
run ends the results (the destination's id, or the error), with retry of the failed ones and
void of the cursor's invoice or of all that was posted.

The run is `run_posting` in a thread of its own (it writes the journal, a backup and SQLite
transactions that would stall the screen); each move it commits comes back as a message. A
request in flight cannot be cancelled, and need not be: whatever stops a run, posting again
finishes it, and the journal looks a document up before it ever sends it twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Input, ProgressBar, Static
from textual.worker import Worker

from trueup.core.service.types import EntryView, PostingPlan, RunReport
from trueup.core.values.text import some
from trueup.tui.formatting import money, month_name, plain
from trueup.tui.screens.base import WorkbenchScreen
from trueup.tui.screens.journal import JournalScreen
from trueup.tui.widgets.row_table import Column, RowTable

STATE_STYLES = {
    "PENDING": "dim",
    "SENDING": "bold cyan",
    "POSTED": "bold green",
    "REJECTED": "bold red",
    "UNKNOWN": "bold yellow",
    "VOIDED": "bold magenta",
}
FINAL = ("POSTED", "REJECTED")
# Nothing left to send: posted, or posted and voided since (a re-post goes under a new entry).
SETTLED = ("POSTED", "VOIDED")
COLUMNS = [
    Column("Client", 16, flex=True),
    Column("Reference", 16, hide_below=100),
    Column("Total", 12, "right"),
    Column("State", 8),
    Column("Id or error", 16, flex=True),
]
REFRESH_SECONDS = 0.1  # a run moves thousands of entries; the table redraws at most this often


def _cells(entry: EntryView) -> tuple[Text, ...]:
    if entry.state in SETTLED:
        # A voided document's number too: posted again, the client has two rows, which only
        # the numbers tell apart at 80 columns (Reference is hidden).
        number = entry.remote_number or entry.remote_id or ""
        outcome = plain(number, "green" if entry.state == "POSTED" else "magenta")
    else:
        outcome = plain(entry.error or "", "red" if entry.state == "REJECTED" else "yellow")
    return (
        plain(entry.client_name),
        plain(entry.reference, "dim"),
        plain(money(entry.total, entry.currency)),
        plain(entry.said, STATE_STYLES.get(entry.said, "")),  # a void taken reads VOIDED
        outcome,
    )


class TypeToConfirmScreen(ModalScreen[bool]):
    """A question answered by typing `expected` back: for what cannot be taken back."""

    HELP = "confirm_typed.md"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="typed.cancel", tooltip="Do nothing"),
    ]

    def __init__(self, title: str, question: str, expected: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.expected = expected

    def compose(self) -> ComposeResult:
        with Vertical(id="typed-confirm", classes="dialog") as dialog:
            dialog.border_title = Text(self.title_text)  # names in it are not markup
            dialog.border_subtitle = f"type {self.expected}, enter · esc cancels"
            yield Static(Text(self.question), id="typed-question")
            yield Input(placeholder=f"type {self.expected}")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.expected:
            self.dismiss(True)
        else:
            self.notify(f"Type {self.expected} exactly; nothing was done.", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(False)


class PostProgressScreen(WorkbenchScreen):
    TITLE_TEXT = "Posting"
    HELP = "post.md"
    AUTO_FOCUS = "#post-entries"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="post.back", tooltip="Back to the batch"),
        Binding("r", "retry", "Retry", id="post.retry", tooltip="Post the failed invoices again"),
        Binding(
            "enter",
            "journal",
            "Journal",
            id="post.journal",
            tooltip="Every document sent for the client's month, with its state and who sent it",
        ),
        Binding(
            "v",
            "void",
            "Void",
            id="post.void",
            tooltip="Void the cursor's invoice (after `void` and the month typed)",
        ),
        Binding(
            "V",
            "void_all",
            "Void all",
            show=False,
            id="post.void_all",
            tooltip="Void every invoice the batch posted here (after `void` and the month typed)",
        ),
    ]

    class Moved(Message, bubble=False):
        def __init__(self, entry: EntryView) -> None:
            super().__init__()
            self.entry = entry

    class Queued(Message, bubble=False):
        def __init__(self, entries: list[EntryView]) -> None:
            super().__init__()
            self.entries = entries

    class Ended(Message, bubble=False):
        def __init__(self, report: RunReport) -> None:
            super().__init__()
            self.report = report

    def __init__(self, plan: PostingPlan) -> None:
        super().__init__()
        self.plan = plan
        self.action_kind = "create"  # or void
        self.voiding: list[int] | None = None  # the clients a void run voids (None: all)
        self.entries: dict[int, EntryView] = {}
        self.to_send: set[int] = set()  # the entries this run moves
        self.running = False
        self.report: RunReport | None = None
        self._redraw_due = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="post-head")
        yield ProgressBar(show_eta=False, id="post-bar")
        yield RowTable(COLUMNS, _cells, empty="Nothing journaled yet.", id="post-entries")
        yield Static(id="post-detail")
        yield Footer()

    @property
    def table(self) -> RowTable[EntryView]:
        return self.query_one("#post-entries", RowTable)

    def on_mount(self) -> None:
        self.watch(self.table, "cursor", self._cursor_moved, init=False)
        plan = self.plan
        self.start("create", lambda: self.workbench.posting.queue(plan))

    # --- the run ----------------------------------------------------------------------------------

    def start(self, action: str, queue: Callable[[], list[EntryView]]) -> None:
        self.action_kind, self.running, self.report = action, True, None
        self.sub_title = "Voiding" if action == "void" else "Posting"
        self._show_head()
        self.refresh_bindings()
        self.run(action, queue)

    @work(thread=True, exclusive=True, group="post", exit_on_error=False)
    def run(self, action: str, queue: Callable[[], list[EntryView]]) -> None:
        def moved(entry: EntryView) -> None:
            self.post_message(self.Moved(entry))

        plan, posting = self.plan, self.workbench.posting
        with posting.exclusive():  # a `trueup post` elsewhere is refused before the journal
            self.post_message(self.Queued(queue()))
            report = asyncio.run(
                posting.run(plan.batch_id, plan.destination, action=action, progress=moved)
            )
        self.post_message(self.Ended(report))

    def on_post_progress_screen_queued(self, message: Queued) -> None:
        self.entries = {e.id: e for e in message.entries}
        self.to_send = {e.id for e in message.entries if e.state not in SETTLED}
        self._show_rows()
        self.table.action_first()

    def on_post_progress_screen_moved(self, message: Moved) -> None:
        self.entries[message.entry.id] = message.entry
        if not self._redraw_due:
            self._redraw_due = True
            self.set_timer(REFRESH_SECONDS, self._show_rows)

    def on_post_progress_screen_ended(self, message: Ended) -> None:
        self.running, self.report = False, message.report
        self.entries = {e.id: e for e in message.report.entries}
        self.sub_title = "Results"
        self._show_rows()
        rows = [e for e in self.table.rows if isinstance(e, EntryView)]
        # The first that failed, else the first this run sent: not a document voided before,
        # listed first when the month is posted again.
        first = next((e for e in rows if _failed(e)), None) or next(
            (e for e in rows if e.id in self.to_send), None
        )
        if first is not None:
            self.table.cursor = list(self.table.rows).index(first)
        self.refresh_bindings()

    def worker_failed(self, worker: Worker[object]) -> None:
        """The run could not start (no connection, another run on the store): say so."""
        self.running = False
        self.sub_title = "Not started"
        self.query_one("#post-head", Static).update(
            Text(f"Nothing was sent: {worker.error}\nr tries again · escape goes back", "bold red")
        )
        self.refresh_bindings()

    # --- showing it ---------------------------------------------------------------------------

    def _show_rows(self) -> None:
        self._redraw_due = False
        self.table.set_rows(list(self.entries.values()), key=lambda e: e.id)
        moved = [e for i, e in self.entries.items() if i in self.to_send]
        bar = self.query_one(ProgressBar)
        bar.update(total=len(moved) or 1, progress=sum(1 for e in moved if e.state in FINAL))
        if not self.running and not moved:
            bar.update(total=1, progress=1)
        self._show_head()
        self._show_detail()

    def _show_head(self) -> None:
        plan, verb = self.plan, "Voiding" if self.action_kind == "void" else "Posting"
        text = Text(no_wrap=False)
        where = f" of {month_name(plan.month)} to {plan.destination}"
        if self.running:
            text.append(f"{verb} {len(self.to_send) or '…'} invoice(s){where}", style="bold")
            text.append(f" · batch {plan.batch_id}", style="dim")
            text.append(
                "\nA request in flight cannot be cancelled; whatever stops a run (even quitting), "
                "posting again finishes it without sending anything twice.",
                style="dim",
            )
        elif self.report is not None:
            text.append_text(self._outcome(self.report))
        self.query_one("#post-head", Static).update(text)

    def _outcome(self, report: RunReport) -> Text:
        entries = report.entries
        done = sum(1 for e in entries if e.state == "POSTED")
        # Documents of the batch voided before this run: listed as VOIDED, not counted.
        voided = sum(1 for e in entries if e.state == "VOIDED")
        verb = "Voided" if self.action_kind == "void" else "Posted"
        text = Text(no_wrap=False)
        text.append(
            f"{verb} {done} of {len(entries) - voided}", style="bold green" if done else "bold"
        )
        # The batch's documents there, some maybe sent by an earlier run: this one's apart.
        this_run = sum(1 for e in entries if e.id in self.to_send and e.state == "POSTED")
        if this_run != done:
            text.append(f" ({this_run} this run)", style="dim")
        text.append(f" to {self.plan.destination}", style="dim")
        if voided:
            text.append(f" · {voided} voided before", style="dim")
        if report.rejected:
            text.append(f" · {report.rejected} rejected", style="bold red")
        if report.unknown or report.pending:
            text.append(f" · {report.unknown + report.pending} not settled", style="bold yellow")
        if report.stopped:
            text.append(f"\nStopped: {report.stopped}", style="bold red")
        if self.plan.destination == "halo-recurring" and self.action_kind == "create":
            text.append(
                "\nThe recurring invoices were trued up in Halo; the Total column is the one-off "
                "invoice beside each (the difference and usage), not the month's whole bill.",
                style="dim",
            )
        if any(_failed(e) for e in entries):
            again = "voids" if self.action_kind == "void" else "posts"
            text.append(f"\nr {again} the failed ones again (after fixing the cause)", style="dim")
        elif report.backup is not None:
            text.append("\nThe store was backed up before the run (backups/, beside it).", "dim")
        return text

    def _cursor_moved(self) -> None:
        self._show_detail()
        self.refresh_bindings()  # v voids the cursor's invoice: shown where it can

    def _show_detail(self) -> None:
        entry = self.table.current
        text = Text(no_wrap=False)
        if entry is not None:
            text.append(f"{entry.client_name} · {entry.reference} · ", style="dim")
            text.append(entry.said, style=STATE_STYLES.get(entry.said, ""))
            if entry.remote_id:
                text.append(f" · id {entry.remote_id}")
                if entry.remote_number and entry.remote_number != entry.remote_id:
                    text.append(f", number {entry.remote_number}")
            if entry.error and entry.state != "POSTED":
                text.append(f"\n{entry.error}", style="red")
        self.query_one("#post-detail", Static).update(text)

    # --- keys ---------------------------------------------------------------------------------

    def action_journal(self) -> None:
        entry = self.table.current
        if entry is not None:
            self.app.push_screen(JournalScreen(self.plan.month, entry.client_id, entry.client_name))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Retry and void wait (dimmed) while a run is under way; hidden when there is nothing
        to retry or void."""
        if action == "journal":
            return self.table.current is not None
        if action not in ("retry", "void", "void_all"):
            return True
        if self.running:
            return None
        if action == "retry":
            return self.report is None or any(_failed(e) for e in self.entries.values())
        if action == "void":
            entry = self.table.current
            return self.action_kind == "create" and entry is not None and entry.said == "POSTED"
        return self.action_kind == "create" and any(
            e.said == "POSTED" for e in self.entries.values()
        )

    def action_back(self) -> None:
        if self.running:
            self.notify(
                "Posting is under way: a request in flight cannot be cancelled. "
                "Back once the run has ended.",
                timeout=5,
            )
            return
        self.dismiss()

    def action_retry(self) -> None:
        if self.running:
            return
        if self.action_kind == "void":
            self._start_void(self.voiding)
            return
        failed = [e.client_id for e in self.entries.values() if _failed(e)]
        self.start("create", lambda: self._queue_again(failed))

    def _queue_again(self, clients: list[int]) -> list[EntryView]:
        """Plan the failed invoices again (a rejected one gets its document built anew)."""
        plan = self.workbench.posting.plan(
            self.plan.batch_id, self.plan.destination, clients or None
        )
        for planned in plan.blocked:
            self.app.call_from_thread(
                self.notify,
                f"{planned.client_name} cannot post: {planned.problem}",
                severity="warning",
                timeout=8,
            )
        return self.workbench.posting.queue(plan)

    def action_void(self) -> None:
        """Void the cursor's client's invoice alone (V: every one the run posted)."""
        entry = self.table.current
        if not self.running and entry is not None and entry.said == "POSTED":
            self._confirm_void([entry])

    def action_void_all(self) -> None:
        posted = [e for e in self.entries.values() if e.said == "POSTED"]
        if not self.running and posted:
            self._confirm_void(posted)

    def _confirm_void(self, posted: list[EntryView]) -> None:
        plan, expected = self.plan, f"void {self.plan.month}"
        clients = [entry.client_id for entry in posted] if len(posted) == 1 else None
        targets = self.workbench.posting.void_targets(plan.batch_id, plan.destination, clients)
        others = [whose or () for batch, whose in targets.items() if batch != plan.batch_id]
        adjusted = sorted({client for whose in others for client in whose})
        if adjusted:
            # Adjusted since, from other batches: this screen runs this batch's journal alone.
            names = {e.client_id: e.client_name for e in self.entries.values()}
            said = some([f"{names.get(c, 'client')} ({c})" for c in adjusted])
            flags = " ".join(f"--client {c}" for c in adjusted)
            self.notify(
                f"{said} adjusted since from another batch: void on the Batch screen (v), or "
                f"`trueup void {plan.month} --to {plan.destination} {flags}`, which voids "
                "the adjustments too.",
                severity="warning",
                timeout=10,
            )
            return
        if len(posted) == 1:
            entry = posted[0]
            what = (
                f"{entry.client_name}'s invoice {entry.reference} "
                f"({entry.remote_number or entry.remote_id}, {money(entry.total, entry.currency)})"
            )
        else:
            what = f"the {len(posted)} invoice(s) batch {plan.batch_id} posted"
        question = (
            f"Void {what} at {plan.destination}? Voided documents stay at the destination; the "
            "month can be posted again afterwards under the next reference."
        )

        def answered(void: bool | None) -> None:
            if void:
                self._start_void(clients)

        self.app.push_screen(TypeToConfirmScreen("Void", question, expected), answered)

    def _start_void(self, clients: list[int] | None) -> None:
        plan, self.voiding = self.plan, clients
        self.start(
            "void",
            lambda: self.workbench.posting.queue_void(plan.batch_id, plan.destination, clients),
        )


def _failed(entry: EntryView) -> bool:
    return entry.state not in SETTLED
