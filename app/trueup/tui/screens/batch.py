"""Batch: the month's dry-run invoices, one row per client (total, cost, margin, anomalies by
severity, state or approval); `enter` opens one, `a` approves it, `p` posts the approved ones
(batch_approval.py)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, get_current_worker

from trueup.core.service.types import BatchApprovals, BatchOverview, InvoiceRow, StandingCode
from trueup.core.values.months import Month
from trueup.tui.formatting import money, month_name, plain
from trueup.tui.screens.batch_approval import (
    APPROVAL_STYLES,
    DIFFERS_STYLE,
    POSTED_STYLE,
    VOIDED_STYLE,
    ApprovingScreen,
    approval_text,
)
from trueup.tui.screens.picker import Choice, PickerScreen
from trueup.tui.widgets.row_table import Column, RowTable
from trueup.tui.widgets.search_bar import SearchBar

COLUMNS = [
    Column("Client", 14, flex=True),
    Column("Total", 12, "right"),
    Column("Cost", 11, "right", hide_below=96),
    Column("Margin", 7, "right"),
    Column("Err", 3, "right"),
    Column("Warn", 4, "right"),
    Column("Info", 4, "right", hide_below=96),
    Column("State", 8),
]
STATE_STYLES = {"draft": "dim", "held": "yellow", "ready": "green"}
ORDERS = ("anomalies", "money", "name")  # `o` cycles through these


def margin_text(percent: Decimal | None) -> Text:
    if percent is None:
        return plain("-", "dim")
    return plain(f"{percent:.1f}%", "bold red" if percent < 0 else "")


def count_text(count: int, style: str) -> Text:
    return plain(count, style if count else "dim")


def state_text(
    invoice: InvoiceRow, approvals: BatchApprovals | None, sending: Collection[int] = ()
) -> Text:
    """What happened to the client's month outranks what was decided about it: posted (or
    adjusted), with Δ when it would now bill otherwise; posting while a document is on its way
    (`sending`: batch_approval.on_the_way); voided; then approval; then the word, as the
    ledger (`trueup month`) words it."""
    client = invoice.client_id
    if approvals is not None and approvals.posted_to(client):
        word = "adjusted" if client in approvals.adjusted else "posted"
        if approvals.differs(client, invoice.total):
            return plain(f"{word[:6]} Δ", DIFFERS_STYLE)
        return plain(word, POSTED_STYLE)
    if client in sending:
        return plain("posting", POSTED_STYLE)
    approval = approvals.states.get(client) if approvals is not None else None
    if approvals is not None and approvals.reads_voided(client):
        # ✓: its approval stands after the void, so `p` posts it again (a withdraws it); !: it
        # lapsed since (a says what changed), which a bare "voided" hid behind "1 lapsed".
        if approval is not None and approval.status == "lapsed":
            return plain("voided !", APPROVAL_STYLES["lapsed"])
        standing = approval is not None and approval.status == "approved"
        return plain("voided ✓" if standing else "voided", VOIDED_STYLE)
    if approval is not None:
        return approval_text(approval)
    return plain(invoice.state, STATE_STYLES.get(invoice.state, ""))


def month_state_text(
    invoice: InvoiceRow, approvals: BatchApprovals | None, sending: Collection[int] = ()
) -> Text:
    """The row's state, and what a posted month would now bill otherwise (the invoice's head:
    P is the Batch screen's key, not the invoice's)."""
    text = state_text(invoice, approvals, sending)
    client, currency = invoice.client_id, invoice.currency
    if approvals is not None and approvals.differs(client, invoice.total):
        posted = approvals.posted_totals[client]
        text.append(
            f"  posted {money(posted, currency)}, bills {money(invoice.total, currency)}"
            f" now: {money(invoice.total - posted, currency)} to adjust (P on the Batch screen)",
            style=DIFFERS_STYLE,
        )
    return text


def _cells(
    invoice: InvoiceRow, approvals: BatchApprovals | None, sending: Collection[int]
) -> Sequence[Text]:
    state = state_text(invoice, approvals, sending)
    return (
        plain(invoice.client_name),
        plain(money(invoice.total, invoice.currency)),
        plain("-" if invoice.cost is None else money(invoice.cost, invoice.currency), "dim"),
        margin_text(invoice.margin_percent),
        count_text(invoice.count("error"), "bold red"),
        count_text(invoice.count("warning"), "yellow"),
        count_text(invoice.count("info"), ""),
        state,
    )


def _sort_key(order: str) -> object:
    if order == "anomalies":
        return lambda i: (-i.count("error"), -i.count("warning"), i.client_name.casefold())
    if order == "money":
        return lambda i: (-i.total, i.client_name.casefold())
    return lambda i: (i.client_name.casefold(), i.client_id)


def batch_summary(
    batch: BatchOverview,
    invoices: Sequence[InvoiceRow],
    approvals: BatchApprovals | None = None,
    known_on: datetime | None = None,
    width: int | None = None,
) -> Text:
    """`known_on`: a closed month's batch, told as the reports tell the month; `width`: the
    columns it is laid out in (side_by_side)."""
    text = Text(no_wrap=False)
    if known_on is None:
        text.append(f"{month_name(batch.month)} · dry run ", style="bold")
    else:
        text.append(f"{month_name(batch.month)} · closed, as known on ", style="bold")
        text.append(f"{known_on:%Y-%m-%d %H:%M} UTC · ", style="bold")
    text.append(f"{batch.batch_id}\n", style="dim")
    parts = []  # each currency's "total (cost ...)" is one, never split across lines
    for currency, sums in batch.totals["by_currency"].items():
        part = Text(money(Decimal(sums["total"]), currency), style="bold")
        cost = sums.get("cost")
        if cost:
            part.append(f" (cost {money(Decimal(cost), currency)})", style="dim")
        parts.append(part)
    # As the rows say them: a posted or approved invoice is no longer counted held or ready.
    states = [approvals.state_of(i.client_id, i.state) if approvals else i.state for i in invoices]
    counts = f"{len(invoices)} invoices, {states.count('held')} held, {states.count('ready')} ready"
    parts.append(Text(counts, style="dim"))
    text.append_text(side_by_side(parts, width))
    held_out = [a for a in batch.anomalies if a["severity"] == "error"]
    if len(held_out) == 1:  # one: say which and what to do, as the CLI does
        text.append(f"\nBatch error: {held_out[0]['message']}", style="bold red")
    elif held_out:
        codes = ", ".join(sorted({a["code"] for a in held_out}))
        text.append(f"\n{len(held_out)} batch errors: {codes}", style="bold red")
    if batch.last_month_missing:  # F1 says what and how (the CLI's batch.last_month_note)
        before = Month(batch.month).shifted(-1).name
        text.append(f"\nNo {before} batch stored: not compared with it (F1)", style="yellow")
    return text


def side_by_side(parts: Sequence[Text], width: int | None, gap: str = "  ") -> Text:
    """`parts` on a line, `gap` between them, broken onto the next line only between two parts
    when the next would pass `width`: a figure and its cost are never split ("$259,966.42 (cost"
    / "$131,952.80)" at 80 columns). A part wider than `width` alone wraps as text does; no
    `width` (not laid out yet): one line."""
    text, used = Text(), 0
    for n, part in enumerate(parts):
        if n and width is not None and used + len(gap) + part.cell_len > width:
            text.append("\n")
            used = 0
        elif n:
            text.append(gap)
            used += len(gap)
        text.append_text(part)
        used += part.cell_len
    return text


class SummaryHead(Static):
    """A summary laid out for the columns it has (`lay_out(width)`), laid out again when they
    change: a resize, the screen's or the terminal's."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self._lay_out: Callable[[int | None], Text] | None = None
        self._width: int | None = None

    def show(self, lay_out: Callable[[int | None], Text]) -> None:
        self._lay_out, self._width = lay_out, self.content_size.width or None
        self.update(lay_out(self._width))

    def on_resize(self) -> None:
        if self._lay_out is not None and (self.content_size.width or None) != self._width:
            self.show(self._lay_out)


class BatchScreen(ApprovingScreen):
    TITLE_TEXT = "Batch"
    AUTO_FOCUS = "#batch-table"
    HELP = "batch.md"
    DEFAULT_CSS = """
    BatchScreen #batch-summary { height: auto; padding: 0 1; }
    BatchScreen #batch-table { border: round $primary 50%; border-title-color: $text-accent; }
    BatchScreen #batch-table:focus { border: round $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Invoice", id="batch.open", tooltip="Open the client's invoice"),
        Binding(
            "a",
            "approve",
            "Approve",
            id="batch.approve",
            tooltip="Approve the invoice for posting (or withdraw its approval)",
        ),
        Binding(
            "A",
            "approve_all",
            "Approve all",
            show=False,
            id="batch.approve_all",
            tooltip="Approve every invoice that can be, after listing those that cannot",
        ),
        Binding(
            "p",
            "post",
            "Post",
            id="batch.post",
            tooltip="Post the approved invoices: a summary first, then the month typed back",
        ),
        Binding("h", "hold", "Hold", id="batch.hold", tooltip="Hold the invoice (or release it)"),
        Binding(
            "v",
            "void",
            "Void",
            show=False,
            id="batch.void",
            tooltip="Void the invoice posted for this client's month (after the month typed)",
        ),
        Binding(
            "J",
            "journal",
            "Journal",
            show=False,
            id="batch.journal",
            tooltip="Every document sent for the client's month: where, its state, who",
        ),
        Binding(
            "P",
            "adjust",
            "Adjust",
            show=False,
            id="batch.adjust",
            tooltip="Post what posted months would now bill otherwise, as adjustments",
        ),
        Binding(
            "S",
            "summary",
            "Summary",
            show=False,
            id="batch.summary",
            tooltip="The month for a manager: totals, margin, posted, held, leakage, movers",
        ),
        Binding(
            "E",
            "export",
            "Export",
            show=False,
            id="batch.export",
            tooltip="Write the month's workbook for the accountant (trueup-YYYY-MM.xlsx, here)",
        ),
        Binding(
            "o",
            "cycle_order",
            "Sort",
            show=False,
            id="batch.sort",
            tooltip="Sort by anomalies, money or name",
        ),
        Binding(
            "r",
            "ready",
            "Ready",
            show=False,
            id="batch.ready",
            tooltip="Mark the invoice ready (on a ready one: back to draft)",
        ),
        Binding(
            "X",
            "override_code",
            "Override a code",
            show=False,
            id="batch.override_code",
            tooltip="Let one error code through on every invoice it stands on, with one reason",
        ),
        Binding(
            "b", "build", "Build", show=False, id="batch.build", tooltip="Build the batch again"
        ),
        Binding(
            "slash",
            "search",
            "Search",
            key_display="/",
            show=False,
            id="batch.search",
            tooltip="Search clients",
        ),
        Binding(
            "left_square_bracket",
            "month(-1)",
            "Prev month",
            key_display="[",
            show=False,
            id="batch.month_back",
            tooltip="Show the month before",
        ),
        Binding(
            "right_square_bracket",
            "month(1)",
            "Next month",
            key_display="]",
            show=False,
            id="batch.month_on",
            tooltip="Show the month after",
        ),
    ]

    order: reactive[str] = reactive("anomalies", init=False)

    class Loaded(Message):
        def __init__(
            self, batch: BatchOverview, invoices: list[InvoiceRow], known_on: datetime | None
        ) -> None:
            super().__init__()
            self.batch = batch
            self.invoices = invoices
            self.known_on = known_on

    def __init__(self) -> None:
        super().__init__()
        self.shown_batch: BatchOverview | None = None
        self.invoices: list[InvoiceRow] = []
        self.known_on: datetime | None = None  # a closed month's batch: when it was built
        # The month the operator built again with `b`: reloads then show the month's batch as
        # the store builds it now, not the older one its approvals keep in view otherwise.
        self.rebuilt_month: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield SummaryHead(id="batch-summary")
        yield SearchBar(placeholder="Search clients…", id="search")
        yield RowTable(
            COLUMNS,
            lambda invoice: _cells(invoice, self.approvals, self.sending),
            empty="No invoices in this batch.",
            id="batch-table",
        )
        yield Footer()

    @property
    def table(self) -> RowTable[InvoiceRow]:
        return self.query_one("#batch-table", RowTable)

    def reload(self) -> None:
        self.table.loading = True
        self.load(self.trueup.month, rebuild=False)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, month: str, *, rebuild: bool) -> None:
        batches = self.workbench.batches
        if rebuild:
            batch = batches.rebuild(month)
        elif self.rebuilt_month == month:
            batch = batches.current(month)
        else:
            batch = batches.review_batch(month)
        # The screen shows the store as it is now, the batch it may have stored included: that
        # commit is not a change for the store watcher to reload this screen for.
        self.workbench.store_seen()
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(batch, batch.invoices, batches.known_on(batch)))

    def on_batch_screen_loaded(self, message: Loaded) -> None:
        if self.shown_batch is None or self.shown_batch.batch_id != message.batch.batch_id:
            self.approvals = None
        self.shown_batch, self.invoices = message.batch, message.invoices
        self.known_on = message.known_on
        self.table.loading = False
        self.show_summary()
        self.show_rows()
        self.load_approvals(message.batch.batch_id)

    def show_summary(self) -> None:
        if self.shown_batch is not None:
            self.query_one("#batch-summary", SummaryHead).show(self.summary_text)

    def summary_text(self, width: int | None) -> Text:
        assert self.shown_batch is not None
        batch, approvals = self.shown_batch, self.approvals
        summary = batch_summary(batch, self.invoices, approvals, self.known_on, width=width)
        summary.append_text(self.approval_summary())
        differing = self.differing()
        if differing:
            summary.append(
                f"\n{len(differing)} posted bill differently now: P posts adjustments",
                style=DIFFERS_STYLE,
            )
        if self.left_batch():
            summary.append(f"\n{self.left_batch_text(batch.month)}", style=DIFFERS_STYLE)
        return summary

    def worker_failed(self, worker: Worker[object]) -> None:
        self.table.loading = False

    def show_rows(self) -> None:
        query = self.query_one(SearchBar).value.strip().casefold()
        rows = [i for i in self.invoices if not query or query in i.client_name.casefold()]
        rows.sort(key=_sort_key(self.order))  # type: ignore[arg-type]
        self.table.set_rows(rows, key=lambda i: i.client_id)
        if self.shown_batch is not None:
            month = month_name(self.shown_batch.month)
            self.table.border_title = f"{month} · by {self.order}"

    def watch_order(self) -> None:
        self.show_rows()
        self.table.action_first()  # a new order starts at its top

    def action_cycle_order(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]

    def action_month(self, step: int) -> None:
        self.trueup.shift_month(step)

    def action_build(self) -> None:
        self.table.loading = True
        self.rebuilt_month = self.trueup.month
        self.load(self.trueup.month, rebuild=True)

    def action_open(self) -> None:
        from trueup.tui.screens.batch_invoice import BatchInvoiceScreen

        invoice = self.table.current
        if invoice is not None and self.shown_batch is not None:
            month_state = month_state_text(invoice, self.approvals, self.sending)
            self.app.push_screen(
                BatchInvoiceScreen(self.shown_batch, invoice, month_state), self._invoice_closed
            )

    def _invoice_closed(self, rebuilt: str | None) -> None:
        """A change on the invoice built the month's batch again: shown here too, as after `b`
        (not the older batch its approvals keep in view, where the change looks lost)."""
        if rebuilt is not None:
            self.rebuilt_month = rebuilt
            self.reload()

    def action_journal(self) -> None:
        from trueup.tui.screens.journal import JournalScreen

        invoice, batch = self.table.current, self.shown_batch
        if invoice is not None and batch is not None:
            self.app.push_screen(JournalScreen(batch.month, invoice.client_id, invoice.client_name))

    def action_summary(self) -> None:
        from trueup.tui.screens.summary import SummaryScreen

        if self.shown_batch is not None:
            self.app.push_screen(SummaryScreen(self.shown_batch.month))

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def action_export(self) -> None:
        """The month's workbook, as `trueup export`; its path is shown when written."""
        if self.shown_batch is None:
            return
        month = Month(self.shown_batch.month)
        path = self.workbench.reports.export(month, "xlsx").resolve()
        self.app.call_from_thread(self.notify, f"Wrote {path}", title="Export", timeout=8)

    def action_override_code(self) -> None:
        if self.shown_batch is not None:
            self.find_codes(self.shown_batch.batch_id)

    @work(thread=True, exclusive=True, group="codes", exit_on_error=False)
    def find_codes(self, batch_id: str) -> None:
        codes = self.workbench.batches.standing_codes(batch_id)
        self.app.call_from_thread(self.pick_code, batch_id, codes)

    def pick_code(self, batch_id: str, codes: list[StandingCode]) -> None:
        if not codes:
            self.notify("No error stands on this batch's invoices.", timeout=4)
            return
        choices = [Choice(c.code, c.code, f"{c.errors} on {c.invoices} invoice(s)") for c in codes]

        def search(query: str) -> list[Choice]:
            return [c for c in choices if query.casefold() in c.label.casefold()]

        def chosen(code: int | str | None) -> None:
            picked = next((c for c in codes if c.code == code), None)
            if picked is not None:
                self.ask_reason(batch_id, picked)

        title = "Override which error, on every invoice?"
        self.app.push_screen(PickerScreen(title, search, ("Error code", "Standing")), chosen)

    def ask_reason(self, batch_id: str, standing: StandingCode) -> None:
        from trueup.tui.screens.reason import ReasonScreen

        about = Text()
        about.append(standing.code, style="bold red")
        about.append(
            f" stands {standing.errors} time(s) on {standing.invoices} invoice(s), such as "
            f"{standing.example}\nEvery one goes through with the reason you give."
        )

        def given(reason: str | None) -> None:
            if reason:
                self.override_code(batch_id, standing.code, reason)

        title = f"Override {standing.code} on {standing.invoices} invoice(s)"
        self.app.push_screen(ReasonScreen(title, about), given)

    @work(thread=True, group="state", exit_on_error=False)
    def override_code(self, batch_id: str, code: str, reason: str) -> None:
        done = self.workbench.batches.override_code(batch_id, code, reason)
        said = f"{code} overridden {done.errors} time(s) on {done.invoices} invoice(s)."
        self.app.call_from_thread(self.notify, said, timeout=5)
        self.app.call_from_thread(self.reload)

    def action_hold(self) -> None:
        invoice = self.table.current
        if invoice is not None:
            self.change_state(invoice, "held")

    def action_ready(self) -> None:
        invoice = self.table.current
        if invoice is not None:
            self.change_state(invoice, "ready")

    @work(thread=True, group="state", exit_on_error=False)
    def change_state(self, invoice: InvoiceRow, state: str) -> None:
        """`state`, or back to draft when the invoice is in it: decided by the store, not the
        row, which a second quick press reads before the first is written."""
        if self.shown_batch is None:
            return
        state = self.workbench.batches.set_invoice_state(
            self.shown_batch.batch_id, invoice.client_id, state, toggle=True
        )
        self.app.call_from_thread(self.state_changed, invoice.client_id, state)

    def state_changed(self, client_id: int, state: str) -> None:
        """Change the one row in place: re-reading a 2,000-client batch for it would be waste."""
        self.invoices = [
            replace(i, state=state) if i.client_id == client_id else i for i in self.invoices
        ]
        if self.shown_batch is not None:
            self.shown_batch.states[client_id] = state
        self.show_summary()
        self.show_rows()
