"""The `/` search box above a table: filters as you type, enter keeps it, escape clears it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class SearchBar(Input):
    DEFAULT_CSS = """
    SearchBar { display: none; }
    SearchBar.-open { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Clear", id="search.close", tooltip="Clear the search"),
    ]

    class Done(Message):
        """The operator left the search box; the table should take the focus back."""

    def on_mount(self) -> None:
        self.can_focus = False  # out of the tab order until `/` opens it

    def open(self) -> None:
        self.can_focus = True
        self.add_class("-open")
        self.focus()

    def action_close(self) -> None:
        self.value = ""
        self._shut()

    async def action_submit(self) -> None:
        if not self.value:
            self._shut()
        else:
            self.post_message(self.Done())

    def _shut(self) -> None:
        self.remove_class("-open")
        self.can_focus = False
        self.post_message(self.Done())
