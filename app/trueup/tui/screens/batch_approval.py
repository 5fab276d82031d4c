"""The Batch screen's approval and posting keys: `a` approves the invoice under the cursor (or
withdraws its approval), `A` approves every invoice that can be after listing them, `p` opens
the posting summary. Only approved invoices post; see core/approval.py for when one lapses."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.message import Message

from trueup.core.service.types import (
    ApprovalState,
    BatchApprovals,
    BatchOverview,
    InvoiceRow,
    PostingPlan,
)
from trueup.tui.formatting import money, month_name, plain
from trueup.tui.screens.base import SearchableTableScreen
from trueup.tui.screens.confirm import ConfirmScreen
from trueup.tui.widgets.row_table import Column

if TYPE_CHECKING:
    from trueup.core.service.workbench import Workbench

APPROVAL_STYLES = {"approved": "bold green", "lapsed": "bold magenta"}
POSTED_STYLE = "bold cyan"
DIFFERS_STYLE = "bold yellow"  # posted, and would now bill otherwise
VOIDED_STYLE = "magenta"
APPROVE_ALL = [
    Column("Client", 16, flex=True),
    Column("Total", 12, "right"),
    Column("", 24, flex=True),
]
LAPSED = [Column("What changed since it was approved", 20, flex=True)]
# The journal's states of a document on its way: a run cut short left it there (store.postings).
ON_ITS_WAY = frozenset({"PENDING", "SENDING", "UNKNOWN"})


def on_the_way(workbench: Workbench, batch_id: str) -> frozenset[int]:
    """The clients of the batch's month with a document on its way to a destination: where
    nothing of theirs is posted, the month reads `posting` (ledger/month.py), not approved."""
    month = batch_id[:7]  # a batch's id starts with its month
    return frozenset(
        e.client_id
        for e in workbench.posting.month_entries(month)
        if e.action == "create" and e.state in ON_ITS_WAY
    )


def approval_text(state: ApprovalState) -> Text:
    return plain(state.status, APPROVAL_STYLES.get(state.status, ""))


def why_not_approvable(
    invoice: InvoiceRow, state: ApprovalState | None, posted: tuple[str, ...] = ()
) -> str | None:
    """Why `A` leaves this invoice out (the reasons `approve` would give), or None."""
    if posted:
        return f"posted to {', '.join(posted)}"
    if state is not None and state.status == "lapsed":
        return "approval lapsed"
    if invoice.state == "held":
        return "held"
    if invoice.open_errors:
        return f"{invoice.open_errors} error{'s' if invoice.open_errors > 1 else ''} standing"
    return None


class ApprovingScreen(SearchableTableScreen):
    """What the Batch screen needs to approve and post (its keys are declared there); it sets
    `shown_batch` and `invoices`."""

    shown_batch: BatchOverview | None
    invoices: list[InvoiceRow]
    approvals: BatchApprovals | None = None  # of the batch shown; None while they load

    sending: frozenset[int] = frozenset()  # clients with a document on its way (on_the_way)

    class ApprovalsLoaded(Message, bubble=False):
        def __init__(
            self, batch_id: str, approvals: BatchApprovals, sending: frozenset[int]
        ) -> None:
            super().__init__()
            self.batch_id = batch_id
            self.approvals = approvals
            self.sending = sending

    def approval_of(self, client_id: int) -> ApprovalState | None:
        return self.approvals.states.get(client_id) if self.approvals is not None else None

    def posted_to(self, client_id: int) -> tuple[str, ...]:
        return self.approvals.posted_to(client_id) if self.approvals is not None else ()

    def approval_summary(self) -> Text:
        """A line of approvals: how many approved, lapsed, and a word when the store moved on."""
        text = Text()
        if self.approvals is None:
            return text
        # As the rows say them: one on its way to a destination reads posting, not approved.
        sending = [c for c in self.sending if not self.approvals.posted_to(c)]
        words = [s.status for c, s in self.approvals.states.items() if c not in sending]
        approved, lapsed = words.count("approved"), words.count("lapsed")
        if approved:
            text.append(f"\n{approved} approved for posting", style="green")
        elif self.approvals.posted:  # a posted month's approval is the journal's business
            text.append("\nNo approved invoice waits to post", style="dim")
        else:
            text.append("\nNothing approved yet: a approves an invoice, A all", style="dim")
        if lapsed:
            text.append(f", {lapsed} lapsed", style="bold magenta")
        if sending:
            text.append(f", {len(sending)} posting (on the way: p finishes)", style=POSTED_STYLE)
        if self.approvals.posted:
            text.append(f", {len(self.approvals.posted)} posted", style=POSTED_STYLE)
        if not self.approvals.current:
            text.append(" · store changed since: b rebuilds", style="yellow")
        return text

    @work(thread=True, exclusive=True, group="approvals", exit_on_error=False)
    def load_approvals(self, batch_id: str) -> None:
        approvals = self.workbench.batches.approvals(batch_id)
        self.post_message(
            self.ApprovalsLoaded(batch_id, approvals, on_the_way(self.workbench, batch_id))
        )

    def on_approving_screen_approvals_loaded(self, message: ApprovalsLoaded) -> None:
        if self.shown_batch is not None and message.batch_id == self.shown_batch.batch_id:
            self.approvals, self.sending = message.approvals, message.sending
            self.show_summary()
            self.show_rows()

    def show_summary(self) -> None:
        raise NotImplementedError

    # --- approving ------------------------------------------------------------------------------

    def action_approve(self) -> None:
        invoice, batch = self.table.current, self.shown_batch
        if invoice is None or batch is None or self.approvals is None:
            return
        state = self.approval_of(invoice.client_id)
        posted = self.posted_to(invoice.client_id)
        if posted:
            # The month is posted: its approval stays, and it is not approved again.
            self.notify(
                f"{invoice.client_name} is posted to {', '.join(posted)} for the month; its "
                "approval stays (void it to change it).",
                timeout=5,
            )
        elif state is None:
            why = why_not_approvable(invoice, state)
            if why is None:
                self.approve(batch.batch_id, [invoice.client_id])
            else:
                fix = "release it (h)" if why == "held" else "override each on the invoice (x)"
                self.notify(f"Not approved: {why}; {fix} first.", severity="warning", timeout=5)
        elif state.status == "approved":
            self.withdraw(batch.batch_id, invoice)
        else:
            self._explain_lapse(batch.batch_id, invoice, state)

    def _explain_lapse(self, batch_id: str, invoice: InvoiceRow, state: ApprovalState) -> None:
        when = state.approved_at.strftime("%Y-%m-%d %H:%M UTC") if state.approved_at else "?"
        # On the batch the store would build now, a approves it as it is once withdrawn.
        current = self.approvals is not None and self.approvals.current
        then = (
            "then a approves it as it is now"
            if current
            else "to approve it as it is now, build the batch again (b) and approve it there"
        )
        question = (
            f"{invoice.client_name} was approved by {state.approved_by} on {when}, and the store "
            f"would now bill it differently. y withdraws the approval; {then}."
        )

        def answered(withdraw: bool | None) -> None:
            if withdraw:
                self.withdraw(batch_id, invoice)

        rows = [[plain(change)] for change in state.changes]
        self.app.push_screen(ConfirmScreen("Approval lapsed", question, LAPSED, rows), answered)

    def action_approve_all(self) -> None:
        batch = self.shown_batch
        if batch is None or self.approvals is None:
            return
        chosen, skipped = [], []
        for invoice in sorted(self.invoices, key=lambda i: i.client_name.casefold()):
            state = self.approval_of(invoice.client_id)
            why = why_not_approvable(invoice, state, self.posted_to(invoice.client_id))
            if why is not None:
                skipped.append((invoice, why))
            elif state is None:
                chosen.append(invoice)
        if not chosen:
            self.notify(
                f"Nothing to approve: {len(skipped)} invoice(s) cannot be (posted, held, errors "
                "standing or lapsed), the others are approved.",
                timeout=5,
            )
            return
        # b alone never clears a lapse: the batch built again keeps a changed invoice lapsed.
        lapsed = (
            "a lapsed one until a withdraws its approval and approves it as it is now"
            if self.approvals.current
            else "a lapsed one until built again (b), where a withdraws its approval and "
            "approves it as it is"
        )
        question = (
            f"Approve {len(chosen)} invoice(s) for posting? {len(skipped)} cannot be: a held "
            "one until released (h), one with an error until each is overridden on the invoice "
            f"(x), {lapsed}."
        )
        rows = [
            [plain(i.client_name), plain(money(i.total, i.currency)), plain(why, "yellow")]
            for i, why in skipped
        ] + [
            [plain(i.client_name), plain(money(i.total, i.currency)), plain("approve", "green")]
            for i in chosen
        ]

        def answered(apply: bool | None) -> None:
            if apply:
                self.approve(batch.batch_id, [i.client_id for i in chosen])

        self.app.push_screen(ConfirmScreen("Approve all", question, APPROVE_ALL, rows), answered)

    @work(thread=True, group="approve", exit_on_error=False)
    def approve(self, batch_id: str, clients: list[int]) -> None:
        result = self.workbench.batches.approve(batch_id, clients)
        message = f"Approved {len(result.approved)} invoice(s)."
        if result.skipped:  # changed since the list was shown
            first = result.skipped[0]
            more = f" (and {len(result.skipped) - 1} more)" if len(result.skipped) > 1 else ""
            message += f" Not approved: {first.client_name}: {first.reason}{more}"
        self.app.call_from_thread(self.notify, message, timeout=5)
        self.app.call_from_thread(self.load_approvals, batch_id)

    @work(thread=True, group="approve", exit_on_error=False)
    def withdraw(self, batch_id: str, invoice: InvoiceRow) -> None:
        self.workbench.batches.revoke(batch_id, [invoice.client_id])
        self.app.call_from_thread(
            self.notify, f"Approval of {invoice.client_name} withdrawn.", timeout=4
        )
        self.app.call_from_thread(self.load_approvals, batch_id)

    # --- posting --------------------------------------------------------------------------------

    def action_post(self) -> None:
        from trueup.tui.screens.post_summary import PostSummaryScreen

        batch = self.shown_batch
        if batch is None:
            return
        if not self.workbench.posting.can_post:
            self.notify("This workbench was opened with nowhere to post to.", severity="warning")
            return
        # Where the month went, when it went to one place: the rest goes there too (↑↓ moves).
        approvals = self.approvals
        went = (
            {d for i in self.invoices for d in approvals.posted_to(i.client_id)}
            if approvals
            else set()
        )
        destination = went.pop() if len(went) == 1 else "halo-invoice"
        screen = PostSummaryScreen(batch.batch_id, batch.month, destination)
        self.app.push_screen(screen, self._post)

    def differing(self) -> list[InvoiceRow]:
        """The invoices whose month is posted and would now bill otherwise."""
        approvals = self.approvals
        if approvals is None:
            return []
        return [i for i in self.invoices if approvals.differs(i.client_id, i.total)]

    def left_batch(self) -> list[int]:
        """The clients whose month is posted and who are not in this batch (their company
        unmapped since): `trueup month` has them billing 0 now, and no row here to void."""
        if self.approvals is None:
            return []
        shown = {i.client_id for i in self.invoices}
        return sorted(c for c in self.approvals.posted if c not in shown)

    def left_batch_text(self, month: str) -> str:
        """Where a client who left the batch is seen and voided."""
        left = self.left_batch()
        where = self.approvals.posted_to(left[0])[0] if self.approvals and left else ""
        return (
            f"{len(left)} posted client(s) not in this batch bill nothing now: `trueup month "
            f"{month}` names them, `trueup void {month} --to {where} --client {left[0]}` voids "
            "one"
        )

    def action_adjust(self) -> None:
        """Post the differences of posted months, from the batch the store would build now."""
        from trueup.tui.screens.post_summary import PostSummaryScreen

        batch, approvals = self.shown_batch, self.approvals
        if batch is None or approvals is None:
            return
        # First: a batch the store has moved on from cannot say what differs now.
        if not approvals.current:
            self.notify("The store changed since this batch: b builds it again, then P.")
            return
        differing = self.differing()
        if not differing and self.left_batch():  # not "every posted month bills as posted"
            self.notify(f"Nothing to adjust here; {self.left_batch_text(batch.month)}.", timeout=10)
            return
        if not differing:
            self.notify("Every posted month bills as posted: nothing to adjust.", timeout=4)
            return
        if not self.workbench.posting.can_post:
            self.notify("This workbench was opened with nowhere to post to.", severity="warning")
            return
        # Where the cursor's client went when its month differs, else the first that does: the
        # plan adjusts every client posted there (one destination per run, as `post --adjust`).
        cursor = self.table.current
        first = cursor if cursor in differing else differing[0]
        destination = approvals.posted_to(first.client_id)[0]
        screen = PostSummaryScreen(batch.batch_id, batch.month, destination, adjust=True)
        self.app.push_screen(screen, self._post)

    def action_void(self) -> None:
        """Void the cursor's client's month where it was posted, from whichever batch."""
        invoice, batch = self.table.current, self.shown_batch
        if invoice is None or batch is None:
            return
        posted = self.posted_to(invoice.client_id)
        if not posted:
            self.notify(f"{invoice.client_name} is not posted for the month.", timeout=4)
            return
        if not self.workbench.posting.can_post:
            self.notify("This workbench was opened with nowhere to post to.", severity="warning")
            return
        destination, expected = posted[0], f"void {batch.month}"
        flying = self.workbench.posting.on_the_way(batch.month, destination, [invoice.client_id])
        if flying:  # voided now, the client would keep what gets there after
            first = flying[0]
            self.notify(
                f"{first.reference} is still on its way to {destination} "
                f"({first.state.lower()}): `trueup post {first.batch_id} --to {destination}` "
                "finishes it, then v voids every document. Nothing was voided.",
                severity="warning",
                timeout=10,
            )
            return
        adjusted = self.approvals is not None and invoice.client_id in self.approvals.adjusted
        what = "invoice and its adjustments" if adjusted else "invoice"
        it = "They stay" if adjusted else "It stays"
        # What the client will see voided, named before the words are typed.
        named = ", ".join(
            f"{e.reference} ({e.document} {e.remote_number or e.remote_id}, "
            f"{e.total:,.2f} {e.currency})"
            for e in self.workbench.posting.month_entries(batch.month, destination)
            if e.client_id == invoice.client_id and e.action == "create" and e.state == "POSTED"
        )
        question = (
            f"Void {invoice.client_name}'s {month_name(batch.month)} {what} at {destination}"
            f"{f': {named}' if named else ''}? {it} there, voided; the month can be posted "
            "again under the next reference."
        )

        def answered(void: bool | None) -> None:
            if void:
                self.void_client(batch.month, destination, invoice)

        from trueup.tui.screens.post_progress import TypeToConfirmScreen

        self.app.push_screen(TypeToConfirmScreen("Void", question, expected), answered)

    @work(thread=True, group="approve", exit_on_error=False)
    def void_client(self, month: str, destination: str, invoice: InvoiceRow) -> None:
        posting, client = self.workbench.posting, invoice.client_id
        settled = []
        with posting.exclusive():
            batches = posting.posted_batches(month, destination, [client])
            # Every void journaled before any is sent: one cut short between the invoice and
            # its adjustment leaves the rest pending, so the month says its void is unfinished.
            for batch_id in batches:
                posting.queue_void(batch_id, destination, [client])
            for batch_id in batches:
                report = asyncio.run(
                    posting.run(batch_id, destination, action="void", progress=lambda entry: None)
                )
                settled.append(report.complete)
        done = all(settled)
        message = (
            f"{invoice.client_name} voided at {destination}."
            if done
            else f"The void of {invoice.client_name} is not settled: v again finishes it."
        )
        self.app.call_from_thread(
            self.notify, message, severity="information" if done else "warning", timeout=6
        )
        if self.shown_batch is not None:
            self.app.call_from_thread(self.load_approvals, self.shown_batch.batch_id)

    def _post(self, plan: PostingPlan | None) -> None:
        from trueup.tui.screens.post_progress import PostProgressScreen

        if plan is not None:  # back from the run, the State column says what was posted
            self.app.push_screen(PostProgressScreen(plan), lambda _: self._posted(plan.batch_id))

    def _posted(self, batch_id: str) -> None:
        """The screen's callback: it must return None, and `load_approvals` gives its worker."""
        self.load_approvals(batch_id)
