"""Editing one rules value: a pick from the policies for a choice, a checked entry otherwise.

Typed values go through the same parser as `trueup rules import`, so the box refuses exactly
what an import would, as it is typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from trueup.core.service.types import CHOICES, KINDS, RulesError, value_from_text, value_text
from trueup.tui.screens.picker import Choice, PickerScreen

# What each key means, in a billing person's words (billing-rules.md).
MEANINGS = {
    "proration": "How seats changing in the month are billed.",
    "price": "Where the unit price comes from.",
    "markup_percent": "Markup on Pax8 cost, in percent: 20 bills cost × 1.20.",
    "fixed_price": "The unit price held whatever Pax8 charges, like 12.50.",
    "min_margin_percent": "A margin % under this is flagged (BELOW_MIN_MARGIN).",
    "qty_swing_percent": "A quantity moving more than this % from last month is flagged.",
    "usage_month_offset": "The month of usage a batch carries: -1 is the month before.",
    "usage_price": "How usage (Azure and other arrears products) is charged.",
    "sync": "Whether the line follows Pax8 seats; false keeps its Halo quantity.",
    "tax_percent": "Tax on the invoice subtotal, in percent, for trueup's totals only: above 0 "
    "the client posts nowhere, each destination taxing by its own codes.",
    "currency": "The invoice's currency, a 3-letter code like USD.",
}
POLICY_NOTES = {
    "start": "seats on the first day",
    "end": "seats on the last day",
    "max": "the most seats on any day",
    "daily": "each day's seats, prorated",
    "pax8": "the price set in Pax8",
    "markup": "Pax8 cost plus markup_percent",
    "fixed": "fixed_price, whatever Pax8 charges",
    "halo": "the Halo recurring-invoice price",
    "absorb": "not charged; margin still tracked",
    "true": "follow Pax8 seats",
    "false": "keep the Halo quantity",
}

Done = Callable[[str | None], None]


def edit_value(app: App[object], key: str, title: str, current: str, done: Done) -> None:
    """Ask for a new value of `key`; `done` gets its text, or None when cancelled."""
    options = CHOICES.get(key) or (("true", "false") if KINDS[key] == "bool" else ())
    if not options:
        app.push_screen(ValueScreen(key, title, current), done)
        return
    choices = [
        Choice(o, o, ("in force · " if o == current else "") + POLICY_NOTES.get(o, ""))
        for o in options
    ]

    def search(query: str) -> list[Choice]:
        return [c for c in choices if query.casefold() in f"{c.label} {c.detail}".casefold()]

    def picked(value: int | str | None) -> None:
        done(None if value is None else str(value))

    app.push_screen(PickerScreen(f"{title}: {MEANINGS[key]}", search), picked)


class ValueScreen(ModalScreen[str | None]):
    """Dismisses with the text typed (already checked), or None when cancelled."""

    DEFAULT_CSS = """
    ValueScreen { align: center middle; }
    ValueScreen > #rule-value {
        width: 90%;
        max-width: 72;
        height: auto;
        border: thick $accent;
        border-title-color: $text-accent;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    ValueScreen #rule-value-meaning { margin-bottom: 1; }
    ValueScreen #rule-value-check { height: 1; color: $text-muted; }
    ValueScreen #rule-value-check.-bad { color: $text-error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="value.cancel", tooltip="Change nothing"),
    ]

    def __init__(self, key: str, title: str, current: str) -> None:
        super().__init__()
        self.key = key
        self.title_text = title
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="rule-value") as dialog:
            dialog.border_title = Text(self.title_text)  # names in it are not markup
            dialog.border_subtitle = "enter save · esc cancel"
            yield Static(Text(MEANINGS[self.key]), id="rule-value-meaning")
            yield Input(self.current, placeholder=self.key, id="rule-value-input")
            yield Static(id="rule-value-check")

    def on_mount(self) -> None:
        self._check(self.current)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    def _check(self, text: str) -> bool:
        check = self.query_one("#rule-value-check", Static)
        try:
            value = value_from_text(self.key, text)
        except RulesError as exc:
            check.update(Text(str(exc).removeprefix(f"{self.key}: ")))
            check.add_class("-bad")
            return False
        check.update(Text(f"{self.key} = {value_text(value)}"))
        check.remove_class("-bad")
        return True

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self._check(event.value):
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
