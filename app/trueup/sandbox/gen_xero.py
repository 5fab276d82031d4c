"""Xero's side of a generated world: the MSP's own Xero organisation, in the Accounting API's
shapes, for posting reviewed invoices to Xero.

The MSP is American, so the organisation is a US-edition one: base currency USD, with CAD, GBP and
EUR added for its few foreign clients, and a US organisation's default tax rates as
developer.xero.com lists them ("Tax Rate Constraints", United States: NONE "Tax Exempt", OUTPUT
"Tax on Sales", INPUT "Tax on Purchases", each usable on any account; GSTONIMPORTS "Sales Tax on
Imports", usable on liability accounts only) plus one rate the MSP made itself (TAX001, as Xero
codes user-made rates). The chart is small and US-flavoured; it has a bank account, system
accounts (Accounts Receivable, Sales Tax) and an archived revenue account that lines may not use,
an expense account, and the Sales account (200) every item sells to.

Contacts: one per Halo client (each has a QuickBooks customer), named as in Halo with a few
written differently (", LLC", "and" for "&"), so mapping suggestions are not all exact; the
AccountNumber is the client's Halo accounts id. A few contacts match no Halo client: the
distributor (a supplier), a client gone quiet (archived) and one billed by hand. Items: one per
Halo item, coded by its supplier part code (the Pax8 SKU) or its internal reference.

`as_edition` makes the organisation a UK or Australian one, its overseas clients' contacts
carrying their own sales tax (outside the scope of UK VAT; GST-free exports).

Drawn from its own random stream (seeded from the scenario's seed), so the Pax8, Halo and
QuickBooks sections stay byte for byte what they were before Xero was added.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from trueup.sandbox.gen_world import MSP_NAME, Account, Calendar, new_id

Json = dict[str, Any]
SALES_ACCOUNT = "200"
FOREIGN = ("CAD", "GBP", "EUR")
CURRENCY_NAMES = {"USD": "United States Dollar", "CAD": "Canadian Dollar",
                  "GBP": "British Pound", "EUR": "Euro"}  # fmt: skip
# (code, name, type, tax type, extra fields)
CHART: tuple[tuple[str, str, str, str, Json], ...] = (
    ("090", "Business Bank Account", "BANK", "NONE",
     {"BankAccountNumber": "4417038291", "BankAccountType": "BANK", "CurrencyCode": "USD"}),
    (SALES_ACCOUNT, "Sales", "REVENUE", "NONE",
     {"Description": "Income from any normal business activity"}),
    ("260", "Other Revenue", "REVENUE", "OUTPUT", {}),
    ("270", "Interest Income", "OTHERINCOME", "NONE", {}),
    ("299", "Hardware Resale (old)", "REVENUE", "NONE", {"Status": "ARCHIVED"}),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT", {}),
    ("400", "Advertising", "EXPENSE", "INPUT", {}),
    ("610", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", {"SystemAccount": "CREDITORS"}),
    ("820", "Sales Tax", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
)  # fmt: skip
EVERYWHERE = dict.fromkeys(("CanApplyToAssets", "CanApplyToEquity", "CanApplyToExpenses",
                            "CanApplyToLiabilities", "CanApplyToRevenue"), True)  # fmt: skip
TAX_RATES: tuple[Json, ...] = (
    {"Name": "Tax Exempt", "TaxType": "NONE", "rate": 0.0, **EVERYWHERE},
    {"Name": "Tax on Sales", "TaxType": "OUTPUT", "rate": 0.0, **EVERYWHERE},
    {"Name": "Tax on Purchases", "TaxType": "INPUT", "rate": 0.0, **EVERYWHERE},
    {"Name": "Sales Tax on Imports", "TaxType": "GSTONIMPORTS", "rate": 0.0, **EVERYWHERE,
     "CanApplyToAssets": False, "CanApplyToEquity": False, "CanApplyToExpenses": False,
     "CanApplyToRevenue": False},
    {"Name": "Colorado Sales Tax", "TaxType": "TAX001", "rate": 2.9, **EVERYWHERE},
)  # fmt: skip
OTHER_CONTACTS: tuple[tuple[str, Json], ...] = (
    ("Pax8, Inc.", {"IsSupplier": True, "IsCustomer": False, "AccountNumber": "PAX8"}),
    ("Cascade Pediatric Clinic", {"ContactStatus": "ARCHIVED"}),
    ("Lakeshore Title Company", {}),
)


def render_xero(seed: int, cal: Calendar, accounts: list[Account], halo_items: list[Json]) -> Json:
    rng = random.Random(f"xero/{seed}")
    as_of = datetime(cal.as_of.year, cal.as_of.month, cal.as_of.day, tzinfo=UTC)

    def stamp() -> str:
        moment = as_of - timedelta(days=rng.randint(20, 700), seconds=rng.randint(0, 86399))
        return f"/Date({int(moment.timestamp() * 1000)}+0000)/"

    organisation = {
        "tenant_id": new_id(rng),
        "name": MSP_NAME,
        "legal_name": f"{MSP_NAME} LLC",
        "base_currency": "USD",
        "currencies": [{"Code": code, "Description": CURRENCY_NAMES[code]} for code in FOREIGN],
        "version": "US",
        "country_code": "US",
        "timezone": "MOUNTAINSTANDARDTIME",
        "short_code": "!" + "".join(rng.choice("BCDFGHJKLMNPQRSTVWXZbcdfghjkmnpqrstvwxz2345679")
                                    for _ in range(5)),
    }  # fmt: skip
    chart = [
        {"AccountID": new_id(rng), "Code": code, "Name": name, "Type": kind, "TaxType": tax,
         "Status": "ACTIVE", "EnablePaymentsToAccount": False, "ShowInExpenseClaims": False,
         **extra, "UpdatedDateUTC": stamp()}
        for code, name, kind, tax, extra in CHART
    ]  # fmt: skip
    rates = [_tax_rate(rate) for rate in TAX_RATES]
    return {
        "organisation": organisation,
        "contacts": _contacts(rng, accounts, stamp),
        "items": _items(rng, halo_items, stamp),
        "accounts": chart,
        "tax_rates": rates,
        "invoices": [],
        "credit_notes": [],
    }


def _tax_rate(spec: Json) -> Json:
    rate = spec["rate"]
    flags = {k: v for k, v in spec.items() if k.startswith("CanApplyTo")}
    return {
        "Name": spec["Name"],
        "TaxType": spec["TaxType"],
        "TaxComponents": [{"Name": "State Tax" if rate else spec["Name"], "Rate": rate,
                           "IsCompound": False, "IsNonRecoverable": False}],
        "Status": "ACTIVE",
        **flags,
        "DisplayTaxRate": rate,
        "EffectiveRate": rate,
    }  # fmt: skip


def _contacts(rng: random.Random, accounts: list[Account], stamp: Any) -> list[Json]:
    contacts = []
    clients = [a for a in accounts if a.halo_name]
    varied = set(rng.sample(range(len(clients)), k=min(len(clients), max(1, len(clients) // 12))))
    for index, account in enumerate(clients):
        name = account.halo_name or ""
        if index in varied:
            name = _written_differently(rng, name)
        contact: Json = {
            "ContactID": new_id(rng),
            "ContactStatus": "ACTIVE",
            "Name": name,
            "AccountNumber": account.qbo_id,
            "EmailAddress": f"accounts@{account.website}",
            "IsSupplier": False,
            "IsCustomer": True,
        }
        if account.currency != "USD":
            contact["DefaultCurrency"] = account.currency
        contact["UpdatedDateUTC"] = stamp()
        contacts.append(contact)
    taken = {c["Name"].casefold() for c in contacts}
    for name, extra in OTHER_CONTACTS:
        if name.casefold() in taken:
            continue
        contacts.append({"ContactID": new_id(rng), "ContactStatus": "ACTIVE", "Name": name,
                         "IsSupplier": False, "IsCustomer": True, **extra,
                         "UpdatedDateUTC": stamp()})  # fmt: skip
    return contacts


def _written_differently(rng: random.Random, name: str) -> str:
    """The same company as the books might have it: another legal suffix, "and" for "&"."""
    for ending, other in (
        (", LLC", " LLC"),
        (" LLC", ", LLC"),
        (", Inc.", " Inc"),
        (" Inc.", ", Inc."),
        (" Corp.", ""),
        (", P.C.", ""),
        (", PLLC", ""),
    ):
        if name.endswith(ending):
            return name[: -len(ending)] + other
    if " & " in name:
        return name.replace(" & ", " and ")
    if " and " in name:
        return name.replace(" and ", " & ")
    return name + rng.choice((" LLC", " Inc.", ", Inc."))


def _items(rng: random.Random, halo_items: list[Json], stamp: Any) -> list[Json]:
    items: list[Json] = []
    codes: set[str] = set()
    for halo in halo_items:
        code = str(halo.get("supplier_part_code") or halo.get("internalreference") or "")
        if not code:
            code = re.sub(r"[^A-Z0-9]+", "-", str(halo.get("name", "")).upper()).strip("-")
        code = code[:30]
        while code.casefold() in codes:
            code = code[:28] + f"-{len(codes) % 100:02d}"
        codes.add(code.casefold())
        items.append({
            "ItemID": new_id(rng),
            "Code": code,
            "Name": str(halo.get("name", code))[:50],
            "Description": str(halo.get("description") or halo.get("name") or code),
            "IsSold": True,
            "IsPurchased": False,
            "IsTrackedAsInventory": False,
            "SalesDetails": {"UnitPrice": halo.get("recurringprice", 0.0),
                             "AccountCode": SALES_ACCOUNT, "TaxType": "NONE"},
            "UpdatedDateUTC": stamp(),
        })  # fmt: skip
    return items


# The UK and Australian editions' own rates, as developer.xero.com lists them ("Tax Rate
# Constraints" and the regional TaxType tables): (TaxType, name, rate, for sales, for purchases).
EDITIONS: dict[str, Json] = {
    "GB": {"currency": "GBP", "version": "UK", "timezone": "GMTSTANDARDTIME",
           "standard": "OUTPUT2", "purchases": "INPUT2",
           # Services to a business abroad are outside the scope of UK VAT: "No VAT".
           "overseas": "NONE",
           "rates": (("OUTPUT2", "20% (VAT on Income)", 20.0, True, False),
                     ("INPUT2", "20% (VAT on Expenses)", 20.0, False, True),
                     ("RROUTPUT", "5% (VAT on Income)", 5.0, True, False),
                     ("ZERORATEDOUTPUT", "Zero Rated Income", 0.0, True, False),
                     ("EXEMPTOUTPUT", "Exempt Income", 0.0, True, False),
                     ("NONE", "No VAT", 0.0, True, True))},
    "AU": {"currency": "AUD", "version": "AU", "timezone": "AUSEASTERNSTANDARDTIME",
           "standard": "OUTPUT", "purchases": "INPUT",
           # Services to a business abroad are GST-free exports.
           "overseas": "EXEMPTEXPORT",
           "rates": (("OUTPUT", "GST on Income", 10.0, True, False),
                     ("INPUT", "GST on Expenses", 10.0, False, True),
                     ("EXEMPTOUTPUT", "GST Free Income", 0.0, True, False),
                     ("EXEMPTEXPORT", "GST Free Exports", 0.0, True, False),
                     ("BASEXCLUDED", "BAS Excluded", 0.0, True, True))},
}  # fmt: skip


def as_edition(xero: Json, country: str) -> Json:
    """The generated organisation as a UK ("GB") or Australian ("AU") one: that base currency
    (the US dollar added beside the others), that edition's tax rates, its standard rate on the
    chart's sales accounts and every item, and on each contact billed in another currency than
    the base (an overseas client) that edition's tax type for an export of services as the
    contact's own sales default, AccountsReceivableTaxType."""
    edition = EDITIONS[country]
    base = edition["currency"]
    old = xero["organisation"]
    kept = [c for c in old["currencies"] if c["Code"] != base]
    organisation = {**old, "base_currency": base, "version": edition["version"],
                    "country_code": country, "timezone": edition["timezone"],
                    "currencies": [{"Code": old["base_currency"],
                                    "Description": CURRENCY_NAMES.get(old["base_currency"], "")},
                                   *kept]}  # fmt: skip
    rates = [
        _tax_rate({"Name": name, "TaxType": tax, "rate": rate, **EVERYWHERE,
                   "CanApplyToRevenue": sales, "CanApplyToExpenses": purchases})
        for tax, name, rate, sales, purchases in edition["rates"]
    ]  # fmt: skip
    own = {"REVENUE": edition["standard"], "DIRECTCOSTS": edition["purchases"],
           "EXPENSE": edition["purchases"]}  # fmt: skip
    accounts = [{**a, "TaxType": own.get(a["Type"], "NONE")} for a in xero["accounts"]]
    items = [
        {**i, "SalesDetails": {**i["SalesDetails"], "TaxType": edition["standard"]}}
        if "SalesDetails" in i else i
        for i in xero["items"]
    ]  # fmt: skip
    contacts = [
        {**c, "AccountsReceivableTaxType": edition["overseas"]}
        if c.get("DefaultCurrency") not in (None, base) else c
        for c in xero["contacts"]
    ]  # fmt: skip
    return {**xero, "organisation": organisation, "tax_rates": rates, "accounts": accounts,
            "items": items, "contacts": contacts}  # fmt: skip
