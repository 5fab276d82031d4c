"""The TD SYNNEX StreamOne Ion billing report as trueup reads it: the columns and the charge
types.

What is confirmed ([TD3], [TD4], [TD5] in ../shared/reference/market-2026-12.md §4.2, and Ion's
own "How to create, customize and download billing reports" page,
https://stream1.freshdesk.com/support/solutions/articles/44002357680): Ion's billing reports
are one per cloud vendor, downloadable as CSV, with columns for seller cost (the reseller's
cost, the reseller discount already applied), customer cost (MSRP, or the partner's own
pricebook), margin, quantity and seat count "depending on the cloud vendor"; Microsoft's
credits carry the charge type `customerCredit`.

What is not: the headers' exact spelling and every other column (the customer, the SKU, the
subscription, the charge's dates, the currency). The table below is the default trueup reads,
in Ion's own words where it has them; a report whose headers differ is read by renaming them
in the config (`[import.ion]`, files/columns.py), never by changing this table. Charge types
are read as Microsoft's (Ion bills Microsoft's products under Microsoft's names, as its
`customerCredit` shows), with `usage` for consumption: also unconfirmed.
"""

from __future__ import annotations

from trueup.core.sources.files.cells import Kind
from trueup.core.sources.files.columns import Column
from trueup.core.sources.files.kinds import MICROSOFT, USAGE

WANTED = "a TD SYNNEX StreamOne Ion billing report"

COLUMNS = (
    Column("customer_id", "Customer ID", Kind.ID),
    Column("customer_name", "Customer Name", Kind.TEXT),
    Column("vendor", "Vendor", Kind.TEXT, optional=True),
    Column("product_id", "SKU", Kind.ID),
    Column("product_name", "Product Name", Kind.TEXT),
    Column("subscription_id", "Subscription ID", Kind.ID, optional=True),
    Column("invoice_number", "Invoice Number", Kind.ID, optional=True),
    Column("charge_type", "Charge Type", Kind.TEXT),
    Column("start", "Charge Start Date", Kind.DAY),
    Column("end", "Charge End Date", Kind.DAY),
    Column("quantity", "Quantity", Kind.QUANTITY),
    Column("seat_count", "Seat Count", Kind.QUANTITY, optional=True),
    Column("seller_cost", "Seller Cost", Kind.MONEY),
    Column("customer_cost", "Customer Cost", Kind.MONEY),
    Column("margin", "Margin", Kind.MONEY, optional=True),
    Column("currency", "Currency", Kind.CURRENCY),
)

CHARGE_KINDS = {**MICROSOFT, "usage": USAGE, "consumption": USAGE}
