"""What every file format gives the writer (sync/file_import.py): the file's records as the
store's rows, and how to rebuild a subscription from the charges stored of it. The writer
knows no format; a format knows no store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trueup.core.sources.files.columns import Column

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
