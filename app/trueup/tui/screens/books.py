"""Books: the QuickBooks customer or Xero contact of each billed Halo client, and the item there
of each billed Halo item, which posting to `qbo` or `xero` needs. `b` switches between the two."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from trueup.core.service.types import BookRow
from trueup.tui.formatting import MAPPING_STATUS, plain, score_text, status_text
from trueup.tui.screens.mapping_grid import MappingGridScreen, grid_bindings
from trueup.tui.screens.picker import Choice
from trueup.tui.widgets.row_table import Column

STATUS_RANK = {"unmapped": 0, "suggested": 1, "stale": 2, "mapped": 3}
LABELS = {"qbo": "QuickBooks", "xero": "Xero"}
NOT_HERE = frozenset({"ignore", "undo"})  # the books' mappings have neither


class BooksScreen(MappingGridScreen[BookRow]):
    TITLE_TEXT = "Books"
    HELP = "books.md"
    NOUN = "row"
    TARGET = "customer or item"
    UNDO_NOTE = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        *grid_bindings("books", "customer or item in the books"),
        Binding(
            "b", "switch_books", "QBO/Xero", id="books.switch", tooltip="Switch QuickBooks / Xero"
        ),
        Binding(
            "r",
            "refresh_lists",
            "Read lists",
            show=False,  # at 80 columns the footer had no room left for F1 and quit (F1 lists it)
            id="books.refresh",
            tooltip="Read the customers and items of the books again",
        ),
    ]
    COLUMNS: ClassVar[list[Column]] = [
        Column("Halo", 16, flex=True),
        Column("Kind", 6),
        Column("Status", 9),
        Column("In the books", 14, flex=True),
        Column("Score", 5, "right"),
        Column("Why", 20, flex=True, hide_below=100),
    ]
    SORTS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "status": lambda r: (STATUS_RANK[r.status], r.kind, r.halo_name.casefold()),
        "name": lambda r: (r.kind, r.halo_name.casefold()),
        "score": lambda r: (-(r.score or 0), r.halo_name.casefold()),
    }

    books: reactive[str] = reactive("xero", init=False)

    def reload(self) -> None:
        self.sub_title = f"Books · {LABELS[self.books]}"
        super().reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NOT_HERE:
            return False
        return super().check_action(action, parameters)

    def cells(self, row: BookRow) -> Sequence[Text]:
        suggested = row.status == "suggested"
        target_style = "italic" if suggested else "" if row.target_name else "dim"
        return (
            plain(row.halo_name),
            plain(row.kind, "dim"),
            status_text(row.status, MAPPING_STATUS),
            plain(row.target_name or "—", target_style),
            score_text(row.score),
            plain(row.reason, "dim"),
        )

    def fetch(self) -> list[BookRow]:
        clients, items = self.workbench.books[self.books].rows()
        return [*clients, *items]

    def row_key(self, row: BookRow) -> Hashable:
        return (row.kind, row.halo_id)

    def row_name(self, row: BookRow) -> str:
        return row.halo_name

    def target_name(self, row: BookRow) -> str | None:
        return row.target_name

    def best_candidate(self, row: BookRow) -> tuple[str, int, str] | None:
        best = row.candidates[0] if row.candidates else None
        return None if best is None else (best.name, best.score, best.reason)

    def choices(self, row: BookRow, query: str) -> list[Choice]:
        own = [] if query else list(row.candidates)
        found = [*own, *self.workbench.books[self.books].choices(row.kind, query)]
        seen: set[str] = set()
        picked = []
        for candidate in found:
            if candidate.id not in seen:
                seen.add(candidate.id)
                why = f"{candidate.score} · {candidate.reason}" if candidate.score else ""
                picked.append(Choice(candidate.id, candidate.name, why))
        return picked

    def map_to(self, row: BookRow, target: int | str) -> None:
        accounting = self.workbench.books[self.books]
        if row.kind == "item":
            accounting.map_item(row.halo_id, str(target))
        else:
            accounting.map_customer(row.halo_id, str(target))

    def accept(self, row: BookRow) -> None:
        self.workbench.books[self.books].accept(row)

    def unmap(self, row: BookRow) -> None:
        accounting = self.workbench.books[self.books]
        if row.kind == "item":
            accounting.unmap_item(row.halo_id)
        else:
            accounting.unmap_customer(row.halo_id)

    def accept_all(self) -> int:
        clients, items = self.workbench.books[self.books].accept_suggestions()
        return len(clients) + len(items)

    def action_switch_books(self) -> None:
        self.books = "qbo" if self.books == "xero" else "xero"

    def watch_books(self) -> None:
        self.rows = []
        self.reload()

    def action_refresh_lists(self) -> None:
        self.notify(f"Reading {LABELS[self.books]}'s lists…", timeout=3)
        self._refresh(self.books)

    @work(group="refresh", exclusive=True, exit_on_error=False)
    async def _refresh(self, name: str) -> None:
        counts = await self.workbench.refresh_books(name)
        listed = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
        self.notify(f"Read {LABELS[name]}'s {listed}.", timeout=4)
        self.trueup.data_changed()
