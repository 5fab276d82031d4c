"""The Xero simulator: one Starlette app serving both of Xero's hosts, over one scenario's `xero`
section (an organisation, its chart, tax rates, contacts and items).

- `/api.xro/2.0/...`: the Accounting API (what `TRUEUP_XERO_URL` names is the host root, and
  `/connections` lives there too): Organisation, Contacts, Items, Accounts, TaxRates,
  Currencies, Invoices and CreditNotes (xero_book, xero_documents), Payments and credit notes'
  Allocations (xero_payments).
- `/identity/...`: identity.xero.com (`TRUEUP_XERO_IDENTITY_URL`; clients add `/connect/token`),
  and the sandbox's stand-in for login.xero.com's `/identity/connect/authorize` (xero_identity).

Every accounting call needs a Bearer token (else 401 problem details) and the organisation in
`xero-tenant-id` (else 403 "AuthenticationUnsuccessful", the answer integrators report for a
missing or wrong header, e.g. NangoHQ/nango issue 203). A Custom Connection token may leave the
header out: "Do I need to specify the xero-tenant-id header when making API calls? No, the
xero-tenant-id header is not required" (developer.xero.com/faq/custom-integration); if it sends
one, it must name its organisation.

Limits (developer.xero.com OAuth 2.0 "Limits"; Codat's summary of it): per organisation 5 calls in
progress, 60 a minute and 5,000 a day, and 10,000 a minute for the app across organisations;
`XeroRateLimit` shrinks them for tests. Only accounting calls count (the token endpoint and
/connections are other services). Every accounting answer carries `X-MinLimit-Remaining`,
`X-DayLimit-Remaining` and `X-AppMinLimit-Remaining`; a call over a limit is `429` with
`X-Rate-Limit-Problem` (`minute`, `day`, `appminute` or `concurrent`) and, for the first three,
`Retry-After` in seconds (Xero documents it for the minute and daily limits). Rate limits are
checked before idempotency, so a retry under the same key still counts.

Idempotency (developer.xero.com "Idempotent requests", as integrators quote it): an
`Idempotency-Key` on a PUT, POST or PATCH (ignored on other methods; keys are per app) makes the
same request within 6 minutes of the first answer the first answer again, errors included, with
nothing done twice; a repeat while the first is still running waits for it. The same key with a
different method, URL or body is `400` ("Idempotency Key ... is used with a different request";
the status and wording come from two integrators' notes, the body's shape here is Xero's problem
details, unconfirmed). After 6 minutes the key is new again.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from trueup.sandbox.common import Clock, FaultInjector, FaultSpec, RollingWindow, json_response
from trueup.sandbox.scenario import Scenario
from trueup.sandbox.xero_book import Organisation, unit_amounts
from trueup.sandbox.xero_documents import KINDS, Documents
from trueup.sandbox.xero_identity import Grant, XeroIdentity
from trueup.sandbox.xero_payments import Payments
from trueup.sandbox.xero_wire import (
    Json,
    XeroError,
    envelope,
    json_body,
    not_found,
    parse_moment,
    problem,
)

IDEMPOTENCY_SECONDS = 360
DEFAULT_ORGANISATION = {
    "tenant_id": "6b2a4c1e-53d7-4f1a-9c3e-2d8f0a7b5e14",
    "name": "Sandbox Organisation",
    "base_currency": "USD",
    "currencies": [],
}
Now = Callable[[], datetime]


@dataclass(frozen=True)
class XeroRateLimit:
    per_minute: int = 60
    per_day: int = 5000
    concurrent: int = 5
    app_per_minute: int = 10_000


def create_xero_app(
    scenario: Scenario,
    *,
    rate_limit: XeroRateLimit | None = XeroRateLimit(),  # frozen, so shared safely
    faults: FaultSpec | None = None,
    clock: Clock = time.monotonic,
    now: Now | None = None,
    latency_seconds: float = 0.0,
) -> ASGIApp:
    """The Xero hosts over `scenario`; writes live as long as the app. `latency_seconds` keeps
    every accounting call in progress that long (to exercise the concurrent limit)."""
    simulator = _XeroSimulator(scenario, rate_limit, clock, now or _utc_now, latency_seconds)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", simulator.handle, methods=methods)])
    return FaultInjector(app, faults)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Limits:
    def __init__(self, limit: XeroRateLimit, clock: Clock) -> None:
        self.minute = RollingWindow(limit.per_minute, 60.0, clock)
        self.day = RollingWindow(limit.per_day, 86400.0, clock)
        self.app = RollingWindow(limit.app_per_minute, 60.0, clock)
        self.concurrent = limit.concurrent
        self.in_flight = 0

    def admit(self) -> dict[str, str]:
        """Count one call, or raise Xero's 429 naming the limit."""
        problem_name, window = None, None
        if self.in_flight >= self.concurrent:
            problem_name = "concurrent"
        else:
            for name, candidate in (("appminute", self.app), ("minute", self.minute),
                                    ("day", self.day)):  # fmt: skip
                if candidate.remaining() == 0:
                    problem_name, window = name, candidate
                    break
        if problem_name is not None:
            headers = {**self.headers(), "X-Rate-Limit-Problem": problem_name}
            if window is not None:
                headers["Retry-After"] = str(max(1, math.ceil(window.seconds_until_free())))
            raise XeroError(429, "", headers)
        for window_ in (self.minute, self.day, self.app):
            window_.admit()
        return self.headers()

    def headers(self) -> dict[str, str]:
        return {
            "X-MinLimit-Remaining": str(self.minute.remaining()),
            "X-DayLimit-Remaining": str(self.day.remaining()),
            "X-AppMinLimit-Remaining": str(self.app.remaining()),
        }


@dataclass
class _Kept:
    """A write's first answer under its idempotency key."""

    fingerprint: tuple[str, ...]
    started: float
    done: asyncio.Event = field(default_factory=asyncio.Event)
    status: int = 500
    body: bytes = b""
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def replay(self) -> Response:
        return Response(self.body, self.status, headers=self.headers, media_type=self.media_type)


class _XeroSimulator:
    def __init__(
        self,
        scenario: Scenario,
        rate_limit: XeroRateLimit | None,
        clock: Clock,
        now: Now,
        latency_seconds: float,
    ) -> None:
        xero = scenario.xero or {}
        if not xero.get("organisation"):
            xero = {**xero, "organisation": DEFAULT_ORGANISATION}
        credentials = scenario.credentials_for("xero")
        self.provider = credentials.get("app_name", "trueup sandbox")
        self.org = Organisation(xero, scenario.as_of)
        self.documents = Documents(self.org, xero, now)
        self.payments = Payments(self.org, self.documents, now)
        self.identity = XeroIdentity(credentials, xero["organisation"], clock=clock, now=now)
        self.limits = _Limits(rate_limit, clock) if rate_limit else None
        self.clock, self.now, self.latency = clock, now, latency_seconds
        self.kept: dict[tuple[str, str], _Kept] = {}

    async def handle(self, request: Request) -> Response:
        segments = [part for part in request.url.path.split("/") if part]
        lowered = [part.lower() for part in segments]
        method = request.method
        try:
            if lowered[:1] == ["identity"]:
                return await self._identity(request, lowered[1:])
            if lowered[:1] == ["connections"]:
                if len(lowered) == 1 and method == "GET":
                    return self.identity.connections(request)
                if len(lowered) == 2 and method == "DELETE":
                    return self.identity.delete_connection(request, segments[1])
                raise not_found()
            if lowered[:2] == ["api.xro", "2.0"] and len(segments) > 2:
                return await self._accounting(request, segments[2:])
            raise not_found()
        except XeroError as error:
            return error.response()

    async def _identity(self, request: Request, rest: list[str]) -> Response:
        if rest == ["connect", "authorize"] and request.method == "GET":
            return await self.identity.authorize(request)
        if rest == ["connect", "token"] and request.method == "POST":
            return await self.identity.token(request)
        if rest == ["connect", "revocation"] and request.method == "POST":
            return await self.identity.revoke(request)
        if rest == [".well-known", "openid-configuration"]:
            base = str(request.base_url).rstrip("/") + "/identity"
            return json_response({
                "issuer": base,
                "authorization_endpoint": f"{base}/connect/authorize",
                "token_endpoint": f"{base}/connect/token",
                "revocation_endpoint": f"{base}/connect/revocation",
                "grant_types_supported": ["authorization_code", "client_credentials",
                                          "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
            })  # fmt: skip
        raise not_found()

    # -- the Accounting API --------------------------------------------------------------------

    async def _accounting(self, request: Request, parts: list[str]) -> Response:
        grant = self.identity.authenticate(request.headers.get("authorization"))
        self._check_tenant(request, grant)
        headers = self.limits.admit() if self.limits else {}
        if self.limits:
            self.limits.in_flight += 1
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            response = await self._idempotent(
                request, grant, lambda: self._answer(request, parts, grant)
            )
        finally:
            if self.limits:
                self.limits.in_flight -= 1
        response.headers.update(headers)
        return response

    def _check_tenant(self, request: Request, grant: Grant) -> None:
        given = (request.headers.get("xero-tenant-id") or "").strip().lower()
        connected = self.identity.tenant_connected(self.org.tenant_id)
        if not given and grant.kind == "client_credentials" and connected:
            return
        if given != self.org.tenant_id.lower() or not connected:
            raise problem(403, "AuthenticationUnsuccessful")

    async def _answer(self, request: Request, parts: list[str], grant: Grant) -> Response:
        try:
            return await self._route(request, parts, grant)
        except XeroError as error:
            return error.response()

    async def _idempotent(
        self, request: Request, grant: Grant, handler: Callable[[], Awaitable[Response]]
    ) -> Response:
        key = request.headers.get("idempotency-key")
        if not key or request.method not in ("PUT", "POST", "PATCH"):
            return await handler()
        fingerprint = (
            request.method,
            request.url.path.lower(),
            str(sorted(request.query_params.multi_items())),
            _canonical(await request.body()),
        )
        scope = (grant.client_id, key)
        kept = self.kept.get(scope)
        if kept is not None and self.clock() - kept.started > IDEMPOTENCY_SECONDS:
            kept = None
        if kept is not None:
            if kept.fingerprint != fingerprint:
                return problem(
                    400, f"Idempotency Key {key} is used with a different request"
                ).response()
            await kept.done.wait()
            return kept.replay()
        kept = self.kept[scope] = _Kept(fingerprint, self.clock())
        try:
            response = await handler()
        except BaseException:
            del self.kept[scope]
            kept.done.set()
            raise
        kept.status, kept.body = response.status_code, bytes(response.body)
        kept.media_type = response.media_type
        kept.headers = {k: v for k, v in response.headers.items()
                        if k.lower() not in ("content-length", "content-type")}  # fmt: skip
        kept.done.set()
        return response

    async def _route(self, request: Request, parts: list[str], grant: Grant) -> Response:
        resource, rest, method = parts[0].lower(), parts[1:], request.method
        query = request.query_params
        unitdp = 4 if query.get("unitdp") == "4" else 2
        since = parse_moment(request.headers.get("if-modified-since"))
        if resource == "payments" and method in ("PUT", "POST") and not rest:
            return self._reply("Payments", self.payments.pay(await _body(request, "Payments")))
        if resource == "creditnotes" and [r.lower() for r in rest[1:]] == ["allocations"]:
            if method != "PUT":
                raise not_found()
            allocations = await _body(request, "Allocations")
            return self._reply("Allocations", self.payments.allocate(rest[0], allocations))
        if len(rest) > 1:
            raise not_found()
        if resource == "organisation" and method == "GET" and not rest:
            return self._reply("Organisations", [self.org.settings])
        if (
            resource in ("contacts", "items", "accounts", "taxrates", "currencies")
            and method == "GET"
        ):
            name = {"taxrates": "TaxRates"}.get(resource, resource.capitalize())
            if rest:
                found = self.org.one_of(name, rest[0])
                if found is None:
                    raise not_found()
                return self._reply(name, [unit_amounts(found, unitdp)])
            if resource == "contacts":
                rows, pagination = self.org.list_contacts(query, since)
                return self._reply(name, rows, pagination)
            rows = self.org.list_of(name, query, since)
            return self._reply(name, [unit_amounts(r, unitdp) for r in rows])
        kind = KINDS.get(resource)
        if kind is None:
            raise not_found()
        if method == "GET":
            if rest:
                one = self.documents.get(kind, rest[0])
                if one is None:
                    raise not_found()
                return self._reply(kind.collection, [unit_amounts(one, unitdp)])
            rows, pagination = self.documents.list_documents(kind, query, since, grant.client_id)
            return self._reply(kind.collection, [unit_amounts(r, unitdp) for r in rows], pagination)
        if method not in ("PUT", "POST") or (method == "PUT" and rest):
            raise not_found()
        elements = _elements(await request.body(), kind.collection)
        answered = self.documents.write(
            kind,
            elements,
            target=rest[0] if rest else None,
            create_only=method == "PUT",
            summarize=query.get("summarizeErrors", "true").lower() != "false",
            unitdp=unitdp,
            client_id=grant.client_id,
        )
        return self._reply(kind.collection, answered)

    def _reply(self, collection: str, rows: list[Json], pagination: Json | None = None) -> Response:
        return json_body(envelope(self.provider, self.now(), collection, rows, pagination))


async def _body(request: Request, collection: str) -> list[Any]:
    return _elements(await request.body(), collection)


def _canonical(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError):
        return body.decode("latin-1")


def _elements(body: bytes, collection: str) -> list[Any]:
    """The elements of a write: `{"Invoices": [...]}`, a list, or one object."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        for key, value in data.items():
            if key.lower() == collection.lower() and isinstance(value, list):
                return value
        return [data]
    if isinstance(data, list):
        return data
    raise XeroError(
        400,
        {"ErrorNumber": 14, "Type": "PostDataInvalidException",
         "Message": "JSON for post data was invalid"},
    )  # fmt: skip
