"""What only a whole file can say is wrong with its charges (each row is right alone): a charge
that ends before it starts, a subscription under two customers, an invoice in two currencies;
a cost or client price worked out of several cells (Sherweb's) past the bounds each cell is
held to; and the rows kept that a user should look at (a charge type trueup does not know)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trueup.core.sources.files.contradictions import agree
from trueup.core.sources.files.kinds import SEATED, negative_seats
from trueup.core.sources.files.lines.charge import Charge
from trueup.core.sources.files.problems import Problems
from trueup.core.values.bounds import MONEY_LIMIT


def check_charges(
    charges: Sequence[Charge], headers: Mapping[str, str], problems: Problems
) -> list[str]:
    """Add the problems to `problems`; the warnings. `headers`: each field's column."""
    customers: dict[str, tuple[str, int]] = {}
    currencies: dict[str, tuple[str, int]] = {}
    warnings: list[str] = []
    for charge in charges:
        if charge.end < charge.start:
            problems.add(charge.row, headers["end"], f"is before {headers['start']}")
        subscription, customer = charge.subscription_ref, charge.customer_id
        agree(problems, customers, charge.row, "subscription", subscription, "customer", customer)
        agree(
            problems,
            currencies,
            charge.row,
            "invoice",
            charge.statement,
            "currency",
            charge.currency,
        )
        # The seats, whichever column they come from (Ion's Seat Count, else the quantity).
        if charge.kind in SEATED and charge.seats < 0 < charge.cost:
            problems.add(charge.row, None, negative_seats(charge.charge_type, charge.seats))
        for what, amount in (("cost", charge.cost), ("client price", charge.price)):
            if amount is not None and abs(amount) > MONEY_LIMIT:
                problems.add(
                    charge.row, None, f"its {what} is out of range (at most {MONEY_LIMIT:,})"
                )
        if charge.kind is None:
            warnings.append(
                f"row {charge.row}: {headers['charge_type']} {charge.charge_type!r} is not one "
                "trueup knows: its cost counts, it changes no seats"
            )
    return warnings
