"""The shared client machinery (core.sources.http), driven through Pax8Client on a fake wire."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from trueup.core.sources.http import ApiError, RetryPolicy, encode_json
from trueup.core.sources.pax8 import Pax8Client

BASE = "https://api.pax8.test/v1"
SECRET = "pax8-secret-Zq81xv"

Answer = (
    httpx.Response
    | Exception
    | Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
)


class Wire:
    """Pax8 as the client sees it: a token endpoint that checks the secret and issues distinct
    bearer tokens, data routes that require a live one, and a script of answers to play first."""

    def __init__(self, *script: Answer, lifetime: int = 86400) -> None:
        self.script = list(script)
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.live: set[str] = set()
        self.data_requests: list[httpx.Request] = []

    def revoke_tokens(self) -> None:
        self.live.clear()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/token":
            grant = json.loads(request.content)
            if grant["client_secret"] != SECRET:
                return httpx.Response(
                    401, json={"error": "access_denied", "error_description": "Unauthorized"}
                )
            token = f"eyJ.token-{len(self.issued) + 1}.sig"
            self.issued.append(token)
            self.live.add(token)
            body = {"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"}
            return httpx.Response(200, json=body)
        self.data_requests.append(request)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.live:
            return httpx.Response(401, json={"type": "UNAUTHORIZED", "message": "Unauthorized"})
        if self.script:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            if isinstance(answer, httpx.Response):
                return answer
            result = answer(request)
            return await result if inspect.isawaitable(result) else result
        return httpx.Response(200, json={"id": "c1", "name": "Acme Dental"})


class Sleeps:
    """Stands in for asyncio.sleep: records each backoff instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client_for(
    wire: Wire, sleeps: Sleeps, clock: Clock | None = None, secret: str = SECRET, **options: Any
) -> Pax8Client:
    options.setdefault("rate", None)
    return Pax8Client(
        BASE,
        "pax8-client-id",
        secret,
        transport=httpx.MockTransport(wire.handle),
        sleep=sleeps,
        clock=clock or Clock(),
        **options,
    )


def raw(status: int, text: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, text=text, headers={"Content-Type": "application/json", **headers}
    )


# -- token ---------------------------------------------------------------------------------


async def test_token_is_fetched_once_and_reused(sleeps: Sleeps) -> None:
    wire = Wire()
    async with client_for(wire, sleeps) as pax8:
        await asyncio.gather(*(pax8.request("GET", "/companies/c1") for _ in range(20)))
        assert wire.issued == ["eyJ.token-1.sig"]
        assert pax8.stats.token_requests == 1
        assert pax8.stats.requests == 21
        assert {r.headers["Authorization"] for r in wire.data_requests} == {
            "Bearer eyJ.token-1.sig"
        }


@pytest.mark.parametrize(
    ("lifetime", "renew_after"),
    [(86400, 77760), (3600, 3240), (120, 60), (30, 15)],  # 90%, or 60 s early, never < half
)
async def test_token_is_renewed_shortly_before_it_expires(
    sleeps: Sleeps, clock: Clock, lifetime: int, renew_after: int
) -> None:
    wire = Wire(lifetime=lifetime)
    async with client_for(wire, sleeps, clock) as pax8:
        await pax8.request("GET", "/companies/c1")
        clock.now += renew_after - 0.5
        await pax8.request("GET", "/companies/c1")
        assert len(wire.issued) == 1
        clock.now += 1
        await pax8.request("GET", "/companies/c1")
        assert len(wire.issued) == 2
        assert wire.data_requests[-1].headers["Authorization"] == "Bearer eyJ.token-2.sig"


async def test_rejected_token_is_refreshed_once_and_the_request_retried(sleeps: Sleeps) -> None:
    wire = Wire()
    async with client_for(wire, sleeps) as pax8:
        await pax8.request("GET", "/companies/c1")
        wire.revoke_tokens()  # e.g. rotated credentials: the cached token is now refused
        assert await pax8.request("GET", "/companies/c1") == {"id": "c1", "name": "Acme Dental"}
        assert len(wire.issued) == 2
        assert sleeps.waits == [0.0]


async def test_concurrent_401s_share_one_refresh(sleeps: Sleeps) -> None:
    wire = Wire()
    async with client_for(wire, sleeps) as pax8:
        await pax8.request("GET", "/companies/c1")
        wire.revoke_tokens()
        await asyncio.gather(*(pax8.request("GET", "/companies/c1") for _ in range(8)))
        assert len(wire.issued) == 2


async def test_second_401_is_an_auth_error(sleeps: Sleeps) -> None:
    wire = Wire(*[httpx.Response(401, json={"message": "Unauthorized"})] * 3)
    async with client_for(wire, sleeps) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    assert (caught.value.kind, caught.value.status) == ("auth", 401)
    assert len(wire.issued) == 2
    assert len(wire.data_requests) == 2
    assert str(caught.value) == (
        "Pax8 rejected a fresh access token for GET /v1/companies (401): "
        "check TRUEUP_PAX8_CLIENT_ID / TRUEUP_PAX8_CLIENT_SECRET"
    )


async def test_wrong_secret_is_a_one_line_auth_error_that_never_shows_the_secret(
    sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "WRONG-secret-7731"
    wire = Wire()
    pax8 = client_for(wire, sleeps, secret=wrong)
    async with pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    error = caught.value
    assert (error.service, error.kind, error.status) == ("Pax8", "auth", 401)
    assert str(error) == (
        "Pax8 rejected the client id or secret (401 access_denied): "
        "check TRUEUP_PAX8_CLIENT_ID / TRUEUP_PAX8_CLIENT_SECRET"
    )
    assert pax8.stats.token_requests == 1  # a refused secret is not retried
    assert wrong not in str(error) + repr(error) + repr(pax8) + caplog.text
    assert "POST /v1/token -> 401" in caplog.text


async def test_check_credentials_asks_for_a_new_token(sleeps: Sleeps) -> None:
    wire = Wire()
    async with client_for(wire, sleeps) as pax8:
        await pax8.request("GET", "/companies/c1")
        await pax8.check_credentials()
        assert len(wire.issued) == 2
    async with client_for(wire, sleeps, secret="wrong-one") as pax8:
        with pytest.raises(ApiError, match="rejected the client id or secret"):
            await pax8.check_credentials()


async def test_logs_name_method_path_status_but_never_tokens(
    sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="trueup.http")
    wire = Wire(httpx.Response(503))
    async with client_for(wire, sleeps) as pax8:
        await pax8.request("GET", "/companies/c1")
    assert "Pax8 GET /v1/companies/c1 -> 503 (attempt 1" in caplog.text
    assert "Pax8 GET /v1/companies/c1 -> 200 (attempt 2" in caplog.text
    assert "eyJ" not in caplog.text
    assert SECRET not in caplog.text


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(429, json={"type": "TOO_MANY_REQUESTS", "message": "Too many requests"}),
        httpx.Response(500, json={"type": "INTERNAL_SERVER_ERROR", "message": "boom"}),
        httpx.Response(502, text="<html>Bad Gateway</html>", headers={"Content-Type": "text/html"}),
        httpx.Response(503),
        httpx.Response(504),
        httpx.Response(408),
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("The read operation timed out"),
        httpx.ConnectTimeout("timed out"),
        raw(200, '{"content": [{"id": "c1", "price": 26.4'),  # cut off mid-body
        raw(200, "{'content': []}"),  # not JSON at all
    ],
    ids=lambda failure: type(failure).__name__ + str(getattr(failure, "status_code", "")),
)
async def test_transient_failures_are_retried_then_succeed(sleeps: Sleeps, failure: Answer) -> None:
    wire = Wire(failure, failure)
    async with client_for(wire, sleeps) as pax8:
        assert await pax8.request("GET", "/companies/c1") == {"id": "c1", "name": "Acme Dental"}
        assert pax8.stats.retries == 2
        assert len(wire.data_requests) == 3
    assert len(sleeps.waits) == 2
    assert 0 <= sleeps.waits[0] <= 0.5
    assert 0 <= sleeps.waits[1] <= 1.0


async def test_retry_after_seconds_is_honoured(sleeps: Sleeps) -> None:
    wire = Wire(httpx.Response(429, headers={"Retry-After": "7"}))
    async with client_for(wire, sleeps) as pax8:
        await pax8.request("GET", "/companies/c1")
        assert pax8.stats.rate_limited == 1
    assert 7 <= sleeps.waits[0] <= 7.5


async def test_retry_after_http_date_is_honoured(sleeps: Sleeps) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    wire = Wire(httpx.Response(503, headers={"Retry-After": when}))
    async with client_for(wire, sleeps) as pax8:
        await pax8.request("GET", "/companies/c1")
    assert 17 <= sleeps.waits[0] <= 20


async def test_backoff_is_exponential_with_full_jitter_and_capped(sleeps: Sleeps) -> None:
    policy = RetryPolicy(max_attempts=8, backoff_base=0.5, backoff_cap=4.0)
    wire = Wire(*[httpx.Response(503)] * 7)
    async with client_for(wire, sleeps, retry=policy) as pax8:
        await pax8.request("GET", "/companies/c1")
    ceilings = [0.5, 1, 2, 4, 4, 4, 4]
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleeps.waits, ceilings, strict=True))


async def test_gives_up_on_rate_limiting_after_the_attempt_budget(sleeps: Sleeps) -> None:
    wire = Wire(*[httpx.Response(429)] * 10)
    async with client_for(wire, sleeps) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
        assert pax8.stats.rate_limited == 6
    assert (caught.value.kind, caught.value.status) == ("rate_limited", 429)
    assert str(caught.value).startswith("Pax8 kept rate-limiting after 6 attempts (429)")
    assert len(wire.data_requests) == 6
    assert len(sleeps.waits) == 5


async def test_gives_up_on_server_errors_after_the_attempt_budget(sleeps: Sleeps) -> None:
    wire = Wire(*[httpx.Response(503)] * 10)
    async with client_for(wire, sleeps, retry=RetryPolicy(max_attempts=3)) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    assert (caught.value.kind, caught.value.status) == ("server", 503)
    assert "after 3 attempts (503 Service Unavailable)" in str(caught.value)
    assert len(wire.data_requests) == 3


@pytest.mark.parametrize(
    ("failure", "kind", "words"),
    [
        (httpx.ReadTimeout("timed out"), "timeout", "did not answer GET /v1/companies in time"),
        (raw(200, '{"content": ['), "bad_response", "kept sending malformed JSON"),
        (httpx.ReadError("reset"), "network", "kept dropping the connection"),
    ],
)
async def test_each_exhausted_failure_has_its_kind(
    sleeps: Sleeps, failure: Answer, kind: str, words: str
) -> None:
    wire = Wire(*[failure] * 6)
    async with client_for(wire, sleeps) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    assert caught.value.kind == kind
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (
            403,
            {"type": "FORBIDDEN", "message": "Access denied for company", "status": 403},
            "permission",
            "Pax8 denied access to /v1/subscriptions (403: Access denied for company): check the "
            "company id, and that the API credentials (Pax8 > Settings > Integrations) may see it",
        ),
        (
            404,
            {"type": "NOT_FOUND", "message": "Company Not Found: 9ba3", "details": []},
            "not_found",
            "Pax8 has no /v1/subscriptions (404: Company Not Found: 9ba3): check TRUEUP_PAX8_URL "
            "ends in /v1 (https://api.pax8.com/v1), or the record is gone",
        ),
        (
            400,
            {"type": "BAD_REQUEST", "message": "size must be\n between 1 and 200"},
            "bad_request",
            "Pax8 rejected GET /v1/subscriptions (400: size must be between 1 and 200)",
        ),
        (
            422,
            {"type": "INVALID_PARAM", "message": "Invalid monthOffset"},
            "bad_request",
            "Pax8 rejected GET /v1/subscriptions (422: Invalid monthOffset)",
        ),
        (501, {}, "server", "Pax8 failed on GET /v1/subscriptions (501): try again later"),
    ],
)
async def test_refusals_are_mapped_and_not_retried(
    sleeps: Sleeps, status: int, body: dict[str, Any], kind: str, message: str
) -> None:
    wire = Wire(httpx.Response(status, json=body))
    async with client_for(wire, sleeps) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/subscriptions", params={"companyId": "9ba3"})
    assert (caught.value.kind, caught.value.status, str(caught.value)) == (kind, status, message)
    assert len(wire.data_requests) == 1
    assert sleeps.waits == []


async def test_a_long_server_message_is_cut_to_one_short_line(sleeps: Sleeps) -> None:
    wire = Wire(httpx.Response(400, text="line one\nline two " + "x" * 500))
    async with client_for(wire, sleeps) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    text = str(caught.value)
    assert "\n" not in text
    assert "line one line two xxx" in text
    assert len(text) < 300
    assert text.endswith("…)")


# -- wrong URLs ----------------------------------------------------------------------------


async def test_connection_refused_names_the_url_and_the_variable(sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/v1"
    pax8 = Pax8Client(base, "id", SECRET, rate=None, sleep=sleeps, retry=RetryPolicy(3))
    async with pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    assert (caught.value.kind, caught.value.status) == ("network", None)
    assert str(caught.value) == (
        f"cannot reach Pax8 at {base}/token: connection refused (tried 3 times) "
        "— check TRUEUP_PAX8_URL"
    )
    assert len(sleeps.waits) == 2


async def test_an_html_page_instead_of_json_is_a_config_error(sleeps: Sleeps) -> None:
    page = "<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"
    wire = Wire(httpx.Response(200, text=page, headers={"Content-Type": "text/html"}))
    async with client_for(wire, sleeps) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    assert caught.value.kind == "config"
    assert str(caught.value) == (
        f"Pax8 at {BASE} answered GET /v1/companies with an HTML page, not JSON: "
        "check TRUEUP_PAX8_URL (https://api.pax8.com/v1)"
    )
    assert len(wire.data_requests) == 1


async def test_no_token_endpoint_is_a_config_error(sleeps: Sleeps) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="Not Found")

    pax8 = Pax8Client(
        "https://api.pax8.test", "id", SECRET, transport=httpx.MockTransport(handle), rate=None
    )
    async with pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    assert caught.value.kind == "config"
    assert str(caught.value) == (
        "Pax8 has no token endpoint at https://api.pax8.test/token (404): check TRUEUP_PAX8_URL"
    )


async def test_a_redirect_is_a_config_error(sleeps: Sleeps) -> None:
    wire = Wire(httpx.Response(301, headers={"Location": "https://www.pax8.com/"}))
    async with client_for(wire, sleeps) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.request("GET", "/companies")
    assert caught.value.kind == "config"
    assert "redirected GET /v1/companies to https://www.pax8.com/ (301)" in str(caught.value)


def test_a_url_without_scheme_is_a_config_error() -> None:
    with pytest.raises(ApiError) as caught:
        Pax8Client("api.pax8.com/v1", "id", SECRET)
    assert caught.value.kind == "config"
    assert "TRUEUP_PAX8_URL must be an http(s) URL" in str(caught.value)


# -- limits --------------------------------------------------------------------------------


async def test_concurrency_is_bounded(sleeps: Sleeps) -> None:
    in_flight = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={"id": "c1"})

    wire = Wire(*[slow] * 12)
    async with client_for(wire, sleeps, concurrency=3) as pax8:
        await asyncio.gather(*(pax8.request("GET", "/companies/c1") for _ in range(12)))
    assert peak == 3


# -- bodies --------------------------------------------------------------------------------


def _floats(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats(item)]
    if isinstance(value, list):
        return [f for item in value for f in _floats(item)]
    return [value] if isinstance(value, float) else []


async def test_money_arrives_as_decimal_never_float(sleeps: Sleeps) -> None:
    body = '{"content": [{"price": 26.40, "partnerCost": 22.00, "quantity": 12, "x": 1e2}]}'
    wire = Wire(raw(200, body))
    async with client_for(wire, sleeps) as pax8:
        parsed = await pax8.request("GET", "/subscriptions")
    row = parsed["content"][0]
    assert row["price"] == Decimal("26.40") and isinstance(row["price"], Decimal)
    assert str(row["partnerCost"]) == "22.00"
    assert row["quantity"] == 12
    assert _floats(parsed) == []


async def test_request_body_sends_decimal_exactly_and_204_is_none(sleeps: Sleeps) -> None:
    wire = Wire(httpx.Response(204))
    async with client_for(wire, sleeps) as pax8:
        result = await pax8.request(
            "PUT", "/subscriptions/s1", json={"quantity": 5, "price": Decimal("26.40")}
        )
    assert result is None
    assert wire.data_requests[0].content == b'{"quantity":5,"price":26.40}'
    assert wire.data_requests[0].headers["Content-Type"] == "application/json"


def test_encode_json_writes_decimals_as_plain_numbers() -> None:
    value = {"a": [Decimal("1E+2"), Decimal("-0.10"), None, True, "é"], "b": {"c": 3}}
    assert encode_json(value) == '{"a":[100,-0.10,null,true,"\\u00e9"],"b":{"c":3}}'
    assert json.loads(encode_json(value), parse_float=Decimal) == {
        "a": [100, Decimal("-0.10"), None, True, "é"],
        "b": {"c": 3},
    }
