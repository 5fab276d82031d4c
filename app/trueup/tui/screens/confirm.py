"""A yes/no question that shows exactly what will change before anything does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from trueup.tui.widgets.row_table import Column, RowTable


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Apply", id="confirm.yes", tooltip="Apply these changes"),
        Binding("n,escape", "answer(False)", "Cancel", id="confirm.no", tooltip="Change nothing"),
    ]

    def __init__(
        self, title: str, question: str, columns: Sequence[Column], rows: Sequence[Sequence[Text]]
    ) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.columns = columns
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog") as dialog:
            dialog.border_title = Text(self.title_text)  # names in it are not markup
            dialog.border_subtitle = "y apply · n cancel"
            yield Static(Text(self.question), id="confirm-question")
            yield RowTable(self.columns, lambda row: row, id="confirm-changes")
            yield Static(id="confirm-detail")

    def on_mount(self) -> None:
        table: RowTable[Sequence[Text]] = self.query_one(RowTable)
        table.set_rows(self.rows)
        table.focus()
        self.watch(table, "cursor", self._show_detail)

    def _show_detail(self) -> None:
        """The cursor's row in full, under the table: its cells may be cut to their columns."""
        row = self.query_one(RowTable).current
        text = Text(" · ").join(row) if row is not None else Text()
        self.query_one("#confirm-detail", Static).update(text)

    def action_answer(self, apply: bool) -> None:
        self.dismiss(apply)
