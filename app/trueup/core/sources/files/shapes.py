"""What every file format gives the writer (sync/file_import.py): the file's records as the
store's rows, and how to rebuild a subscription from the charges stored of it. The writer
knows no format; a format knows no store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trueup.core.sources.files.columns import Column
from trueup.core.sources.files.problems import MAX_LISTED
from trueup.core.values.text import capped

Record = dict[str, Any]  # a row of a store table by column; "raw" is the JSON it keeps


@dataclass(frozen=True)
class FileRecords:
    distributor: str
    rows: int  # the file's charges
    companies: Sequence[Record]
    products: Sequence[Record]
    invoices: Sequence[Record]
    items: Sequence[Record]  # raw: the row's cells by field, as `FileFormat.subscriptions` reads
    warnings: Sequence[str]  # rows kept that the user should look at
    # item id -> the format's own reading of it, so the subscriptions the file touches are
    # rebuilt without reading its rows a second time (opaque to the writer)
    parsed: Mapping[str, Any]
    # product id -> the file's rows that bill it, for a warning that names them (zeros.py)
    product_rows: Mapping[str, Sequence[int]] = field(default_factory=dict)


@dataclass
class Records:
    """A format's records as it gathers them from its charges, by id."""

    companies: dict[str, Record] = field(default_factory=dict)
    products: dict[str, Record] = field(default_factory=dict)
    invoices: dict[str, Record] = field(default_factory=dict)
    items: list[Record] = field(default_factory=list)
    charges: dict[str, Any] = field(default_factory=dict)  # item id -> the format's charge
    product_rows: dict[str, list[int]] = field(default_factory=dict)  # product id -> rows

    def file_records(self, distributor: str, rows: int, warnings: list[str]) -> FileRecords:
        """What the writer is given; past MAX_LISTED warnings, how many more."""
        warnings = capped(warnings, MAX_LISTED)
        return FileRecords(
            distributor,
            rows,
            list(self.companies.values()),
            list(self.products.values()),
            list(self.invoices.values()),
            self.items,
            warnings,
            self.charges,
            self.product_rows,
        )


@dataclass(frozen=True)
class FileFormat:
    distributor: str
    wanted: str  # "a Partner Center ... file": what a refusal asks for
    columns: tuple[Column, ...]  # as documented; the config may rename them
    read: Callable[[Path, Sequence[Column]], FileRecords]  # FileRefused when not importable
    # The subscriptions a file touches, each as its row and snapshots, from the file's items
    # (`FileRecords.parsed`) and the raw cells of every other item stored of them.
    subscriptions: Callable[
        [Iterable[Any], Sequence[Mapping[str, str]]], list[tuple[Record, list[Record]]]
    ]
