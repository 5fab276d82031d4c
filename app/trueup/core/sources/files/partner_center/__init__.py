"""The Partner Center (direct CSP) new-commerce invoice reconciliation file: the invoice's
reconciliation file from Partner Center's Billing workspace ([MS1], columns.py).

Read whole, checked whole (every problem by row and column refuses the file), then turned into
the store's records (records.py) with the subscriptions rebuilt from every stored charge
(subscriptions.py). Subtotals follow Microsoft's rounding rule where the file leaves them empty,
and a row that disagrees with the rule is flagged, not refused (subtotal.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from trueup.core.sources.files.columns import Column
from trueup.core.sources.files.partner_center.charges import (
    Charge,
    charge_of,
    check_charges,
    stored_charge,
)
from trueup.core.sources.files.partner_center.columns import COLUMNS, WANTED, lookalike
from trueup.core.sources.files.partner_center.records import records_of
from trueup.core.sources.files.partner_center.subscriptions import subscription_rows
from trueup.core.sources.files.problems import Problems
from trueup.core.sources.files.shapes import FileFormat, FileRecords, Record
from trueup.core.sources.files.table import read_rows
from trueup.core.values.distributors import PARTNER_CENTER


def read(path: Path, columns: Sequence[Column]) -> FileRecords:
    problems = Problems()
    warnings: list[str] = []
    rows = read_rows(path, columns, WANTED, lookalike, problems, warnings)
    charges = [charge_of(row) for row in rows]
    warnings += check_charges(charges, problems)
    if problems:
        raise problems.refuse(path.name)
    return records_of(charges).file_records(PARTNER_CENTER, len(charges), warnings)


def subscriptions(
    parsed: Iterable[Charge], stored: Sequence[Mapping[str, str]]
) -> list[tuple[Record, list[Record]]]:
    by_subscription: dict[str, list[Charge]] = defaultdict(list)
    for charge in [*parsed, *(stored_charge(cells) for cells in stored)]:
        by_subscription[charge.subscription_ref].append(charge)
    return [subscription_rows(charges) for _, charges in sorted(by_subscription.items())]


FORMAT = FileFormat(PARTNER_CENTER, WANTED, COLUMNS, read, subscriptions)
