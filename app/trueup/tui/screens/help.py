"""F1: what the screen below is for, and every key it takes (read from its bindings)."""

from __future__ import annotations

from importlib.resources import files
from typing import ClassVar

from rich.markdown import Markdown
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from trueup.tui.commands import Action, screen_actions

HELP_FILES = files("trueup.tui") / "help"


def help_markdown(screen: Screen[object]) -> str:
    name = getattr(screen, "HELP", "")
    intro = (HELP_FILES / name).read_text(encoding="utf-8") if name else ""
    actions = screen_actions(screen)
    sections = [
        ("Keys on this screen", [a for a in actions if not _global(a) and not a.is_navigation]),
        ("Moving around", [a for a in actions if a.is_navigation]),
        ("Everywhere", [a for a in actions if _global(a)]),
    ]
    parts = [intro.rstrip()]
    for title, entries in sections:
        if entries:
            rows = "\n".join(f"| `{_cell(a.keys)}` | {_cell(a.tooltip)} |" for a in entries)
            parts.append(f"## {title}\n\n| key | does |\n|---|---|\n{rows}")
    parts.append("Every action is also in the command palette: **ctrl+p**, then type.")
    return "\n\n".join(p for p in parts if p)


def _global(action: Action) -> bool:
    return isinstance(action.node, App)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, about: Screen[object]) -> None:
        super().__init__()
        self.text = help_markdown(about)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Help"
            body.border_subtitle = "escape to close"
            # Rich's Markdown in one Static: Textual's Markdown widget mounts a widget per
            # block, and F1 took ~150 ms more with it (bench/README.md, "F1").
            yield Static(Markdown(self.text))

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
