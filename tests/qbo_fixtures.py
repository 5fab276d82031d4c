"""A small QuickBooks world and the means to drive QboClient against the simulator: a refresh
token store that records what it was handed, transports that record or script answers, and a
switch that turns faults on for a stretch of a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from trueup.core.sources.http import RetryPolicy
from trueup.core.sources.qbo import QboClient, token_url_for
from trueup.sandbox.common import FaultInjector, FaultSpec
from trueup.sandbox.qbo import create_qbo_app
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.transport import SandboxTransport

REALM = "9341453050071234"
BASE = "http://qbo.test"
FIRST_REFRESH_TOKEN = "RT-initial"
CREDENTIALS = {"client_id": "ABqbo", "client_secret": "qbo-secret",
               "refresh_token": FIRST_REFRESH_TOKEN, "realm_id": REALM}  # fmt: skip
FAST = RetryPolicy(max_attempts=8, backoff_base=0.001, backoff_cap=0.01, max_retry_after=0.01)
CUSTOMERS = [
    {"Id": "58", "DisplayName": "Acme Dental LLC", "Active": True,
     "CurrencyRef": {"value": "USD", "name": "United States Dollar"}},
    {"Id": "59", "DisplayName": "Beta Logistics", "Active": True},
    {"Id": "60", "DisplayName": "Closed Co", "Active": False},
    {"Id": "61", "DisplayName": "O'Brien & Sons", "Active": True},
    {"Id": "62", "DisplayName": "Delta Dental", "Active": True},
]  # fmt: skip
ITEMS = [
    {"Id": "21", "Name": "Managed Seat", "Sku": "MS-SEAT", "Type": "Service", "UnitPrice": 50,
     "Active": True},
    {"Id": "4", "Name": "Labour", "Type": "Service", "UnitPrice": 75, "Active": True},
    {"Id": "5", "Name": "Retired", "Type": "Service", "Active": False},
]  # fmt: skip


# A Canadian company: HST ON (13%) and GST (5%), and an inactive code; customers in CAD with
# their own default tax codes, one in USD.
CANADA = {
    "company": {"Country": "CA", "HomeCurrency": "CAD", "MultiCurrencyEnabled": True},
    "tax_codes": [
        {"Id": "5", "Name": "HST ON", "Active": True,
         "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "13"}}]}},
        {"Id": "3", "Name": "GST", "Active": True,
         "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "8"}}]}},
        {"Id": "9", "Name": "PST BC (retired)", "Active": False},
    ],
    "tax_rates": [{"Id": "13", "Name": "HST ON", "RateValue": 13},
                  {"Id": "8", "Name": "GST", "RateValue": 5}],
}  # fmt: skip
CANADIAN_CUSTOMERS = [
    {"Id": "58", "DisplayName": "Acme Dental LLC", "Active": True,
     "CurrencyRef": {"value": "CAD"}, "DefaultTaxCodeRef": {"value": "5"}},
    {"Id": "59", "DisplayName": "Beta Logistics", "Active": True,
     "CurrencyRef": {"value": "USD"}, "DefaultTaxCodeRef": {"value": "3"}},
    {"Id": "62", "DisplayName": "Delta Dental", "Active": True, "CurrencyRef": {"value": "CAD"}},
]  # fmt: skip


def qbo_app(
    customers: list[dict[str, Any]] = CUSTOMERS,
    invoices: list[dict[str, Any]] | None = None,
    company: dict[str, Any] | None = None,
    **options: Any,
) -> FaultInjector:
    """The simulator without a rate limit; its `spec` is None until `faults` sets one. With
    `company` (CANADA), the company and its tax codes and rates; else a US one."""
    books = {"customers": customers, "items": ITEMS, "invoices": invoices or [], **(company or {})}
    data = {"as_of": "2026-11-21T00:00:00Z", "credentials": {"qbo": CREDENTIALS}, "qbo": books}
    options.setdefault("rate_limit", None)
    app = create_qbo_app(parse_scenario(data), **options)
    assert isinstance(app, FaultInjector)
    return app


@contextmanager
def faults(
    app: FaultInjector, slow_seconds: float = 0.5, seed: int = 0, **rates: float
) -> Iterator[FaultInjector]:
    """Inject faults (kind=rate; `lost_500` for lost-500) until the block ends."""
    app.spec = FaultSpec(
        {kind.replace("_", "-"): rate for kind, rate in rates.items()}, seed, slow_seconds
    )
    try:
        yield app
    finally:
        app.spec = None


class TokenBook:
    """What a caller's durable store would be: every refresh token handed over, in order."""

    def __init__(self, fail: bool = False) -> None:
        self.tokens: list[str] = []
        self.fail = fail

    def __call__(self, token: str) -> None:
        if self.fail:
            raise OSError(f"disk full while writing {token}")
        self.tokens.append(token)


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on, keeping each one; `script` answers the next /v3 requests first."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.script: list[httpx.Response | Exception] = []
        self.answers: list[tuple[str, int, bytes]] = []  # (method, status, body) that arrived

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script and request.url.path.startswith("/v3/"):
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        response = await self.inner.handle_async_request(request)
        self.answers.append((request.method, response.status_code, await response.aread()))
        return response

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/v3/")]

    def token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/oauth2/v1/tokens/bearer"]


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def qbo_client(
    app: Any,
    book: Any = None,
    *,
    base: str = BASE,
    refresh_token: str | None = FIRST_REFRESH_TOKEN,
    client_secret: str = CREDENTIALS["client_secret"],
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> QboClient:
    options.setdefault("rate", None)
    options.setdefault("retry", FAST)
    if transport is None and app is not None:
        transport = SandboxTransport(app=app)
    return QboClient(
        base,
        REALM,
        CREDENTIALS["client_id"],
        client_secret,
        refresh_token,
        book if book is not None else TokenBook(),
        token_url=token_url_for(base),
        transport=transport,
        **options,
    )
