"""The Pax8 Partner API simulator (reference/pax8-api.md §8), rooted at /v1.

Routes live in pax8_routes_catalog (companies, products, orders) and pax8_routes_billing
(subscriptions, usage, invoices); this module adds the token endpoint, bearer auth, the rate limit
and fault injection around them.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from trueup.sandbox.common import FaultInjector, FaultSpec, RollingWindow, TokenStore, json_response
from trueup.sandbox.pax8_query import Pax8Error, error_response
from trueup.sandbox.pax8_routes_billing import BillingRoutes
from trueup.sandbox.pax8_routes_catalog import CatalogRoutes
from trueup.sandbox.pax8_store import Pax8Store
from trueup.sandbox.scenario import Scenario

# /v1/token is current; /oauth/token is the spec's securitySchemes tokenUrl.
TOKEN_PATHS = frozenset({"/v1/token", "/oauth/token"})
AUDIENCES = frozenset(
    {"https://api.pax8.com", "api://p8p.client", "api://provisioning", "api://usage"}
)
TOKEN_DENIED = {"error": "access_denied", "error_description": "Unauthorized"}


def create_pax8_app(
    scenario: Scenario,
    *,
    token_lifetime: float = 86400,
    rate_limit: tuple[int, float] | None = (1000, 60.0),
    faults: FaultSpec | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ASGIApp:
    """An ASGI app serving `scenario` as the Pax8 API does; the writes it gets live in memory."""
    store = Pax8Store(scenario, clock)
    tokens = TokenStore(token_lifetime, clock)
    credentials = scenario.credentials_for("pax8")

    async def issue_token(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            # The token endpoint takes JSON only; a form-encoded body lands here too.
            return json_response(
                {"error": "invalid_request", "error_description": "Malformed JSON body"}, 400
            )
        if not isinstance(body, dict) or not _credentials_match(body, credentials):
            return json_response(TOKEN_DENIED, 401)
        return json_response(
            {
                "access_token": tokens.issue(),
                "expires_in": int(token_lifetime),
                "token_type": "Bearer",
            }
        )

    routes = [Route(path, issue_token, methods=["POST"]) for path in sorted(TOKEN_PATHS)]
    routes += CatalogRoutes(store).routes() + BillingRoutes(store).routes()
    app = Starlette(
        routes=routes,
        exception_handlers={
            Pax8Error: _pax8_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    window = RollingWindow(*rate_limit, clock=clock) if rate_limit else None
    return FaultInjector(_Gatekeeper(app, tokens, window), faults)


def _credentials_match(body: dict[str, object], credentials: dict[str, str]) -> bool:
    client_id, client_secret = body.get("client_id"), body.get("client_secret")
    return (
        isinstance(client_id, str)
        and isinstance(client_secret, str)
        and secrets.compare_digest(client_id.encode(), credentials["client_id"].encode())
        and secrets.compare_digest(client_secret.encode(), credentials["client_secret"].encode())
        and body.get("audience") in AUDIENCES
        and body.get("grant_type") == "client_credentials"
    )


class _Gatekeeper:
    """Rate limit (every request, token ones included), then the bearer check (all but token)."""

    def __init__(self, app: ASGIApp, tokens: TokenStore, window: RollingWindow | None) -> None:
        self.app = app
        self.tokens = tokens
        self.window = window

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.window is not None and not self.window.admit():
            # Pax8 documents the 429 but neither its body nor a Retry-After header: the body here
            # is the usual error envelope, and no Retry-After is sent.
            error = Pax8Error(429, "TOO_MANY_REQUESTS", "Rate limit exceeded")
            await error_response(scope["path"], error)(scope, receive, send)
            return
        if scope["path"] not in TOKEN_PATHS and not self.tokens.valid(_authorization(scope)):
            error = Pax8Error(401, "UNAUTHORIZED", "Unauthorized")
            await error_response(scope["path"], error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


async def _pax8_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Pax8Error)
    return error_response(request.url.path, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods, answered with the Pax8 envelope."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = Pax8Error(404, "NOT_FOUND", f"No endpoint {request.method} {request.url.path}")
    elif exc.status_code == 405:
        error = Pax8Error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not supported here")
    else:
        error = Pax8Error(exc.status_code, "BAD_REQUEST", exc.detail)
    response = error_response(request.url.path, error)
    response.headers.update(exc.headers or {})
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    error = Pax8Error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
    return error_response(request.url.path, error)
