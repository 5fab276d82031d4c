"""The billing files of TD SYNNEX Ion, Ingram Micro and Sherweb: one shape under three sets of
column names. Each row is a charge: a customer, a product, a subscription, a period, a quantity,
what the distributor charges the partner and, when the file says it, what the client is
charged. Each format (`ion`, `ingram`, `sherweb`) reads its own columns into a `Charge`
(charge.py); from there the records (records.py), the subscriptions with their seats by date
(subscriptions.py) and the checks only a whole file can make (checks.py) are the same for all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from trueup.core.sources.files.cells import read_cell
from trueup.core.sources.files.columns import Column
from trueup.core.sources.files.lines.charge import Charge, by_report
from trueup.core.sources.files.lines.checks import check_charges
from trueup.core.sources.files.lines.records import records_of
from trueup.core.sources.files.lines.subscriptions import subscription_rows
from trueup.core.sources.files.lookalikes import other_format
from trueup.core.sources.files.problems import Problems
from trueup.core.sources.files.shapes import FileFormat, FileRecords, Record
from trueup.core.sources.files.table import Row, read_rows

# A format's own checks of its charges: problems added, warnings returned.
Check = Callable[[Sequence[Charge], Mapping[str, str], Problems], list[str]]


@dataclass(frozen=True)
class LineFormat:
    distributor: str
    wanted: str  # "a Sherweb payable charges file": what a refusal asks for
    columns: tuple[Column, ...]  # as documented (or assumed); the config may rename them
    charge_of: Callable[[Row], Charge]  # a row whose cells read, as a charge
    check: Check | None = None  # what only the format's own columns can say is off

    def file_format(self) -> FileFormat:
        return FileFormat(self.distributor, self.wanted, self.columns, self.read, self.rebuild)

    def read(self, path: Path, columns: Sequence[Column]) -> FileRecords:
        problems = Problems()
        warnings: list[str] = []
        lookalike = other_format(self.distributor)
        rows = read_rows(path, columns, self.wanted, lookalike, problems, warnings)
        charges = by_report([self.charge_of(row) for row in rows])
        headers = {c.field: c.header for c in columns}
        warnings += check_charges(charges, headers, problems)
        if self.check is not None:
            warnings += self.check(charges, headers, problems)
        if problems:
            raise problems.refuse(path.name)
        records = records_of(self.distributor, charges)
        return records.file_records(self.distributor, len(charges), warnings)

    def rebuild(
        self, parsed: Iterable[Charge], stored: Sequence[Mapping[str, str]]
    ) -> list[tuple[Record, list[Record]]]:
        """The subscriptions of the file's charges and of the raw cells stored of them."""
        by_subscription: dict[str, list[Charge]] = defaultdict(list)
        for charge in [*parsed, *(self._stored(cells) for cells in stored)]:
            by_subscription[charge.subscription_ref].append(charge)
        return [
            subscription_rows(self.distributor, charges)
            for _, charges in sorted(by_subscription.items())
        ]

    def _stored(self, cells: Mapping[str, str]) -> Charge:
        """A charge read back from the raw JSON the store kept of it (checked when imported)."""
        values = {
            c.field: read_cell(c.kind, cells[c.field]) if cells.get(c.field) else None
            for c in self.columns
        }
        return self.charge_of(Row(0, values, dict(cells)))
