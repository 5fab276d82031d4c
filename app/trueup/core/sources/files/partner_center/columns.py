"""The Partner Center new-commerce reconciliation file as trueup reads it: the columns, what each
charge type does to a subscription, and the other files a download may be mistaken for.

The columns are those Microsoft documents for the file ([MS1],
https://learn.microsoft.com/en-gb/partner-center/modern-invoice-reconciliation-file), in the
order a downloaded file has them; a user may rename any of them in the config
(`[import.partner-center]`, sources/files/columns.py). The optional ones are read when there:
SubscriptionId names the subscription (else the order and SKU do), PCToBCExchangeRate is 1
when absent, the subscription's dates and term come from the documented columns when present.
"""

from __future__ import annotations

from trueup.core.sources.files.cells import Kind
from trueup.core.sources.files.columns import Column, header_key

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

# What a charge does to its subscription's seats, by ChargeType with case, spaces and dashes
# aside. Microsoft's documentation shows `New` (the file's sample) and `new` (the API's); the
# others are the new-commerce lifecycle as partners' tools name it, not confirmed against a
# real file. A charge type not listed still costs what it says; it changes no seats, and the
# import says so.
CYCLE, ADD, REMOVE, CANCEL, CREDIT = "cycle", "add", "remove", "cancel", "credit"
CHARGE_KINDS = {
    "new": CYCLE,
    "renew": CYCLE,
    "cyclecharge": CYCLE,
    "cyclefee": CYCLE,
    "convert": CYCLE,
    "addquantity": ADD,
    "removequantity": REMOVE,
    "cancelimmediate": CANCEL,
    "cancel": CANCEL,
    "customercredit": CREDIT,
    "credit": CREDIT,
}

# Files a download may be mistaken for, by headers only they have (compared as header_key).
_LOOKALIKES = (
    ("a Pax8 invoice export", {"billedbypax8"}),
    ("a Pax8 invoice export", {"companyname", "startperiod", "endperiod"}),
    ("a Partner Center daily rated usage file", {"usagedate", "meterid"}),
    ("a Partner Center legacy (not new commerce) license reconciliation file", {"durableofferid"}),
    ("a Partner Center legacy (not new commerce) license reconciliation file", {"offerid"}),
)


def kind_of(charge_type: str) -> str | None:
    return CHARGE_KINDS.get("".join(ch for ch in charge_type.casefold() if ch.isalnum()))


def lookalike(headers: set[str]) -> str | None:
    """The other file whose headers these are, when they are one's."""
    return next(
        (name for name, marks in _LOOKALIKES if {header_key(m) for m in marks} <= headers),
        None,
    )
