"""Rules: the billing rules in force, grouped (defaults, rates, each client, each line), edited
key by key. Every change is saved at once as a new rules document, so the history is kept."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Header
from textual.worker import Worker, get_current_worker

from trueup.core.service.types import (
    CLIENT,
    DEFAULT_RULES,
    DEFAULTS,
    KEYS,
    LINE,
    RATE,
    RuleRow,
    Rules,
    value_text,
)
from trueup.tui.formatting import plain
from trueup.tui.screens.base import SearchableTableScreen
from trueup.tui.screens.picker import Choice, PickerScreen
from trueup.tui.screens.rules_value import MEANINGS, edit_value
from trueup.tui.widgets.row_table import Column, Heading, RowTable
from trueup.tui.widgets.search_bar import SearchBar

COLUMNS = [
    Column("Key", 19),
    Column("Value", 10),
    Column("Source", 16, flex=True),
]
CHANGES = frozenset({"edit", "delete", "add_client"})


@dataclass(frozen=True)
class GroupHeading(Heading):
    title: str
    detail: str = ""

    def lead(self) -> Text:
        return Text(self.title, no_wrap=True)

    def tail(self) -> Text:
        return Text(f"  {self.detail}" if self.detail else "", style="dim", no_wrap=True)


def _cells(row: RuleRow) -> Sequence[Text]:
    dim = row.source == "built-in"
    return (plain(row.key), plain(row.value, "dim" if dim else "bold"), plain(row.source, "dim"))


def _group(row: RuleRow) -> tuple[str, str]:
    if row.scope == DEFAULTS:
        return "Defaults", "every client, unless overridden below"
    if row.scope == RATE:
        return "Currency rates", "set in the rules file"
    return row.subject, "line" if row.scope == LINE else "client"


class RulesScreen(SearchableTableScreen):
    TITLE_TEXT = "Rules"
    HELP = "rules.md"
    AUTO_FOCUS = "#grid"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "edit", "Edit", id="rules.edit", tooltip="Change the value"),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            id="rules.delete",
            tooltip="Remove the override (a default goes back to the built-in value)",
        ),
        Binding(
            "c", "add_client", "Client", id="rules.client", tooltip="Override a key for a client"
        ),
        Binding(
            "slash",
            "search",
            "Search",
            key_display="/",
            id="rules.search",
            tooltip="Search clients and keys",
        ),
    ]

    saving: reactive[bool] = reactive(False, bindings=True)

    class Loaded(Message):
        def __init__(self, rows: list[RuleRow], rules: Rules, rules_id: int | None) -> None:
            super().__init__()
            self.rows = rows
            self.rules = rules
            self.rules_id = rules_id

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RuleRow] = []
        self.rules = DEFAULT_RULES
        self.rules_id: int | None = None
        self._client_names: dict[int, str] = {}  # of the clients the picker offered

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchBar(placeholder="Search clients and keys…", id="search")
        yield RowTable(COLUMNS, _cells, empty="No rules match.", id="grid")
        yield Footer()

    @property
    def table(self) -> RowTable[RuleRow]:
        return self.query_one("#grid", RowTable)

    # --- loading and showing -------------------------------------------------------------------

    def reload(self) -> None:
        self.table.loading = not self.rows
        self.load()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        rows, rules_id = self.workbench.rules.rows()
        rules, _ = self.workbench.rules.current()
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(rows, rules, rules_id))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.rows, self.rules, self.rules_id = message.rows, message.rules, message.rules_id
        self.table.loading = False
        self.show_rows()

    def worker_failed(self, worker: Worker[object]) -> None:
        self.table.loading = False
        if worker.group == "save":
            self.saving = False

    def show_rows(self) -> None:
        query = self.query_one(SearchBar).value.strip().casefold()
        view: list[RuleRow | Heading] = []
        group = None
        for row in self.rows:
            title, detail = _group(row)
            if query and query not in f"{title} {row.key} {row.value}".casefold():
                continue
            if (title, detail) != group:
                group = (title, detail)
                view.append(GroupHeading(title, detail))
            view.append(row)
        self.table.set_rows(view, key=lambda r: r.row_key)
        where = "built-in defaults" if self.rules_id is None else f"rules #{self.rules_id}"
        clients, lines = len(self.rules.clients), len(self.rules.lines)
        counts = f"{clients} client{'s' * (clients != 1)}, {lines} line{'s' * (lines != 1)}"
        self.table.border_title = f"{where} · overrides for {counts}"

    # --- changes -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.saving and action in CHANGES else True

    def save(self, change: Callable[[], None], said: str) -> None:
        self.saving = True
        self._save(change, said)

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, change: Callable[[], None], said: str) -> None:
        change()
        self.app.call_from_thread(self._saved, said)

    def _saved(self, said: str) -> None:
        self.saving = False
        self.notify(said, timeout=4)
        self.trueup.data_changed()  # batches and diffs priced by these rules are stale

    def _current(self) -> RuleRow | None:
        row = self.table.current
        if row is None:
            self.notify("No rule selected.", severity="warning", timeout=3)
        elif row.scope == RATE:
            self.notify(
                "Rates are set in the rules file: trueup rules export, edit, import.", timeout=5
            )
            return None
        return row

    def _setter(self, row: RuleRow) -> Callable[[str | None], None]:
        """The service call that sets (or with None, removes) the row's key where it lives."""
        workbench, key = self.workbench, row.key
        if row.scope == CLIENT and row.client_id is not None:
            client_id = row.client_id
            return lambda value: workbench.rules.set_client(client_id, key, value)
        if row.scope == LINE and row.client_id is not None and row.product is not None:
            client_id, product = row.client_id, row.product
            return lambda value: workbench.rules.set_line(client_id, product, key, value)
        return lambda value: workbench.rules.set_default(key, value)

    def action_edit(self) -> None:
        row = self._current()
        if row is None:
            return
        setter = self._setter(row)
        where = "default" if row.scope == DEFAULTS else row.subject

        def edited(text: str | None) -> None:
            if text is not None and text != row.value:
                self.save(lambda: setter(text), f"{row.key} = {text} ({where}).")

        current = "" if row.value == "(none)" else row.value
        edit_value(self.app, row.key, f"{row.key} · {where}", current, edited)

    def action_delete(self) -> None:
        row = self._current()
        if row is None:
            return
        if row.scope == DEFAULTS and row.source == "built-in":
            self.notify(f"{row.key} is already the built-in default.", timeout=3)
            return
        setter = self._setter(row)
        said = (
            f"{row.key} is back to the built-in default."
            if row.scope == DEFAULTS
            else f"Removed {row.key} for {row.subject}."
        )
        self.save(lambda: setter(None), said)

    def action_add_client(self) -> None:
        def client_picked(client: int | str | None) -> None:
            if isinstance(client, int):
                self._pick_key(client)

        title = "Override a rule for which Halo client?"
        picker = PickerScreen(title, self._client_choices, ("Halo client", "Halo id"))
        self.app.push_screen(picker, client_picked)

    def _client_choices(self, query: str) -> list[Choice]:
        found = self.workbench.mappings.client_choices(query)
        self._client_names.update((c.client_id, c.client_name) for c in found)
        return [Choice(c.client_id, c.client_name, f"#{c.client_id}") for c in found]

    def _pick_key(self, client_id: int) -> None:
        policy = self.rules.for_client(client_id)
        subject = f"{self._client_names.get(client_id, 'client')} #{client_id}"
        choices = [
            Choice(k, k, f"{value_text(policy.value(k)) or '(none)'} · {policy.origin(k)}")
            for k in KEYS
        ]

        def search(query: str) -> list[Choice]:
            wanted = query.casefold()
            return [c for c in choices if wanted in f"{c.label} {MEANINGS[c.label]}".casefold()]

        def key_picked(key: int | str | None) -> None:
            if not isinstance(key, str):
                return
            current = value_text(policy.value(key))

            def edited(text: str | None) -> None:
                if text is not None:
                    self.save(
                        lambda: self.workbench.rules.set_client(client_id, key, text),
                        f"{key} = {text} for {subject}.",
                    )

            edit_value(self.app, key, f"{key} · {subject}", current, edited)

        picker = PickerScreen(f"Which rule for {subject}?", search, ("Rule", "In force · from"))
        self.app.push_screen(picker, key_picked)
