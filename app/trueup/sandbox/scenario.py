"""The sandbox scenario file (contract.md §4): one JSON file is a whole Pax8 + Halo + QBO + Xero
world."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from trueup.core.errors import TrueupError
from trueup.core.values.months import FIRST_YEAR, LAST_YEAR

DEFAULT_CREDENTIALS = {"client_id": "sandbox", "client_secret": "sandbox"}


class ScenarioError(TrueupError, ValueError):
    """An invalid scenario file; the message names the object and the field."""


@dataclass
class Scenario:
    as_of: datetime
    pax8: dict[str, Any] = field(default_factory=dict)
    halo: dict[str, Any] = field(default_factory=dict)
    qbo: dict[str, Any] = field(default_factory=dict)
    xero: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)

    def credentials_for(self, service: str) -> dict[str, str]:
        return self.credentials.get(service, DEFAULT_CREDENTIALS)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. Raises ScenarioError with a one-line reason."""
    try:
        data = json.loads(
            Path(path).read_text(encoding="utf-8"),
            parse_float=_finite,
            parse_constant=_no_constant,
        )
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"scenario {path} is not UTF-8 text (byte {exc.start + 1} is not): save it as UTF-8"
        ) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"scenario {path} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except RecursionError:
        raise ScenarioError(f"scenario {path} nests its lists or objects too deep") from None
    except ValueError as exc:  # _finite's or _no_constant's, from inside the parser
        raise ScenarioError(f"scenario {path}: {exc}") from None
    return parse_scenario(data)


def _finite(text: str) -> float:
    """A JSON number as float reads it, when finite: 1e400 was read as infinity and served as
    `Infinity`, which the clients (as JSON) refuse, naming the simulator, not the file."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON (no number is)")


def parse_scenario(data: Any) -> Scenario:
    """Check the shape the simulators and the sync rely on (identity fields, their types, dates,
    history keys) and wrap it. Fields beyond those are the APIs' own business and pass through."""
    if not isinstance(data, dict):
        raise ScenarioError("scenario: the top level must be a JSON object")
    try:
        as_of = datetime.fromisoformat(str(data["as_of"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise ScenarioError("scenario: 'as_of' must be an ISO timestamp") from exc
    if not FIRST_YEAR <= as_of.year <= LAST_YEAR:  # its month's arithmetic left the calendar
        raise ScenarioError(
            f"scenario: 'as_of' {as_of.date().isoformat()} is outside the years trueup bills "
            f"({FIRST_YEAR}-{LAST_YEAR})"
        )
    sections = {name: _section(data, name) for name in ("pax8", "halo", "qbo", "xero")}
    for name, collections in RULES.items():
        for collection, rules in collections.items():
            _check_list(sections[name], f"{name}.{collection}", collection, rules)
    _check_history(sections["pax8"])
    _check_organisation(sections["xero"])
    if sections["qbo"].get("company") is not None:
        _check_object(sections["qbo"]["company"], "qbo.company", QBO_COMPANY)
    credentials = _section(data, "credentials")
    for service, pair in credentials.items():
        _check_object(
            pair,
            f"credentials.{service}",
            (_required("client_id", STRING), _required("client_secret", STRING)),
        )
    return Scenario(
        as_of=as_of,
        pax8=sections["pax8"],
        halo=sections["halo"],
        qbo=sections["qbo"],
        xero=sections["xero"],
        credentials=credentials,
    )


Kind = tuple[Callable[[Any], bool], str]  # a check and what it wants, for the message


class Rule(NamedTuple):
    name: str
    kind: Kind
    required: bool  # an optional field may also be null


Nested = tuple[str, tuple[Rule, ...]]  # a list of objects inside each object: (key, its rules)


def _is_date(value: Any) -> bool:
    """Dates come as 2026-11-01, 2026-11-01T00:00:00, ...Z, ...-0600 or ...-06:00."""
    if type(value) is not str:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_commitment(value: Any) -> bool:
    return type(value) is dict and (value.get("endDate") is None or _is_date(value["endDate"]))


STRING: Kind = (lambda v: type(v) is str, "a string")
INTEGER: Kind = (lambda v: type(v) is int, "an integer")
NUMBER: Kind = (lambda v: type(v) in (int, float), "a number")
BOOLEAN: Kind = (lambda v: type(v) is bool, "true or false")
DATE: Kind = (_is_date, "a date or timestamp")
COMMITMENT: Kind = (_is_commitment, "an object whose 'endDate' is a timestamp")
STATUSES = (
    "Active",
    "Cancelled",
    "PendingManual",
    "PendingAutomated",
    "PendingCancel",
    "WaitingForDetails",
    "Trial",
    "Converted",
    "PendingActivation",
    "Activated",
)
BILLING_TERMS = ("Monthly", "Annual", "2-Year", "3-Year", "One-Time", "Trial", "Activation")


def _one_of(values: tuple[str, ...]) -> Kind:
    return (lambda v: type(v) is str and v in values), "one of " + ", ".join(values)


def _is_price_details(value: Any) -> bool:
    return (
        type(value) is dict
        and all(
            value.get(key) is None or type(value[key]) is str for key in ("AccountCode", "TaxType")
        )
        and (value.get("UnitPrice") is None or type(value["UnitPrice"]) in (int, float))
    )


PRICE_DETAILS: Kind = (_is_price_details, "an object with UnitPrice, AccountCode, TaxType")


def _optional_one_of(name: str, values: tuple[str, ...]) -> Rule:
    return Rule(name, _one_of(values), False)


def _required(name: str, kind: Kind) -> Rule:
    return Rule(name, kind, True)


def _optional(kind: Kind, *names: str) -> tuple[Rule, ...]:
    return tuple(Rule(name, kind, False) for name in names)


SUBSCRIPTION = (
    *(_required(name, STRING) for name in ("id", "companyId", "productId")),
    _required("quantity", NUMBER),
    _required("status", _one_of(STATUSES)),
    _required("billingTerm", _one_of(BILLING_TERMS)),
    *_optional(NUMBER, "price", "partnerCost"),
    *_optional(DATE, "startDate", "endDate", "createdDate", "updatedDate", "billingStart"),
    *_optional(STRING, "currencyCode"),
    *_optional(COMMITMENT, "commitmentTerm"),
)
INVOICE_ITEM = (
    _required("id", STRING),
    *_optional(STRING, "companyId", "subscriptionId", "productId"),
    *_optional(DATE, "startPeriod", "endPeriod"),
    *_optional(NUMBER, "quantity", "price", "cost", "subTotal", "costTotal", "total", "amountDue"),
)
USAGE_LINE = (
    *_optional(DATE, "usageDate"),
    *_optional(NUMBER, "quantity", "unitPrice", "currentCharges", "partnerTotal", "currentProfit"),
)
HALO_LINE = (
    *_optional(NUMBER, "qty_order", "unit_price", "net_amount"),
    *_optional(BOOLEAN, "isinactive"),
)
# Halo allows free-text lines with no item, so _itemid is checked only when present.
RECURRING_LINE = (_required("id", INTEGER), *_optional(INTEGER, "_itemid"), *HALO_LINE)
INVOICE_LINE = (_required("id", INTEGER), *_optional(INTEGER, "_itemid"), *HALO_LINE)
HALO_INVOICE = (
    _required("id", INTEGER),
    *_optional(INTEGER, "client_id"),
    *_optional(DATE, "invoice_date", "duedate", "lastcreated", "nextcreationdate"),
)

# collection -> (its rules, the list nested in each of its objects or None)
RULES: dict[str, dict[str, tuple[tuple[Rule, ...], Nested | None]]] = {
    "pax8": {
        "companies": (
            (
                _required("id", STRING),
                _required("name", STRING),
                *_optional(STRING, "externalId"),
                *_optional(DATE, "updatedDate"),
            ),
            None,
        ),
        "products": ((_required("id", STRING), _required("name", STRING)), None),
        "subscriptions": (SUBSCRIPTION, None),
        "orders": (
            (
                _required("id", STRING),
                *_optional(STRING, "companyId"),
                *_optional(DATE, "createdDate"),
            ),
            ("lineItems", _optional(STRING, "productId", "subscriptionId")),
        ),
        "invoices": (
            (
                _required("id", STRING),
                *_optional(DATE, "invoiceDate", "dueDate"),
                *_optional(NUMBER, "total"),
                *_optional(STRING, "status"),
            ),
            ("items", INVOICE_ITEM),
        ),
        "usage_summaries": (
            (
                _required("id", STRING),
                *_optional(STRING, "companyId", "subscriptionId"),
                *_optional(NUMBER, "currentCharges", "partnerTotal"),
            ),
            ("lines", USAGE_LINE),
        ),
    },
    "halo": {
        "clients": ((_required("id", INTEGER), _required("name", STRING)), None),
        "sites": ((_required("id", INTEGER), *_optional(NUMBER, "client_id")), None),
        "items": ((_required("id", INTEGER), *_optional(STRING, "name")), None),
        "recurring_invoices": (HALO_INVOICE, ("lines", RECURRING_LINE)),
        "licences": (
            (
                _required("id", INTEGER),
                *_optional(INTEGER, "client_id"),
                *_optional(NUMBER, "count"),
            ),
            None,
        ),
        "external_links": (
            (
                _required("id", INTEGER),
                *_optional(INTEGER, "halo_id"),
                *_optional(STRING, "third_party_id"),
            ),
            None,
        ),
        "invoices": (HALO_INVOICE, ("lines", INVOICE_LINE)),
    },
    "qbo": {
        "customers": ((_required("Id", STRING),), None),
        "items": ((_required("Id", STRING),), None),
        "invoices": (_optional(STRING, "Id"), None),
        "creditmemos": (_optional(STRING, "Id"), None),
        "tax_codes": ((_required("Id", STRING), *_optional(STRING, "Name")), None),
        "tax_rates": ((_required("Id", STRING), *_optional(NUMBER, "RateValue")), None),
    },
    # Xero's own shapes (the Accounting API's Contact, Item, Account, TaxRate, Invoice, CreditNote).
    "xero": {
        "contacts": (
            (
                _required("ContactID", STRING),
                _required("Name", STRING),
                _optional_one_of("ContactStatus", ("ACTIVE", "ARCHIVED", "GDPRREQUEST")),
                *_optional(STRING, "AccountNumber", "ContactNumber", "DefaultCurrency"),
                *_optional(BOOLEAN, "IsCustomer", "IsSupplier"),
            ),
            None,
        ),
        "items": (
            (
                _required("ItemID", STRING),
                _required("Code", STRING),
                *_optional(STRING, "Name", "Description"),
                *_optional(BOOLEAN, "IsSold", "IsPurchased"),
                *_optional(PRICE_DETAILS, "SalesDetails", "PurchaseDetails"),
            ),
            None,
        ),
        "accounts": (
            (
                _required("AccountID", STRING),
                _required("Name", STRING),
                _required("Type", STRING),
                *_optional(STRING, "Code", "TaxType", "SystemAccount"),
                _optional_one_of("Status", ("ACTIVE", "ARCHIVED", "DELETED")),
            ),
            None,
        ),
        "tax_rates": (
            (
                _required("TaxType", STRING),
                _required("Name", STRING),
                _optional_one_of("Status", ("ACTIVE", "DELETED", "ARCHIVED", "PENDING")),
                *_optional(NUMBER, "EffectiveRate", "DisplayTaxRate"),
                *_optional(
                    BOOLEAN,
                    "CanApplyToAssets",
                    "CanApplyToEquity",
                    "CanApplyToExpenses",
                    "CanApplyToLiabilities",
                    "CanApplyToRevenue",
                ),
            ),
            None,
        ),
        "invoices": ((_required("InvoiceID", STRING), _required("Type", STRING)), None),
        "credit_notes": ((_required("CreditNoteID", STRING), _required("Type", STRING)), None),
    },
}


def _got(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


IDENTITY_KEYS = ("id", "Id", "ContactID", "ItemID", "AccountID", "TaxType", "InvoiceID",
                 "CreditNoteID")  # fmt: skip


def _label(path: str, obj: Mapping[str, Any]) -> str:
    ident = next((obj[k] for k in IDENTITY_KEYS if obj.get(k) is not None), None)
    if type(ident) not in (str, int):
        return path
    text = str(ident)
    return f"{path} (id {text if len(text) <= 8 else text[:8] + '…'})"


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    section = data.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ScenarioError(f"scenario: '{name}' must be an object, got {_got(section)}")
    return section


def _check_list(
    section: Mapping[str, Any],
    path: str,
    key: str,
    rules: tuple[tuple[Rule, ...], Nested | None],
) -> None:
    objects = section.get(key)
    if objects is None:
        return
    if type(objects) is not list:
        raise ScenarioError(f"{path} must be a list of objects, got {_got(objects)}")
    own, nested = rules
    for index, obj in enumerate(objects):
        label = _check_object(obj, f"{path}[{index}]", own)
        if nested:
            _check_list(obj, f"{label}.{nested[0]}", nested[0], (nested[1], None))


def _check_object(obj: Any, path: str, rules: tuple[Rule, ...]) -> str:
    """Check one object against its rules; returns its label for nested paths."""
    if type(obj) is not dict:
        raise ScenarioError(f"{path} must be an object, got {_got(obj)}")
    for name, (check, wants), required in rules:
        value = obj.get(name)
        if value is None:
            if required:
                raise ScenarioError(f"{_label(path, obj)}: '{name}' is required ({wants})")
        elif not check(value):
            raise ScenarioError(f"{_label(path, obj)}: '{name}' must be {wants}, got {_got(value)}")
    return _label(path, obj)


QBO_COMPANY = (
    *_optional(STRING, "Country", "CompanyName", "HomeCurrency"),
    *_optional(BOOLEAN, "MultiCurrencyEnabled"),
)
ORGANISATION = (
    _required("tenant_id", STRING),
    _required("name", STRING),
    _required("base_currency", STRING),
)


def _check_organisation(xero: Mapping[str, Any]) -> None:
    """The Xero organisation: its tenant id, name, base currency and the other currencies it
    has added (codes, or Currency objects with a Code)."""
    organisation = xero.get("organisation")
    if organisation is None:
        return
    _check_object(organisation, "xero.organisation", ORGANISATION)
    currencies = organisation.get("currencies")
    if currencies is None:
        return
    if type(currencies) is not list:
        raise ScenarioError(f"xero.organisation.currencies must be a list, got {_got(currencies)}")
    for index, currency in enumerate(currencies):
        code = currency.get("Code") if type(currency) is dict else currency
        if type(code) is not str or len(code) != 3:
            raise ScenarioError(
                f'xero.organisation.currencies[{index}] must be a currency code like "CAD" '
                f'or {{"Code": "CAD"}}, got {_got(currency)}'
            )


def _check_history(pax8: Mapping[str, Any]) -> None:
    """Snapshots are full subscriptions, keyed by the id of one in pax8.subscriptions."""
    history = pax8.get("subscription_history")
    if history is None:
        return
    if type(history) is not dict:
        raise ScenarioError(f"pax8.subscription_history must be an object, got {_got(history)}")
    known = {sub.get("id") for sub in pax8.get("subscriptions") or ()}
    for sub_id, snapshots in history.items():
        path = f"pax8.subscription_history[{json.dumps(sub_id)}]"
        if sub_id not in known:
            raise ScenarioError(f"{path}: names no subscription in pax8.subscriptions")
        if type(snapshots) is not list:
            raise ScenarioError(f"{path} must be a list of objects, got {_got(snapshots)}")
        for index, snapshot in enumerate(snapshots):
            label = _check_object(snapshot, f"{path}[{index}]", SUBSCRIPTION)
            if snapshot["id"] != sub_id:
                raise ScenarioError(
                    f"{label}: 'id' must be the subscription's, {json.dumps(sub_id)}"
                )
