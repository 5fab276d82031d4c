"""HaloPSA's side of the world (reference/halo-api.md §5, §7; specs/halopsa-swagger.json), and the
light QuickBooks Online mirror of its clients and items.

Every client has one monthly recurring invoice (negative id) that creates an invoice on the 1st;
this month's invoices are in `invoices`. Clients whose Pax8 company is linked through Halo's Pax8
integration (an ExternalLink row) also have the integration's licence rows. Every field emitted is
a property of the object's schema in the swagger (those schemas allow nothing else).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from trueup.sandbox.gen_catalog import AZURE, PRODUCTS, SERVICES, Product, Service
from trueup.sandbox.gen_world import AZURE_COST_SHARE, Account, Calendar, Sub, cents, month_end

Json = dict[str, Any]
UNSET = "1899-12-30T00:00:00"  # Halo's "no date"
SYMBOLS = {"USD": "$", "CAD": "CA$", "GBP": "£", "EUR": "€"}
PER_PERIOD = {"Annual": 12, "3-Year": 36}  # Halo bills these terms monthly
PAX8_SUPPLIER = 7


def _stamp(day: date) -> str:
    return f"{day}T00:00:00"


def _money(amount: Decimal) -> float:
    return float(cents(amount))


@dataclass
class IdSequence:
    """Ids that grow with small gaps, as deleted rows leave them."""

    rng: random.Random
    value: int

    def next(self) -> int:
        self.value += self.rng.randint(1, 3)
        return self.value


def render_halo(
    rng: random.Random, cal: Calendar, accounts: list[Account], product_ids: dict[str, str]
) -> tuple[Json, Json]:
    items, qbo_items, item_ids = _items(rng)
    halo: Json = {
        "clients": [],
        "sites": [],
        "items": items,
        "recurring_invoices": [],
        "licences": [],
        "external_links": [],
        "invoices": [],
    }
    ids = {
        name: IdSequence(rng, start)
        for name, start in (
            ("ri", 90),
            ("schedule", 150),
            ("line", 24000),
            ("invoice", 3100),
            ("number", 10400),
            ("licence", 500),
            ("link", 9000),
        )
    }
    customers = []
    for account in accounts:
        if not account.halo_name:
            continue
        halo["clients"].append(
            {
                "id": account.halo_id,
                "name": account.halo_name,
                "inactive": False,
                "toplevel_id": 1,
                "toplevel_name": "Managed Clients",
                "main_site_id": account.site_id,
                "main_site_name": "Main",
                "accountsid": account.qbo_id,
                "website": account.website,
            }
        )
        halo["sites"].append(
            {
                "id": account.site_id,
                "name": "Main",
                "client_id": account.halo_id,
                "client_name": account.halo_name,
                "inactive": False,
                "isinvoicesite": True,
                "phonenumber": account.phone,
            }
        )
        customer = {"Id": account.qbo_id, "DisplayName": account.halo_name, "Active": True}
        if account.currency != "USD":  # a multicurrency company keeps each customer's own
            customer["CurrencyRef"] = {"value": account.currency}
        customers.append(customer)
        recurring = _recurring_invoice(cal, account, item_ids, ids)
        halo["recurring_invoices"].append(recurring)
        halo["invoices"].append(_invoice_from(rng, cal, recurring, ids))
        if account.link == "link" and account.pax8_name:
            halo["external_links"].append(
                {
                    "id": ids["link"].next(),
                    "table_id": 1,
                    "module_id": 0,
                    "halo_id": account.halo_id,
                    "halo_desc": account.halo_name,
                    "third_party_id": account.company_id,
                    "third_party_desc": account.pax8_name,
                    "third_party_type": "Pax8",
                    "details_id": 1,
                    "primary": True,
                }
            )
            halo["licences"] += [
                _licence(account, sub, product_ids, ids["licence"].next())
                for sub in account.subs
                if not (sub.end and sub.end < cal.prev)
            ]
    # The books start with no invoices: posting creates them.
    company = {"Country": "US", "HomeCurrency": "USD", "MultiCurrencyEnabled": True}
    return halo, {"company": company, "customers": customers, "items": qbo_items, "invoices": []}


def _items(rng: random.Random) -> tuple[list[Json], list[Json], dict[str, int]]:
    """The Halo item list (every product the MSP set up, then its own services), its QBO mirror,
    and the Halo item id by product key or service code."""
    items: list[Json] = []
    qbo_items: list[Json] = []
    ids: dict[str, int] = {}
    counter = IdSequence(rng, 1000)
    sellable: list[Product | Service] = [p for p in PRODUCTS if p.halo_name]
    for entry in [*sellable, *SERVICES]:
        item_id, qbo_id = counter.next(), str(len(items) + 1)
        if isinstance(entry, Product):
            key, name, price = entry.key, entry.halo_name or "", entry.price
            item: Json = {
                "id": item_id,
                "name": name,
                "description": entry.name,
                "isrecurringitem": True,
                "baseprice": float(price),
                "costprice": float(entry.cost),
                "recurringprice": float(price),
                "recurringcost": float(entry.cost),
                "supplier_id": PAX8_SUPPLIER,
                "supplier_name": "Pax8",
            }
            if entry.halo_code == "sku":
                item["supplier_part_code"] = entry.sku
            elif entry.halo_code == "vendor":
                item["internalreference"] = entry.vendor_sku
            item["nominalcode"] = "4100 Cloud Services"
        else:
            key, name, price = entry.code, entry.name, entry.price
            item = {
                "id": item_id,
                "name": name,
                "description": name,
                "isrecurringitem": True,
                "baseprice": float(price),
                "costprice": 0.0,
                "recurringprice": float(price),
                "recurringcost": 0.0,
                "internalreference": entry.code,
                "nominalcode": "4000 Managed Services",
            }
        item |= {
            "taxable": False,
            "update_recurring_invoice_price": False,
            "update_recurring_invoice_cost": False,
            "accountsid": qbo_id,
        }
        items.append(item)
        qbo_items.append({"Id": qbo_id, "Name": name, "Type": "Service", "UnitPrice": float(price)})
        ids[key] = item_id
    return items, qbo_items, ids


def _line_price(cal: Calendar, account: Account, sub: Sub) -> tuple[Decimal, Decimal]:
    """The unit price and cost the MSP typed on the line: Pax8's price when the line was last
    touched (the start of last month), monthly, less the client's discount."""
    if sub.product is AZURE:  # a flat monthly estimate, trued up by hand
        estimate = sum((m.unit_price * m.daily * 30 for m in sub.meters if m.assigned), Decimal(0))
        return cents(estimate), cents(estimate * AZURE_COST_SHARE)
    version = sub.version_on(cal.prev) or sub.versions[0]
    per = PER_PERIOD.get(sub.billing_term, 1)
    return cents(version.price / per * account.discount), cents(version.cost / per)


def _recurring_invoice(
    cal: Calendar, account: Account, item_ids: dict[str, int], ids: dict[str, IdSequence]
) -> Json:
    ri_id, schedule_id = -ids["ri"].next(), ids["schedule"].next()
    service = account.service
    seats = {"user": account.headcount, "device": round(account.headcount * 1.2)}
    rows: list[tuple[int, str, int, Decimal, Decimal, bool]] = [
        (
            item_ids[service.code],
            service.name,
            seats.get(service.per, 1),
            service.price,
            Decimal(0),
            False,
        )
    ]
    by_product: dict[str, int] = {}
    for sub in account.subs:
        if sub.halo_qty is None:
            continue
        key = sub.product.key
        if key in by_product:  # two subscriptions of one product share the line
            row = rows[by_product[key]]
            rows[by_product[key]] = (row[0], row[1], row[2] + sub.halo_qty, *row[3:])
            continue
        by_product[key] = len(rows)
        price, cost = _line_price(cal, account, sub)
        rows.append((item_ids[key], sub.product.halo_name or "", sub.halo_qty, price, cost, False))
    for product, quantity in account.retired:
        price = cents(product.price * account.discount)
        rows.append(
            (item_ids[product.key], product.halo_name or "", quantity, price, product.cost, True)
        )
    lines = []
    for sequence, (item_id, name, quantity, price, cost, inactive) in enumerate(rows, start=1):
        lines.append(
            {
                "id": ids["line"].next(),
                "ihid": ri_id,
                "sequenceid": sequence,
                "_itemid": item_id,
                "item_shortdescription": name,
                "qty_order": float(quantity),
                "unit_price": float(price),
                "unit_cost": float(cost),
                "net_amount": _money(price * quantity),
                "isinactive": inactive,
                "enddate": UNSET,
                "recurring_invoice_quantity_type": 0,
            }
        )
    revenue = _money(
        sum(
            (Decimal(str(line["net_amount"])) for line in lines if not line["isinactive"]),
            Decimal(0),
        )
    )
    return {
        "id": ri_id,
        "disabled": False,
        "client_id": account.halo_id,
        "client_name": account.halo_name,
        "contract_id": 0,
        "reference": "Monthly Billing",
        "currency": SYMBOLS[account.currency],
        "is_recurring_invoice": True,
        "schedule_id": schedule_id,
        "period": 2,
        "lastcreated": _stamp(cal.month),
        "nextcreationdate": _stamp(cal.next),
        "period_start_date": _stamp(cal.next),
        "period_end_date": _stamp(month_end(cal.next)),
        "requires_approval": True,
        "approval_status": 0,
        "revenue": revenue,
        "tax_total": 0.0,
        "total": revenue,
        "schedule": {
            "id": schedule_id,
            "startdate": _stamp(account.since),
            "end_date": "2099-12-31T00:00:00",
            "period": 2,
            "disabled": False,
        },
        "lines": lines,
    }


def _invoice_from(
    rng: random.Random, cal: Calendar, recurring: Json, ids: dict[str, IdSequence]
) -> Json:
    """The invoice the recurring invoice created on the 1st; some clients have paid it."""
    invoice_id = ids["invoice"].next()
    lines = [
        {
            "id": ids["line"].next(),
            "ihid": invoice_id,
            "_itemid": line["_itemid"],
            "item_shortdescription": line["item_shortdescription"],
            "qty_order": line["qty_order"],
            "unit_price": line["unit_price"],
            "net_amount": line["net_amount"],
            "recurring_invoice_id": recurring["id"],
            "recurring_invoice_line_id": line["id"],
        }
        for line in recurring["lines"]
        if not line["isinactive"]
    ]
    total = recurring["total"]
    paid = total if rng.random() < 0.4 else 0.0
    return {
        "id": invoice_id,
        "invoicenumber": f"INV-{ids['number'].next():06d}",
        "client_id": recurring["client_id"],
        "client_name": recurring["client_name"],
        "invoice_date": _stamp(cal.month),
        "duedate": _stamp(cal.month.replace(day=15)),
        "posted": True,
        "currency": recurring["currency"],
        "revenue": total,
        "tax_total": 0.0,
        "total": total,
        "amountpaid": paid,
        "amountdue": _money(Decimal(str(total - paid))),
        "recurring_invoice_id": recurring["id"],
        "lines": lines,
    }


def _licence(account: Account, sub: Sub, product_ids: dict[str, str], licence_id: int) -> Json:
    """The Halo Pax8 integration's copy of a subscription, as of its last nightly sync."""
    current = sub.current
    return {
        "id": licence_id,
        "name": sub.product.name,
        "client_id": account.halo_id,
        "site_id": -1,
        "count": current.quantity,
        "price": float(current.price),
        "purchase_price": float(current.cost),
        "billing_cycle": sub.billing_term,
        "status": current.status,
        "is_active": current.status != "Cancelled",
        "distributor": "Pax8",
        "third_party_product": product_ids[sub.product.key],
        "thirdparty_client_id": account.company_id,
        "product_sku": sub.product.sku,
    }
