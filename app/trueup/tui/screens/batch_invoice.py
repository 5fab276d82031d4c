"""One client's invoice in the batch: its lines, the arithmetic of the line under the cursor,
its anomalies and the Pax8 invoice items behind its cost. Keys hold it, mark it ready, let an
error through with a reason, and switch a line's vendor sync or price policy (a rules change,
after which the batch is built again)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from trueup.core.service.types import (
    AnomalyView,
    BatchOverview,
    CostItem,
    History,
    InvoiceRow,
    InvoiceView,
    LineView,
    PriceOption,
    period_text,
)
from trueup.core.values.months import Month
from trueup.tui.formatting import error_text, money, month_name, plain, quantity
from trueup.tui.screens.batch import STATE_STYLES, margin_text, month_state_text
from trueup.tui.screens.batch_approval import on_the_way
from trueup.tui.screens.picker import Choice, PickerScreen
from trueup.tui.screens.reason import ReasonScreen
from trueup.tui.screens.rules_value import ValueScreen
from trueup.tui.widgets.trend import Trend, absent, first_to_last

if TYPE_CHECKING:
    from trueup.core.service.workbench import Workbench
    from trueup.tui.app import TrueupApp

from trueup.tui.widgets.row_table import Column, RowTable

LINES = [
    Column("Line", 14, flex=True, keep_end=True),  # one product's tiers differ at the end
    Column("Qty", 8, "right"),
    Column("Unit", 9, "right"),
    Column("Amount", 10, "right"),
    Column("Cost", 10, "right", hide_below=90),
    Column("Policy", 26, hide_below=110, keep_end=True),  # "3-year term · markup 12.5%"
    Column("!", 2),
]
EVIDENCE = [
    Column("Invoice", 10),
    Column("Status", 8),
    Column("Type", 12, flex=True),
    Column("Period", 15),
    Column("Qty", 5, "right"),
    Column("Cost", 10, "right"),
]
SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _flag(line: LineView) -> Text:
    standing = [a for a in line.anomalies if a.overridden is None]
    for severity in ("error", "warning", "info"):
        if any(a.severity == severity for a in standing):
            return plain("!" if severity != "info" else "i", SEVERITY_STYLES[severity])
    return plain("")


def _line_cells(line: LineView) -> Sequence[Text]:
    return (
        plain(line.description),
        plain(quantity(line.quantity)),
        plain(money(line.unit_price, line.currency), "dim"),
        plain(money(line.amount, line.currency)),
        plain("-" if line.cost is None else money(line.cost, line.currency), "dim"),
        plain(line.policy, "dim"),
        _flag(line),
    )


def _evidence_cells(item: CostItem) -> Sequence[Text]:
    status = item.invoice_status or ""
    period = (
        period_text(item.start_period, item.end_period)
        if item.start_period and item.end_period
        else "-"
    )
    return (
        plain(item.invoice_date.isoformat() if item.invoice_date else item.invoice_id[:8]),
        plain(status, "magenta" if status.casefold() == "credited" else ""),
        plain(f"{item.type or ''} {item.term or ''}".strip()),
        plain(period),
        plain("-" if item.quantity is None else quantity(item.quantity)),
        plain("-" if item.cost_total is None else money(item.cost_total, item.currency or "")),
    )


CLIENTS_OWN = "client"  # the picker's value for "no price policy of the line's own"


def _price_label(option: PriceOption) -> str:
    return f"{option.label} (now)" if option.current else option.label


def _price_detail(option: PriceOption, currency: str) -> str:
    amount = "-" if option.amount is None else money(option.amount, currency)
    return f"{amount} · {option.note}" if option.note else amount


def _matching(choices: list[Choice], query: str) -> list[Choice]:
    wanted = query.strip().casefold()
    return [c for c in choices if wanted in c.label.casefold()]


def history_caption(history: History, currency: str) -> str:
    """`12 months: $1,204.00 → $1,310.50; margin 18.0% → 21.0%; no USD invoice in Dec 2025`."""
    totals = history.series(currency, lambda f: f.total)
    margins = history.series(currency, lambda f: f.margin_percent)
    return (
        f"{len(history.months)} months: {first_to_last(totals, lambda v: money(v, currency))}; "
        f"margin {first_to_last(margins, lambda v: f'{v}%')}"
        f"{absent(currency, history.months, totals)}"
    )


def anomaly_text(anomaly: AnomalyView) -> Text:
    text = Text()
    text.append(f"{anomaly.code} ", style=SEVERITY_STYLES.get(anomaly.severity, ""))
    text.append(anomaly.message)
    if anomaly.overridden is not None:
        text.append(f"  (overridden: {anomaly.overridden})", style="dim")
    return text


class BatchInvoiceScreen(Screen[str | None]):
    TITLE_TEXT = "Invoice"
    HELP = "batch_invoice.md"
    DEFAULT_CSS = """
    BatchInvoiceScreen #invoice-summary { height: auto; padding: 0 1; }
    BatchInvoiceScreen #invoice-history { height: auto; padding: 0 1; }
    BatchInvoiceScreen #invoice-history Trend { margin-right: 2; }
    BatchInvoiceScreen #invoice-history-caption { width: 1fr; }
    BatchInvoiceScreen #invoice-lines { height: 1fr; min-height: 5; }
    BatchInvoiceScreen #invoice-explain { height: auto; max-height: 9; padding: 0 1; }
    BatchInvoiceScreen #invoice-evidence { height: auto; min-height: 3; max-height: 8; }
    BatchInvoiceScreen RowTable { border: round $primary 50%; border-title-color: $text-accent; }
    BatchInvoiceScreen RowTable:focus { border: round $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", id="invoice.back", tooltip="Back to the batch"),
        Binding(
            "x",
            "override",
            "Override",
            id="invoice.override",
            tooltip="Let the line's error through, with a reason (off an error: the next one)",
        ),
        Binding(
            "s",
            "toggle_sync",
            "Sync",
            id="invoice.sync",
            tooltip="Turn vendor sync off (keep the Halo quantity) or back on for this line",
        ),
        Binding(
            "p",
            "choose_price",
            "Price",
            id="invoice.price",
            tooltip="Choose this line's price policy, each with what it would bill",
        ),
        Binding("h", "hold", "Hold", show=False, id="invoice.hold", tooltip="Hold or release"),
        Binding("r", "ready", "Ready", show=False, id="invoice.ready", tooltip="Mark it ready"),
        Binding(
            "e",
            "evidence",
            "Evidence",
            show=False,
            id="invoice.evidence",
            tooltip="Write the client's evidence pack for the month (as `trueup evidence`)",
        ),
    ]

    class Loaded(Message):
        def __init__(
            self,
            batch: BatchOverview,
            row: InvoiceRow,
            invoice: InvoiceView,
            note: str = "",
            month_state: Text | None = None,  # read again after a change here
        ) -> None:
            super().__init__()
            self.batch = batch
            self.row = row
            self.invoice = invoice
            self.note = note
            self.month_state = month_state

    class HistoryRead(Message):
        def __init__(self, history: History, currency: str) -> None:
            super().__init__()
            self.history = history
            self.currency = currency

    class Evidence(Message):
        def __init__(self, items: list[CostItem]) -> None:
            super().__init__()
            self.items = items

    def __init__(self, batch: BatchOverview, row: InvoiceRow, month_state: Text | None = None):
        super().__init__()
        self.shown_batch = batch
        self.row = row
        self.invoice: InvoiceView | None = None
        # The client's month as the Batch screen's row says it (posted, approved, ...): it
        # outranks the word on the invoice (draft, held, ready), which alone h and r change.
        self.month_state = month_state
        self.rebuilt: str | None = None  # the month, once a change here built its batch again

    @property
    def workbench(self) -> Workbench:
        return cast("TrueupApp", self.app).workbench

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="invoice-summary")
        with Horizontal(id="invoice-history"):
            yield Trend("Total", id="trend-total")
            yield Trend("Margin", id="trend-margin")
            yield Static("12 months: reading…", id="invoice-history-caption", markup=False)
        yield RowTable(LINES, _line_cells, empty="No lines.", id="invoice-lines")
        with VerticalScroll(id="invoice-explain"):
            yield Static(id="invoice-explanation")
        yield RowTable(EVIDENCE, _evidence_cells, empty="No invoice item.", id="invoice-evidence")
        yield Footer()

    @property
    def lines(self) -> RowTable[LineView]:
        return self.query_one("#invoice-lines", RowTable)

    def on_mount(self) -> None:
        self.sub_title = self.TITLE_TEXT
        self.lines.border_title = "Lines"
        self.query_one("#invoice-evidence", RowTable).border_title = "Pax8 invoice items"
        self.watch(self.lines, "cursor", self._line_moved, init=False)
        self.lines.loading = True
        self.lines.focus()
        self.load(self.shown_batch, self.row)

    @work(thread=True, exclusive=True, group="invoice", exit_on_error=False)
    def load(self, batch: BatchOverview, row: InvoiceRow) -> None:
        self.post_message(
            self.Loaded(batch, row, self.workbench.batches.invoice(batch.batch_id, row))
        )

    def on_batch_invoice_screen_loaded(self, message: Loaded) -> None:
        if message.batch.batch_id != self.shown_batch.batch_id:
            self.rebuilt = message.batch.month  # the Batch screen shows this batch on return
        self.shown_batch, self.row, self.invoice = message.batch, message.row, message.invoice
        if message.month_state is not None:
            self.month_state = message.month_state
        self.lines.loading = False
        self.query_one("#invoice-summary", Static).update(self._summary(message.invoice))
        self.lines.set_rows(
            list(message.invoice.lines), key=lambda line: line.subscription_id or line.description
        )
        self._line_moved()
        self.load_history(message.batch, message.row, message.invoice.currency)
        if message.note:
            self.notify(message.note, timeout=4)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_history(self, batch: BatchOverview, row: InvoiceRow, currency: str) -> None:
        history = self.workbench.reports.history(Month(batch.month), row.client_id, batch.batch_id)
        self.post_message(self.HistoryRead(history, currency))

    def on_batch_invoice_screen_history_read(self, message: HistoryRead) -> None:
        history, currency = message.history, message.currency
        self.query_one("#trend-total", Trend).show(history.series(currency, lambda f: f.total))
        margins = history.series(currency, lambda f: f.margin_percent)
        self.query_one("#trend-margin", Trend).show(margins)
        caption = self.query_one("#invoice-history-caption", Static)
        caption.update(history_caption(history, currency))

    def _summary(self, invoice: InvoiceView) -> Text:
        text = Text(no_wrap=False)
        text.append(invoice.client_name, style="bold")
        text.append("  ")
        month = self.month_state
        if month is not None and month.plain not in STATE_STYLES:
            text.append_text(month)
        else:
            text.append(invoice.state, style=STATE_STYLES.get(invoice.state, ""))
        text.append(f"\nSubtotal {money(invoice.subtotal, invoice.currency)}")
        text.append(f" + tax {money(invoice.tax, invoice.currency)} = ")
        text.append(money(invoice.total, invoice.currency), style="bold")
        if invoice.cost is not None:
            text.append(f"  cost {money(invoice.cost, invoice.currency)}  margin ", style="dim")
            text.append_text(margin_text(invoice.margin_percent))
        for anomaly in invoice.anomalies:
            if anomaly.subscription_id is None:
                text.append("\n")
                text.append_text(anomaly_text(anomaly))
        return text

    def _line_moved(self) -> None:
        line = self.lines.current
        explain = Text()
        if line is not None:
            explain.append(line.explanation)
            for anomaly in line.anomalies:
                explain.append("\n")
                explain.append_text(anomaly_text(anomaly))
        self.query_one("#invoice-explanation", Static).update(explain)
        evidence = self.query_one("#invoice-evidence", RowTable)
        if line is None or line.subscription_id is None:
            evidence.set_rows([])
            return
        evidence.border_title = f"{line.distributor} invoice items"
        months = [self.shown_batch.month]
        if line.kind == "usage":
            months = (
                sorted(
                    {
                        u["usage_month"]
                        for u in self.shown_batch.usage
                        if u["subscription_id"] == line.subscription_id
                    }
                )
                or months
            )
        self.load_evidence(line.subscription_id, months)

    @work(thread=True, exclusive=True, group="evidence", exit_on_error=False)
    def load_evidence(self, subscription_id: str, months: list[str]) -> None:
        items = self.workbench.batches.cost_evidence(subscription_id, months)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Evidence(items))

    def on_batch_invoice_screen_evidence(self, message: Evidence) -> None:
        self.query_one("#invoice-evidence", RowTable).set_rows(message.items)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(error_text(event.worker.error), severity="error", timeout=10)
            self.lines.loading = False

    def action_back(self) -> None:
        self.dismiss(self.rebuilt)

    # --- the operator's word ----------------------------------------------------------------

    def _error_to_override(self) -> AnomalyView | None:
        line = self.lines.current
        candidates = list(line.anomalies) if line is not None else []
        if self.invoice is not None:
            candidates += [a for a in self.invoice.anomalies if a.subscription_id is None]
        return next((a for a in candidates if a.severity == "error" and a.overridden is None), None)

    def action_override(self) -> None:
        anomaly = self._error_to_override()
        if anomaly is None:
            self._to_next_error()
            return

        def chosen(reason: str | None) -> None:
            if reason:
                self.override(anomaly, reason)

        self.app.push_screen(
            ReasonScreen(f"Override {anomaly.code}", anomaly_text(anomaly)), chosen
        )

    def _to_next_error(self) -> None:
        """`x` off an error: the cursor goes to the next line with an error standing."""
        rows, here = list(self.lines.rows), self.lines.cursor
        after = rows[here + 1 :] + rows[: here + 1]
        found = next(
            (
                line
                for line in after
                if isinstance(line, LineView)  # not a heading
                and any(a.severity == "error" and a.overridden is None for a in line.anomalies)
            ),
            None,
        )
        if found is None:
            self.notify("No error stands on this invoice.", timeout=4)
            return
        self.lines.cursor = rows.index(found)
        self.notify("No error on that line: here is the next one (x overrides it).", timeout=4)

    @work(thread=True, group="review", exit_on_error=False)
    def override(self, anomaly: AnomalyView, reason: str) -> None:
        batch, row = self.shown_batch, self.row
        self.workbench.batches.override_anomaly(
            batch.batch_id, row.client_id, anomaly.code, reason, anomaly.subscription_id
        )
        self._reviewed(batch, row)

    def _reviewed(self, batch: BatchOverview, row: InvoiceRow) -> None:
        """Show the invoice as it now stands; the batch list reloads when it comes back."""
        invoice = self.workbench.batches.invoice(batch.batch_id, row)
        row = replace(row, errors=invoice.count("error"), state=invoice.state)
        self.post_message(
            self.Loaded(batch, row, invoice, month_state=self._month_state(batch, row))
        )
        self.app.call_from_thread(cast("TrueupApp", self.app).data_changed)

    def _month_state(self, batch: BatchOverview, row: InvoiceRow) -> Text:
        """As the Batch screen's row will say it once back: a change here can lapse an approval."""
        approvals = self.workbench.batches.approvals(batch.batch_id)
        return month_state_text(row, approvals, on_the_way(self.workbench, batch.batch_id))

    @work(thread=True, exclusive=True, group="evidence", exit_on_error=False)
    def action_evidence(self) -> None:
        """The client's evidence pack, written where trueup was started; its page's path shown."""
        month, client = Month(self.shown_batch.month), self.row.client_id
        _, written = self.workbench.reports.write_evidence(month, client)
        page = written[0].resolve()
        self.app.call_from_thread(self.notify, f"Wrote {page}", title="Evidence", timeout=8)

    def action_hold(self) -> None:
        self.change_state("held")

    def action_ready(self) -> None:
        self.change_state("ready")

    @work(thread=True, group="review", exit_on_error=False)
    def change_state(self, state: str) -> None:
        """`state`, or back to draft when the invoice is in it (batch.BatchScreen's)."""
        batch, row = self.shown_batch, self.row
        self.workbench.batches.set_invoice_state(batch.batch_id, row.client_id, state, toggle=True)
        self._reviewed(batch, row)

    # --- per-line rules ------------------------------------------------------------------------

    def _rule_line(self) -> LineView | None:
        line = self.lines.current
        if line is None or line.product_id is None or line.kind == "usage":
            self.notify("Only a Pax8 subscription line has a rule of its own.", timeout=4)
            return None
        return line

    def action_toggle_sync(self) -> None:
        line = self._rule_line()
        if line is not None:
            synced = "sync off" not in line.policy
            self.change_rule(line, (("sync", "false" if synced else None),))

    def action_choose_price(self) -> None:
        line = self._rule_line()
        if line is not None and line.subscription_id is not None:
            self.price_choices(line)

    @work(thread=True, exclusive=True, group="rules", exit_on_error=False)
    def price_choices(self, line: LineView) -> None:
        """Bill the line under each policy (one client: a blink), then let the operator pick."""
        assert line.subscription_id is not None
        options = self.workbench.batches.price_options(
            self.shown_batch.month, self.row.client_id, line.subscription_id
        )
        self.app.call_from_thread(self._pick_price, line, options)

    def _pick_price(self, line: LineView, options: list[PriceOption]) -> None:
        by_value = {option.price or CLIENTS_OWN: option for option in options}
        choices = [
            Choice(value, _price_label(option), _price_detail(option, line.currency))
            for value, option in by_value.items()
        ]

        def chosen(value: int | str | None) -> None:
            option = by_value.get(str(value)) if value is not None else None
            if option is None or option.current:
                return
            if option.price == "fixed" and option.amount is None:
                self._ask_fixed_price(line)
            else:
                self.change_rule(line, (("price", option.price),))

        self.app.push_screen(
            PickerScreen(f"Price of {line.description}", lambda q: _matching(choices, q)),
            chosen,
        )

    def _ask_fixed_price(self, line: LineView) -> None:
        def given(text: str | None) -> None:
            if text is not None:
                self.change_rule(line, (("fixed_price", text), ("price", "fixed")))

        # Checked as it is typed, and kept open on a bad one (as on the Rules screen): a free
        # text refused only afterwards lost what was typed.
        title = f"Fixed price in {line.currency} · {line.description}"
        self.app.push_screen(ValueScreen("fixed_price", title, ""), given)

    @work(thread=True, exclusive=True, group="rules", exit_on_error=False)
    def change_rule(self, line: LineView, changes: Sequence[tuple[str, str | None]]) -> None:
        self.app.call_from_thread(setattr, self.lines, "loading", True)
        workbench = self.workbench
        assert line.product_id is not None
        for key, value in changes:
            workbench.rules.set_line(self.row.client_id, line.product_id, key, value)
        month = self.shown_batch.month
        batch = workbench.batches.current(month)
        row = next(r for r in batch.invoices if r.client_id == self.row.client_id)
        invoice = workbench.batches.invoice(batch.batch_id, row)
        note = f"Rules changed; batch built again: {batch.batch_id}"
        if workbench.batches.closed(month):  # the reports now tell the month from this batch
            note = f"Rules changed; closed {month_name(month)} built again from today's data, "
            note += f"as its reports now tell it: {batch.batch_id}"
        self.post_message(self.Loaded(batch, row, invoice, note, self._month_state(batch, row)))
        self.app.call_from_thread(cast("TrueupApp", self.app).data_changed)
