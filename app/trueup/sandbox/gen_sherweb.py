"""A Sherweb payable charges file for a scenario: one client's charges of the invoice for the
month before the scenario's (October's for an as-of of 21 November), as the partner portal
exports an invoice per client, in the columns trueup reads by default
(core/sources/files/sherweb/columns.py) plus Sherweb's `prorated` flag.

The client is one of the Halo clients that buy elsewhere too (gen_elsewhere): its licences
billed for the month at the partner's net price with a performance deduction on the first, a
seat added mid-month prorated for its days, its Azure usage of the month, and tax on every
charge. The same scenario and seed give the same bytes; the bundled demo's is
scenarios/demo-sherweb.csv.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from decimal import Decimal
from typing import Any

from trueup.core.sources.files.sherweb.columns import COLUMNS
from trueup.sandbox.gen_elsewhere import COST_SHARE, month_end, purchases
from trueup.sandbox.gen_world import cents, new_id

# No SKU, as Sherweb's API shows none: the product's name is its id.
HEADERS = (*(c.header for c in COLUMNS if c.field != "product_id"), "prorated")
TAX = Decimal("0.0775")  # a sales tax, on the partner's charges
REBATE = Decimal("0.03")  # a PerformancePercentage deduction, on the first licence


def sherweb_csv(scenario: dict[str, Any], *, seed: int = 1) -> str:
    rng = random.Random(f"sherweb {seed}")
    bought = purchases(scenario, rng, 1)
    month = bought.month
    client = {
        "invoiceNumber": f"INV-{month:%Y-%m}-{rng.randrange(1000, 10_000)}",
        "customerId": new_id(rng),
        "customerName": bought.clients[0]["name"],
        "currency": "USD",
    }
    rows: list[dict[str, str]] = []
    for number, held in enumerate(bought.held):
        _, _, name, price = held.licence
        net = cents(price * COST_SHARE)
        subscription = {
            **client,
            "subscriptionId": new_id(rng),
            "productName": name,
            "chargeType": "Recurring",
            "listPrice": str(price),
            "netPrice": str(net),
        }
        rebate = REBATE if number == 0 else Decimal(0)
        rows.append(_charge(subscription, month, held.seats, net * held.seats, rebate))
        if held.added:
            days = (month_end(month) - held.added).days + 1
            prorated = cents(net * days / month_end(month).day)
            row = _charge(subscription, month, Decimal(1), prorated, Decimal(0))
            rows.append({**row, "prorated": "true", "proratedDays": str(days)})
    for used in bought.used:
        azure = {
            **client,
            "subscriptionId": new_id(rng),
            "productName": "Azure Plan",
            "chargeType": "Usage",
            "listPrice": str(cents(used.cost / COST_SHARE)),
            "netPrice": str(used.cost),
        }
        rows.append(_charge(azure, month, Decimal(1), used.cost, Decimal(0)))
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _charge(
    base: dict[str, str], month: date, quantity: Decimal, subtotal: Decimal, rebate: Decimal
) -> dict[str, str]:
    """A charge of the month: its subtotal less the `rebate` share, plus tax."""
    deductions = cents(subtotal * rebate)
    taxes = cents((subtotal - deductions) * TAX)
    return {
        **base,
        "billingCycle": "Monthly",
        "periodFrom": month.isoformat(),
        "periodTo": month_end(month).isoformat(),
        "quantity": str(quantity),
        "prorated": "false",
        "subTotal": str(subtotal),
        "deductions": str(deductions),
        "fees": "0.00",
        "taxes": str(taxes),
        "total": str(subtotal - deductions + taxes),
    }
