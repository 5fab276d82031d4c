"""A Partner Center (direct CSP) invoice reconciliation file for a scenario: a few of its Halo
clients also buy Microsoft licences direct from Microsoft, so the same client is billed from Pax8
and from Partner Center.

The file is the new-commerce reconciliation file of the invoice for the month before the
scenario's (an as-of of 21 November: October's), with every column Microsoft documents, in its
order, dates as its sample writes them (10/3/2026) and subtotals by its rounding rule
(core/sources/files/partner_center/subtotal.py): each client's licences billed monthly on
their anniversary day, one seat added mid-cycle (prorated), and one client's Azure plan usage of
the month before in arrears. The clients and their licences are gen_elsewhere's. The same
scenario and seed give the same bytes; `trueup sandbox partner-center` writes it, and the
bundled demo's is scenarios/demo-partner-center.csv.
"""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from trueup.core.sources.files.partner_center.subtotal import rule_subtotal
from trueup.sandbox.gen_elsewhere import (
    Licence,
    billed_month,
    linked_clients,
    next_month,
    offered,
    us_day,
)
from trueup.sandbox.gen_world import new_id

# Every column of the file, in Microsoft's order.
HEADERS = (
    "PartnerId",
    "CustomerId",
    "CustomerName",
    "CustomerDomainName",
    "CustomerCountry",
    "InvoiceNumber",
    "MpnId",
    "Tier2MpnId",
    "OrderId",
    "OrderDate",
    "ProductId",
    "SkuId",
    "AvailabilityId",
    "SkuName",
    "ProductName",
    "ChargeType",
    "UnitPrice",
    "Quantity",
    "Subtotal",
    "TaxTotal",
    "Total",
    "Currency",
    "PriceAdjustmentDescription",
    "PublisherName",
    "PublisherId",
    "SubscriptionDescription",
    "SubscriptionId",
    "ChargeStartDate",
    "ChargeEndDate",
    "TermAndBillingCycle",
    "EffectiveUnitPrice",
    "UnitType",
    "AlternateId",
    "BillableQuantity",
    "BillingFrequency",
    "PricingCurrency",
    "PCToBCExchangeRate",
    "PCToBCExchangeRateDate",
    "MeterDescription",
    "ReservationOrderId",
    "CreditReasonCode",
    "SubscriptionStartDate",
    "SubscriptionEndDate",
    "ReferenceId",
    "ProductQualifiers",
    "PromotionId",
    "ProductCategory",
)

AZURE = ("DZH318Z0BPS6", "0001", "Azure plan")
METERS = (  # (meter, unit price, quantity)
    ("Virtual Machines Dv3 Series - D2 v3 - US East", Decimal("0.096"), Decimal("744")),
    ("Storage - Standard SSD Managed Disks - E10 LRS", Decimal("9.6"), Decimal("2")),
    ("Bandwidth - Data Transfer Out - Zone 1", Decimal("0.087"), Decimal("131.4577")),
)
ANNUAL = "One-Year commitment for monthly/yearly billing"
MONTHLY = "One-Month commitment for monthly billing"


def partner_center_csv(scenario: dict[str, Any], *, seed: int = 1, clients: int = 4) -> str:
    rng = random.Random(f"partner-center {seed}")
    file = _File(rng, billed_month(scenario))
    chosen = linked_clients(scenario, rng, clients)
    for number, (client, skus) in enumerate(chosen):
        customer = file.customer(client["name"])
        licences = offered(skus)
        for position, licence in enumerate(rng.sample(licences, k=min(2, len(licences)))):
            file.licence(customer, licence, added_mid_cycle=number == 0 and position == 0)
        if number == len(chosen) - 1:
            file.azure(customer)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows([row.get(header, "") for header in HEADERS] for row in file.rows)
    return "\ufeff" + out.getvalue()  # Partner Center's CSV starts with a byte-order mark


class _File:
    def __init__(self, rng: random.Random, period: date) -> None:
        self.rng = rng
        self.period = period
        self.partner = new_id(rng)
        self.invoice = f"G{rng.randrange(10**8, 10**9)}"
        self.rows: list[dict[str, str]] = []

    def customer(self, name: str) -> dict[str, str]:
        slug = re.sub(r"[^a-z0-9]", "", name.casefold())[:24]
        return {
            "PartnerId": self.partner,
            "CustomerId": new_id(self.rng),
            "CustomerName": name,
            "CustomerDomainName": f"{slug}.onmicrosoft.com",
            "CustomerCountry": "US",
            "InvoiceNumber": self.invoice,
            "MpnId": "6034453",
            "Tier2MpnId": "",
            "Currency": "USD",
            "PricingCurrency": "USD",
            "PCToBCExchangeRate": "1",
            "PCToBCExchangeRateDate": us_day(self.period),
            "PublisherName": "Microsoft Corporation",
        }

    def licence(
        self,
        customer: dict[str, str],
        licence: Licence,
        added_mid_cycle: bool,
    ) -> None:
        product, sku, name, price = licence
        anniversary = self.period.replace(day=self.rng.randint(1, 28))
        started = anniversary.replace(year=anniversary.year - self.rng.randint(0, 2))
        annual = self.rng.random() < 0.7
        seats = Decimal(self.rng.randint(2, 25))
        ends = next_month(anniversary) - timedelta(days=1)
        order = self.rng.getrandbits(48).to_bytes(6, "big").hex()
        subscription = {
            **customer,
            "OrderId": order,
            "OrderDate": us_day(started),
            "ProductId": product,
            "SkuId": sku,
            "AvailabilityId": f"CFQ7TTC0{self.rng.randrange(16**4):04X}",
            "SkuName": name,
            "ProductName": name,
            "SubscriptionId": new_id(self.rng),
            "SubscriptionDescription": name,
            "TermAndBillingCycle": ANNUAL if annual else MONTHLY,
            "BillingFrequency": "Monthly",
            "SubscriptionStartDate": us_day(started),
            "SubscriptionEndDate": us_day(_term_end(anniversary, annual)),
            "AlternateId": order,
            "ProductCategory": "OnlineServices",
        }
        full = price if annual else (price * Decimal("1.2")).quantize(Decimal("0.01"))
        charge = "new" if started == anniversary else "cycleCharge"
        self._row(subscription, charge, anniversary, ends, full, full, seats, usage=False)
        if added_mid_cycle:  # a hire in the cycle, this month: one seat for the days left of it
            last = next_month(self.period) - timedelta(days=1)
            added = anniversary + timedelta(days=self.rng.randint(1, (last - anniversary).days))
            share = Decimal((ends - added).days + 1) / Decimal((ends - anniversary).days + 1)
            prorated = (full * share).quantize(Decimal("0.0001"))
            self._row(subscription, "addQuantity", added, ends, full, prorated, Decimal(1), False)

    def azure(self, customer: dict[str, str]) -> None:
        used = (self.period - timedelta(days=1)).replace(day=1)  # billed a month in arrears
        last = self.period - timedelta(days=1)
        order = self.rng.getrandbits(48).to_bytes(6, "big").hex()
        plan = {
            **customer,
            "OrderId": order,
            "OrderDate": us_day(used.replace(year=used.year - 1)),
            "ProductId": AZURE[0],
            "SkuId": AZURE[1],
            "AvailabilityId": "DZH318Z0BPS6",
            "SkuName": AZURE[2],
            "ProductName": AZURE[2],
            "SubscriptionId": new_id(self.rng),
            "SubscriptionDescription": "Azure plan",
            "TermAndBillingCycle": "",
            "AlternateId": order,
            "ProductCategory": "Azure",
        }
        for meter, price, quantity in METERS:
            effective = (price * Decimal("0.85")).quantize(Decimal("0.000001"))  # partner credit
            row = {**plan, "MeterDescription": meter, "UnitType": "1 Hour"}
            # Microsoft's sample usage row says New: the meter, not the type, makes it usage.
            self._row(row, "New", used, last, price, effective, quantity, usage=True)

    def _row(
        self,
        base: dict[str, str],
        charge: str,
        start: date,
        end: date,
        price: Decimal,
        effective: Decimal,
        quantity: Decimal,
        usage: bool,
    ) -> None:
        subtotal = rule_subtotal(usage, effective, quantity, Decimal(1))
        self.rows.append(
            {
                **base,
                "ChargeType": charge,
                "ChargeStartDate": us_day(start),
                "ChargeEndDate": us_day(end),
                "UnitPrice": str(price),
                "EffectiveUnitPrice": str(effective),
                "Quantity": str(quantity),
                "BillableQuantity": str(quantity),
                "Subtotal": str(subtotal),
                "TaxTotal": "0",
                "Total": str(subtotal),
                "ReferenceId": new_id(self.rng),
            }
        )


def _term_end(anniversary: date, annual: bool) -> date:
    """The last day of the term running from `anniversary` (a yearly one renews on it too)."""
    ends = anniversary.replace(year=anniversary.year + 1) if annual else next_month(anniversary)
    return ends - timedelta(days=1)
