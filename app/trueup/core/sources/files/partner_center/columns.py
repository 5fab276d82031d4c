"""The Partner Center new-commerce reconciliation file as trueup reads it: the columns (its
charge types are Microsoft's, files/kinds.py).

The columns are those Microsoft documents for the file ([MS1],
https://learn.microsoft.com/en-gb/partner-center/modern-invoice-reconciliation-file), in the
order a downloaded file has them; a user may rename any of them in the config
(`[import.partner-center]`, sources/files/columns.py). The optional ones are read when there:
SubscriptionId names the subscription (else the order and SKU do), PCToBCExchangeRate is 1
when absent, the subscription's dates and term come from the documented columns when present.
"""

from __future__ import annotations

from trueup.core.sources.files.cells import Kind
from trueup.core.sources.files.columns import Column
from trueup.core.sources.files.lookalikes import other_format
from trueup.core.values.distributors import PARTNER_CENTER

WANTED = "a Partner Center (new commerce) invoice reconciliation file"

COLUMNS = (
    Column("customer_id", "CustomerId", Kind.ID),
    Column("customer_name", "CustomerName", Kind.TEXT),
    Column("customer_domain", "CustomerDomainName", Kind.TEXT, optional=True),
    Column("invoice_number", "InvoiceNumber", Kind.ID),
    Column("order_id", "OrderId", Kind.ID),
    Column("product_id", "ProductId", Kind.ID),
    Column("sku_id", "SkuId", Kind.ID),
    Column("sku_name", "SkuName", Kind.TEXT),
    Column("product_name", "ProductName", Kind.TEXT, optional=True),
    Column("charge_type", "ChargeType", Kind.TEXT),
    Column("unit_price", "UnitPrice", Kind.MONEY),
    Column("quantity", "Quantity", Kind.QUANTITY, optional=True),
    Column("subtotal", "Subtotal", Kind.MONEY, optional=True),
    Column("currency", "Currency", Kind.CURRENCY),
    Column("subscription_id", "SubscriptionId", Kind.ID, optional=True),
    Column("charge_start", "ChargeStartDate", Kind.DAY),
    Column("charge_end", "ChargeEndDate", Kind.DAY),
    Column("term_and_billing_cycle", "TermAndBillingCycle", Kind.TEXT, optional=True),
    Column("effective_unit_price", "EffectiveUnitPrice", Kind.MONEY),
    Column("billable_quantity", "BillableQuantity", Kind.QUANTITY),
    Column("exchange_rate", "PCToBCExchangeRate", Kind.RATE, optional=True),
    Column("meter_description", "MeterDescription", Kind.TEXT, optional=True),
    Column("subscription_start", "SubscriptionStartDate", Kind.DAY, optional=True),
    Column("subscription_end", "SubscriptionEndDate", Kind.DAY, optional=True),
)

lookalike = other_format(PARTNER_CENTER)
