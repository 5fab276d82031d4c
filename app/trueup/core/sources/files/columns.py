"""A file format's columns as a small declarative table, and a user's renaming of them.

Each format lists the columns trueup reads: our field name (what the code and the config use),
the header the distributor documents, how a cell is read, and whether the file may lack it. A
download whose headers differ (a distributor renamed one, an export tool translated them) is
handled in the config, never in code: `[import.partner-center]` then `charge_start = "Charge
Start Date"` reads that column for `charge_start`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from trueup.core.sources.files.cells import Kind


@dataclass(frozen=True)
class Column:
    field: str  # our name for it: the key of the config's [import.<source>] table
    header: str  # the file's column, as the distributor documents it
    kind: Kind
    optional: bool = False  # the file may lack the column, and a row may leave it empty


class ColumnsError(ValueError):
    """A renaming names a field the format does not have; the message says which."""


def renamed(columns: Sequence[Column], headers: Mapping[str, str]) -> tuple[Column, ...]:
    """The table with the config's headers in place of the documented ones."""
    fields = {c.field for c in columns}
    unknown = sorted(set(headers) - fields)
    if unknown:
        raise ColumnsError(
            f"no field {', '.join(unknown)} (the fields are: {', '.join(c.field for c in columns)})"
        )
    columns = tuple(replace(c, header=headers.get(c.field, c.header)) for c in columns)
    readers: dict[str, list[str]] = {}
    for column in columns:
        readers.setdefault(header_key(column.header), []).append(column.field)
    for column in columns:
        # Renamed onto another field's column (a cost onto the client's price): read as both.
        if len(same := readers[header_key(column.header)]) > 1:
            raise ColumnsError(
                f"{' and '.join(same)} would both read the column {column.header!r}: name "
                "each its own column"
            )
    return columns


def header_key(header: str) -> str:
    """How headers are compared: case and spaces aside (Partner Center has spelled `MpnId`
    as `MPNID`, and a spreadsheet may pad a header)."""
    return "".join(header.split()).casefold()
