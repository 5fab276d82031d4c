"""The config's `[import.<source>]` tables: a distributor file's columns, renamed.

Each key is one of our field names for the format (sources/files/<format>/columns.py), each
value the header the user's file has for it:

    [import.partner-center]
    charge_start = "Charge Start Date"
    subtotal = "Pre-tax Total"

    [import.sherweb]
    start = "Period Start"

A table is checked when the config is read, so a misspelt field is a config error naming the
file and the key, not a refused import later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trueup.core.errors import TrueupError
from trueup.core.values.distributors import FILE_SOURCES

ImportColumns = dict[str, dict[str, str]]  # source -> field -> the file's header


def read_import_columns(path: Path, table: Any, error: type[TrueupError]) -> ImportColumns:
    """The `[import]` table of the config at `path`, checked; `error` for what is wrong."""
    # Here, not at the top: every command reads the config, few configs rename columns, and
    # the file formats' tables are a few tens of milliseconds of start-up.
    from trueup.core.sources.files.columns import ColumnsError, renamed
    from trueup.core.sources.files.sources import FORMATS

    if not isinstance(table, dict):
        raise error(f"{path}: [import] must hold tables like [import.partner-center]")
    found: ImportColumns = {}
    for source, headers in table.items():
        where = f"{path}: [import.{source}]"
        if source not in FORMATS:
            raise error(f"{where}: no such source (the sources are: {', '.join(FILE_SOURCES)})")
        if not isinstance(headers, dict) or not all(
            isinstance(v, str) and v.strip() for v in headers.values()
        ):
            raise error(f'{where}: each key names a column, like charge_start = "Charge Start"')
        try:
            renamed(FORMATS[source].columns, headers)
        except ColumnsError as exc:
            raise error(f"{where}: {exc}") from None
        found[source] = {field: header.strip() for field, header in headers.items()}
    return found


def import_columns_toml(columns: ImportColumns, toml_value: Any) -> list[str]:
    """The tables as the config file writes them back."""
    lines: list[str] = []
    for source, headers in columns.items():
        lines.append(f"[import.{source}]")
        lines.extend(f"{field} = {toml_value(header)}" for field, header in headers.items())
        lines.append("")
    return lines
