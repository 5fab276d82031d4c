"""How each synced API object becomes a row: its table, its key and its parsed columns.

Parsing is tolerant: a record without its identity is refused (counted as failed); any other
missing or malformed value becomes NULL in its column, while the raw JSON keeps what was sent.
Numbers are the exception. One out of range refuses its record; so does a Pax8 number that is
not a number at all ("12,50", "abc"): Pax8 sends money and counts as JSON numbers, and one
stored as NULL was billed as nothing (a summary or an arrears item as 0.00, an invoice item
left out of the month's cost) without a word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Table

from trueup.core.store import tables as m
from trueup.core.values.bounds import INT64, MAX_ID
from trueup.core.values.bounds import MONEY_LIMIT as MONEY_LIMIT
from trueup.core.values.bounds import QUANTITY_LIMIT as QUANTITY_LIMIT
from trueup.core.values.parsing import (
    commitment_end,
    parse_day,
    parse_instant,
    to_bool,
    to_decimal,
    to_int,
    to_name,
    to_text,
)
from trueup.core.values.text import visible

Row = dict[str, Any]


class RecordError(ValueError):
    """A record that cannot be stored at all (no usable identity)."""


class OutOfRange(RecordError):
    """A value no real record holds (a number infinite, NaN, or past the field's bounds; a Pax8
    number that is no number; an id no store key should be): the record is refused, naming the
    field, and the stored rows of its kind are kept for this sync."""


@dataclass(frozen=True)
class Entity:
    name: str
    table: Table
    parse: Callable[[dict[str, Any], dict[str, Any]], Row]
    # How a sync replaces the stored rows with the fetched ones:
    #   "all"    the fetch is the complete list: rows not fetched are deleted
    #   "scoped" the fetch is complete within each scope (a parent id): rows of a fetched scope
    #            that were not fetched are deleted, other scopes are left alone
    #   "upsert" rows not fetched are kept (e.g. older invoices outside the window)
    replace: str
    scope_column: str | None = None
    label: str = ""


def _text_id(raw: dict[str, Any], field: str = "id") -> str:
    """A text id (Pax8's are GUIDs): at most MAX_ID characters, no space or control character.
    Another one would be a store key no reference can name (references are stored with their
    control characters made visible), and text printed raw wherever ids are shown."""
    value = raw.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordError(f"no '{field}'")
    text = str(value) if type(value) is int else value
    if not isinstance(text, str) or len(text) > MAX_ID or _unprintable(text):
        raise OutOfRange(
            f"'{field}' {repr(value)[:40]} is not an id (at most {MAX_ID} characters, no spaces)"
        )
    return text


def _unprintable(text: str) -> bool:
    return visible(text) != text or any(character.isspace() for character in text)


def _int_id(raw: dict[str, Any], field: str = "id") -> int:
    value = _int_ref(raw, field)
    if value is None:
        raise RecordError(f"'{field}' is not an integer: {raw.get(field)!r}")
    return value


def _int_ref(raw: dict[str, Any], field: str) -> int | None:
    """An integer id (None when absent or junk); one past SQLite's integer is refused, judged
    before it is made an int: 1e1000000, eleven characters of JSON, took half a minute."""
    value = raw.get(field)
    number = to_decimal(value)
    if number is not None and number.copy_abs() > INT64:
        shown = str(value) if len(str(value)) <= 40 else f"{number:.3E}"
        raise OutOfRange(f"'{field}' {shown} is past the largest id a store can hold")
    return to_int(value)


def _quantity(raw: dict[str, Any], field: str, *, pax8: bool = False) -> Decimal | None:
    return _bounded(raw, field, QUANTITY_LIMIT, pax8=pax8)


def _seats(raw: dict[str, Any], field: str) -> Decimal | None:
    """A subscription's seats: below 0 is no count one holds (billed, it credits the client)."""
    number = _quantity(raw, field, pax8=True)
    if number is not None and number < 0:
        raise OutOfRange(f"'{field}' {number} is below 0: a subscription holds 0 seats or more")
    return number


def _money(raw: dict[str, Any], field: str, *, pax8: bool = False) -> Decimal | None:
    return _bounded(raw, field, MONEY_LIMIT, pax8=pax8)


def _running_total(raw: dict[str, Any], field: str) -> Decimal | None:
    """A usage summary's total of the month so far: below 0 is no total Pax8 bills (stored, it
    billed the client a credit)."""
    number = _money(raw, field, pax8=True)
    if number is not None and number < 0:
        raise OutOfRange(f"'{field}' {number} is below 0: a month's usage totals 0 or more")
    return number


def _bounded(
    raw: dict[str, Any], field: str, limit: Decimal, *, pax8: bool = False
) -> Decimal | None:
    """The field's number (None when absent); a number out of bounds or not finite refuses the
    record, and so does a `pax8` one that is no number at all (elsewhere it reads as absent)."""
    value = raw.get(field)
    number = to_decimal(value)
    if number is None:
        if _numeric(value):
            raise OutOfRange(f"'{field}' {str(value)[:40]!r} is not a finite number")
        if pax8 and value is not None:
            raise OutOfRange(f"'{field}' {str(value)[:40]!r} is not a number")
        return None
    if number.copy_abs() > limit:
        shown = str(value) if len(str(value)) <= 40 else f"{number:.3E}"
        raise OutOfRange(f"'{field}' {shown} is out of range (at most {limit:,} in size)")
    return number


def _numeric(value: Any) -> bool:
    """Spelled as a number (NaN and Infinity included), though not a usable one."""
    if isinstance(value, float | Decimal):
        return True
    if not isinstance(value, str):
        return False
    try:
        Decimal(value.strip())
    except InvalidOperation:
        return False
    return True


def _instant(value: Any) -> Any:
    return parse_instant(value)


def pax8_company(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _text_id(raw),
        "name": to_name(raw.get("name")),
        "external_id": to_text(raw.get("externalId")),
        "status": to_text(raw.get("status")),
        "bill_on_behalf": to_bool(raw.get("billOnBehalfOfEnabled")),
        "updated_at": _instant(raw.get("updatedDate")),
    }


def pax8_product(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _text_id(raw),
        "name": to_name(raw.get("name")),
        "vendor_name": to_name(raw.get("vendorName")),
        "sku": to_text(raw.get("sku")),
        "vendor_sku": to_text(raw.get("vendorSku")),
    }


def _commitment_term(raw: dict[str, Any]) -> str | None:
    # The 2022 wire called it "commitment"; today it is "commitmentTerm".
    commitment = raw.get("commitmentTerm", raw.get("commitment"))
    return to_text(commitment.get("term")) if isinstance(commitment, dict) else None


def pax8_subscription(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _text_id(raw),
        "company_id": to_text(raw.get("companyId")),
        "product_id": to_text(raw.get("productId")),
        "product_name": to_name(raw.get("productName")),
        "quantity": _seats(raw, "quantity"),
        "status": to_text(raw.get("status")),
        "billing_term": to_text(raw.get("billingTerm")),
        "commitment_term": _commitment_term(raw),
        "commitment_end": commitment_end(raw),
        "price": _money(raw, "price", pax8=True),
        "partner_cost": _money(raw, "partnerCost", pax8=True),
        "currency": to_text(raw.get("currencyCode")),
        "start_at": _instant(raw.get("startDate")),
        "end_at": _instant(raw.get("endDate")),
        "billing_start": parse_day(raw.get("billingStart")),
        "created_at": _instant(raw.get("createdDate")),
        "updated_at": _instant(raw.get("updatedDate")),
    }


def pax8_snapshot(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    # extra: the subscription it belongs to and its place in the history, newest first.
    return {
        "subscription_id": _text_id(extra, "subscription_id"),
        "position": _int_id(extra, "position"),
        "quantity": _seats(raw, "quantity"),
        "status": to_text(raw.get("status")),
        "price": _money(raw, "price", pax8=True),
        "partner_cost": _money(raw, "partnerCost", pax8=True),
        "updated_at": _instant(raw.get("updatedDate")),
        "end_at": _instant(raw.get("endDate")),
    }


def pax8_invoice(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _text_id(raw),
        "invoice_date": parse_day(raw.get("invoiceDate")),
        "due_date": parse_day(raw.get("dueDate")),
        "status": to_text(raw.get("status")),
        "company_id": to_text(raw.get("companyId")),
        "total": _money(raw, "total", pax8=True),
        "balance": _money(raw, "balance", pax8=True),
        "currency": to_text(raw.get("currencyCode")),
    }


def pax8_invoice_item(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _text_id(raw),
        "invoice_id": _text_id(extra, "invoice_id"),
        "type": to_text(raw.get("type")),
        "company_id": to_text(raw.get("companyId")),
        "subscription_id": to_text(raw.get("subscriptionId")),
        "product_id": to_text(raw.get("productId")),
        "sku": to_text(raw.get("sku")),
        "term": to_text(raw.get("term")),
        "start_period": parse_day(raw.get("startPeriod")),
        "end_period": parse_day(raw.get("endPeriod")),
        "quantity": _quantity(raw, "quantity", pax8=True),
        "price": _money(raw, "price", pax8=True),
        "cost": _money(raw, "cost", pax8=True),
        "subtotal": _money(raw, "subTotal", pax8=True),
        "cost_total": _money(raw, "costTotal", pax8=True),
        "total": _money(raw, "total", pax8=True),
        "currency": to_text(raw.get("currencyCode")),
        "unit": to_text(raw.get("unitOfMeasure")),
    }


def pax8_usage_summary(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _text_id(raw),
        "month": _text_id(extra, "month"),
        "subscription_id": to_text(raw.get("subscriptionId") or extra.get("subscription_id")),
        "company_id": to_text(raw.get("companyId")),
        "product_id": to_text(raw.get("productId")),
        "resource_group": to_text(raw.get("resourceGroup")),
        "current_charges": _running_total(raw, "currentCharges"),
        "partner_total": _running_total(raw, "partnerTotal"),
        "currency": to_text(raw.get("currencyCode")),
        "is_trial": to_bool(raw.get("isTrial")),
    }


def halo_client(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _int_id(raw),
        "name": to_name(raw.get("name")),
        "inactive": to_bool(raw.get("inactive")),
        "toplevel_id": _int_ref(raw, "toplevel_id"),
        "ref": to_text(raw.get("ref")),
        "accounts_id": to_text(raw.get("accountsid")),
    }


def halo_site(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _int_id(raw),
        "client_id": _int_ref(raw, "client_id"),
        "name": to_name(raw.get("name")),
        "inactive": to_bool(raw.get("inactive")),
    }


def halo_item(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    inactive = to_bool(raw.get("inactive"))
    status = _int_ref(raw, "status")
    return {
        "id": _int_id(raw),
        "name": to_name(raw.get("name")),
        "inactive": inactive if inactive is not None else (status not in (None, 0)),
        "supplier_part_code": to_text(raw.get("supplier_part_code")),
        "internal_reference": to_text(raw.get("internalreference")),
        "external_reference": to_text(raw.get("externalreference")),
        "recurring_price": _money(raw, "recurringprice"),
        "recurring_cost": _money(raw, "recurringcost"),
    }


def halo_recurring_invoice(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _int_id(raw),
        "client_id": _int_ref(raw, "client_id"),
        "disabled": to_bool(raw.get("disabled")),
        "reference": to_text(raw.get("reference")),
        "currency": to_text(raw.get("currency_code") or raw.get("currency")),
    }


def halo_recurring_invoice_line(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _int_id(raw),
        "invoice_id": _int_id(raw if "ihid" in raw else extra, "ihid"),
        "item_id": _int_ref(raw, "_itemid"),
        "description": to_text(raw.get("item_shortdescription")),
        "quantity": _quantity(raw, "qty_order"),
        "unit_price": _money(raw, "unit_price"),
        "unit_cost": _money(raw, "unit_cost"),
        "inactive": to_bool(raw.get("isinactive")),
        "ends": parse_day(raw.get("enddate")),
    }


def halo_licence(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    active = to_bool(raw.get("is_active"))
    return {
        "id": _int_id(raw),
        "client_id": _int_ref(raw, "client_id"),
        "name": to_name(raw.get("name")),
        "count": _money(raw, "count"),
        "third_party_product": to_text(raw.get("third_party_product")),
        "third_party_client_id": to_text(raw.get("thirdparty_client_id")),
        "active": active if not to_bool(raw.get("deleted")) else False,
    }


def halo_external_link(raw: dict[str, Any], extra: dict[str, Any]) -> Row:
    return {
        "id": _int_id(raw),
        "table_id": _int_ref(raw, "table_id"),
        "halo_id": _int_ref(raw, "halo_id"),
        "third_party_id": to_text(raw.get("third_party_id")),
        "third_party_type": to_text(raw.get("third_party_type")),
    }


def _entity(
    name: str,
    model: Any,
    parse: Callable[[dict[str, Any], dict[str, Any]], Row],
    replace: str,
    label: str,
    scope_column: str | None = None,
) -> Entity:
    return Entity(name, m.table_of(model), parse, replace, scope_column, label)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        _entity("pax8_company", m.Pax8Company, pax8_company, "all", "companies"),
        _entity("pax8_product", m.Pax8Product, pax8_product, "upsert", "products"),
        _entity("pax8_subscription", m.Pax8Subscription, pax8_subscription, "all", "subscriptions"),
        _entity(
            "pax8_subscription_snapshot",
            m.Pax8SubscriptionSnapshot,
            pax8_snapshot,
            "scoped",
            "history snapshots",
            "subscription_id",
        ),
        _entity("pax8_invoice", m.Pax8Invoice, pax8_invoice, "upsert", "invoices"),
        _entity(
            "pax8_invoice_item",
            m.Pax8InvoiceItem,
            pax8_invoice_item,
            "scoped",
            "invoice items",
            "invoice_id",
        ),
        _entity(
            "pax8_usage_summary",
            m.Pax8UsageSummary,
            pax8_usage_summary,
            "upsert",
            "usage summaries",
        ),
        _entity("halo_client", m.HaloClient, halo_client, "all", "clients"),
        _entity("halo_site", m.HaloSite, halo_site, "all", "sites"),
        _entity("halo_item", m.HaloItem, halo_item, "all", "items"),
        _entity(
            "halo_recurring_invoice",
            m.HaloRecurringInvoice,
            halo_recurring_invoice,
            "all",
            "recurring invoices",
        ),
        _entity(
            "halo_recurring_invoice_line",
            m.HaloRecurringInvoiceLine,
            halo_recurring_invoice_line,
            "all",
            "recurring invoice lines",
        ),
        _entity("halo_licence", m.HaloLicence, halo_licence, "all", "licences"),
        _entity(
            "halo_external_link", m.HaloExternalLink, halo_external_link, "all", "external links"
        ),
    )
}

SOURCE_ENTITIES = {
    "pax8": [name for name in ENTITIES if name.startswith("pax8_")],
    "halo": [name for name in ENTITIES if name.startswith("halo_")],
}
