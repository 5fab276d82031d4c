"""Whether a client's month is settled: every cost and usage figure of its invoice is backed by
a Pax8 invoice (approved, and not credited without a re-issue), none still an estimate.

The engine flags an estimate where the Pax8 invoice is not in (COST_ESTIMATED: no live invoice
item for the subscription's month, a credited one counting for none; USAGE_ESTIMATED: usage from
the running summary, not the closed month's invoice, or none known yet and billed as 0.00).
Posting an unsettled month is allowed, on the operator's explicit word.
"""

from __future__ import annotations

from trueup.core.batch.body import StoredInvoice

ESTIMATES = {
    "COST_ESTIMATED": "cost estimated (no distributor invoice item for the month yet)",
    "USAGE_ESTIMATED": "usage estimated (the month's usage is not invoiced by the distributor yet)",
}


def unsettled(invoice: StoredInvoice) -> list[str]:
    """Why the invoice's month is not settled, one phrase per kind of estimate ([] if it is)."""
    return [why for code, why in ESTIMATES.items() if code in invoice.codes]
