"""An Ingram rated data export's rows as charges (files/lines/charge.py).

The RESELLER amounts are the partner's cost, the CUSTOMER amounts the client's price, both in
RESELLER_ACCOUNT_CURRENCY (a customer billed in another currency is not read apart: unseen in
any documented sample). A recurring charge bills its quantity as seats for its period; a
resource added mid-period is billed as its own prorated charge, which seats.py counts for its
days either way it is written.
"""

from __future__ import annotations

from trueup.core.sources.files.ingram.columns import CHARGE_KINDS
from trueup.core.sources.files.kinds import kind_of
from trueup.core.sources.files.lines.charge import Charge, cells_of, seats_of, statement_of
from trueup.core.sources.files.table import Row


def charge_of(row: Row) -> Charge:
    v = row.values
    kind = kind_of(CHARGE_KINDS, v["charge_type"])
    subscription = v["subscription_id"]
    return Charge(
        row=row.number,
        customer_id=v["customer_id"],
        customer_name=v["customer_name"],
        product_id=v["product_id"],
        product_name=v["product_name"],
        vendor=None,
        subscription_ref=subscription,
        statement=statement_of(v["invoice_number"], v["customer_id"], v["start"], subscription),
        invoice_number=v["invoice_number"],
        charge_type=v["charge_type"],
        kind=kind,
        start=v["start"],
        end=v["end"],
        quantity=v["quantity"],
        seats=seats_of(kind, v["quantity"], v["reseller_amount"]),
        unit_cost=v["reseller_unit_price"],
        cost=v["reseller_amount"],
        unit_price=v["customer_unit_price"],
        price=v["customer_amount"],
        currency=v["currency"],
        billing_term=None,
        cells=cells_of(row.cells),
    )
