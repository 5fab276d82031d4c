"""An Ingram Micro Cloud Marketplace rated data export for a scenario: the month before the
scenario's (October's for an as-of of 21 November), in the columns trueup reads by default
(core/sources/files/ingram/columns.py) after the reseller's own, which Ingram documents first,
with ISO dates as CloudBlue writes them.

A few Halo clients buy licences through Ingram (gen_elsewhere), each a subscription with its
resource billed for the calendar month on one invoice, the reseller's price (RESELLER_*) and
the customer's (CUSTOMER_*) side by side; one seat added mid-month is its own prorated
recurring charge, the first licence bought has a setup fee, and one client's Azure usage of the
month before is billed in arrears. The same scenario and seed give the same bytes; the bundled
demo's is scenarios/demo-ingram.csv.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from decimal import Decimal
from typing import Any

from trueup.core.sources.files.ingram.columns import COLUMNS
from trueup.sandbox.gen_elsewhere import COST_SHARE, month_before, month_end, purchases, share
from trueup.sandbox.gen_world import cents

RESELLER = {"RESELLER_ACCOUNT_ID": "1000008041", "RESELLER_NAME": "Harbor IT Services"}
HEADERS = (*RESELLER, *(c.header for c in COLUMNS))
SETUP_FEE = Decimal("25.00")
AZURE = "Azure plan"


def ingram_csv(scenario: dict[str, Any], *, seed: int = 1, clients: int = 3) -> str:
    rng = random.Random(f"ingram {seed}")
    bought = purchases(scenario, rng, clients)
    month, last = bought.month, month_end(bought.month)
    invoice = f"IN{month:%Y%m}-{rng.randrange(10_000, 100_000)}"
    accounts = {c["id"]: str(rng.randrange(1_000_000, 2_000_000)) for c in bought.clients}
    resources: dict[str, str] = {}
    rows: list[dict[str, str]] = []

    def base(client: dict[str, Any], name: str) -> dict[str, str]:
        resource = resources.setdefault(name, str(1_000_200 + len(resources)))
        return {
            **RESELLER,
            "RESELLER_ACCOUNT_CURRENCY": "USD",
            "RESELLER_INVOICE_NUMBER": invoice,
            "SUBSCRIPTION_ACCOUNT_ID": accounts[client["id"]],
            "SUBSCRIPTION_ACCOUNT_NAME": client["name"],
            "SUBSCRIPTION_ID": str(rng.randrange(1_000_000, 10_000_000)),
            "SUBSCRIPTION_RESOURCE_ID": resource,
            "SUBSCRIPTION_RESOURCE_NAME": name,
        }

    for number, held in enumerate(bought.held):
        _, _, name, price = held.licence
        subscription = base(held.client, name)
        rows.append(_row(subscription, "Recurring", month, last, held.seats, price))
        if number == 0:
            rows.append(_row(subscription, "Setup", month, month, Decimal(1), SETUP_FEE))
        if held.added:
            rows.append(
                _row(
                    subscription,
                    "Recurring",
                    held.added,
                    last,
                    Decimal(1),
                    price,
                    share(held.added),
                )
            )
    for used in bought.used:
        start, end = month_before(month)
        azure = base(used.client, AZURE)
        row = _row(azure, "Usage", start, end, Decimal(1), used.cost / COST_SHARE)
        rows.append({**row, "RESELLER_UNIT_PRICE": "", "CUSTOMER_UNIT_PRICE": ""})
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _row(
    base: dict[str, str],
    charge: str,
    start: date,
    end: date,
    quantity: Decimal,
    price: Decimal,
    part: Decimal = Decimal(1),
) -> dict[str, str]:
    """A charge of `quantity` at the list `price` for `part` of its period."""
    cost = cents(price * COST_SHARE)
    return {
        **base,
        "CHARGE_TYPE": charge,
        "CHARGE_START_DATE": start.isoformat(),
        "CHARGE_END_DATE": end.isoformat(),
        "CHARGE_QUANTITY": str(quantity),
        "RESELLER_UNIT_PRICE": str(cost),
        "RESELLER_AMOUNT": str(cents(cost * quantity * part)),
        "CUSTOMER_UNIT_PRICE": str(cents(price)),
        "CUSTOMER_AMOUNT": str(cents(price * quantity * part)),
    }
