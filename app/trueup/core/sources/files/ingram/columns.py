"""The Ingram Micro Cloud Marketplace rated data export as trueup reads it: the columns and the
charge types.

What is confirmed: the Rated Data Export (also called Billing Data Export) holds account,
subscription, service plan, resource, charge, order and invoice data from both sides, the
reseller's and the customer's, as CSV, XML, JSON or XLSX, monthly or daily ([IM1] in
../shared/reference/market-2026-12.md §4.2). Ingram's "Rated Data Export Full Report View"
(https://ingrammicro-assist.freshdesk.com/support/solutions/articles/66000396570) names its
fields in capitals by section, RESELLER_ACCOUNT_ID, RESELLER_NAME, RESELLER_ACCOUNT_CURRENCY
("the currency ... in which all monetary values are denominated"); CloudBlue's data sets (the
platform behind it, https://docs.cloudblue.com/cbc/21.0/Reporting-and-Data-Export/) name
SUBSCRIPTION_ID, SUBSCRIPTION_ACCOUNT_ID, SUBSCRIPTION_ACCOUNT_NAME, SUBSCRIPTION_RESOURCE_ID
and SUBSCRIPTION_RESOURCE_NAME, and put a reseller's charges from the provider in the RESELLER
section (the partner's cost) and its customer's charges in the CUSTOMER section (the client's
price).

What is not: the charge's columns (its type, dates, quantity and amounts), named below in the
same style, and the charge types' values (Setup, Recurring and Usage as CloudBlue's fee kinds
are commonly called). The table is the default trueup reads; an export whose headers differ is
read by renaming them in the config (`[import.ingram]`, files/columns.py).
"""

from __future__ import annotations

from trueup.core.sources.files.cells import Kind
from trueup.core.sources.files.columns import Column
from trueup.core.sources.files.kinds import CREDIT, CYCLE, ONE_TIME, USAGE

WANTED = "an Ingram Micro Cloud Marketplace rated data export"

COLUMNS = (
    Column("customer_id", "SUBSCRIPTION_ACCOUNT_ID", Kind.ID),
    Column("customer_name", "SUBSCRIPTION_ACCOUNT_NAME", Kind.TEXT),
    Column("subscription_id", "SUBSCRIPTION_ID", Kind.ID),
    Column("product_id", "SUBSCRIPTION_RESOURCE_ID", Kind.ID),
    Column("product_name", "SUBSCRIPTION_RESOURCE_NAME", Kind.TEXT),
    Column("invoice_number", "RESELLER_INVOICE_NUMBER", Kind.ID, optional=True),
    Column("charge_type", "CHARGE_TYPE", Kind.TEXT),
    Column("start", "CHARGE_START_DATE", Kind.DAY),
    Column("end", "CHARGE_END_DATE", Kind.DAY),
    Column("quantity", "CHARGE_QUANTITY", Kind.QUANTITY),
    Column("reseller_unit_price", "RESELLER_UNIT_PRICE", Kind.MONEY, optional=True),
    Column("reseller_amount", "RESELLER_AMOUNT", Kind.MONEY),
    Column("customer_unit_price", "CUSTOMER_UNIT_PRICE", Kind.MONEY, optional=True),
    Column("customer_amount", "CUSTOMER_AMOUNT", Kind.MONEY, optional=True),
    Column("currency", "RESELLER_ACCOUNT_CURRENCY", Kind.CURRENCY),
)

CHARGE_KINDS = {
    "recurring": CYCLE,
    "recurringfee": CYCLE,
    "renewal": CYCLE,
    "setup": ONE_TIME,
    "setupfee": ONE_TIME,
    "usage": USAGE,
    "overuse": USAGE,
    "overusefee": USAGE,
    "refund": CREDIT,
    "credit": CREDIT,
}
