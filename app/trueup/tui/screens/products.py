"""Products: which HaloPSA item bills each Pax8 product (SKU), unmapped first by the money they
carry, and per-client overrides."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType

from trueup.core.service.types import ItemDraft, ProductRow
from trueup.tui.formatting import (
    MAPPING_STATUS,
    money,
    monthly_sums,
    plain,
    score_text,
    status_text,
)
from trueup.tui.screens.clients import STATUS_RANK
from trueup.tui.screens.confirm import ConfirmScreen
from trueup.tui.screens.mapping_grid import MappingGridScreen, grid_bindings
from trueup.tui.screens.picker import Choice, PickerScreen
from trueup.tui.widgets.row_table import Column, RowTable

EVERY_CLIENT = "every-client"  # the picker's value for the mapping that is not an override


class ProductsScreen(MappingGridScreen[ProductRow]):
    TITLE_TEXT = "Products"
    HELP = "products.md"
    NOUN = "product"
    TARGET = "Halo item"
    BINDINGS: ClassVar[list[BindingType]] = [
        *grid_bindings("product", "Halo item"),
        Binding(
            "c",
            "override",
            "Override",
            show=False,
            id="product.override",
            tooltip="Bill this product under another item for one client",
        ),
        Binding(
            "n",
            "create_item",
            "New item",
            show=False,  # six keys fill the footer at 80 columns: the detail line names it
            id="product.create_item",
            tooltip="Create the Halo item a product without one lacks (shown first), then map it",
        ),
    ]
    COLUMNS: ClassVar[list[Column]] = [
        Column("SKU", 20, hide_below=110),  # at 80 columns the name says enough
        Column("Pax8 product", 14, flex=True, keep_end=True),
        Column("Status", 9),
        Column("Halo item", 12, flex=True, keep_end=True),
        Column("Subs", 4, "right"),
        Column("Score", 5, "right"),
        Column("Monthly", 10, "right"),
    ]
    SORTS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "status": lambda r: (STATUS_RANK[r.status], -r.monthly_value, r.name.casefold()),
        "value": lambda r: (-r.monthly_value, r.name.casefold()),
        "name": lambda r: r.name.casefold(),
        "score": lambda r: (-(r.score or 0), r.name.casefold()),
    }

    def cells(self, row: ProductRow) -> Sequence[Text]:
        suggested = row.status == "suggested"
        item_style = "italic" if suggested else "" if row.item_name else "dim"
        value_style = "bold" if row.status == "unmapped" else "dim"
        best = row.candidates[0] if row.status == "unmapped" and row.candidates else None
        item = row.item_name or (f"{best.item_name}?" if best else "—")
        if best is not None:  # below the threshold: shown, never taken for a suggestion
            item_style = "dim italic"
        if row.overrides:
            item += f" (+{row.overrides} override{'s' if row.overrides > 1 else ''})"
        return (
            plain(row.sku or "", "dim"),
            plain(row.name),
            status_text(row.status, MAPPING_STATUS),
            plain(item, item_style),
            plain(f"{row.subscriptions:,}" if row.subscriptions else ""),
            score_text(row.score),
            self.monthly_text(self.sums(row) if row.subscriptions else [], value_style),
        )

    def sums(self, row: ProductRow) -> list[str]:
        return monthly_sums(row.monthly_value, row.currency, row.other_values)

    def fetch(self) -> list[ProductRow]:
        return self.workbench.mappings.product_rows()

    def row_key(self, row: ProductRow) -> Hashable:
        return row.product_id

    def row_name(self, row: ProductRow) -> str:
        return row.name

    def target_name(self, row: ProductRow) -> str | None:
        return row.item_name

    def best_candidate(self, row: ProductRow) -> tuple[str, int, str] | None:
        best = row.candidates[0] if row.candidates else None
        return None if best is None else (best.item_name, best.score, best.reason)

    def search_text(self, row: ProductRow) -> str:
        return f"{row.sku or ''} {row.name} {row.item_name or ''}"

    def choices(self, row: ProductRow, query: str) -> list[Choice]:
        if query:
            found = self.workbench.mappings.item_choices(query)
        else:  # this product's own candidates first, then every item A to Z
            found = [*row.candidates, *self.workbench.mappings.item_choices()]
        seen: set[int] = set()
        picked = []
        for candidate in found:
            if candidate.item_id not in seen:
                seen.add(candidate.item_id)
                why = f"{candidate.score} · {candidate.reason}" if candidate.score else ""
                picked.append(Choice(candidate.item_id, candidate.item_name, why))
        return picked

    def map_to(self, row: ProductRow, target: int | str) -> None:
        self.workbench.mappings.map_product(row.product_id, int(target))

    def accept(self, row: ProductRow) -> None:
        self.workbench.mappings.accept_product(row)

    def unmap(self, row: ProductRow) -> None:
        self.workbench.mappings.unmap_product(row.product_id)

    def ignore(self, row: ProductRow) -> None:
        self.workbench.mappings.ignore_product(row.product_id)

    def carried(self, row: ProductRow) -> str:
        amounts = [(row.currency, row.monthly_value), *sorted(row.other_values.items())]
        return " + ".join(money(v, c) for c, v in amounts if v)

    def accept_all(self) -> int:
        return len(self.workbench.mappings.accept_product_suggestions())

    # --- a Halo item for a product that has none ------------------------------------------------

    def detail(self, row: ProductRow) -> Text:
        text = super().detail(row)
        if not text and row.status == "unmapped" and self._can_create(row):
            text.append("no Halo item matches: ", style="yellow")
            text.append("n creates one from the Pax8 product (asks first)", style="dim")
        return self.with_sums(text, self.sums(row) if row.subscriptions else [])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "create_item":
            grid = next(self.query("#grid").results(RowTable), None)  # none before compose
            if grid is None or not self._can_create(grid.current):
                return False  # a mapped row, or no Halo to create it in: not offered
        return super().check_action(action, parameters)

    def _can_create(self, row: ProductRow | None) -> bool:
        mappings = self.workbench.mappings
        return mappings.can_create_items and row is not None and row.status != "mapped"

    def action_create_item(self) -> None:
        """Draft the item from the store (a thread), show it, create it once confirmed."""
        row = self._current()
        if row is None:
            return
        self.saving = True
        self._draft(row)

    @work(thread=True, group="save", exit_on_error=False)
    def _draft(self, row: ProductRow) -> None:
        draft = self.workbench.mappings.item_draft(row.product_id)
        self.app.call_from_thread(self._confirm_create, draft)

    def _confirm_create(self, draft: ItemDraft) -> None:
        self.saving = False
        cost = "none" if draft.cost is None else money(draft.cost, draft.currency)
        whence = f"The price is the {draft.price_from}."
        if draft.cost is not None:
            whence = f"The cost is the {draft.cost_from}; the price the {draft.price_from}."
        question = (
            f"Create {draft.name} as an item in HaloPSA, then bill the product as it? {whence} "
            "Halo is searched for the SKU first, so the item is never made twice. z undoes the "
            "mapping; the item stays in Halo."
        )
        columns = [Column("Halo item", 18), Column("", 12, flex=True, keep_end=True)]
        lines = [
            (Text("Name"), Text(draft.name)),
            (Text("Supplier part code"), Text(draft.sku)),
            (Text("Cost a month"), Text(cost)),
            (Text("Price a month"), Text(money(draft.price, draft.currency))),
        ]

        def answered(apply: bool | None) -> None:
            if apply:
                self.save(lambda: self._create(draft))

        self.app.push_screen(ConfirmScreen("New Halo item", question, columns, lines), answered)

    def _create(self, draft: ItemDraft) -> str:
        made = asyncio.run(self.workbench.mappings.create_item(draft.product_id))
        if made.created:
            return f"Created Halo item {made.item_id} and mapped {draft.name} to it."
        return f"Halo already had item {made.item_id} for {draft.sku}: mapped {draft.name} to it."

    # --- per-client overrides ------------------------------------------------------------------

    def action_override(self) -> None:
        """Pick the client, then the item it bills this product under."""
        row = self._current()
        if row is None:
            return

        def client_chosen(client_id: int | str | None) -> None:
            if isinstance(client_id, int):
                title = f"Halo item for {row.name}, this client only"
                picker = PickerScreen(title, lambda q: self.choices(row, q))
                self.app.push_screen(picker, lambda item: item_chosen(client_id, item))

        def item_chosen(client_id: int, item_id: int | str | None) -> None:
            if isinstance(item_id, int):

                def override() -> str:
                    self.workbench.mappings.map_product(
                        row.product_id, item_id, client_id=client_id
                    )
                    return f"Override saved for {row.name}."

                self.save(override)

        picker = PickerScreen(f"Which client bills {row.name} differently?", self._clients)
        self.app.push_screen(picker, client_chosen)

    def _clients(self, query: str) -> list[Choice]:
        return [
            Choice(c.client_id, c.client_name, c.reason)
            for c in self.workbench.mappings.client_choices(query)
        ]

    def action_unmap(self) -> None:
        """With overrides, ask which mapping goes: the one for every client or an override."""
        row = self.table.current
        if row is None or not row.overrides:
            super().action_unmap()
            return

        def options(query: str) -> list[Choice]:
            found = [Choice(EVERY_CLIENT, "Every client", row.item_name or "not mapped")]
            found += [
                Choice(o.client_id, o.client_name, f"override: {o.item_name}")
                for o in self.workbench.mappings.product_overrides(row.product_id)
            ]
            return [c for c in found if query.casefold() in c.label.casefold()]

        def chosen(value: int | str | None) -> None:
            if value == EVERY_CLIENT:
                super(ProductsScreen, self).action_unmap()
            elif isinstance(value, int):

                def remove() -> str:
                    self.workbench.mappings.unmap_product(row.product_id, client_id=value)
                    return f"Override removed from {row.name}."

                self.save(remove)

        self.app.push_screen(PickerScreen(f"Unmap {row.name} for…", options), chosen)
