"""Sherweb's payable charges as trueup reads them: the columns, the charge types and the
billing cycles.

What is confirmed: Sherweb's partner portal exports invoices as PDF or as CSV broken down per
client ([SW3] in ../shared/reference/market-2026-12.md §4.2), and its payable charges carry
customerId, customerName, subscriptionId, productName, chargeType (Setup, Recurring, Usage),
billingCycle (OneTime, Monthly, Yearly), listPrice, netPrice, quantity, prorated,
proratedDays, subTotal (netPrice x quantity), deductions, fees, taxes and total (subTotal less
deductions plus fees and taxes) ([SW1]: a third-party summary of Sherweb's API; Sherweb's own
documentation is not stored). A billing period has a start and an end date ([SW1]); its
receivable charges name them periodFrom and periodTo ([SW4]).

What is not: that the CSV's headers are the API's field names, and the columns the API does not
show on a charge: its billing period (periodFrom, periodTo, taken from [SW4]), its currency
(the API puts it on the invoice), its invoice number, a SKU (absent, the product's name is its
id) and deductions as one amount (the API lists them). The table is the default trueup reads;
a CSV whose headers differ is read by renaming them in the config (`[import.sherweb]`,
files/columns.py).
"""

from __future__ import annotations

from trueup.core.sources.files.cells import Kind
from trueup.core.sources.files.columns import Column
from trueup.core.sources.files.kinds import CYCLE, ONE_TIME, USAGE

WANTED = "a Sherweb payable charges file (CSV per client)"

COLUMNS = (
    Column("customer_id", "customerId", Kind.ID),
    Column("customer_name", "customerName", Kind.TEXT),
    Column("subscription_id", "subscriptionId", Kind.ID),
    Column("product_id", "sku", Kind.ID, optional=True),
    Column("product_name", "productName", Kind.TEXT),
    Column("invoice_number", "invoiceNumber", Kind.ID, optional=True),
    Column("charge_type", "chargeType", Kind.TEXT),
    Column("billing_cycle", "billingCycle", Kind.TEXT, optional=True),
    Column("start", "periodFrom", Kind.DAY),
    Column("end", "periodTo", Kind.DAY),
    Column("list_price", "listPrice", Kind.MONEY, optional=True),
    Column("net_price", "netPrice", Kind.MONEY),
    Column("quantity", "quantity", Kind.QUANTITY),
    Column("prorated_days", "proratedDays", Kind.QUANTITY, optional=True),
    Column("subtotal", "subTotal", Kind.MONEY),
    Column("deductions", "deductions", Kind.MONEY, optional=True),
    Column("fees", "fees", Kind.MONEY, optional=True),
    Column("taxes", "taxes", Kind.MONEY, optional=True),
    Column("total", "total", Kind.MONEY, optional=True),
    Column("currency", "currency", Kind.CURRENCY),
)

CHARGE_KINDS = {"setup": ONE_TIME, "recurring": CYCLE, "usage": USAGE}

# billingCycle, with case and spaces aside, as Pax8 spells a billing term.
BILLING_TERMS = {"onetime": "One-Time", "monthly": "Monthly", "yearly": "Annual"}
