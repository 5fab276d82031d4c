"""The local copy of the accounting system's catalog (QuickBooks' company, customers, items and
tax codes; Xero's contacts, items, accounts and tax rates), which the `qbo` and `xero` mappings
choose from.

A refresh fetches every list completely before it touches the store, then replaces the tables
in one transaction: a failed fetch leaves the last good copy as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert
from sqlmodel import SQLModel

from trueup.core.errors import TrueupError
from trueup.core.sources.http import Row
from trueup.core.sources.qbo import QboClient
from trueup.core.sources.xero import XeroClient
from trueup.core.store import tables as m
from trueup.core.store.books_company import (
    QBO_MAPPINGS,
    keep_realm,
    other_company,
    qbo_mapped,
    stored_realm,
)
from trueup.core.store.database import Database
from trueup.core.store.json_text import dump_json
from trueup.core.store.logbook import log_event
from trueup.core.values.parsing import to_bool, to_decimal, to_text


class OtherCompanyError(TrueupError):
    """The store's QuickBooks mappings were made from another company's lists."""


async def refresh_qbo_catalog(
    db: Database, client: QboClient, *, new_company: bool = False
) -> dict[str, int]:
    """Replace the stored QuickBooks company, customers, items and tax codes; their counts.
    Refused (before anything is read) when the store's mappings are another company's, unless
    `new_company`: then those mappings are forgotten with that company's lists."""
    realm = client.realm_id
    with db.read() as conn:
        stored, mapped = stored_realm(conn), qbo_mapped(conn)
    moved = stored is not None and stored != realm
    if moved and mapped and not new_company:
        raise OtherCompanyError(other_company(stored or "", realm))
    company = _company_rows(await client.company())
    customers = _by_id(_customer_row(raw) for raw in await client.customers())
    items = _by_id(_item_row(raw) for raw in await client.items())
    codes = _by_id(_tax_code_row(raw) for raw in await client.tax_codes())
    # The same company's again: nothing to forget (a store refreshed before any was kept: the
    # operator's word that it changed).
    forgotten = QBO_MAPPINGS if new_company and stored != realm else ()
    lists: dict[type[SQLModel], list[Row]] = {
        m.QboCompany: company,
        m.QboCustomer: customers,
        m.QboItem: items,
        m.QboTaxCode: codes,
    }
    with db.write() as conn:
        _replace(conn, {**{model: [] for model in forgotten}, **lists})
        keep_realm(conn, realm)
        if forgotten and mapped:
            log_event(conn, "warning", "books_mappings_forgotten", source="qbo", count=mapped,
                      company=stored, now=realm)  # fmt: skip
    return {"customers": len(customers), "items": len(items), "tax_codes": len(codes)}


async def refresh_xero_catalog(db: Database, client: XeroClient) -> dict[str, int]:
    """Replace the stored Xero contacts, items, accounts and tax rates; return their counts."""
    contacts = _by_id(_contact_row(raw) for raw in await client.contacts())
    items = _by_id(_xero_item_row(raw) for raw in await client.items())
    accounts = _by_key("code", (_account_row(raw) for raw in await client.accounts()))
    rates = _by_key("tax_type", (_tax_rate_row(raw) for raw in await client.tax_rates()))
    with db.write() as conn:
        _replace(
            conn,
            {
                m.XeroContact: contacts,
                m.XeroItem: items,
                m.XeroAccount: accounts,
                m.XeroTaxRate: rates,
            },
        )
    return {
        "contacts": len(contacts),
        "items": len(items),
        "accounts": len(accounts),
        "tax_rates": len(rates),
    }


def _replace(conn: Connection, tables: dict[type[SQLModel], list[Row]]) -> None:
    for model, rows in tables.items():
        table = m.table_of(model)
        conn.execute(delete(table))
        if rows:
            conn.execute(insert(table), rows)


def _company_rows(raw: Row) -> list[Row]:
    """The company's one row; none when QuickBooks names no company (nothing is assumed)."""
    info, preferences = raw.get("CompanyInfo"), raw.get("Preferences")
    info = info if isinstance(info, dict) else {}
    currencies = preferences.get("CurrencyPrefs") if isinstance(preferences, dict) else None
    currencies = currencies if isinstance(currencies, dict) else {}
    identifier = to_text(info.get("Id"))
    if not identifier:
        return []
    return [
        {
            "id": identifier,
            "country": to_text(info.get("Country")),
            "home_currency": to_text(_ref_value(currencies.get("HomeCurrency"))),
            "multicurrency": to_bool(currencies.get("MultiCurrencyEnabled")),
            "raw": dump_json(raw),  # both objects: the preferences hold the currencies
        }
    ]


def _customer_row(raw: Row) -> Row | None:
    return _with_id(
        raw,
        name=to_text(raw.get("DisplayName")),
        active=to_bool(raw.get("Active")),
        currency=to_text(_ref_value(raw.get("CurrencyRef"))),
        tax_code=to_text(_ref_value(raw.get("DefaultTaxCodeRef"))),
    )


def _tax_code_row(raw: Row) -> Row | None:
    return _with_id(raw, name=to_text(raw.get("Name")), active=to_bool(raw.get("Active")))


def _item_row(raw: Row) -> Row | None:
    return _with_id(
        raw,
        name=to_text(raw.get("Name")),
        sku=to_text(raw.get("Sku")),
        type=to_text(raw.get("Type")),
        active=to_bool(raw.get("Active")),
    )


def _contact_row(raw: Row) -> Row | None:
    return _with_id(
        raw,
        "ContactID",
        name=to_text(raw.get("Name")),
        account_number=to_text(raw.get("AccountNumber")),
        status=to_text(raw.get("ContactStatus")),
        currency=to_text(raw.get("DefaultCurrency")),
    )


def _xero_item_row(raw: Row) -> Row | None:
    code = to_text(raw.get("Code"))
    details = raw.get("SalesDetails")
    sales: Row = details if isinstance(details, dict) else {}
    if not code:
        return None  # an invoice line names an item by its code
    return _with_id(
        raw,
        "ItemID",
        code=code,
        name=to_text(raw.get("Name")),
        sold=to_bool(raw.get("IsSold")),
        account_code=to_text(sales.get("AccountCode")),
        tax_type=to_text(sales.get("TaxType")),
    )


def _account_row(raw: Row) -> Row | None:
    code = to_text(raw.get("Code"))
    if not code:
        return None  # a bank account may have no code; no line can name it
    return {
        "code": code,
        "name": to_text(raw.get("Name")),
        "type": to_text(raw.get("Type")),
        "status": to_text(raw.get("Status")),
        "tax_type": to_text(raw.get("TaxType")),
        "raw": dump_json(raw),
    }


def _tax_rate_row(raw: Row) -> Row | None:
    tax_type = to_text(raw.get("TaxType"))
    if not tax_type:
        return None
    return {
        "tax_type": tax_type,
        "name": to_text(raw.get("Name")),
        "status": to_text(raw.get("Status")),
        "revenue": to_bool(raw.get("CanApplyToRevenue")),
        "rate": to_decimal(raw.get("EffectiveRate")),
        "raw": dump_json(raw),
    }


def _with_id(raw: Row, key: str = "Id", **columns: Any) -> Row | None:
    identifier = to_text(raw.get(key))
    if not identifier:
        return None  # nothing could map to it
    return {"id": identifier, **columns, "raw": dump_json(raw)}


def _ref_value(ref: Any) -> Any:
    return ref.get("value") if isinstance(ref, dict) else None


def _by_id(rows: Iterable[Row | None]) -> list[Row]:
    return _by_key("id", rows)


def _by_key(key: str, rows: Iterable[Row | None]) -> list[Row]:
    """One row per key (a page boundary shifting under us may repeat one): the last wins."""
    return list({row[key]: row for row in rows if row is not None}.values())
