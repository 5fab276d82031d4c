"""A refusal that echoes what it was sent (a QuickBooks Fault or a Xero validation message
repeating the Authorization header, the refresh token, the code) never carries a secret into
an ApiError: not its message, which reaches the log, the journal and stderr, nor its body."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from trueup.core.sources.http import ApiError, RetryPolicy
from trueup.core.sources.qbo import QboClient
from trueup.core.sources.xero import XeroClient

SECRET = "CLIENT-SECRET-q81vZ"
REFRESH = "REFRESH-TOKEN-w2x8J"
ROTATED = "ROTATED-TOKEN-e4r6P"
ACCESS = "ACCESS-TOKEN-t5y3H"
CODE = "AUTH-CODE-u7i9G"
VERIFIER = "PKCE-VERIFIER-o0p1F"
ALL = (SECRET, REFRESH, ROTATED, ACCESS, CODE, VERIFIER)
ONCE = RetryPolicy(max_attempts=1)


def echoing(refusal: Any, *known: str) -> httpx.MockTransport:
    """A token endpoint that works; every other request refused with its Authorization header
    and the secrets the client `known`."""

    def handle(request: httpx.Request) -> httpx.Response:
        if "token" in request.url.path:
            body = {"access_token": ACCESS, "refresh_token": ROTATED, "expires_in": 3600}
            return httpx.Response(200, json=body)
        sent = " ".join([request.headers["Authorization"], str(request.url), ROTATED, *known])
        return httpx.Response(400, json=refusal(sent))

    return httpx.MockTransport(handle)


def refused(call: Any) -> ApiError:
    try:
        asyncio.run(call())
    except ApiError as error:
        return error
    raise AssertionError("not refused")


def leaked(error: ApiError) -> list[str]:
    said = f"{error} {json.dumps(error.body)}"
    return [secret for secret in ALL if secret in said]


def test_a_quickbooks_fault_echoing_the_tokens_shows_none_of_them():
    def fault(sent: str) -> Any:
        return {"Fault": {"Error": [{"Message": sent, "Detail": sent, "code": "2000"}]}}

    async def query() -> None:
        async with QboClient(
            "https://qbo.test",
            "1",
            "client",
            SECRET,
            REFRESH,
            lambda token: None,
            token_url="https://qbo.test/oauth2/token",
            transport=echoing(fault, SECRET, REFRESH),
            retry=ONCE,
        ) as client:
            await client.query("Customer")

    error = refused(query)
    assert "QuickBooks error 2000" in str(error) and "***" in str(error)
    assert leaked(error) == []


def test_a_xero_validation_message_echoing_the_consent_shows_none_of_it():
    def validation(sent: str) -> Any:
        return {"Message": sent, "Elements": [{"ValidationErrors": [{"Message": sent}]}]}

    async def consent_then_read() -> None:
        async with XeroClient(
            "https://xero.test",
            "https://identity.xero.test",
            "client",
            transport=echoing(validation, CODE, VERIFIER),
            on_refresh_token=lambda token: None,
            retry=ONCE,
        ) as client:
            await client.exchange_authorization_code(CODE, "http://localhost/callback", VERIFIER)
            await client.request("GET", "/api.xro/2.0/Organisation")

    error = refused(consent_then_read)
    assert str(error).startswith("Xero refused GET") and "***" in str(error)
    assert leaked(error) == []
