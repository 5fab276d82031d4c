"""The month's dry-run batch, its review and its approval: `trueup batch`, `trueup approve` and
the Batch, Usage and invoice screens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from trueup.core.batch import approval, costs, review, review_state
from trueup.core.batch.approval import ApprovalResult, ApprovalState
from trueup.core.batch.approval import override_problem as override_problem
from trueup.core.batch.body import SEVERITIES as SEVERITIES
from trueup.core.batch.body import InvoiceView, pretty_text
from trueup.core.batch.build import build_batch
from trueup.core.batch.price_options import PriceOption as PriceOption
from trueup.core.batch.price_options import price_options
from trueup.core.batch.reading import BatchOverview as BatchOverview
from trueup.core.batch.reading import InvoiceRow as InvoiceRow
from trueup.core.batch.reading import batch_invoice, batch_month, batch_overview
from trueup.core.batch.review import StandingCode
from trueup.core.batch.review_state import BatchApprovals
from trueup.core.batch.stored import current_batch, list_batches, load_batch
from trueup.core.billing.facts import CostItem
from trueup.core.ledger.month import NoBatchStoredError, last_stored_batch
from trueup.core.store.database import Database
from trueup.core.values.months import Month


class Batches:
    """The batches of one store as of `today`."""

    def __init__(self, db: Database, *, today: date, close_day: int | None = None) -> None:
        self.db = db
        self.today = today
        self.close_day = close_day  # the months before the one being closed are closed; None:
        # none is (the CLI builds any month it is asked for)

    # --- building and reading ------------------------------------------------------------------

    def current_id(self, month: str, clients: Sequence[int] | None = None) -> str:
        """The id of the month's batch for the store as it is: the stored one while its inputs
        stand (the same inputs give the same bytes), else one built and stored now."""
        return current_batch(self.db, month, clients=clients, today=self.today)

    def current(self, month: str) -> BatchOverview:
        """The month's batch for the store as it is, as a listing."""
        return self.overview(self.current_id(month))

    def rebuild(self, month: str) -> BatchOverview:
        return self.overview(build_batch(self.db, month, today=self.today).batch_id)

    def overview(self, batch_id: str) -> BatchOverview:
        """The listing with each invoice's state: the few fields it shows, never the body."""
        return batch_overview(self.db, batch_id)

    def month_of(self, batch_id: str) -> str:
        """The month of a stored batch; BatchError naming it when there is none."""
        with self.db.read() as conn:
            return batch_month(conn, batch_id)

    def json_text(self, batch_id: str) -> str:
        """The stored batch as indented JSON (contract §3)."""
        return pretty_text(load_batch(self.db, batch_id).body)

    def invoice(self, batch_id: str, row: InvoiceRow) -> InvoiceView:
        return batch_invoice(self.db, batch_id, row)

    def price_options(self, month: str, client_id: int, subscription_id: str) -> list[PriceOption]:
        """What the line would bill under each price policy, the client's own last."""
        return price_options(self.db, month, client_id, subscription_id, today=self.today)

    def cost_evidence(self, subscription_id: str, months: list[str]) -> list[CostItem]:
        return costs.cost_evidence(self.db, subscription_id, months)

    # --- the operator's word -------------------------------------------------------------------

    def set_invoice_state(
        self, batch_id: str, client_id: int, state: str, *, toggle: bool = False
    ) -> str:
        """The invoice in `state` (with `toggle`, back in draft when in it already): the state
        it is left in."""
        return review.set_invoice_state(self.db, batch_id, client_id, state, toggle=toggle)

    def override_anomaly(
        self,
        batch_id: str,
        client_id: int,
        code: str,
        reason: str,
        subscription_id: str | None = None,
    ) -> None:
        review.override_anomaly(self.db, batch_id, client_id, code, reason, subscription_id)

    def standing_codes(self, batch_id: str) -> list[StandingCode]:
        """The error codes standing on the batch's invoices, the most frequent first."""
        return review.standing_codes(self.db, batch_id)

    def override_code(self, batch_id: str, code: str, reason: str) -> StandingCode:
        """Let `code` through on every invoice of the batch that has it, with one reason."""
        return review.override_code(self.db, batch_id, code, reason)

    # --- approval ------------------------------------------------------------------------------

    def review_batch(self, month: str) -> BatchOverview:
        """The batch the Batch screen reviews: the month's batch last acted on (approved or
        posted from, so lapsed approvals stay in view when the store moves on), else the
        month's batch as it is."""
        batch_id = review_state.review_batch_id(self.db, month) or self._closed_batch(month)
        return self.current(month) if batch_id is None else self.overview(batch_id)

    def closed(self, month: str) -> bool:
        """Before the month being closed: the reports tell it from its last stored batch."""
        return self.close_day is not None and Month(month) < Month.being_closed(
            self.today, self.close_day
        )

    def known_on(self, batch: BatchOverview) -> datetime | None:
        """When the batch was built, when it is the one the reports tell a closed month from
        ("as known on"); None otherwise (the month being closed, an older batch)."""
        if self._closed_batch(batch.month) != batch.batch_id:
            return None
        stored = list_batches(self.db, batch.month)
        return next((b.created_at for b in stored if b.batch_id == batch.batch_id), None)

    def _closed_batch(self, month: str) -> str | None:
        """A closed month's last batch of all its clients: looking at a closed month never
        builds it from today's data (the reports tell it from that batch; `b` builds)."""
        if not self.closed(month):
            return None
        try:
            return last_stored_batch(self.db, Month(month))
        except NoBatchStoredError:  # never stored: shown as built now, as a month being closed
            return None

    def approvals(self, batch_id: str) -> BatchApprovals:
        return review_state.batch_approvals(self.db, batch_id, today=self.today)

    def approval_states(self, batch_id: str) -> list[ApprovalState]:
        """Each invoice: approved, unapproved, or lapsed with what changed."""
        return approval.approval_states(self.db, batch_id, today=self.today)

    def approve(
        self,
        batch_id: str,
        clients: Sequence[int] | None = None,
        *,
        overrides: Sequence[tuple[str, str]] = (),
    ) -> ApprovalResult:
        """Approve the invoices of `clients` (all when None); each (code, reason) override lets
        that error through on every invoice it stands on."""
        return approval.approve(self.db, batch_id, clients, overrides=overrides)

    def revoke(self, batch_id: str, clients: Sequence[int]) -> int:
        return approval.revoke(self.db, batch_id, clients)
