"""The seat diff of a month: `trueup diff` and the Overview, Seat diff and detail screens."""

from __future__ import annotations

from datetime import date
from typing import Any

from trueup.core.billing.timeline import day_text as day_text
from trueup.core.diff import seats
from trueup.core.diff.seats import DiffDetail, DiffSummary
from trueup.core.diff.seats import DiffRow as DiffRow
from trueup.core.service.changes import Changes
from trueup.core.store.database import Database
from trueup.core.values.months import reference_day


class SeatDiffs:
    """The seat diffs of one store as of `today`; a month's rows are read once until a write."""

    def __init__(self, db: Database, *, today: date, changes: Changes | None = None) -> None:
        self.db = db
        self.today = today
        self._changes = changes or Changes()

    def rows(self, month: str) -> list[DiffRow]:
        return self._changes.kept(
            ("seat_diff", month), lambda: seats.seat_diff(self.db, month, today=self.today)
        )

    def json(self, month: str) -> dict[str, Any]:
        """`trueup diff --json` (contract §3)."""
        return seats.diff_json(self.rows(month), month)

    def reference_day(self, month: str) -> date:
        """The day the month's Pax8 seats are counted on: its last, or today for this month."""
        return reference_day(month, self.today)

    def detail(self, row: DiffRow, month: str) -> DiffDetail:
        return seats.diff_detail(self.db, row, month)

    @staticmethod
    def summarise(rows: list[DiffRow]) -> DiffSummary:
        return seats.summarise(rows)
