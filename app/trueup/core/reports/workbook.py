"""The month's tables as an XLSX workbook (XlsxWriter): one sheet each, the header row frozen
and filterable, money as numbers in its row's currency format, percentages as percentages,
ids (tables.Kind "id") as text cells in the Text format, "@", so one typed into again stays
text, its leading zeros too, where General makes 0001 the number 1; columns as wide as what they
hold (within reason). Decimals go to XlsxWriter as they are: a cell holds a double, as every
spreadsheet's does."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from trueup.core.reports.tables import Table, plain_text
from trueup.core.store.replaced import replaced

# A currency's number format; any other code is written after the number.
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}
WIDEST = 60  # a column of long explanations stays readable; the cell keeps all of its text


def write_workbook(tables: list[Table], path: Path) -> Path:
    with replaced(path) as partial:
        options = {"strings_to_numbers": False, "strings_to_urls": False}
        book = xlsxwriter.Workbook(str(partial), options)
        formats = _Formats(book)
        for table in tables:
            _sheet(book, formats, table)
        try:
            book.close()
        except FileCreateError as error:  # not an OSError: said as the OSError behind it
            cause = error.__context__
            if isinstance(cause, OSError):
                raise OSError(cause.errno, cause.strerror, str(path)) from None
            raise OSError(errno.EIO, str(error), str(path)) from None
    return path


class _Formats:
    def __init__(self, book: Any) -> None:
        self.book = book
        self.header = book.add_format({"bold": True, "bottom": 1})
        # Optional places only after a required one: "#,##0.####" shows 14 as "14.".
        self.whole = book.add_format({"num_format": "#,##0"})
        self.number = book.add_format({"num_format": "#,##0.0###"})
        self.percent = book.add_format({"num_format": "0.00%"})
        self.text = book.add_format({"num_format": "@"})
        self._money: dict[str, Any] = {}

    def money(self, currency: str) -> Any:
        if currency not in self._money:
            symbol = SYMBOLS.get(currency)
            # A unit price past the cent shows whole (2.05625), an amount to the cent.
            number = "#,##0.00####"
            pattern = f'"{symbol}"{number}' if symbol else f'{number} "{currency}"'.strip()
            self._money[currency] = self.book.add_format({"num_format": pattern.replace(' ""', "")})
        return self._money[currency]


def _sheet(book: Any, formats: _Formats, table: Table) -> None:
    sheet = book.add_worksheet(table.name)
    sheet.write_row(0, 0, [c.header for c in table.columns], formats.header)
    widths = [len(c.header) for c in table.columns]
    at = table.currency_at
    for number, row in enumerate(table.rows, start=1):
        currency = str(row[at]) if at is not None else ""
        for column, (spec, value) in enumerate(zip(table.columns, row, strict=True)):
            if value is None or value == "":
                continue
            if spec.kind == "money":
                sheet.write_number(number, column, value, formats.money(currency))
            elif spec.kind == "percent":  # held as 58.96, shown as 58.96%
                sheet.write_number(number, column, value / 100, formats.percent)
            elif spec.kind == "number":
                shown = formats.whole if value == int(value) else formats.number
                sheet.write_number(number, column, value, shown)
            elif spec.kind == "integer":
                sheet.write_number(number, column, int(value))
            elif spec.kind == "id":
                sheet.write_string(number, column, plain_text(str(value)), formats.text)
            else:
                sheet.write_string(number, column, plain_text(str(value)))
            widths[column] = max(
                widths[column], len(str(value)) + (3 if spec.kind == "money" else 0)
            )
    for column, (spec, width) in enumerate(zip(table.columns, widths, strict=True)):
        # An id column's empty cells are Text too: an id typed into one stays as typed.
        shown = formats.text if spec.kind == "id" else None
        sheet.set_column(column, column, min(width + 1, WIDEST), shown)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)
