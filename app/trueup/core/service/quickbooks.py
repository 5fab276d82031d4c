"""QuickBooks Online: its catalogue read into the store, and the Halo clients and items mapped to
its customers and items (`trueup qbo ...`)."""

from __future__ import annotations

from trueup.core.mapping.qbo import engine
from trueup.core.mapping.qbo.engine import Missing as Missing
from trueup.core.mapping.qbo.engine import QboGaps
from trueup.core.mapping.qbo.engine import QboRow as QboRow
from trueup.core.mapping.rows import MATCH_THRESHOLD
from trueup.core.settings.clients import qbo_from_settings
from trueup.core.settings.config import Settings
from trueup.core.store.database import Database
from trueup.core.sync.qbo_catalog import refresh_qbo_catalog


class QuickBooks:
    """The QuickBooks side of one store; `threshold`: what a name match needs to be offered."""

    def __init__(self, db: Database, *, threshold: int = MATCH_THRESHOLD) -> None:
        self.db = db
        self.threshold = threshold

    async def refresh_catalog(self, settings: Settings) -> tuple[int, int]:
        """Read QuickBooks' customers and items on the configured connection; how many of each."""
        async with qbo_from_settings(settings) as client:
            return await refresh_qbo_catalog(self.db, client)

    def rows(self) -> tuple[list[QboRow], list[QboRow]]:
        """Every billed Halo client and item with its QuickBooks twin or best suggestion."""
        return engine.qbo_rows(self.db, threshold=self.threshold)

    def gaps(self) -> QboGaps:
        """The billed clients and items that cannot be posted to QuickBooks yet, and why."""
        return engine.missing_qbo_targets(self.db)

    def accept_suggestions(self) -> tuple[list[QboRow], list[QboRow]]:
        return engine.accept_qbo_suggestions(self.db, min_score=self.threshold)

    def map_customer(self, client_id: int, customer_id: str) -> str:
        return engine.map_customer(self.db, client_id, customer_id)

    def map_item(self, item_id: int, qbo_item_id: str) -> str:
        return engine.map_item(self.db, item_id, qbo_item_id)

    def unmap_customer(self, client_id: int) -> bool:
        return engine.unmap_customer(self.db, client_id)

    def unmap_item(self, item_id: int) -> bool:
        return engine.unmap_item(self.db, item_id)
