"""The fuzzy picker: type to narrow the list, arrows to move, enter to choose, escape to cancel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from trueup.tui.formatting import plain
from trueup.tui.widgets.row_table import Column, RowTable


@dataclass(frozen=True)
class Choice:
    value: int | str
    label: str
    detail: str = ""  # why it is offered: a score and a reason, an id


def _cells(choice: Choice) -> Sequence[Text]:
    return (plain(choice.label), plain(choice.detail, "dim"))


class PickerScreen(ModalScreen[int | str | None]):
    """Dismisses with the chosen value, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel", tooltip="Choose nothing"),
        Binding("enter", "choose", "Choose", id="picker.choose", tooltip="Choose this one"),
        # Keys the search box leaves to the list: F1 says what each does.
        Binding("up", "move('cursor_up')", show=False, id="picker.up", tooltip="The choice above"),
        Binding(
            "down", "move('cursor_down')", show=False, id="picker.down", tooltip="The choice below"
        ),
        Binding("pageup", "move('page_up')", show=False, id="picker.page_up", tooltip="A page up"),
        Binding(
            "pagedown",
            "move('page_down')",
            show=False,
            id="picker.page_down",
            tooltip="A page down",
        ),
    ]

    class Found(Message):
        def __init__(self, choices: list[Choice]) -> None:
            super().__init__()
            self.choices = choices

    def __init__(
        self,
        title: str,
        search: Callable[[str], Sequence[Choice]],
        headings: tuple[str, str] = ("Name", "Why"),
    ) -> None:
        """`headings`: the two columns' labels, as the choices read ("Why" for a score and its
        evidence; an error code's counts or a client's id are no reason)."""
        super().__init__()
        self.title_text = title
        self._search = search
        self.headings = headings

    def compose(self) -> ComposeResult:
        with Vertical(id="picker", classes="dialog") as dialog:
            dialog.border_title = Text(self.title_text)  # names in it are not markup
            dialog.border_subtitle = "type to filter · ↑↓ · enter choose · esc cancel"
            yield Input(placeholder="Type to filter…", id="picker-query")
            yield RowTable(
                [
                    Column(self.headings[0], 20, flex=True, keep_end=True),
                    Column(self.headings[1], 26),
                ],
                _cells,
                empty="No match: type less, or other words.",
                id="picker-choices",
            )
            yield Static(id="picker-detail")  # the cursor's choice, whole, however long

    def on_mount(self) -> None:
        table: RowTable[Choice] = self.query_one(RowTable)
        table.loading = True
        self.watch(table, "cursor", self._show_detail, init=False)
        self.query_one(Input).focus()
        self.search("")

    def _show_detail(self) -> None:
        choice = self.query_one(RowTable).current
        detail = Text()
        if choice is not None:
            detail.append(choice.label, style="bold")
            if choice.detail:
                detail.append(f"  {choice.detail}", style="dim")
        self.query_one("#picker-detail", Static).update(detail)

    @on(Input.Changed)
    def _query_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def search(self, query: str) -> None:
        choices = list(self._search(query.strip()))
        if not get_current_worker().is_cancelled:  # a newer query is on its way
            self.post_message(self.Found(choices))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.query_one(RowTable).loading = False
            self.notify(str(event.worker.error), severity="error", timeout=10)

    def on_picker_screen_found(self, message: Found) -> None:
        table: RowTable[Choice] = self.query_one(RowTable)
        table.loading = False
        table.set_rows(message.choices)

    async def action_move(self, action: str) -> None:
        await self.query_one(RowTable).run_action(action)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        table: RowTable[Choice] = self.query_one(RowTable)
        if table.current is not None:
            self.dismiss(table.current.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
