"""One line of a Xero invoice or credit note: its defaults from the item, its arithmetic and the
checks Xero makes on it (for xero_documents).

Arithmetic (developer.xero.com Invoices, LineItems): Quantity to 4 places; UnitAmount to 2 places,
or 4 with `unitdp=4`; LineAmount = Quantity × UnitAmount (less DiscountRate % or DiscountAmount)
to the cent; a LineAmount given with no UnitAmount sets the UnitAmount (a missing Quantity is 1); a
LineAmount that differs from Quantity × UnitAmount is refused (Xero developer community thread
144129369: "the line total 1500.00 does not match the expected line total 1499.93"). Tax per
line from the tax rate's EffectiveRate, rounded half away from zero to the cent: Exclusive adds
LineAmount × rate / 100; Inclusive takes LineAmount × rate / (100 + rate) out of the line; NoTax
none. A TaxAmount sent is kept ("This value can be overriden", the OpenAPI says). An ItemCode
fills the Description, UnitAmount, AccountCode and TaxType the line leaves out from the item's
SalesDetails (PurchaseDetails on ACCPAY); TaxType then falls back on the account's, never on the
contact's own AccountsReceivableTaxType (developer.xero.com, "Tax and the Xero API": the API
"won't use Contact defaults"; a client wanting its own sends it on every line).

Refusals and their messages:
- negative Quantity: "The quantity value '-2.0000' is invalid. Quantity must not be less than
  zero." (integrators' Xero error tables, e.g. WorkGuru's; Provet: "Xero does not support negative
  quantities"). A negative UnitAmount is allowed (Xero-OpenAPI issue 429 posts one).
- unknown, bank (without payments enabled) or system account: "Account code '0000' is not a valid
  code for this document." (Chargebee, Synder, Xero staff on the community); an archived one:
  "Account code '299' has been archived or has been deleted. Each line item must reference a valid
  account." (Dext's table). Any other account type is accepted, revenue or not: a sales invoice
  may be coded to an expense account in Xero.
- no account on a line of a document being approved: "Account code must be specified" (Neto's
  table of Xero errors).
- unknown or inactive tax type: "The TaxType code X does not exist or cannot be used for this type
  of transaction." (Xero-Java issue 336).
- a tax type whose CanApplyTo<Class> is false for the account's class: "The TaxType code
  'GSTONIMPORTS' cannot be used with account code '200'." (developer.xero.com Tax Rates, "Tax
  Rate Constraints": "certain tax rates can only be used with certain account types"; a US
  organisation's defaults allow NONE, OUTPUT and INPUT everywhere and Sales Tax on Imports only on
  liabilities).
- no description: "The description field is mandatory for each line item." (Neto's table).
- unknown ItemCode: "Item code 'X' is not valid." (the wording is this simulator's; unconfirmed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from trueup.sandbox.xero_book import CAN_APPLY, Organisation
from trueup.sandbox.xero_wire import Json, money

CENT = Decimal("0.01")
QUANTITY = Decimal("0.0001")
HUNDRED = Decimal(100)


@dataclass
class Line:
    wire: Json
    amount: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    discounted: bool = False
    errors: list[str] = field(default_factory=list)


def number(value: Any, name: str, errors: list[str]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        errors.append(f"'{value}' is not a valid value for {name}.")
        return None
    if not result.is_finite():
        errors.append(f"'{value}' is not a valid value for {name}.")
        return None
    return result


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


def build_line(
    org: Organisation,
    raw: Json,
    *,
    sales: bool,
    approving: bool,
    amounts: str,
    unitdp: int,
) -> Line:
    errors: list[str] = []
    wire: Json = {"LineItemID": str(raw.get("LineItemID") or uuid.uuid4())}
    item = None
    code = raw.get("ItemCode")
    if code not in (None, ""):
        item = org.item(str(code))
        if item is None:
            errors.append(f"Item code '{code}' is not valid.")
    details = (item or {}).get("SalesDetails" if sales else "PurchaseDetails") or {}
    description = raw.get("Description")
    if not (isinstance(description, str) and description.strip()) and item:
        description = item.get("Description") or item.get("Name")
    if not (isinstance(description, str) and description.strip()):
        errors.append("The description field is mandatory for each line item.")
    wire["Description"] = description if isinstance(description, str) else ""

    quantity = number(raw.get("Quantity"), "Quantity", errors)
    unit = number(raw.get("UnitAmount"), "UnitAmount", errors)
    given = number(raw.get("LineAmount"), "LineAmount", errors)
    if unit is None and given is None and item is not None:
        unit = number(details.get("UnitPrice"), "UnitPrice", errors)
    if quantity is None and (unit is not None or given is not None):
        quantity = Decimal(1)
    if quantity is not None and quantity < 0:
        errors.append(
            f"The quantity value '{quantity.quantize(QUANTITY)}' is invalid. "
            "Quantity must not be less than zero."
        )
    places = QUANTITY if unitdp == 4 else CENT
    rate = number(raw.get("DiscountRate"), "DiscountRate", errors)
    off = number(raw.get("DiscountAmount"), "DiscountAmount", errors)
    if unit is not None:
        quantity = (quantity or Decimal(0)).quantize(QUANTITY, ROUND_HALF_UP)
        unit = unit.quantize(places, ROUND_HALF_UP)
        gross = quantity * unit
        expected = cents(gross * (HUNDRED - rate) / HUNDRED if rate else gross - (off or 0))
        if given is not None and cents(given) != expected:
            errors.append(
                f"The line total {cents(given)} does not match the expected line total {expected}."
            )
        amount = expected
    elif given is not None:
        quantity = (quantity or Decimal(1)).quantize(QUANTITY, ROUND_HALF_UP)
        amount = cents(given)
        unit = (amount / quantity).quantize(places, ROUND_HALF_UP) if quantity else amount
    else:
        amount = Decimal(0)
    if quantity is not None:
        wire["Quantity"] = float(quantity)
    if unit is not None:
        wire["UnitAmount"] = float(unit)
    if item is not None:
        wire["ItemCode"] = item["Code"]
        wire["Item"] = {
            "ItemID": item["ItemID"],
            "Name": item.get("Name", ""),
            "Code": item["Code"],
        }

    account = _account(org, raw, details, approving, errors)
    if account is not None:
        wire["AccountCode"] = account.get("Code", "")
        wire["AccountID"] = account["AccountID"]
    tax = _tax(org, raw, details, account, amounts, amount, errors)
    wire["TaxType"] = tax[0]
    wire["TaxAmount"] = money(tax[1])
    wire["LineAmount"] = money(amount)
    wire["Tracking"] = raw.get("Tracking") or []
    for name, value in (("DiscountRate", rate), ("DiscountAmount", off)):
        if value:
            wire[name] = float(value)
    return Line(wire, amount, tax[1], bool(rate or off), errors)


def _account(
    org: Organisation, raw: Json, details: Json, approving: bool, errors: list[str]
) -> Json | None:
    code = raw.get("AccountCode") or details.get("AccountCode")
    account_id = raw.get("AccountID")
    if not code and not account_id:
        if approving:
            errors.append("Account code must be specified")
        return None
    account = org.account(code=str(code)) if code else org.account(account_id=str(account_id))
    shown = code or account_id
    if account is None:
        errors.append(f"Account code '{shown}' is not a valid code for this document.")
        return None
    if account.get("Status") != "ACTIVE":
        errors.append(
            f"Account code '{shown}' has been archived or has been deleted. Each line item must "
            "reference a valid account."
        )
        return None
    unusable = account.get("SystemAccount") or (
        account.get("Type") == "BANK" and not account.get("EnablePaymentsToAccount")
    )
    if unusable:
        errors.append(f"Account code '{shown}' is not a valid code for this document.")
        return None
    return account


def _tax(
    org: Organisation,
    raw: Json,
    details: Json,
    account: Json | None,
    amounts: str,
    amount: Decimal,
    errors: list[str],
) -> tuple[str, Decimal]:
    tax_type = raw.get("TaxType") or details.get("TaxType") or (account or {}).get("TaxType")
    if amounts == "NoTax" or not tax_type:
        return (str(tax_type) if tax_type and amounts != "NoTax" else "NONE"), Decimal(0)
    tax_type = str(tax_type)
    rate_row = org.tax_rates.get(tax_type)
    if rate_row is None or rate_row.get("Status") != "ACTIVE":
        errors.append(
            f"The TaxType code {tax_type} does not exist or cannot be used for this type of "
            "transaction."
        )
        return tax_type, Decimal(0)
    if account is not None and rate_row.get(CAN_APPLY.get(str(account.get("Class")), "")) is False:
        errors.append(
            f"The TaxType code '{tax_type}' cannot be used with account code "
            f"'{account.get('Code', '')}'."
        )
    sent = number(raw.get("TaxAmount"), "TaxAmount", errors)
    if sent is not None:
        return tax_type, cents(sent)
    rate = Decimal(str(rate_row.get("EffectiveRate") or 0))
    if amounts == "Inclusive":
        return tax_type, cents(amount * rate / (HUNDRED + rate))
    return tax_type, cents(amount * rate / HUNDRED)
