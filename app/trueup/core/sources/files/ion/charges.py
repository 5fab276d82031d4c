"""An Ion billing report's rows as charges (files/lines/charge.py), and the one thing only its
own columns can say is off: a Margin that is not Customer Cost less Seller Cost.

Seller Cost and Customer Cost are read as the row's amounts (not per unit), the partner's and
the client's; the seats a row bills are its Seat Count, else its Quantity. Both readings are
ours, not TD SYNNEX's word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from trueup.core.sources.files.cells import money
from trueup.core.sources.files.ion.columns import CHARGE_KINDS
from trueup.core.sources.files.kinds import kind_of
from trueup.core.sources.files.lines.charge import (
    Charge,
    cells_of,
    seats_of,
    statement_of,
    subscription_ref,
)
from trueup.core.sources.files.problems import Problems
from trueup.core.sources.files.table import Row
from trueup.core.values.money import money_prose

CENT = Decimal("0.01")


def charge_of(row: Row) -> Charge:
    v = row.values
    kind = kind_of(CHARGE_KINDS, v["charge_type"])
    seats = v["quantity"] if v["seat_count"] is None else v["seat_count"]
    subscription = subscription_ref(v["subscription_id"], v["customer_id"], v["product_id"])
    return Charge(
        row=row.number,
        customer_id=v["customer_id"],
        customer_name=v["customer_name"],
        product_id=v["product_id"],
        product_name=v["product_name"],
        vendor=v["vendor"],
        subscription_ref=subscription,
        statement=statement_of(v["invoice_number"], v["customer_id"], v["start"], subscription),
        invoice_number=v["invoice_number"],
        charge_type=v["charge_type"],
        kind=kind,
        start=v["start"],
        end=v["end"],
        quantity=v["quantity"],
        seats=seats_of(kind, seats, v["seller_cost"]),
        unit_cost=None,
        cost=v["seller_cost"],
        unit_price=None,
        price=v["customer_cost"],
        currency=v["currency"],
        billing_term=None,
        cells=cells_of(row.cells),
    )


def check(charges: Sequence[Charge], headers: Mapping[str, str], problems: Problems) -> list[str]:
    """The warnings: a Margin that is not the difference of the costs (the row is kept)."""
    warnings = []
    for charge in charges:
        written = charge.cells.get("margin")
        if written is None or charge.price is None:
            continue
        margin = charge.price - charge.cost
        if abs(margin - money(written)) >= CENT:
            warnings.append(
                f"row {charge.row}: {headers['margin']} {written} is not {headers['customer_cost']}"
                f" less {headers['seller_cost']} ({money_prose(margin)}); the costs are kept"
            )
    return warnings
