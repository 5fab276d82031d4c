"""A file's charges as the store's rows: customers as companies, products as products, each
statement (charge.py) as an invoice of its customer and each charge as an invoice item, ids
namespaced by distributor (`ion:`, `im:`, `sw:`: values/distributors.py). Subscriptions are
rebuilt apart, from every stored charge (subscriptions.py).

An item's cost is what the distributor charges the partner, before tax; its customer side is
what the file says the client pays, else that cost again (the client's price then comes from
the billing rules: a markup, a fixed price or Halo's). Usage is billed in arrears, as Pax8
marks it, so the batch reads it as a month's usage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from trueup.core.sources.files.history import term_of
from trueup.core.sources.files.item_ids import ItemIds
from trueup.core.sources.files.kinds import CREDIT, CYCLE, USAGE
from trueup.core.sources.files.lines.charge import Charge, whole_period
from trueup.core.sources.files.shapes import Record, Records
from trueup.core.values.distributors import namespaced


def records_of(distributor: str, charges: Sequence[Charge]) -> Records:
    found = Records()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    ids = ItemIds()
    for charge in charges:
        company = namespaced(distributor, charge.customer_id)
        found.companies.setdefault(company, _company(distributor, charge))
        product = namespaced(distributor, charge.product_id)
        found.products.setdefault(product, _product(distributor, charge))
        found.product_rows.setdefault(product, []).append(charge.row)
        invoice = namespaced(distributor, charge.statement)
        totals[invoice] += charge.cost
        item_id = ids.next(invoice, charge.cells)
        found.items.append(_item(distributor, charge, item_id, invoice))
        found.charges[item_id] = charge
        found.invoices[invoice] = _invoice(distributor, charge, invoice, totals[invoice])
    return found


def _company(distributor: str, charge: Charge) -> Record:
    return {
        "id": namespaced(distributor, charge.customer_id),
        "name": charge.customer_name,
        "external_id": None,
        "status": "Active",
        "bill_on_behalf": None,
        "updated_at": None,
        "distributor": distributor,
        "raw": {
            "customerId": charge.customer_id,
            "customerName": charge.cells.get("customer_name"),
        },
    }


def _product(distributor: str, charge: Charge) -> Record:
    return {
        "id": namespaced(distributor, charge.product_id),
        "name": charge.product_name,
        "vendor_name": charge.vendor,
        "sku": charge.product_id,
        "vendor_sku": charge.product_id,
        "distributor": distributor,
        "raw": {
            "productId": charge.product_id,
            "productName": charge.cells.get("product_name"),
            "vendor": charge.cells.get("vendor"),
        },
    }


def _invoice(distributor: str, charge: Charge, invoice_id: str, total: Decimal) -> Record:
    return {
        "id": invoice_id,
        "invoice_date": None,  # none of the files says it
        "due_date": None,
        "status": None,
        "company_id": namespaced(distributor, charge.customer_id),
        "total": total,
        "balance": None,
        "currency": charge.currency,
        "distributor": distributor,
        "raw": {
            "invoiceNumber": charge.invoice_number,
            "statement": charge.statement,
            "customerId": charge.customer_id,
            "currency": charge.currency,
            "total": total,
        },
    }


def _item(distributor: str, charge: Charge, item_id: str, invoice_id: str) -> Record:
    usage = charge.kind == USAGE
    client = charge.cost if charge.price is None else charge.price
    return {
        "id": item_id,
        "invoice_id": invoice_id,
        "type": _type(charge),
        "company_id": namespaced(distributor, charge.customer_id),
        "subscription_id": namespaced(distributor, charge.subscription_ref),
        "product_id": namespaced(distributor, charge.product_id),
        "sku": charge.product_id,
        "term": "Arrears" if usage else charge.billing_term or term_of(charge.start, charge.end),
        "start_period": charge.start,
        "end_period": charge.end,
        "quantity": charge.quantity,
        "price": charge.unit_price,
        "cost": charge.unit_cost,
        "subtotal": client,
        "cost_total": charge.cost,
        "total": client,
        "currency": charge.currency,
        "distributor": distributor,
        "raw": charge.cells,
    }


def _type(charge: Charge) -> str:
    """The Pax8 item type the batch counts the cost of (billing/cost.py): a whole period's
    charge (or usage), a credit, or a proration (adds, removals, fees, charge types trueup does
    not know: money all the same)."""
    if charge.kind == USAGE or (charge.kind == CYCLE and charge.seats > 0 and whole_period(charge)):
        return "subscription"
    return "service-credit" if charge.kind == CREDIT else "prorate"
