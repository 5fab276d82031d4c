"""The company a QuickBooks simulator stands for: its country, its currencies and, outside the
US, its tax codes; and what they make of a sale's lines and currency.

The scenario's `qbo.company` (`{"Country", "CompanyName", "HomeCurrency", "MultiCurrencyEnabled"}`;
by default a US company in USD without multicurrency) is served as CompanyInfo and Preferences,
`qbo.tax_codes` and `qbo.tax_rates` as TaxCode and TaxRate, in QuickBooks' own shapes.

Tax follows QuickBooks' two models (Intuit's "Manage sales tax for non-US locales" and its US
counterpart; the country is CompanyInfo's, as integrators tell them apart):
- US: a line's TaxCodeRef, when given, is TAX or NON, else 6100 "Invalid Line TaxCode in the
  request" (a 2015 report quotes "Valid line TaxCodes for US should be TAX or NON"). No tax is
  computed: Automated Sales Tax works from addresses this simulator does not model.
- Elsewhere: every sales line needs a TaxCodeRef naming an active TaxCode, else 6000 "Make sure
  all your transactions have a GST/HST rate before you save." (Canada; "a VAT rate" in the UK:
  activepieces issue 8539, intuit/quickbooks-online-mcp-server issue 94, quickbooks-ruby issues
  322 and 351). The tax is each line's amount times its code's sales rates, rounded to the cent
  per rate over the document (the rounding is unconfirmed); TaxInclusive amounts are refused as
  not modelled.
Currency: with multicurrency on, a sale is in its customer's currency (Connex's guide: "the
incoming order and customer currency code in QuickBooks are identical"); without it, in the home
currency. Either refusal is a 6000 whose words are this simulator's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
BUSINESS_RULE = "A business validation error has occurred while processing your request"
US_LINE_CODES = ("TAX", "NON")
# What a non-US company calls the rate a line lacks, in QuickBooks' words.
RATE_NAMES = {"CA": "GST/HST", "GB": "VAT", "UK": "VAT", "IE": "VAT"}

Row = dict[str, Any]
Fault = Callable[[str, str, str], Exception]  # (code, message, detail) -> what to raise


@dataclass(frozen=True)
class Taxed:
    """A sale's tax as QuickBooks answers it."""

    total: Decimal
    detail: Row  # the TxnTaxDetail to answer with


class QboCompany:
    def __init__(self, data: Row, realm_id: str, fault: Fault) -> None:
        company = data.get("company") or {}
        self.country = str(company.get("Country") or "US")
        self.home_currency = str(company.get("HomeCurrency") or "USD")
        self.multicurrency = bool(company.get("MultiCurrencyEnabled", False))
        self.name = str(company.get("CompanyName") or f"Sandbox Company_{self.country}_1")
        self.realm_id = realm_id
        self.fault = fault

    @property
    def is_us(self) -> bool:
        return self.country == "US"

    def info(self) -> Row:
        """CompanyInfo, as `GET companyinfo/{realm}` and a query answer it."""
        return {
            "Id": "1",
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "CompanyName": self.name,
            "LegalName": self.name,
            "Country": self.country,
            "SupportedLanguages": "en",
            "DefaultTimeZone": "America/Los_Angeles",
        }

    def preferences(self) -> Row:
        return {
            "Id": "1",
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "CurrencyPrefs": {
                "MultiCurrencyEnabled": self.multicurrency,
                "HomeCurrency": {"value": self.home_currency},
            },
            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": self.is_us},
            "SalesFormsPrefs": {"CustomTxnNumbers": True},
        }

    def currency_of(self, body: Row, customer: Row) -> str:
        """The sale's currency: the one it names, which must be the customer's (multicurrency)
        or the home currency (no multicurrency)."""
        named = _ref(body.get("CurrencyRef"))
        own = _ref(customer.get("CurrencyRef")) or self.home_currency
        allowed = own if self.multicurrency else self.home_currency
        currency = named or allowed
        if currency != allowed:
            why = (
                f"customer {customer.get('Id')} is in {own}"
                if self.multicurrency
                else f"multicurrency is off and the home currency is {self.home_currency}"
            )
            raise self.fault(
                "6000",
                BUSINESS_RULE,
                f"Business Validation Error: {currency} cannot be used: {why}.",
            )
        return currency

    def tax(
        self, body: Row, lines: list[Row], codes: dict[str, Row], rates: dict[str, Row]
    ) -> Taxed:
        """Check each sales line's TaxCodeRef and compute the tax QuickBooks would."""
        if self.is_us:
            for line in lines:
                named = _ref(_detail(line).get("TaxCodeRef"))
                if named and named not in US_LINE_CODES:
                    raise self.fault(
                        "6100",
                        "Invalid Line TaxCode in the request",
                        f"Valid line TaxCodes for US should be TAX or NON. Supplied value: {named}",
                    )
            return Taxed(Decimal(0), {**(body.get("TxnTaxDetail") or {}), "TotalTax": 0})
        if body.get("GlobalTaxCalculation") == "TaxInclusive":
            raise self.fault("6000", BUSINESS_RULE, "TaxInclusive amounts are not modelled here.")
        applies = body.get("GlobalTaxCalculation") != "NotApplicable"
        taxable: dict[str, Decimal] = {}  # tax rate id -> the amount it applies to
        for line in lines:
            code = codes.get(_ref(_detail(line).get("TaxCodeRef")))
            if code is None or code.get("Active") is False:
                rate = RATE_NAMES.get(self.country, "GST")
                raise self.fault(
                    "6000",
                    BUSINESS_RULE,
                    f"Business Validation Error: Make sure all your transactions have a {rate} "
                    "rate before you save.",
                )
            for rate_id in _sales_rates(code) if applies else ():
                taxable[rate_id] = taxable.get(rate_id, Decimal(0)) + _amount(line)
        tax_lines = []
        for rate_id, net in sorted(taxable.items()):
            percent = _percent(rates.get(rate_id))
            amount = (net * percent / 100).quantize(CENT, ROUND_HALF_UP)
            tax_lines.append(
                {
                    "Amount": float(amount),
                    "DetailType": "TaxLineDetail",
                    "TaxLineDetail": {
                        "TaxRateRef": {"value": rate_id},
                        "PercentBased": True,
                        "TaxPercent": float(percent),
                        "NetAmountTaxable": float(net),
                    },
                }
            )
        total = sum((Decimal(str(t["Amount"])) for t in tax_lines), Decimal(0))
        return Taxed(total, {"TotalTax": float(total), "TaxLine": tax_lines})


def _detail(line: Row) -> Row:
    detail = line.get("SalesItemLineDetail")
    return detail if isinstance(detail, dict) else {}


def _ref(value: Any) -> str:
    return str(value.get("value") or "") if isinstance(value, dict) else ""


def _amount(line: Row) -> Decimal:
    return Decimal(str(line.get("Amount", 0)))


def _sales_rates(code: Row) -> list[str]:
    listed = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    return [_ref(d.get("TaxRateRef")) for d in listed if isinstance(d, dict)]


def _percent(rate: Row | None) -> Decimal:
    try:
        return Decimal(str((rate or {}).get("RateValue", 0)))
    except InvalidOperation:
        return Decimal(0)
