"""Importing a distributor's billing file: `trueup import FILE --source ...`.

The file is read and checked whole (sources/files), then written in one transaction under the
sync lock (sync/file_import.py); a refused file changes nothing but the log, which records it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from trueup.core.service.changes import Changes
from trueup.core.sources.files.columns import renamed
from trueup.core.sources.files.problems import MAX_LISTED as MAX_LISTED
from trueup.core.sources.files.problems import FileRefused as FileRefused
from trueup.core.sources.files.shapes import FileRecords
from trueup.core.sources.files.sources import NotBuilt as NotBuilt
from trueup.core.sources.files.sources import file_format
from trueup.core.sources.files.zeros import lost_zeros
from trueup.core.store.database import Database
from trueup.core.sync.file_import import ImportBusyError as ImportBusyError
from trueup.core.sync.file_import import apply_file, known_products, log_refusal
from trueup.core.sync.staging import EntityCounts
from trueup.core.values.distributors import INGRAM, ION, PARTNER_CENTER, SHERWEB
from trueup.core.values.distributors import NAMES as NAMES
from trueup.core.values.months import Month
from trueup.core.values.text import visible

# What each source's file is, for a picker (`trueup import --help` says where to download it).
FILES = {
    PARTNER_CENTER: "Microsoft's new-commerce invoice reconciliation file (CSV)",
    ION: "a TD SYNNEX StreamOne Ion billing report (CSV)",
    INGRAM: "an Ingram Micro Cloud Marketplace rated data export (CSV)",
    SHERWEB: "Sherweb's payable charges, one client's invoice (CSV)",
}


@dataclass(frozen=True)
class ImportOutcome:
    source: str
    file: str
    rows: int
    run_id: int
    changed: bool
    counts: Mapping[str, EntityCounts]
    warnings: Sequence[str]
    months: Sequence[str]  # the months the file's charges start in

    @property
    def name(self) -> str:
        return NAMES[self.source]

    @property
    def headline(self) -> str:
        """`imported recon.csv (Partner Center): 12 rows, charges from 2026-10`, or that
        nothing changed."""
        rows = "1 row" if self.rows == 1 else f"{self.rows:,} rows"
        months = ", ".join(self.months)
        file = visible(self.file)  # a downloaded file's name is the distributor's text
        if not self.changed:
            return (
                f"nothing changed: {file} ({self.name}, {rows}, charges from {months}) is "
                "already in the store"
            )
        return f"imported {file} ({self.name}): {rows}, charges from {months}"

    def json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "file": self.file,
            "rows": self.rows,
            "run_id": self.run_id,
            "changed": self.changed,
            "months": list(self.months),
            "entities": {name: asdict(c) for name, c in self.counts.items()},
            "warnings": list(self.warnings),
        }


class Imports:
    """Imports into one store; `columns` are the config's renamings ([import.<source>])."""

    def __init__(
        self,
        db: Database,
        *,
        columns: Mapping[str, Mapping[str, str]] | None = None,
        changes: Changes | None = None,
    ) -> None:
        self.db = db
        self._columns = columns or {}
        self._changes = changes or Changes()

    def run(self, path: Path, source: str, *, month: Month | None = None) -> ImportOutcome:
        """Import the file, all or nothing. FileRefused (every problem listed) when it cannot
        be, NotBuilt for a source trueup cannot read yet, ImportBusyError during a sync. With
        `month`, a file of another month (by the month most of its charges start in) is
        refused as the wrong month's."""
        reader = file_format(source)
        columns = renamed(reader.columns, self._columns.get(source, {}))
        try:
            records = reader.read(path, columns)
            if month is not None:
                _check_month(records, month, path.name)
        except FileRefused as exc:
            log_refusal(self.db, source, path.name, str(exc), len(exc.problems))
            raise
        if zeros := lost_zeros(records.product_rows, known_products(self.db, source)):
            records = replace(records, warnings=[*records.warnings, *zeros])
        with self._changes.writing():
            result = apply_file(self.db, reader, records, file_name=path.name)
        return ImportOutcome(
            source,
            path.name,
            result.rows,
            result.run_id,
            result.changed,
            result.counts,
            records.warnings,
            _months(records),
        )


def _months(records: FileRecords) -> list[str]:
    return sorted({Month.of(item["start_period"]) for item in records.items})


def _check_month(records: FileRecords, month: Month, name: str) -> None:
    """A file is of the month most of its charges start in, the later on a tie, as a report is
    known when stored (sources/files/lines/charge.by_report). Any charge touching `month` was
    not enough: October's file, its cycles running to mid-November, passed for November's."""
    if not records.items:  # rows, none a charge: no month to tell, none of `month`
        raise FileRefused(f"{name} holds no charge, so none of {month}: nothing was imported")
    starts = Counter(Month.of(item["start_period"]) for item in records.items)
    own = max(starts, key=lambda start: (starts[start], start))
    if own == month:
        return
    first = min(i["start_period"] for i in records.items)
    ends = max(i["end_period"] for i in records.items)
    raise FileRefused(
        f"{name} is the file of {own}, not {month} (most of its charges start in {own}; they run "
        f"{first.isoformat()} to {ends.isoformat()}). Nothing was imported; import {month}'s "
        "file, or this one without --month"
    )
