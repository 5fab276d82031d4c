"""The mapping grid the Clients and Products screens share: search, status filter, sort, and
the keys that map, accept, unmap, ignore and undo. Every change is saved at once from a thread
worker; then every screen reloads what it shows."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, get_current_worker

from trueup.core.service.types import NewestChange
from trueup.tui.formatting import plain
from trueup.tui.screens.base import SearchableTableScreen
from trueup.tui.screens.confirm import ConfirmScreen
from trueup.tui.screens.picker import Choice, PickerScreen
from trueup.tui.widgets.row_table import Column, RowTable
from trueup.tui.widgets.search_bar import SearchBar


class GridRow(Protocol):
    @property
    def status(self) -> str: ...  # mapped | suggested | unmapped | ignored | stale

    @property
    def score(self) -> int | None: ...

    @property
    def reason(self) -> str: ...


RowT = TypeVar("RowT", bound=GridRow)

STATUS_FILTERS = (None, "unmapped", "suggested", "stale", "mapped", "ignored")
# Actions that change the store: one at a time, so that `u` then `z` can never run as `z`, `u`.
CHANGES = frozenset(
    {"pick", "accept", "accept_all", "unmap", "ignore", "undo", "override", "create_item"}
)


def grid_bindings(noun: str, target: str) -> list[BindingType]:
    """The keys both grids share, as data; `noun` is what a row is, `target` what it maps to."""
    return [
        Binding(
            "enter",
            "pick",
            "Map",
            id=f"{noun}.pick",
            tooltip=f"Map the {noun} to a {target} you pick",
        ),
        Binding("a", "accept", "Accept", id=f"{noun}.accept", tooltip="Accept the suggestion"),
        Binding("u,delete", "unmap", "Unmap", id=f"{noun}.unmap", tooltip=f"Unmap the {noun}"),
        Binding(
            "slash",
            "search",
            "Search",
            key_display="/",
            id=f"{noun}.search",
            tooltip="Search by name",
        ),
        Binding(
            "A",
            "accept_all",
            "Accept all",
            show=False,
            id=f"{noun}.accept_all",
            tooltip="Accept every suggestion at or above the threshold (asks first)",
        ),
        Binding(
            "i",
            "ignore",
            "Ignore",
            show=False,
            id=f"{noun}.ignore",
            tooltip=f"Ignore the {noun}: not billed through Halo",
        ),
        Binding(
            "z,ctrl+z",
            "undo",
            "Undo",
            show=False,
            id=f"{noun}.undo",
            tooltip="Undo the latest mapping change",
        ),
        Binding(
            "f",
            "cycle_filter",
            "Filter",
            show=False,
            id=f"{noun}.filter",
            tooltip="Show one status at a time",
        ),
        Binding(
            "o", "cycle_sort", "Sort", show=False, id=f"{noun}.sort", tooltip="Change the order"
        ),
    ]


class MappingGridScreen(SearchableTableScreen, Generic[RowT]):
    """Subclasses say what a row is (`COLUMNS`, `cells`, the row accessors) and which service
    calls change it."""

    COLUMNS: ClassVar[list[Column]]
    SORTS: ClassVar[dict[str, Callable[[Any], Any]]]  # label -> key, the first is the default
    NOUN: ClassVar[str]  # "company", "product"
    TARGET: ClassVar[str]  # "Halo client", "Halo item"
    UNDO_NOTE: ClassVar[str] = " z undoes them together."  # where the changes are journaled

    AUTO_FOCUS = "#grid"

    status_filter: reactive[str | None] = reactive(None, init=False)
    sort: reactive[str] = reactive("", init=False)
    saving: reactive[bool] = reactive(False, bindings=True)

    class Loaded(Message):
        def __init__(self, rows: list[Any]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RowT] = []
        # After a change moves the cursor's row away (an accepted row sorts with the mapped
        # ones), the cursor goes to the row that followed it: the next one to work on.
        self._follow: Hashable | None = None
        # The row of this screen's latest change: `z` undoing it brings the cursor back to it.
        self._changed: Hashable | None = None
        self.set_reactive(MappingGridScreen.sort, next(iter(self.SORTS)))

    # --- what subclasses provide ---------------------------------------------------------------

    def cells(self, row: RowT) -> Sequence[Text]:
        raise NotImplementedError

    def fetch(self) -> list[RowT]:
        raise NotImplementedError

    def row_key(self, row: RowT) -> Hashable:
        raise NotImplementedError

    def row_name(self, row: RowT) -> str:
        raise NotImplementedError

    def target_name(self, row: RowT) -> str | None:
        raise NotImplementedError

    def search_text(self, row: RowT) -> str:
        return f"{self.row_name(row)} {self.target_name(row) or ''}"

    def choices(self, row: RowT, query: str) -> list[Choice]:
        raise NotImplementedError

    def map_to(self, row: RowT, target: int | str) -> None:
        raise NotImplementedError

    def accept(self, row: RowT) -> None:
        raise NotImplementedError

    def unmap(self, row: RowT) -> None:
        raise NotImplementedError

    def ignore(self, row: RowT) -> None:
        raise NotImplementedError

    def accept_all(self) -> int:
        raise NotImplementedError

    def carried(self, row: RowT) -> str:
        """The money a month the row carries, as text ("" when none): ignoring it asks first."""
        return ""

    def monthly_text(self, sums: list[str], style: str) -> Text:
        """The Monthly cell: the main currency's sum, `+` after it when other currencies carry
        money too (the line under the grid lists each)."""
        text = plain(sums[0] if sums else "", style)
        if len(sums) > 1:
            text.append("+", style="bold")
        return text

    def with_sums(self, detail: Text, sums: list[str]) -> Text:
        """The line under the grid and, when more than one currency carries money, a line of
        every currency's sum a month; the first then keeps to one line (cut with "…") so that
        the two fit the two lines the detail has."""
        if len(sums) < 2:
            return detail
        detail.no_wrap, detail.overflow = True, "ellipsis"
        detail.append("\n" if detail else "")
        detail.append("a month: ", style="dim")
        detail.append(" + ".join(sums))
        detail.append(" (never added)", style="dim")
        return detail

    def best_candidate(self, row: RowT) -> tuple[str, int, str] | None:
        """The row's best candidate (name, score, evidence), or None."""
        raise NotImplementedError

    def detail(self, row: RowT) -> Text:
        """The line under the grid for the cursor's row: why it is mapped or suggested as it
        is, or the best candidate below the threshold and its evidence."""
        text = Text()
        target = self.target_name(row)
        best = self.best_candidate(row) if row.status == "unmapped" else None
        if target and row.status in ("mapped", "suggested", "stale"):
            text.append(f"{row.status}: ", style="bold")
            text.append(target)
            text.append(f"  {row.reason}" if row.reason else "", style="dim")
        elif best is not None:
            name, score, reason = best
            text.append("below the threshold: ", style="yellow")
            text.append(f"{name} ({score})")
            text.append(f"  {reason} · enter picks it or another", style="dim")
        return text

    # --- loading and showing -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchBar(placeholder="Search by name…", id="search")
        yield RowTable(self.COLUMNS, self.cells, empty="No rows match.", id="grid")
        yield Static(id="grid-detail")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.table, "cursor", self._show_detail, init=False)

    def _show_detail(self) -> None:
        row = self.table.current
        self.query_one("#grid-detail", Static).update(Text() if row is None else self.detail(row))

    @property
    def table(self) -> RowTable[RowT]:
        return self.query_one("#grid", RowTable)

    def reload(self) -> None:
        self.table.loading = not self.rows  # later reloads keep the rows in view meanwhile
        self.load()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        rows = self.fetch()
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(rows))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.rows = message.rows
        self.table.loading = False
        self.show_rows()

    def worker_failed(self, worker: Worker[object]) -> None:
        self.table.loading = False
        if worker.group == "save":
            self.saving = False

    def visible_rows(self) -> list[RowT]:
        query = self.query_one(SearchBar).value.strip().casefold()
        rows = [
            row
            for row in self.rows
            if (self.status_filter is None or row.status == self.status_filter)
            and (not query or query in self.search_text(row).casefold())
        ]
        return sorted(rows, key=self.SORTS[self.sort])

    def show_rows(self) -> None:
        rows = self.visible_rows()
        self.table.set_rows(rows, key=self.row_key)
        follow, self._follow = self._follow, None
        keys = [self.row_key(row) for row in rows]
        if follow is not None and follow in keys:
            self.table.cursor = keys.index(follow)
        shown = self.status_filter or "all"
        self.table.border_title = f"{shown} · by {self.sort}"

    def watch_status_filter(self) -> None:
        self.show_rows()

    def watch_sort(self) -> None:
        self.show_rows()

    def action_cycle_filter(self) -> None:
        index = STATUS_FILTERS.index(self.status_filter)
        self.status_filter = STATUS_FILTERS[(index + 1) % len(STATUS_FILTERS)]

    def action_cycle_sort(self) -> None:
        names = list(self.SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]

    # --- changes -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.saving and action in CHANGES:
            return None
        return super().check_action(action, parameters)

    def save(self, operation: Callable[[], str | None], *, undoing: bool = False) -> None:
        """Change the store; `operation` returns what to tell the operator. The cursor then
        goes to the row after the changed one (the next to work on); after an undo, to the row
        it brought back (this screen's latest change), else it stays on its row."""
        self.saving = True
        rows = self.table.rows
        current = self.table.current
        here = None if current is None else self.row_key(current)
        if undoing:
            self._follow, self._changed = self._changed or here, None
        else:
            after = self.table.cursor + 1
            following = rows[after] if 0 <= after < len(rows) else None
            self._follow = None if following is None else self.row_key(following)  # type: ignore[arg-type]
            self._changed = here
        self._save(operation)

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, operation: Callable[[], str | None]) -> None:
        said = operation()
        self.app.call_from_thread(self._saved, said)

    def _saved(self, said: str | None) -> None:
        self.saving = False
        if said:
            self.notify(said, timeout=4)
        self.trueup.data_changed()

    def _current(self) -> RowT | None:
        row = self.table.current
        if row is None:
            self.notify(f"No {self.NOUN} selected.", severity="warning", timeout=3)
        return row

    def action_pick(self) -> None:
        row = self._current()
        if row is None:
            return
        name = self.row_name(row)

        def chosen(target: int | str | None) -> None:
            if target is not None:
                self.save(lambda: self._mapped(row, target))

        title = f"{self.TARGET} for {name}"
        self.app.push_screen(PickerScreen(title, lambda q: self.choices(row, q)), chosen)

    def _mapped(self, row: RowT, target: int | str) -> str:
        self.map_to(row, target)
        return f"Mapped {self.row_name(row)}."

    def action_accept(self) -> None:
        row = self._current()
        if row is None:
            return
        if row.status != "suggested":
            self.notify("No suggestion to accept here: enter picks one.", timeout=3)
            return

        def accept() -> str:
            self.accept(row)
            return f"Mapped {self.row_name(row)} to {self.target_name(row)}."

        self.save(accept)

    def action_accept_all(self) -> None:
        pending = [row for row in self.rows if row.status == "suggested"]
        if not pending:
            self.notify("No suggestions at or above the threshold.", timeout=3)
            return
        threshold = self.workbench.mappings.threshold
        question = (
            f"Map these {len(pending):,} {self.NOUN} suggestions (score {threshold} or more, "
            f"or an exact link)?{self.UNDO_NOTE}"
        )
        columns = [
            Column(self.NOUN.title(), 14, flex=True, keep_end=True),
            Column(self.TARGET, 14, flex=True, keep_end=True),
            Column("Score", 5, "right"),
        ]
        lines = [
            (
                Text(self.row_name(row)),
                Text(self.target_name(row) or ""),
                Text("" if row.score is None else str(row.score)),
            )
            for row in pending
        ]

        def answered(apply: bool | None) -> None:
            if apply:
                self.save(lambda: f"Accepted {self.accept_all():,} suggestions.")

        self.app.push_screen(ConfirmScreen("Accept all", question, columns, lines), answered)

    def action_unmap(self) -> None:
        row = self._current()
        if row is None:
            return
        if row.status in ("unmapped", "suggested"):
            self.notify(f"This {self.NOUN} is not mapped.", timeout=3)
            return

        def unmap() -> str:
            self.unmap(row)
            return f"Unmapped {self.row_name(row)}."

        self.save(unmap)

    def action_ignore(self) -> None:
        row = self._current()
        if row is None:
            return

        def ignore() -> str:
            self.ignore(row)
            return f"Ignoring {self.row_name(row)}."

        value = self.carried(row)
        if not value:
            self.save(ignore)
            return
        question = (
            f"Ignore {self.row_name(row)}? It carries {value} a month that would then not be "
            "billed through Halo. z undoes it."
        )
        columns = [Column(self.NOUN.title(), 14, flex=True), Column("A month", 12, "right")]
        lines = [(Text(self.row_name(row)), Text(value))]

        def answered(apply: bool | None) -> None:
            if apply:
                self.save(ignore)

        self.app.push_screen(ConfirmScreen("Ignore", question, columns, lines), answered)

    def action_undo(self) -> None:
        self.saving = True
        self._undo_check()

    @work(thread=True, group="save", exit_on_error=False)
    def _undo_check(self) -> None:
        note = self.workbench.mappings.undo_note()
        self.app.call_from_thread(self._undo_asked, note)

    def _undo_asked(self, note: NewestChange | None) -> None:
        """Undo at once what this workbench did; ask first about a change made elsewhere."""
        self.saving = False

        def undo() -> str:
            return self.workbench.mappings.undo_last() or "Nothing to undo."

        if note is None:
            self.save(undo, undoing=True)
            return

        def answered(apply: bool | None) -> None:
            if apply:
                self._changed = None  # not this screen's change: the cursor stays on its row
                self.save(undo, undoing=True)

        question = (
            "The latest mapping change was not made in this workbench (another trueup made "
            "it). Undo it anyway?"
        )
        columns = [Column("Change", 14, flex=True), Column("By", 10), Column("At (UTC)", 16)]
        what = f"{note.action}, {note.count} mappings" if note.count > 1 else note.action
        lines = [(Text(what), Text(note.by), Text(f"{note.at:%Y-%m-%d %H:%M}"))]
        self.app.push_screen(ConfirmScreen("Undo", question, columns, lines), answered)
