"""One line asked for in a dialog: why an error may go through (kept for the audit log), a
fixed price, a file's path."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ReasonScreen(ModalScreen[str | None]):
    """Asks why an error may go through (`about`: which), or another one line (`ask`, `enter`:
    what enter does, `required`: what an empty line is told); dismisses with the text, or
    None."""

    DEFAULT_CSS = """
    ReasonScreen { align: center middle; }
    ReasonScreen #reason { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reason.cancel", tooltip="Override nothing"),
    ]

    def __init__(
        self,
        title: str,
        about: Text,
        *,
        ask: str = "Why may this go through? (kept for the audit log)",
        enter: str = "override",
        required: str = "A reason is required.",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.about = about
        self.ask = ask
        self.enter = enter
        self.required = required  # said when enter is pressed on an empty line

    def compose(self) -> ComposeResult:
        with Vertical(id="reason", classes="dialog") as dialog:
            dialog.border_title = Text(self.title_text)  # names in it are not markup
            dialog.border_subtitle = f"enter to {self.enter} · esc cancel"
            yield Static(self.about, id="reason-anomaly")
            yield Input(placeholder=self.ask)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:
            self.notify(self.required, severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)
