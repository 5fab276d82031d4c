"""A reconciliation file's charges as the store's rows: customers as companies, SKUs as
products, invoice numbers as invoices and each charge as an invoice item, ids namespaced `pc:`
(values/distributors.py). Subscriptions are rebuilt apart, from every stored charge
(subscriptions.py).

An item's cost is its Subtotal, in the invoice's currency: what Microsoft charges the partner.
Partner Center names no price for the client, so an item's customer total is that cost too
(the client's price comes from the billing rules: a markup, a fixed price or Halo's). An item's
id is a digest of its row, so the same charge keeps its id wherever it stands in a download.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from trueup.core.sources.files.history import term_of
from trueup.core.sources.files.item_ids import ItemIds
from trueup.core.sources.files.kinds import CREDIT, CYCLE
from trueup.core.sources.files.partner_center.charges import Charge
from trueup.core.sources.files.partner_center.subscriptions import (
    company_id,
    product_id,
    subscription_id,
)
from trueup.core.sources.files.partner_center.subtotal import per_unit
from trueup.core.sources.files.shapes import Record, Records
from trueup.core.values.distributors import PARTNER_CENTER, namespaced


def records_of(charges: Sequence[Charge]) -> Records:
    found = Records()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    ids = ItemIds()
    for charge in charges:
        found.companies.setdefault(company_id(charge), _company(charge))
        found.products.setdefault(product_id(charge), _product(charge))
        found.product_rows.setdefault(product_id(charge), []).append(charge.row)
        invoice = namespaced(PARTNER_CENTER, charge.invoice_number)
        totals[invoice] += charge.subtotal
        item_id = ids.next(invoice, charge.cells)
        found.items.append(_item(charge, item_id, invoice))
        found.charges[item_id] = charge
        found.invoices[invoice] = _invoice(charge, invoice, totals[invoice])
    return found


def _company(charge: Charge) -> Record:
    return {
        "id": company_id(charge),
        "name": charge.customer_name,
        "external_id": None,
        "status": "Active",
        "bill_on_behalf": None,
        "updated_at": None,
        "distributor": PARTNER_CENTER,
        "raw": {
            "customerId": charge.customer_id,
            "customerName": charge.cells.get("customer_name"),
            "customerDomainName": charge.customer_domain,
        },
    }


def _product(charge: Charge) -> Record:
    sku = f"{charge.product_id}:{charge.sku_id}"
    return {
        "id": product_id(charge),
        "name": charge.sku_name,
        "vendor_name": None,
        "sku": sku,
        "vendor_sku": sku,
        "distributor": PARTNER_CENTER,
        "raw": {
            "productId": charge.product_id,
            "skuId": charge.sku_id,
            "skuName": charge.cells.get("sku_name"),
            "productName": charge.cells.get("product_name"),
        },
    }


def _invoice(charge: Charge, invoice_id: str, total: Decimal) -> Record:
    return {
        "id": invoice_id,
        "invoice_date": None,  # the file does not say it
        "due_date": None,
        "status": None,
        "company_id": None,  # a Partner Center invoice is the partner's, for every customer
        "total": total,
        "balance": None,
        "currency": charge.currency,
        "distributor": PARTNER_CENTER,
        "raw": {
            "invoiceNumber": charge.invoice_number,
            "currency": charge.currency,
            "total": total,
        },
    }


def _item(charge: Charge, item_id: str, invoice_id: str) -> Record:
    return {
        "id": item_id,
        "invoice_id": invoice_id,
        "type": _type(charge),
        "company_id": company_id(charge),
        "subscription_id": subscription_id(charge),
        "product_id": product_id(charge),
        "sku": f"{charge.product_id}:{charge.sku_id}",
        # Usage is billed in arrears, as Pax8 marks it (batch/usage.py reads it so).
        "term": "Arrears" if charge.usage else term_of(charge.charge_start, charge.charge_end),
        "start_period": charge.charge_start,
        "end_period": charge.charge_end,
        "quantity": charge.billable_quantity,
        "price": per_unit(charge.unit_price, charge.exchange_rate),
        "cost": per_unit(charge.effective_unit_price, charge.exchange_rate),
        "subtotal": charge.subtotal,
        "cost_total": charge.subtotal,
        "total": charge.subtotal,
        "currency": charge.currency,
        "distributor": PARTNER_CENTER,
        "raw": charge.cells,
    }


def _type(charge: Charge) -> str:
    """The Pax8 item type the batch counts the cost of (billing/cost.py): the whole cycle's
    charge, a proration (adds, removals, cancellations, charge types trueup does not know:
    money all the same), or a credit."""
    if charge.usage or charge.kind == CYCLE:
        return "subscription"
    return "service-credit" if charge.kind == CREDIT else "prorate"
