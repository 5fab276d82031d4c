"""The month's tables as a folder of CSV files (the csv module quotes): one per table, money as
plain decimals to the cent with the currency in its own column, percentages as 58.96, UTF-8
with a BOM so spreadsheet programs read the accents right."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from trueup.core.reports.tables import Table


def write_csv_folder(tables: list[Table], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        path = folder / f"{table.name.lower()}.csv"
        with path.open("w", newline="", encoding="utf-8-sig") as out:
            writer = csv.writer(out)
            writer.writerow([c.header for c in table.columns])
            kinds = [c.kind for c in table.columns]
            for row in table.rows:
                writer.writerow(
                    [_cell(kind, value) for kind, value in zip(kinds, row, strict=True)]
                )
    return folder


def _cell(kind: str, value: object) -> object:
    if value is None:
        return ""
    if kind == "money" and isinstance(value, Decimal):
        return f"{value:.2f}"
    return value
