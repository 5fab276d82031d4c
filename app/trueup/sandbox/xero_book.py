"""The Xero simulator's organisation: its settings, currencies, chart of accounts, tax rates,
contacts and items, as the scenario's `xero` section gives them, and the reads that list them.

The scenario keeps each record in Xero's own shape; what Xero always sends and a scenario may
leave out is filled in as it is served (an ACTIVE status, empty address lists, an
UpdatedDateUTC of the scenario's `as_of`, an account's Class from its Type). A contact's own
sales tax, AccountsReceivableTaxType ("Default tax type used for contact on AR invoices"), is
answered when the scenario gives one, and left out otherwise, as Xero leaves out what is unset.

Reads, as developer.xero.com documents them: `GET /Contacts` pages by 100 with `page` (up to 1000
with `pageSize`; the answer then carries `pagination`), all contacts without it; archived contacts
only with `includeArchived=true`; `IDs`, `where`, `order`, `searchTerm` and `If-Modified-Since`.
Items, Accounts, TaxRates and Currencies take `where` and `order` (Items and Accounts also
If-Modified-Since) and are never paged.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from trueup.sandbox.xero_where import WhereError, compile_where, sort_rows
from trueup.sandbox.xero_wire import Json, ms_date, parse_moment, query_error

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Account Type -> Class (developer.xero.com "Types and codes": Account Class Types).
ACCOUNT_CLASSES = {
    **dict.fromkeys(("BANK", "CURRENT", "FIXED", "INVENTORY", "NONCURRENT", "PREPAYMENT"), "ASSET"),
    **dict.fromkeys(("CURRLIAB", "LIABILITY", "TERMLIAB", "PAYG"), "LIABILITY"),
    **dict.fromkeys(("DEPRECIATN", "DIRECTCOSTS", "EXPENSE", "OVERHEADS"), "EXPENSE"),
    **dict.fromkeys(("OTHERINCOME", "REVENUE", "SALES"), "REVENUE"),
    "EQUITY": "EQUITY",
}
# Account Class -> the tax rate's flag saying it may be used with such an account.
CAN_APPLY = {
    "ASSET": "CanApplyToAssets",
    "EQUITY": "CanApplyToEquity",
    "EXPENSE": "CanApplyToExpenses",
    "LIABILITY": "CanApplyToLiabilities",
    "REVENUE": "CanApplyToRevenue",
}
CURRENCY_NAMES = {
    "USD": "United States Dollar", "CAD": "Canadian Dollar", "GBP": "British Pound",
    "EUR": "Euro", "AUD": "Australian Dollar", "NZD": "New Zealand Dollar",
}  # fmt: skip


def page_params(query: Any) -> tuple[int, int] | None:
    """(page, pageSize) when `page` is given; Xero answers page 1 for page 0 or less."""
    raw = query.get("page")
    if raw is None:
        return None
    try:
        page = max(1, int(raw))
        size = int(query.get("pageSize") or PAGE_SIZE)
    except ValueError:
        raise query_error("page and pageSize must be whole numbers") from None
    return page, min(max(1, size), MAX_PAGE_SIZE)


def paged(rows: list[Json], paging: tuple[int, int]) -> tuple[list[Json], Json]:
    page, size = paging
    count = len(rows)
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": (count + size - 1) // size,
        "itemCount": count,
    }
    return rows[(page - 1) * size : page * size], pagination


def filtered(rows: Iterable[Json], query: Any, since: datetime | None, entity: str) -> list[Json]:
    """`If-Modified-Since`, `where` and `order`, as every list endpoint takes them."""
    found = list(rows)
    if since is not None:
        found = [r for r in found if (parse_moment(r.get("UpdatedDateUTC")) or since) >= since]
    try:
        where = query.get("where")
        if where and where.strip():
            check = compile_where(where, entity)
            found = [r for r in found if check(r)]
        order = query.get("order")
        if order and order.strip():
            found = sort_rows(found, order, entity)
    except WhereError as error:
        raise query_error(str(error)) from None
    return found


def id_list(text: str | None) -> set[str] | None:
    if text is None:
        return None
    return {part.strip().lower() for part in text.split(",") if part.strip()}


def unit_amounts(record: Json, unitdp: int) -> Json:
    """A copy whose UnitPrice / UnitAmount show 2 decimals, or 4 with `unitdp=4`."""
    places = Decimal("0.0001") if unitdp == 4 else Decimal("0.01")

    def fix(holder: Any, key: str) -> None:
        if isinstance(holder, dict) and isinstance(holder.get(key), int | float):
            value = Decimal(str(holder[key])).quantize(places, ROUND_HALF_UP)
            holder[key] = float(value)

    shown = copy.deepcopy(record)
    for details in ("SalesDetails", "PurchaseDetails"):
        fix(shown.get(details), "UnitPrice")
    for line in shown.get("LineItems") or []:
        fix(line, "UnitAmount")
    return shown


class Organisation:
    """The tenant's reference data, read by the document writer and served by the reads."""

    def __init__(self, xero: Json, as_of: datetime) -> None:
        data = copy.deepcopy(xero)
        org = data.get("organisation") or {}
        self.tenant_id = str(org["tenant_id"])
        self.name = str(org["name"])
        self.base_currency = str(org.get("base_currency", "USD"))
        stamp = ms_date(as_of)
        codes = [self.base_currency] + [
            str(c.get("Code") if isinstance(c, dict) else c) for c in org.get("currencies") or []
        ]
        self.currencies = {
            code: {"Code": code, "Description": CURRENCY_NAMES.get(code, code)}
            for code in dict.fromkeys(codes)
        }
        self.settings: Json = {
            "OrganisationID": self.tenant_id,
            "Name": self.name,
            "LegalName": str(org.get("legal_name", self.name)),
            "PaysTax": True,
            "Version": str(org.get("version", "US")),
            "OrganisationType": "COMPANY",
            "BaseCurrency": self.base_currency,
            "CountryCode": str(org.get("country_code", "US")),
            "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE",
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12,
            "SalesTaxBasis": "ACCRUAL",
            "SalesTaxPeriod": "MONTHLY",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive",
            "CreatedDateUTC": stamp,
            "OrganisationEntityType": "COMPANY",
            "Timezone": str(org.get("timezone", "EASTERNSTANDARDTIME")),
            "ShortCode": str(org.get("short_code", "!" + self.tenant_id[:5])),
            "Class": "STANDARD",
            "Edition": "BUSINESS",
            "LineOfBusiness": str(org.get("line_of_business", "IT Services")),
            "Addresses": [],
            "Phones": [],
            "ExternalLinks": [],
            "PaymentTerms": {},
        }
        self.contacts = {
            str(c["ContactID"]).lower(): _contact(c, stamp) for c in _rows(data, "contacts")
        }
        self.items = {str(i["ItemID"]).lower(): _item(i, stamp) for i in _rows(data, "items")}
        self.accounts = {
            str(a["AccountID"]).lower(): _account(a, stamp) for a in _rows(data, "accounts")
        }
        self.tax_rates = {str(t["TaxType"]): _tax_rate(t) for t in _rows(data, "tax_rates")}

    # -- look-ups for the document writer ------------------------------------------------------

    def contact(self, contact_id: str) -> Json | None:
        return self.contacts.get(contact_id.lower())

    def contact_named(self, name: str) -> Json | None:
        wanted = name.strip().casefold()
        return next(
            (c for c in self.contacts.values()
             if c.get("Name", "").strip().casefold() == wanted
             and c["ContactStatus"] != "ARCHIVED"),
            None,
        )  # fmt: skip

    def add_contact(self, name: str, now: datetime) -> Json:
        contact = _contact({"ContactID": str(uuid.uuid4()), "Name": name.strip()}, ms_date(now))
        self.contacts[contact["ContactID"]] = contact
        return contact

    def item(self, code: str) -> Json | None:
        wanted = code.strip().casefold()
        return next((i for i in self.items.values() if str(i["Code"]).casefold() == wanted), None)

    def account(self, code: str | None = None, account_id: str | None = None) -> Json | None:
        for account in self.accounts.values():
            if code is not None and str(account.get("Code", "")).casefold() == code.casefold():
                return account
            if account_id is not None and account["AccountID"].lower() == account_id.lower():
                return account
        return None

    # -- the reads -----------------------------------------------------------------------------

    def list_contacts(self, query: Any, since: datetime | None) -> tuple[list[Json], Json | None]:
        rows: Iterable[Json] = self.contacts.values()
        if query.get("includeArchived", "").lower() != "true":
            rows = [c for c in rows if c["ContactStatus"] != "ARCHIVED"]
        wanted = id_list(query.get("IDs"))
        if wanted is not None:
            rows = [c for c in rows if c["ContactID"].lower() in wanted]
        term = (query.get("searchTerm") or "").strip().casefold()
        if term:
            fields = ("Name", "FirstName", "LastName", "ContactNumber", "CompanyNumber",
                      "EmailAddress")  # fmt: skip
            rows = [c for c in rows if any(term in str(c.get(f, "")).casefold() for f in fields)]
        found = filtered(rows, query, since, "Contact")
        paging = page_params(query)
        if paging is None:
            return found, None
        return paged(found, paging)

    def list_of(self, kind: str, query: Any, since: datetime | None) -> list[Json]:
        rows: dict[str, Callable[[], Iterable[Json]]] = {
            "Items": lambda: self.items.values(),
            "Accounts": lambda: self.accounts.values(),
            "TaxRates": lambda: self.tax_rates.values(),
            "Currencies": lambda: self.currencies.values(),
        }
        entity = {"Items": "Item", "Accounts": "Account", "TaxRates": "TaxRate",
                  "Currencies": "Currency"}[kind]  # fmt: skip
        return filtered(
            rows[kind](), query, since if kind in ("Items", "Accounts") else None, entity
        )

    def one_of(self, kind: str, key: str) -> Json | None:
        lowered = key.lower()
        if kind == "Contacts":
            return self.contacts.get(lowered) or next(
                (
                    c
                    for c in self.contacts.values()
                    if str(c.get("ContactNumber", "")).lower() == lowered
                ),
                None,
            )
        if kind == "Items":
            return self.items.get(lowered) or self.item(key)
        if kind == "Accounts":
            return self.accounts.get(lowered)
        if kind == "TaxRates":
            return self.tax_rates.get(key.upper())
        return None


def _rows(data: Json, key: str) -> list[Json]:
    return [row for row in data.get(key) or [] if isinstance(row, dict)]


def _contact(row: Json, stamp: str) -> Json:
    contact = {"ContactID": str(row["ContactID"]), "ContactStatus": "ACTIVE", **row}
    for key in ("Addresses", "Phones", "ContactGroups", "ContactPersons"):
        contact.setdefault(key, [])
    contact.setdefault("IsSupplier", False)
    contact.setdefault("IsCustomer", False)
    contact.setdefault("HasAttachments", False)
    contact.setdefault("HasValidationErrors", False)
    contact.setdefault("UpdatedDateUTC", stamp)
    return contact


def _item(row: Json, stamp: str) -> Json:
    item = {"ItemID": str(row["ItemID"]), **row}
    item.setdefault("Name", item["Code"])
    item.setdefault("IsSold", bool(item.get("SalesDetails")))
    item.setdefault("IsPurchased", bool(item.get("PurchaseDetails")))
    item.setdefault("IsTrackedAsInventory", False)
    item.setdefault("SalesDetails", {})
    item.setdefault("PurchaseDetails", {})
    item.setdefault("UpdatedDateUTC", stamp)
    return item


def _account(row: Json, stamp: str) -> Json:
    account = {"AccountID": str(row["AccountID"]), "Status": "ACTIVE", **row}
    account.setdefault("Class", ACCOUNT_CLASSES.get(str(account.get("Type")), "ASSET"))
    account.setdefault("EnablePaymentsToAccount", False)
    account.setdefault("ShowInExpenseClaims", False)
    account.setdefault("BankAccountType", "BANK" if account.get("Type") == "BANK" else "")
    account.setdefault("HasAttachments", False)
    account.setdefault("AddToWatchlist", False)
    account.setdefault("UpdatedDateUTC", stamp)
    return account


def _tax_rate(row: Json) -> Json:
    rate = {"Status": "ACTIVE", **row}
    effective = rate.setdefault("EffectiveRate", 0.0)
    rate.setdefault("DisplayTaxRate", effective)
    rate.setdefault("TaxComponents", [{"Name": rate.get("Name", rate["TaxType"]),
                                       "Rate": effective, "IsCompound": False,
                                       "IsNonRecoverable": False}])  # fmt: skip
    for flag in CAN_APPLY.values():
        rate.setdefault(flag, True)
    return rate
