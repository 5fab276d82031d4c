"""Clients: which HaloPSA client bills each Pax8 company."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType

from trueup.core.service.types import CompanyRow
from trueup.tui.formatting import (
    MAPPING_STATUS,
    money,
    monthly_sums,
    plain,
    score_text,
    status_text,
)
from trueup.tui.screens.mapping_grid import MappingGridScreen, grid_bindings
from trueup.tui.screens.picker import Choice
from trueup.tui.widgets.row_table import Column

STATUS_RANK = {"unmapped": 0, "suggested": 1, "stale": 2, "mapped": 3, "ignored": 4}


class ClientsScreen(MappingGridScreen[CompanyRow]):
    TITLE_TEXT = "Clients"
    HELP = "clients.md"
    NOUN = "company"
    TARGET = "Halo client"
    BINDINGS: ClassVar[list[BindingType]] = grid_bindings("company", "Halo client")
    COLUMNS: ClassVar[list[Column]] = [
        Column("Pax8 company", 14, flex=True),
        Column("Status", 9),
        Column("Halo client", 14, flex=True),
        Column("Score", 5, "right"),
        Column("Source", 10),
        Column("Monthly", 11, "right", hide_below=100),  # names matter more at 80 columns
    ]
    SORTS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "status": lambda r: (STATUS_RANK[r.status], -r.monthly_value, r.company_name.casefold()),
        "name": lambda r: r.company_name.casefold(),
        "score": lambda r: (-(r.score or 0), r.company_name.casefold()),
        "value": lambda r: (-r.monthly_value, r.company_name.casefold()),
    }

    def cells(self, row: CompanyRow) -> Sequence[Text]:
        suggested = row.status == "suggested"
        client_style = "italic" if suggested else "" if row.client_name else "dim"
        return (
            plain(row.company_name),
            status_text(row.status, MAPPING_STATUS),
            plain(row.client_name or "—", client_style),
            score_text(row.score),
            plain(row.source or ("suggested" if suggested else ""), "dim"),
            self.monthly_text(self.sums(row) if row.subscriptions else [], "dim"),
        )

    def sums(self, row: CompanyRow) -> list[str]:
        return monthly_sums(row.monthly_value, row.currency, row.other_values)

    def detail(self, row: CompanyRow) -> Text:
        text = super().detail(row)
        return self.with_sums(text, self.sums(row) if row.subscriptions else [])

    def fetch(self) -> list[CompanyRow]:
        return self.workbench.mappings.company_rows()

    def row_key(self, row: CompanyRow) -> Hashable:
        return row.company_id

    def row_name(self, row: CompanyRow) -> str:
        return row.company_name

    def target_name(self, row: CompanyRow) -> str | None:
        return row.client_name

    def best_candidate(self, row: CompanyRow) -> tuple[str, int, str] | None:
        best = row.candidates[0] if row.candidates else None
        return None if best is None else (best.client_name, best.score, best.reason)

    def choices(self, row: CompanyRow, query: str) -> list[Choice]:
        if query:
            found = self.workbench.mappings.client_choices(query)
        else:  # this company's own candidates first, then every client A to Z
            found = [*row.candidates, *self.workbench.mappings.client_choices()]
        seen: set[int] = set()
        picked = []
        for candidate in found:
            if candidate.client_id not in seen:
                seen.add(candidate.client_id)
                why = f"{candidate.score} · {candidate.reason}" if candidate.score else ""
                picked.append(Choice(candidate.client_id, candidate.client_name, why))
        return picked

    def map_to(self, row: CompanyRow, target: int | str) -> None:
        self.workbench.mappings.map_company(row.company_id, int(target))

    def accept(self, row: CompanyRow) -> None:
        self.workbench.mappings.accept_company(row)

    def unmap(self, row: CompanyRow) -> None:
        self.workbench.mappings.unmap_company(row.company_id)

    def ignore(self, row: CompanyRow) -> None:
        self.workbench.mappings.ignore_company(row.company_id)

    def carried(self, row: CompanyRow) -> str:
        amounts = [(row.currency, row.monthly_value), *sorted(row.other_values.items())]
        return " + ".join(money(v, c) for c, v in amounts if v)

    def accept_all(self) -> int:
        return len(self.workbench.mappings.accept_company_suggestions())
