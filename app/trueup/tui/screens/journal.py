"""A client's month, document by document: every invoice, adjustment and void sent for it, where,
under which reference, its state there and who sent it (`J` on the Batch screen)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from trueup.core.values.months import Month
from trueup.tui.formatting import money, month_name, plain
from trueup.tui.widgets.row_table import Column, RowTable

if TYPE_CHECKING:
    from trueup.core.service.types import Posting
    from trueup.core.service.workbench import Workbench
    from trueup.tui.app import TrueupApp

COLUMNS = [
    Column("Reference", 14),
    Column("Destination", 18, flex=True),  # and its number there: "halo-invoice 3229"
    Column("Kind", 11, hide_below=90),  # the line under the table says it at 80 columns
    Column("State", 8),
    Column("Amount", 12, "right"),
    Column("When (UTC), who", 18),  # of its state: "7 Dec 01:58 root" (the year goes unsaid)
]
STATE_STYLES = {"posted": "bold cyan", "voided": "magenta", "rejected": "bold red"}


def _kind(posting: Posting) -> str:
    """What the document is at its destination: an invoice, or an adjustment's debit or
    credit (a credit memo at QuickBooks, a credit note at Xero)."""
    if not posting.adjusts or posting.document != "invoice":
        return posting.document
    return "credit" if posting.amount < 0 else "debit"


def _when_who(posting: Posting) -> str:
    """When the document took its state, and who did it: a voided one, its void."""
    if posting.voided_at:
        return f"{_when(posting.voided_at)} {posting.voided_by or ''}".strip()
    return f"{_when(posting.at)} {posting.by}".strip()


def _cells(posting: Posting) -> Sequence[Text]:
    where = posting.document_number or posting.document_id
    return (
        plain(posting.reference),
        plain(posting.destination + (f" {where}" if where else "")),
        plain(_kind(posting), "yellow" if posting.adjusts else ""),
        plain(posting.state, STATE_STYLES.get(posting.state, "yellow")),
        plain(money(posting.amount, posting.currency)),
        plain(_when_who(posting), "dim"),
    )


def _detail(posting: Posting) -> Text:
    """The cursor's document in full, whatever the width: its kind and id there, who sent it
    and when, and its void."""
    where = posting.document_number or posting.document_id
    text = Text(f"{posting.reference}: {_kind(posting)}", style="bold")
    if posting.adjusts:
        text.append(f" adjusting {', '.join(posting.adjusts)}")
    text.append(f" at {posting.destination}" + (f" ({where})" if where else ""))
    text.append(f" · sent {_when(posting.at)} UTC by {posting.by}", style="dim")
    if posting.voided_at:
        text.append(f" · voided {_when(posting.voided_at)} UTC by {posting.voided_by}", "magenta")
    return text


def _when(at: str | None) -> str:
    """An ISO time as "7 Dec 01:58" (UTC, as the journal keeps it)."""
    if not at:
        return ""
    moment = datetime.fromisoformat(at)
    return f"{moment.day} {moment:%b %H:%M}"


class JournalScreen(ModalScreen[None]):
    HELP = "journal.md"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,J", "close", "Close", id="journal.close", tooltip="Back to the batch"),
    ]

    class Read(Message, bubble=False):
        def __init__(self, postings: tuple[Posting, ...]) -> None:
            super().__init__()
            self.postings = postings

    def __init__(self, month: str, client_id: int, client_name: str) -> None:
        super().__init__()
        self.month = month
        self.client_id = client_id
        self.client_name = client_name

    @property
    def workbench(self) -> Workbench:
        return cast("TrueupApp", self.app).workbench

    def compose(self) -> ComposeResult:
        with Vertical(id="journal", classes="dialog") as dialog:
            title = f"{self.client_name} · {month_name(self.month)}"
            dialog.border_title = Text(title)  # a name in it is not markup
            dialog.border_subtitle = "esc closes"
            yield Static(id="journal-summary")
            yield RowTable(COLUMNS, _cells, empty="Nothing sent for this month.", id="journal-rows")
            yield Static(id="journal-detail")

    def on_mount(self) -> None:
        table: RowTable[Posting] = self.query_one(RowTable)
        table.loading = True
        self.watch(table, "cursor", self._show_detail, init=False)
        self.load()

    def _show_detail(self) -> None:
        posting = self.query_one(RowTable).current
        detail = Text() if posting is None else _detail(posting)
        self.query_one("#journal-detail", Static).update(detail)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        postings = self.workbench.ledger.postings(Month(self.month), self.client_id)
        self.post_message(self.Read(postings))

    def on_journal_screen_read(self, message: Read) -> None:
        table: RowTable[Posting] = self.query_one(RowTable)
        table.loading = False
        table.set_rows(list(message.postings))
        table.focus()
        self._show_detail()
        live = [p for p in message.postings if p.state == "posted"]
        text = Text(f"{len(message.postings)} document(s) sent", style="dim")
        if live:
            # What they bill the month, as `trueup month` says it posted: a recurring true-up
            # bills its recurring invoice's total, not the one-off document's amount above.
            total = sum((p.amount if p.billed is None else p.billed for p in live), Decimal(0))
            text.append(f"; posted and standing: {money(total, live[0].currency)}", style="bold")
            if any(p.billed is not None for p in live):
                trued = sum((p.amount for p in live), Decimal(0))
                said = f" (the recurring invoice's; trued up by {money(trued, live[0].currency)})"
                text.append(said, style="dim")
        self.query_one("#journal-summary", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
