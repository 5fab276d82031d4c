"""A TD SYNNEX StreamOne Ion billing report for a scenario: the Microsoft report of the month
before the scenario's (October's for an as-of of 21 November), in the columns trueup reads by
default (core/sources/files/ion/columns.py) with dates month first, as a US partner's report
writes them.

A few Halo clients buy licences through Ion (gen_elsewhere): each billed for the calendar month
at the partner's price (Seller Cost) and the list price (Customer Cost), one seat added
mid-month billed for the days left, and one client's Azure usage of the month before. The same
scenario and seed give the same bytes; the bundled demo's is scenarios/demo-ion.csv.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from decimal import Decimal
from typing import Any

from trueup.core.sources.files.ion.columns import COLUMNS
from trueup.sandbox.gen_elsewhere import (
    COST_SHARE,
    month_before,
    month_end,
    purchases,
    share,
    us_day,
)
from trueup.sandbox.gen_world import cents, new_id

# A report names no invoice: its subscriptions' months are its statements.
HEADERS = tuple(c.header for c in COLUMNS if c.field != "invoice_number")
AZURE = ("DZH318Z0BPS6:0001", "Azure plan")


def ion_csv(scenario: dict[str, Any], *, seed: int = 1, clients: int = 3) -> str:
    rng = random.Random(f"ion {seed}")
    bought = purchases(scenario, rng, clients)
    month, last = bought.month, month_end(bought.month)
    customers = {c["id"]: str(rng.randrange(100_000, 1_000_000)) for c in bought.clients}
    rows: list[dict[str, str]] = []
    for held in bought.held:
        product, sku, name, price = held.licence
        base = {
            **_customer(held.client, customers),
            "SKU": f"{product}:{sku}",
            "Product Name": name,
            "Subscription ID": new_id(rng),
        }
        rows.append(_row(base, "cycleCharge", month, last, held.seats, held.seats * price))
        if held.added:
            rows.append(
                _row(base, "addQuantity", held.added, last, Decimal(1), price * share(held.added))
            )
    for used in bought.used:
        start, end = month_before(month)
        base = {
            **_customer(used.client, customers),
            "SKU": AZURE[0],
            "Product Name": AZURE[1],
            "Subscription ID": new_id(rng),
        }
        row = _row(base, "usage", start, end, Decimal(1), used.cost / COST_SHARE)
        rows.append({**row, "Seat Count": ""})
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _customer(client: dict[str, Any], customers: dict[Any, str]) -> dict[str, str]:
    return {
        "Customer ID": customers[client["id"]],
        "Customer Name": client["name"],
        "Vendor": "Microsoft",
        "Currency": "USD",
    }


def _row(
    base: dict[str, str], charge: str, start: date, end: date, seats: Decimal, listed: Decimal
) -> dict[str, str]:
    customer = cents(listed)
    seller = cents(listed * COST_SHARE)
    return {
        **base,
        "Charge Type": charge,
        "Charge Start Date": us_day(start),
        "Charge End Date": us_day(end),
        "Quantity": str(seats),
        "Seat Count": str(seats),
        "Seller Cost": str(seller),
        "Customer Cost": str(customer),
        "Margin": str(customer - seller),
    }
