"""Reading a distributor's CSV file against a column table: the file as rows of typed cells,
or every problem with it, by row and column.

Rows are numbered as a spreadsheet shows them (the header is row 1). The csv module does the
parsing (quotes, embedded commas and line breaks); what is checked here is what it lets
through: an empty or binary file, a workbook where a CSV belongs, a header without the
columns, a row cut short (a truncated download), a cell of the wrong kind, and what a
spreadsheet leaves in a file it opened and saved again: a totals row (refused: no distributor
documents one, and a file whose rows were summed may have been edited too), numbers formatted
with thousands separators or parenthesised negatives (read, when the file's decimal separator
is known: cells.plain).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import stat
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trueup.core.sources.files.cells import (
    CellError,
    Kind,
    day,
    grouped,
    plain,
    read_cell,
    shown,
    slashed,
)
from trueup.core.sources.files.columns import Column, header_key
from trueup.core.sources.files.problems import FileRefused, Problems
from trueup.core.values.text import visible

MAX_BYTES = 512 * 1024 * 1024  # far past a year of a large partner's reconciliation files
_DELIMITERS = (",", ";", "\t")  # a spreadsheet saved in some locales writes ; or tabs
_ZIP = b"PK\x03\x04"  # .xlsx is a zip
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, Excel 97-2003's compound file
_NUMBERS = (Kind.MONEY, Kind.QUANTITY, Kind.RATE)
# The label a spreadsheet's sum row starts with: Total, Totals, Grand Total, Subtotal, Sum.
_TOTALS = re.compile(r"(?:grand\s*|sub\s*-?\s*)?totals?\s*:?|sum\s*:?", re.IGNORECASE)

# Given the headers found, the name of the format the file looks like instead (or None).
OtherFormat = Callable[[set[str]], str | None]


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # as a spreadsheet numbers it
    values: dict[str, Any]  # field -> the cell's value; None for an empty optional cell
    cells: dict[str, str]  # field -> the cell's text as written, trimmed ("" when empty)


def read_rows(
    path: Path,
    columns: Sequence[Column],
    wanted: str,
    other_format: OtherFormat,
    problems: Problems,
    warnings: list[str],
) -> list[Row]:
    """The rows whose every cell reads by `columns`; each problem of the others is added to
    `problems`, for the format to add its own before refusing the file, and what the reading
    guessed to `warnings`. FileRefused at once for a file that is no such table at all
    (`wanted` names the format it should be)."""
    text, legacy = _text(path, wanted)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    header = next(records, None)
    if header is None or not any(cell.strip() for cell in header):
        raise FileRefused(f"{path.name} is empty: download {wanted} again")
    found = _found(path, header, columns, wanted, other_format)
    before = problems.total
    whole: list[tuple[int, list[str]]] = []
    number = 1
    stopped = None
    try:
        for record in records:
            number += 1
            if not any(cell.strip() for cell in record):
                continue  # a blank line, as a spreadsheet leaves at the end
            label = _totals(record, len(header), found)
            if label is not None:
                problems.add(
                    number,
                    None,
                    f"looks like a totals row ({shown(label)}), not a charge: no distributor's "
                    "file has one (a spreadsheet's sum?); delete the row and import the file again",
                )
                continue
            if len(record) != len(header):
                _misshapen(problems, number, len(record), len(header))
                continue
            whole.append((number, record))
    except csv.Error as exc:
        stopped = f"the file stops being CSV here ({exc}): is it cut short?"
    if legacy:
        _read_as_cp1252(path, whole, found, warnings)
    day_first = _day_first(whole, found, warnings)
    thousands = _decimal_point(whole, found)
    formatted: list[str] = []
    rows = [
        row
        for number, record in whole
        if (row := _row(problems, number, record, found, columns, day_first, thousands, formatted))
        is not None
    ]
    if formatted:
        warnings.append(
            f"{formatted[0]}: the file's numbers are written as a spreadsheet formats them "
            "(thousands separators, negatives in parentheses), so it was saved from one: check "
            "it against the distributor's download"
        )
    if stopped:
        problems.add(number + 1, None, stopped)
    if not rows and problems.total == before:
        raise FileRefused(f"{path.name} has a header and no rows: download {wanted} again")
    return rows


def _text(path: Path, wanted: str) -> tuple[str, bool]:
    """The file's text, and whether it was read as Windows-1252 rather than Unicode."""
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):  # a device or a pipe has no size: never "empty"
        raise FileRefused(f"{path.name} is not a file (a device or a pipe): give {wanted}")
    size = status.st_size
    if size == 0:
        raise FileRefused(f"{path.name} is empty: download {wanted} again")
    if size > MAX_BYTES:
        raise FileRefused(f"{path.name} is {size:,} bytes, more than a billing file holds")
    data = path.read_bytes()
    if data.startswith(_ZIP):
        raise FileRefused(_zipped(path.name, data, wanted))
    if data.startswith(_OLE):
        raise FileRefused(
            f"{path.name} is an Excel 97-2003 workbook (xls), not CSV: download {wanted} as "
            "CSV, or save the sheet as 'CSV UTF-8' (File > Save As)"
        )
    if data.startswith(b"%PDF"):  # Sherweb and Ion offer an invoice as PDF or CSV
        raise FileRefused(f"{path.name} is a PDF, not CSV: download {wanted} as CSV")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode Text": UTF-16 with its byte order mark (and tabs).
        try:
            text, legacy = data.decode("utf-16"), False
        except UnicodeDecodeError as exc:
            raise FileRefused(
                f"{path.name} is UTF-16 text that breaks off at byte {exc.start}: is it cut "
                f"short? Download {wanted} again"
            ) from None
    else:
        try:
            text, legacy = data.decode("utf-8-sig"), False
        except UnicodeDecodeError as exc:
            try:
                # What Excel's "CSV (Comma delimited)" saves on Windows in the Americas, the UK,
                # Western Europe and Australia: a £ or € is one byte, which UTF-8 never is.
                text, legacy = data.decode("cp1252"), True
            except UnicodeDecodeError:
                raise FileRefused(
                    f"{path.name} is not UTF-8 text (byte {exc.start}): is it {wanted}?"
                ) from None
    if "\x00" in text:
        raise FileRefused(f"{path.name} holds NUL bytes, which no CSV file has: is it {wanted}?")
    return text, legacy


def _zipped(name: str, data: bytes, wanted: str) -> str:
    """Why a zip is refused: a workbook (an xlsx; an OpenDocument sheet), or an archive a CSV
    came in. Workbooks are not read: trueup reads CSV only (openpyxl is no dependency of it,
    and a sheet's cells are what its formats show, not what the distributor wrote)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        names = []  # a workbook cut short reads no further, as any zip
    if names and not any(n.startswith("xl/") for n in names):
        if "mimetype" in names or "content.xml" in names:
            return (
                f"{name} is an OpenDocument spreadsheet (ods), not CSV: download {wanted} as "
                "CSV, or save the sheet as CSV (UTF-8)"
            )
        csvs = [n for n in names if n.casefold().endswith(".csv")]
        inside = f" (it holds {visible(csvs[0])})" if len(csvs) == 1 else ""
        return f"{name} is a zip archive{inside}, not CSV: extract the CSV and import that"
    return (
        f"{name} is a workbook (xlsx), not CSV: download {wanted} as CSV, or save the sheet "
        "as 'CSV UTF-8' (File > Save As)"
    )


def _delimiter(text: str) -> str:
    """The delimiter that splits the header line into the most cells."""
    first = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=first.count)


def _found(
    path: Path,
    header: list[str],
    columns: Sequence[Column],
    wanted: str,
    other_format: OtherFormat,
) -> dict[str, tuple[int, Column]]:
    """field -> (position, column) of each column the file has; FileRefused when a column
    the format needs is missing (naming the format the file looks like, if any) or twice."""
    positions: dict[str, list[int]] = {}
    for position, cell in enumerate(header):
        positions.setdefault(header_key(cell), []).append(position)
    twice = [c.header for c in columns if len(positions.get(header_key(c.header), ())) > 1]
    if twice:
        raise FileRefused(f"{path.name} has the column {', '.join(twice)} more than once")
    missing = [
        c.header for c in columns if not c.optional and header_key(c.header) not in positions
    ]
    if missing:
        other = other_format(set(positions))
        if other:
            raise FileRefused(f"{path.name} looks like {other}, not {wanted}")
        raise FileRefused(
            f"{path.name} has no column {', '.join(missing)}: is it {wanted}? If its columns "
            "are named otherwise, name them in the config (see `trueup import --help`)"
        )
    return {
        c.field: (positions[header_key(c.header)][0], c)
        for c in columns
        if header_key(c.header) in positions
    }


def _read_as_cp1252(
    path: Path,
    records: Sequence[tuple[int, list[str]]],
    found: dict[str, tuple[int, Column]],
    warnings: list[str],
) -> None:
    """Say a file not in UTF-8 was read as Windows-1252, quoting the first cell it decides, so
    a name from another code page (a Mac's) is seen before it is mapped."""
    said = next(
        (
            f"row {number}, {column.header}: {shown(record[position].strip())}"
            for number, record in records
            for position, column in found.values()
            if not record[position].isascii()
        ),
        None,
    )
    if said is not None:
        warnings.append(
            f"{said} is read as Windows-1252, as Excel's 'CSV (Comma delimited)' saves it: "
            f"{visible(path.name)} is not UTF-8. If a name reads wrong, save the file as "
            "'CSV UTF-8' and import it again"
        )


def _day_first(
    records: Sequence[tuple[int, list[str]]],
    found: dict[str, tuple[int, Column]],
    warnings: list[str],
) -> bool:
    """Whether the file's dates with slashes are day first: a spreadsheet set to a day-first
    locale (en-GB, en-AU) saves 2026-10-05 as 05/10/2026, which read month first is 10 May.
    One order for the whole file: day first when a date has a first number past 12 and none a
    second; else month first, as Microsoft's samples write them (a file with both is refused
    by its cells that are no day). When no date tells, month first is a guess: said in
    `warnings`, with the cell it changes."""
    days = [(p, c.header) for p, c in found.values() if c.kind is Kind.DAY]
    first = second = False
    either: tuple[int, str, str] | None = None  # a cell both orders read, differently
    for number, record in records:
        for position, header in days:
            parts = slashed(record[position])
            if parts is None:
                continue
            first, second = first or parts[0] > 12, second or parts[1] > 12
            if either is None and parts[0] != parts[1] and max(parts) <= 12:
                either = (number, header, record[position].strip())
    if first or second or either is None:
        return first and not second
    number, header, text = either
    warnings.append(
        f"row {number}, {header}: {text} is read month first ({day(text):%d %B %Y}), as no date "
        "in the file has a day past the 12th to say which comes first; if the file's dates are "
        "day first, write them as YYYY-MM-DD and import it again"
    )
    return False


def _totals(record: list[str], width: int, found: dict[str, tuple[int, Column]]) -> str | None:
    """The label of a row a spreadsheet added to sum the others ("Total,,,,1234.56"), None for
    any other row: its first cell with text is such a label and it is no whole charge (cut
    short, or a cell the format needs left empty), so a customer named "Total" is still one."""
    label = next((cell.strip() for cell in record if cell.strip()), "")
    if not _TOTALS.fullmatch(label):
        return None
    whole = len(record) == width and all(
        record[position].strip() for position, column in found.values() if not column.optional
    )
    return None if whole else label


def _decimal_point(
    records: Sequence[tuple[int, list[str]]], found: dict[str, tuple[int, Column]]
) -> bool:
    """Whether the file's numbers are known to have a decimal point, so a comma in one is a
    thousands separator: a number of the file has a point with digits after it, and none has a
    comma elsewhere than a thousands separator goes (12,50 is a decimal comma)."""
    numbers = [
        record[position].strip()
        for _, record in records
        for position, column in found.values()
        if column.kind in _NUMBERS
    ]
    point = any(_POINT.search(number) for number in numbers)
    return point and all(grouped(number) for number in numbers if "," in number)


_POINT = re.compile(r"\.[0-9]")


def _misshapen(problems: Problems, number: int, cells: int, expected: int) -> None:
    if cells < expected:
        problems.add(
            number,
            None,
            f"has {cells} of the header's {expected} columns: the file is cut short, or a cell "
            "holds a line break or delimiter without quotes",
        )
    else:
        problems.add(number, None, f"has {cells} cells where the header has {expected} columns")


def _row(
    problems: Problems,
    number: int,
    record: list[str],
    found: dict[str, tuple[int, Column]],
    columns: Sequence[Column],
    day_first: bool,
    thousands: bool,
    formatted: list[str],
) -> Row | None:
    """The row, None when a cell of it does not read (its problems added). A day-first date's
    cell is kept as YYYY-MM-DD, a number a spreadsheet formatted as a plain one (cells.plain):
    the store's raw is read again with no file to tell the order or the separators; the first
    such number is said in `formatted` ("row N, Column: '(12.00)' is read as -12.00")."""
    # An optional column the file lacks reads as empty in every row.
    values: dict[str, Any] = dict.fromkeys(c.field for c in columns)
    valid = True
    cells: dict[str, str] = dict.fromkeys((c.field for c in columns), "")
    for field, (position, column) in found.items():
        cell = record[position].strip()
        cells[field] = cell
        if not cell and column.optional:
            continue
        try:
            if column.kind in _NUMBERS and (written := plain(cell, thousands)) != cell:
                if not formatted:
                    formatted.append(
                        f"row {number}, {column.header}: {shown(cell)} is read as {written}"
                    )
                cell = cells[field] = written
            values[field] = read_cell(column.kind, cell, day_first)
            if day_first and column.kind is Kind.DAY:
                cells[field] = values[field].isoformat()
        except CellError as exc:
            problems.add(number, column.header, str(exc))
            valid = False
    return Row(number, values, cells) if valid else None
