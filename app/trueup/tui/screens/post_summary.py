"""The last look before posting: how many invoices, the total per currency, the destination,
and what cannot post and why. Posting writes money documents elsewhere, so it only goes ahead
once the operator has typed the batch's month back, as `trueup post` asks on a terminal, and a
month not settled (costs still estimated) only on a second word."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from trueup.core.values.text import some
from trueup.tui.formatting import money, month_name, plain
from trueup.tui.screens.confirm import ConfirmScreen
from trueup.tui.widgets.row_table import Column, RowTable

if TYPE_CHECKING:
    from trueup.core.service.types import Planned, PostingPlan
    from trueup.core.service.workbench import Workbench
    from trueup.tui.app import TrueupApp

# Each destination and what posting there does, in the order offered.
DESTINATIONS = {
    "halo-invoice": "a HaloPSA invoice per client",
    "halo-recurring": "true up each client's HaloPSA recurring invoice",
    "qbo": "a QuickBooks Online invoice per client",
    "xero": "a Xero invoice per client",
}
BLOCKED = [Column("Client", 16, flex=True), Column("Why it cannot post", 24, flex=True)]
BLOCKED_DETAIL_LINES = 5  # of the cursor's reason; app.tcss gives it as many
UNSETTLED = [Column("Client", 20), Column("Not final yet", 24, flex=True)]


def _blocked_cells(planned: Planned) -> tuple[Text, Text]:
    return plain(planned.client_name), plain(planned.problem or "", "yellow")


def plan_text(plan: PostingPlan, *, adjust: bool = False) -> Text:
    text = Text(no_wrap=False)
    count = len(plan.ready)
    noun = "adjustment" if adjust else "invoice"
    text.append(f"{count} {noun}{'s' if count != 1 else ''} to post", style="bold")
    totals = plan.totals()
    if totals:
        text.append(": ")
        for n, (currency, total) in enumerate(totals.items()):
            text.append(" + " if n else "")
            text.append(money(total, currency), style="bold")
            text.append(f" {currency}", style="dim")
    done = "bill as posted" if adjust else "already posted"  # from this batch or an earlier one
    text.append(f"\n{len(plan.done)} {done}, ", style="dim")
    text.append(f"{len(plan.blocked)} cannot post", style="yellow" if plan.blocked else "dim")
    whole = plan.without_recurring()
    if whole:
        text.append(
            f"\n{len(whole)} with no recurring invoice in Halo: a one-off invoice bills "
            f"the whole month ({some([p.client_name for p in whole], 2)})",
            style="yellow",
        )
    if adjust:
        for planned in plan.ready[:3]:
            kind = "credit" if planned.total < 0 else "debit"
            text.append(f"\n  {kind} {money(planned.total, planned.currency)} ", style="yellow")
            text.append(planned.client_name)
        if len(plan.ready) > 3:
            text.append(f"\n  and {len(plan.ready) - 3} more", style="dim")
    return text


class PostSummaryScreen(ModalScreen["PostingPlan | None"]):
    """Dismisses with the plan to post, or None."""

    TITLE_TEXT = "Post"
    HELP = "post.md"
    AUTO_FOCUS = "#post-month"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="post.cancel", tooltip="Close: post nothing"),
        # A modal screen keeps the App's keys from firing: help is bound here again.
        Binding("f1", "app.help", "Help", id="post.help", tooltip="Help and keys for posting"),
        Binding(
            "up",
            "destination(-1)",
            "Destination",
            show=False,
            id="post.destination_up",
            tooltip="The destination above (while typing the month)",
        ),
        Binding(
            "down",
            "destination(1)",
            "Destination",
            show=False,
            id="post.destination_down",
            tooltip="The destination below (while typing the month)",
        ),
    ]

    class PlanRead(Message, bubble=False):
        def __init__(self, plan: PostingPlan) -> None:
            super().__init__()
            self.plan = plan

    def __init__(
        self, batch_id: str, month: str, destination: str = "halo-invoice", *, adjust: bool = False
    ) -> None:
        """`adjust`: post the differences of months posted at `destination` (the one place
        they can go), not the approved invoices."""
        super().__init__()
        self.batch_id = batch_id
        self.month = month
        self.destination = destination
        self.adjust = adjust
        self.plan: PostingPlan | None = None

    @property
    def workbench(self) -> Workbench:
        return cast("TrueupApp", self.app).workbench

    def compose(self) -> ComposeResult:
        with Vertical(id="post-summary", classes="dialog") as dialog:
            verb = "Adjust" if self.adjust else "Post"
            dialog.border_title = f"{verb} {month_name(self.month)} · {self.batch_id}"
            dialog.border_subtitle = "↑↓ destination · enter posts · tab blocked · esc cancels"
            yield Static(id="post-destination")
            yield Static(id="post-plan")
            yield RowTable(BLOCKED, _blocked_cells, empty="Nothing blocked.", id="post-blocked")
            # The cursor's reason whole: QuickBooks' and Xero's name what to map, and run long.
            yield Static(id="post-blocked-detail")
            with Horizontal(id="post-confirm"):
                yield Input(placeholder=f"type {self.month} to post", id="post-month")
                yield Button("Post", id="post-go", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#post-destination", Static).border_title = "Destination"
        blocked: RowTable[Planned] = self.query_one("#post-blocked", RowTable)
        blocked.border_title = "Cannot post"
        self.watch(blocked, "cursor", self._show_blocked_detail, init=False)
        self._show_destinations()
        self.load(self.destination)

    def _show_destinations(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        offered = (
            {self.destination: DESTINATIONS[self.destination]} if self.adjust else DESTINATIONS
        )
        for n, (destination, about) in enumerate(offered.items()):
            chosen = destination == self.destination
            text.append("\n" if n else "")
            text.append("▸ " if chosen else "  ", style="bold")
            text.append(f"{destination:<15}", style="bold reverse" if chosen else "")
            text.append(f" {about}", style="" if chosen else "dim")
        self.query_one("#post-destination", Static).update(text)

    def action_destination(self, step: int) -> None:
        if self.adjust:
            return  # an adjustment goes where the month went
        choices = list(DESTINATIONS)
        index = choices.index(self.destination) + step
        if 0 <= index < len(choices):
            self.destination = choices[index]
            self._show_destinations()
            self.load(self.destination)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def load(self, destination: str) -> None:
        self.app.call_from_thread(self._reading, destination)
        posting = self.workbench.posting
        plan = (
            posting.plan_adjustments(self.batch_id, destination)
            if self.adjust
            else posting.plan(self.batch_id, destination)
        )
        if not get_current_worker().is_cancelled:
            self.post_message(self.PlanRead(plan))

    def _reading(self, destination: str) -> None:
        self.plan = None
        self.query_one("#post-plan", Static).update(
            Text(f"Reading what would post to {destination}…", style="dim")
        )
        self.query_one("#post-blocked", RowTable).loading = True
        self.query_one("#post-blocked-detail", Static).update("")
        self._typed()

    def on_post_summary_screen_plan_read(self, message: PlanRead) -> None:
        if message.plan.destination != self.destination:
            return  # the operator has moved on to another destination
        self.plan = message.plan
        self.query_one("#post-plan", Static).update(plan_text(message.plan, adjust=self.adjust))
        blocked = self.query_one("#post-blocked", RowTable)
        blocked.loading = False
        # The reasons to act on before the many "not approved".
        rows = sorted(message.plan.blocked, key=lambda planned: planned.problem == "not approved")
        blocked.set_rows(rows)
        self._show_blocked_detail()
        self._typed()

    def _show_blocked_detail(self) -> None:
        planned = self.query_one("#post-blocked", RowTable).current
        shown = self.query_one("#post-blocked-detail", Static)
        detail = Text()
        if planned is not None:
            detail.append(f"{planned.client_name}: ", style="bold")
            detail.append(planned.problem or "", style="yellow")
        # Its lines (`max-height` in app.tcss) end with "…" where the reason runs past them:
        # a reason cut short with no mark reads as the whole one.
        width = max(shown.size.width - 2, 20) if shown.size.width else 76
        lines = detail.wrap(self.app.console, width)
        if len(lines) > BLOCKED_DETAIL_LINES:
            kept = lines[:BLOCKED_DETAIL_LINES]
            kept[-1].truncate(width - 1)
            kept[-1].append("…")
            detail = Text("\n").join(kept)
        shown.update(detail)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(str(error) or type(error).__name__, severity="error", timeout=10)
            self.query_one("#post-plan", Static).update(
                Text(f"Cannot post to {self.destination}: {error}", style="bold red")
            )
            self.query_one("#post-blocked", RowTable).loading = False

    @on(Input.Changed, "#post-month")
    def _typed(self) -> None:
        self.query_one("#post-go", Button).disabled = self._refusal() is not None

    def _refusal(self) -> str | None:
        """Why posting cannot go ahead now, or None when it can."""
        if self.plan is None:
            return "Still reading what would post."
        if not self.plan.ready and self.adjust and self.plan.blocked:
            return (
                f"Nothing can be adjusted at {self.destination}: {len(self.plan.blocked)} "
                "cannot be; the list says why (tab moves into it)."
            )
        if not self.plan.ready and self.adjust:
            return f"Nothing to adjust at {self.destination}: every posted month bills as posted."
        if not self.plan.ready:
            kept = [p for p in self.plan.blocked if p.problem not in (None, "not approved")]
            if kept:  # held back by more than a missing approval: a mapping, a lapse, a hold
                return (
                    f"Nothing to post to {self.destination}: {len(kept)} invoice(s) cannot go "
                    "there; the list says why (tab moves into it)."
                )
            return f"Nothing to post to {self.destination}: approve invoices first (a, A)."
        typed = self.query_one("#post-month", Input).value.strip()
        if typed != self.plan.month:
            return f"Type {self.plan.month} exactly to post; nothing was sent."
        return None

    @on(Input.Submitted, "#post-month")
    @on(Button.Pressed, "#post-go")
    def _post(self) -> None:
        refusal = self._refusal()
        if refusal is not None:
            self.notify(refusal, severity="warning", timeout=5)
            return
        plan = self.plan
        waiting = plan.unsettled() if plan else []
        if not waiting:
            self.dismiss(plan)
            return
        # A month not settled posts on a second, explicit word, as --unsettled on the CLI.
        total = len(plan.ready) if plan else 0
        what = "adjustment" if self.adjust else "invoice"
        verb = "is" if len(waiting) == 1 else "are"
        which = (
            f"The {what} to post is"
            if total == 1
            else f"All {total} {what}s to post are"
            if len(waiting) == total
            else f"{len(waiting)} of the {total} {what}s to post {verb}"
        )
        question = (
            f"{which} not "
            "settled: a cost or usage is still estimated until the Pax8 invoice for the month "
            "is in. y posts them as they are (a later difference goes out as an adjustment); "
            "n waits."
        )
        rows = [[plain(p.client_name), plain("; ".join(p.unsettled), "yellow")] for p in waiting]

        def answered(post: bool | None) -> None:
            if post:
                self.dismiss(plan)

        self.app.push_screen(ConfirmScreen("Not settled", question, UNSETTLED, rows), answered)

    def action_cancel(self) -> None:
        self.dismiss(None)
