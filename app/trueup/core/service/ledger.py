"""The month ledger and the stored batches: `trueup month`, `trueup batches` and the open
batches of `trueup status`."""

from __future__ import annotations

from datetime import date
from typing import Any

from trueup.core.ledger.batches import StoredBatch as StoredBatch
from trueup.core.ledger.batches import batch_json, open_batches_json, stored_batches
from trueup.core.ledger.month import ClientMonth as ClientMonth
from trueup.core.ledger.month import MonthLedger as MonthLedger
from trueup.core.ledger.month import Posting as Posting
from trueup.core.ledger.month import client_postings, ledger_json, month_ledger
from trueup.core.ledger.month import ledger_totals as ledger_totals
from trueup.core.settings.config import BillingSettings
from trueup.core.store.database import Database
from trueup.core.store.postings import RECURRING as RECURRING
from trueup.core.values.months import Month


class Ledger:
    """The ledger of one store as of `today`."""

    def __init__(
        self, db: Database, *, today: date, close_day: int = BillingSettings().close_day
    ) -> None:
        """`close_day`: the config's [billing] close_day, which tells the closed months."""
        self.db = db
        self.today = today
        self.closing = Month.being_closed(today, close_day)

    def month(self, month: Month) -> MonthLedger:
        """Every client of the month: state, what its batch bills, what was posted where. A
        closed month is told from the last batch stored for it, never rebuilt (ledger/month.py):
        NoBatchStoredError when there is none."""
        return month_ledger(self.db, month, today=self.today, closing=self.closing)

    def month_json(self, month: Month) -> dict[str, Any]:
        return ledger_json(self.month(month))

    def postings(self, month: Month, client_id: int) -> tuple[Posting, ...]:
        """Every document sent for the client's month, oldest first: where, which, its state."""
        return client_postings(self.db, month, client_id)

    def batches(self, month: Month | None = None) -> list[StoredBatch]:
        """The stored batches, newest first (of one month, given one)."""
        return stored_batches(self.db, today=self.today, month=month)

    def batches_json(self, month: Month | None = None) -> dict[str, Any]:
        return {"batches": [batch_json(b) for b in self.batches(month)]}

    def open_batches_json(self) -> list[dict[str, Any]]:
        """The batches with work left: approved invoices not posted, or a run to finish."""
        return open_batches_json(self.db, today=self.today)
