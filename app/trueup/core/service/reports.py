"""Reports written from the store for the people around the billing person: `trueup export`
and the Batch screen's export key."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from trueup.core.errors import TrueupError
from trueup.core.reports.csv_files import write_csv_folder
from trueup.core.reports.evidence import EvidencePack as EvidencePack
from trueup.core.reports.evidence import SubscriptionEvidence as SubscriptionEvidence
from trueup.core.reports.evidence import evidence_pack
from trueup.core.reports.evidence_page import write_pack
from trueup.core.reports.history import History as History
from trueup.core.reports.history import month_history
from trueup.core.reports.summary import MonthSummary as MonthSummary
from trueup.core.reports.summary import month_summary, summary_json
from trueup.core.reports.summary_page import summary_html as summary_html
from trueup.core.reports.summary_page import summary_markdown as summary_markdown
from trueup.core.reports.summary_page import summary_renderables as summary_renderables
from trueup.core.reports.tables import month_tables
from trueup.core.reports.workbook import write_workbook
from trueup.core.settings.config import BillingSettings
from trueup.core.store.database import Database
from trueup.core.values.months import Month

FORMATS = ("xlsx", "csv")


class NothingToExportError(TrueupError):
    """The month has no client to report: no file is written (an empty workbook reads as a
    month that billed nothing)."""


class NothingToSummariseError(TrueupError):
    """The month has no client to sum up: said, not shown as a table of nothing."""


_EMPTY = (
    "no client has an invoice or a posting in it (a client is billed once its Pax8 company is "
    "mapped to a Halo client: `trueup map suggest`, then `trueup map accept`, or the "
    "workbench's Clients screen)"
)


class Reports:
    def __init__(
        self, db: Database, *, today: date, close_day: int = BillingSettings().close_day
    ) -> None:
        """`close_day`: the config's [billing] close_day, which tells the closed months: each is
        told from the last batch stored for it, never rebuilt (ledger/month.py)."""
        self.db = db
        self.today = today
        self.closing = Month.being_closed(today, close_day)

    def default_path(self, month: Month, fmt: str) -> Path:
        """Where an export goes unless told: trueup-2026-11.xlsx, or a folder trueup-2026-11."""
        return Path(f"trueup-{month}.xlsx" if fmt == "xlsx" else f"trueup-{month}")

    def export(self, month: Month, fmt: str, out: Path | None = None) -> Path:
        """The month for the accountant (invoices with their ledger state, lines, anomalies and
        overrides, usage, changes, journal) as an XLSX workbook or a folder of CSV files."""
        return self.export_told(month, fmt, out)[0]

    def export_told(
        self, month: Month, fmt: str, out: Path | None = None
    ) -> tuple[Path, str | None]:
        """export(), and for a closed month the batch it is told from ("as known on ...")."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}: use xlsx or csv")
        path = out or self.default_path(month, fmt)
        _check_writable(path, fmt, self.default_path(month, fmt).name)
        tables = month_tables(self.db, month, today=self.today, closing=self.closing)
        told = tables[0].column("Told from")  # Invoices: a client with an invoice or a posting
        if not told:
            raise NothingToExportError(f"nothing to export for {month}: {_EMPTY}")
        written = write_workbook(tables, path) if fmt == "xlsx" else write_csv_folder(tables, path)
        return written, told[0] if month < self.closing else None

    def summary(self, month: Month) -> MonthSummary:
        """The month for a manager: totals, margin, posted/held/outstanding, leakage, movers."""
        summary = month_summary(self.db, month, today=self.today, closing=self.closing)
        if not summary.clients:  # an empty table reads as a month that billed nothing
            raise NothingToSummariseError(f"nothing to summarise for {month}: {_EMPTY}")
        return summary

    def history(self, month: Month, client_id: int, batch_id: str) -> History:
        """The client's 12 months to `month`, whose invoice is the one in `batch_id`: each
        month's total and margin as posted, else as its last batch of every client bills it
        (the batch its own reports tell it from: reports/history.py)."""
        return month_history(self.db, month, batch_id=batch_id, client_id=client_id)

    def summary_json(self, month: Month) -> dict[str, Any]:
        return summary_json(self.summary(month))

    def evidence(self, month: Month, client_id: int) -> EvidencePack:
        """One client's month with everything behind it, told from what was known then: the
        batch that posted it, else for a closed month the last batch stored for it."""
        return evidence_pack(self.db, month, client_id, today=self.today, closing=self.closing)

    def write_evidence(
        self, month: Month, client_id: int, folder: Path | None = None
    ) -> tuple[EvidencePack, list[Path]]:
        """The client's evidence pack written to `folder` (default: evidence-YYYY-MM-CLIENT
        here): evidence.html, evidence.pdf and records.json; the pack and the paths written."""
        folder = folder or Path(f"evidence-{month}-{client_id}")
        if folder.exists() and not folder.is_dir():  # said before the pack is made
            raise OSError(f"{folder} is a file: name a folder for the evidence pack")
        pack = self.evidence(month, client_id)
        return pack, write_pack(pack, folder)


def _check_writable(path: Path, fmt: str, name: str) -> None:
    """Refuse, before the month is read, a path the export cannot be written to."""
    if fmt == "csv":
        if path.exists() and not path.is_dir():
            raise OSError(f"{path} is a file: name a folder for the CSV files")
    elif path.is_dir():
        raise OSError(f"{path} is a folder: name the workbook, e.g. --out {path / name}")
    elif not path.parent.is_dir():
        raise OSError(f"no folder {path.parent} to write {path.name} in")
