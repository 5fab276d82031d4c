"""Usage: the usage the month's batch bills (Azure and other arrears products), by client and
resource group, with cost, charge and margin. Usage held out of every invoice (no company, or a
company mapped to no client) comes first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Header
from textual.worker import Worker, get_current_worker

from trueup.core.service.types import BatchOverview
from trueup.tui.formatting import money, month_name, plain
from trueup.tui.screens.base import SearchableTableScreen
from trueup.tui.screens.batch import margin_text
from trueup.tui.widgets.row_table import Column, Heading, RowTable
from trueup.tui.widgets.search_bar import SearchBar

COLUMNS = [
    Column("Resource group", 16, flex=True),
    Column("Source", 8, hide_below=96),
    Column("Cost", 11, "right"),
    Column("Charge", 11, "right"),
    Column("Margin", 11, "right"),
    Column("%", 6, "right"),
]


@dataclass(frozen=True)
class UsageLine:
    """A resource group's usage (or a subscription's, from an invoice item that has none)."""

    client_id: int | None
    client_name: str
    label: str
    source: str  # invoice | summary
    cost: Decimal
    charge: Decimal  # Pax8's charge for it (the client's, under usage price `pax8`)
    currency: str


@dataclass(frozen=True)
class UsageHeading(Heading):
    name: str
    cost: Decimal
    charge: Decimal | None
    currency: str
    note: str

    def lead(self) -> Text:
        return Text(self.name, no_wrap=True)

    def tail(self) -> Text:
        text = Text(no_wrap=True)
        if self.charge is None:
            text.append(f"  cost {money(self.cost, self.currency)}", style="dim")
        else:
            text.append(f"  billed {money(self.charge, self.currency)}", style="dim")
        if self.note:
            style = "bold red" if self.note == "UNASSIGNED_USAGE" else "dim"
            text.append(f"  {self.note}", style=style)
        return text


def _percent(charge: Decimal | None, cost: Decimal) -> Decimal | None:
    return None if not charge else (charge - cost) / charge * 100


def _cells(row: UsageLine) -> Sequence[Text]:
    return (
        plain(row.label),
        plain("invoice" if row.source == "invoice" else "estimate", "dim"),
        plain(money(row.cost, row.currency)),
        plain(money(row.charge, row.currency)),
        plain(money(row.charge - row.cost, row.currency, signed=True)),
        margin_text(_percent(row.charge, row.cost)),
    )


def arrange(batch: BatchOverview) -> list[UsageLine | Heading]:
    """Held-out usage first, then each client's, with a heading carrying what the invoice bills
    for it (the usage lines' amounts, after the client's usage price policy)."""
    names = {row.client_id: row.client_name for row in batch.invoices}
    billed: dict[int, tuple[Decimal, Decimal, str, str]] = {}
    for line in batch.usage_lines:
        amount, cost, _, policies = billed.get(
            line["client_id"], (Decimal(0), Decimal(0), line["currency"], "")
        )
        policy = ", ".join(sorted({*filter(None, policies.split(", ")), line["policy"]}))
        billed[line["client_id"]] = (
            amount + Decimal(line["amount"]),
            cost + Decimal(line["cost"] or "0"),
            line["currency"],
            policy,
        )
    groups: dict[int | None, list[UsageLine]] = defaultdict(list)
    for row in batch.usage:
        client = row["client_id"]
        groups[client].append(
            UsageLine(
                client_id=client,
                client_name=names.get(client, "") if client is not None else "",
                label=row["resource_group"] or f"{row['product_name']} (whole subscription)",
                source=row["source"],
                cost=Decimal(row["cost"]),
                charge=Decimal(row["charge"]),
                currency=row["currency"],
            )
        )
    view: list[UsageLine | Heading] = []
    held = groups.pop(None, [])
    if held:
        cost = sum((r.cost for r in held), Decimal(0))
        view.append(
            UsageHeading(
                "Held out of every invoice", cost, None, held[0].currency, "UNASSIGNED_USAGE"
            )
        )
        view += held
    for client in sorted(groups, key=lambda c: (names.get(c or 0, "").casefold(), c)):
        rows = groups[client]
        assert client is not None
        charge, cost, currency, policy = billed.get(
            client, (Decimal(0), sum((r.cost for r in rows), Decimal(0)), rows[0].currency, "")
        )
        view.append(UsageHeading(names.get(client, str(client)), cost, charge, currency, policy))
        view += rows
    return view


class UsageScreen(SearchableTableScreen):
    TITLE_TEXT = "Usage"
    AUTO_FOCUS = "#usage-table"
    HELP = "usage.md"
    DEFAULT_CSS = """
    UsageScreen #usage-table { border: round $primary 50%; border-title-color: $text-accent; }
    UsageScreen #usage-table:focus { border: round $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "search",
            "Search",
            key_display="/",
            id="usage.search",
            tooltip="Search clients and resource groups",
        ),
        Binding(
            "left_square_bracket",
            "month(-1)",
            "Prev month",
            key_display="[",
            show=False,
            id="usage.month_back",
            tooltip="Show the month before",
        ),
        Binding(
            "right_square_bracket",
            "month(1)",
            "Next month",
            key_display="]",
            show=False,
            id="usage.month_on",
            tooltip="Show the month after",
        ),
    ]

    class Loaded(Message):
        def __init__(self, batch: BatchOverview, rows: list[UsageLine | Heading]) -> None:
            super().__init__()
            self.batch = batch
            self.rows = rows

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[UsageLine | Heading] = []
        self.shown_batch: BatchOverview | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchBar(placeholder="Search client or resource group…", id="search")
        yield RowTable(COLUMNS, _cells, empty="No usage billed this month.", id="usage-table")
        yield Footer()

    @property
    def table(self) -> RowTable[UsageLine]:
        return self.query_one("#usage-table", RowTable)

    def reload(self) -> None:
        self.table.loading = True
        self.load(self.trueup.month)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, month: str) -> None:
        batch = self.workbench.batches.current(month)
        rows = arrange(batch)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(batch, rows))

    def on_usage_screen_loaded(self, message: Loaded) -> None:
        self.shown_batch, self.rows = message.batch, message.rows
        self.table.loading = False
        self.show_rows()

    def worker_failed(self, worker: Worker[object]) -> None:
        self.table.loading = False

    def show_rows(self) -> None:
        query = self.query_one(SearchBar).value.strip().casefold()
        rows: list[UsageLine | Heading] = []
        heading: Heading | None = None
        for row in self.rows:
            if isinstance(row, Heading):
                heading = row
                continue
            if (
                query
                and query not in row.label.casefold()
                and query not in row.client_name.casefold()
            ):
                continue
            if heading is not None:
                rows.append(heading)
                heading = None
            rows.append(row)
        self.table.set_rows(rows)
        if self.shown_batch is not None:
            months = sorted({u["usage_month"] for u in self.shown_batch.usage})
            used = " and ".join(month_name(m) for m in months) or "no usage"
            self.table.border_title = (
                f"{month_name(self.shown_batch.month)} batch · usage of {used}"
            )

    def action_month(self, step: int) -> None:
        self.trueup.shift_month(step)
