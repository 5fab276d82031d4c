"""The month's tables as a folder of CSV files (the csv module quotes): one per table, money as
plain decimals to the cent (a unit price past the cent whole) with the currency in its own
column, percentages as 58.96, UTF-8 with a BOM so spreadsheet programs read the accents right;
text that a spreadsheet would run as a formula is kept text, a control character shown as
U+FFFD (tables.plain_text)."""

from __future__ import annotations

import contextlib
import csv
import re
from decimal import Decimal
from pathlib import Path

from trueup.core.reports.tables import Table, plain_text
from trueup.core.store.replaced import private_folder, replaced
from trueup.core.values.money import money_prose


def write_csv_folder(tables: list[Table], folder: Path) -> Path:
    """Every table written beside its file first, and renamed into place only once all of them
    are whole: a failure (a full disk at the fourth file, Ctrl-C) leaves the last export's files
    as they were, never some of this month's beside some of the last one's."""
    private_folder(folder)
    with contextlib.ExitStack() as written:  # each file renamed as the stack closes well
        for table in tables:
            path = written.enter_context(replaced(folder / f"{table.name.lower()}.csv"))
            with path.open("w", newline="", encoding="utf-8-sig") as out:
                writer = csv.writer(out)
                writer.writerow([c.header for c in table.columns])
                kinds = [c.kind for c in table.columns]
                for row in table.rows:
                    writer.writerow(
                        [_cell(kind, value) for kind, value in zip(kinds, row, strict=True)]
                    )
    return folder


# A text cell starting with one of these is a formula to a spreadsheet program: a client or
# product name from an API could run one (OWASP's "CSV injection"); a quote keeps it text. A
# tab or a carriage return, OWASP's others, is no longer there (plain_text).
_FORMULA_STARTS = ("=", "+", "-", "@")
# A spreadsheet whose list separator is ';' (Excel in most of Europe) opens the file split at
# each ';', the csv module's quotes aside (a quote opens a field only at its start): the part
# of 'x;=HYPERLINK(...);y' after a ';' is a cell of its own, run. It is kept text the same way.
_AFTER_SEMICOLON = re.compile(r";(?=[=+\-@])")


def _cell(kind: str, value: object) -> object:
    if value is None:
        return ""
    if kind == "money" and isinstance(value, Decimal):
        # 12.50, and a price past the cent whole (2.05625): rounded, qty × price ≠ amount.
        return money_prose(value)
    if kind in ("text", "id") and isinstance(value, str):  # an id is text as any other
        value = _AFTER_SEMICOLON.sub(";'", plain_text(value))
        return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
    return value
