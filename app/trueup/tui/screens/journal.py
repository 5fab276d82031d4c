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
    Column("Kind", 8, hide_below=90),  # an adjustment's amount says it by its sign
    Column("State", 8),
    Column("Amount", 12, "right"),
    Column("When, who", 18),  # "7 Dec 01:58 root": the month's own year goes without saying
]
STATE_STYLES = {"posted": "bold cyan", "voided": "magenta", "rejected": "bold red"}


def _cells(posting: Posting) -> Sequence[Text]:
    kind = ("credit" if posting.amount < 0 else "debit") if posting.adjusts else "invoice"
    when = f"{_when(posting.at)} {posting.by}".strip()
    where = posting.document_number or posting.document_id
    return (
        plain(posting.reference),
        plain(posting.destination + (f" {where}" if where else "")),
        plain(kind, "yellow" if posting.adjusts else ""),
        plain(posting.state, STATE_STYLES.get(posting.state, "yellow")),
        plain(money(posting.amount, posting.currency)),
        plain(when, "dim"),
    )


def _when(at: str | None) -> str:
    """An ISO time as "7 Dec 01:58" (UTC, as the journal keeps it)."""
    if not at:
        return ""
    moment = datetime.fromisoformat(at)
    return f"{moment.day} {moment:%b %H:%M}"


class JournalScreen(ModalScreen[None]):
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
            dialog.border_title = f"{self.client_name} · {month_name(self.month)}"
            dialog.border_subtitle = "esc closes"
            yield Static(id="journal-summary")
            yield RowTable(COLUMNS, _cells, empty="Nothing sent for this month.", id="journal-rows")

    def on_mount(self) -> None:
        self.query_one(RowTable).loading = True
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        postings = self.workbench.ledger.postings(Month(self.month), self.client_id)
        self.post_message(self.Read(postings))

    def on_journal_screen_read(self, message: Read) -> None:
        table: RowTable[Posting] = self.query_one(RowTable)
        table.loading = False
        table.set_rows(list(message.postings))
        table.focus()
        live = [p for p in message.postings if p.state == "posted"]
        text = Text(f"{len(message.postings)} document(s) sent", style="dim")
        if live:
            total = sum((p.amount for p in live), Decimal(0))
            text.append(f"; posted and standing: {money(total, live[0].currency)}", style="bold")
        self.query_one("#journal-summary", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
