"""The HaloPSA simulator: the auth server at /auth and the resource server at /api (halo-api.md).

Error bodies, where Halo's own are not known, follow the shapes Halo clients already handle:
- 400 validation: ASP.NET field-keyed JSON, e.g. ``{"[0].id": "The value 'x' is not valid."}``;
  ``$`` is the whole body.
- 401 from the token endpoint: ``{"error": "invalid_client", "error_description": ...}``; 401
  from /api (no, unknown or expired bearer): ``{"error": "unauthorized", "error_description":
  ...}`` with ``WWW-Authenticate: Bearer error="invalid_token"``.
- 404 (unknown resource, route or id) and 405: ``{"Message": ...}``.
- 429: the plain-text message Halo sends, without Retry-After (Halo sending one is unconfirmed).
A successful DELETE answers 200 with an empty body (Halo's reply is unconfirmed).
``POST /api/Invoice/{id}/void`` (not in the swagger) answers the voided invoice; voiding it again
is a 400. The swagger's own way, ``[{"id": N, "voided": true}]`` posted to /api/Invoice, is a plain
save here.
An invoice or recurring invoice for a client, or a line for an item, that Halo does not have is
a field-keyed 400 (``{"[0].client_id": "No Client with id 424242."}``).
An Item created without a name, or with a text field (name, supplier_part_code, ...) or a price
(costprice, baseprice, recurringprice, recurringcost) of the wrong type, is a field-keyed 400
(``{"[0].name": "The Name field is required."}``); a saved Item is served by GET /api/Item.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from trueup.sandbox.common import (
    Clock,
    FaultInjector,
    FaultSpec,
    RollingWindow,
    TokenStore,
    json_response,
    query_flag,
)
from trueup.sandbox.halo_invoices import append_lines, process, update_lines, void
from trueup.sandbox.halo_store import (
    RESOURCES,
    HaloError,
    HaloStore,
    Resource,
    Row,
    int_param,
    invalid,
    not_found,
)
from trueup.sandbox.scenario import Scenario

OMITTED_LINES_MODES = ("replace", "keep")
DEFAULT_PAGE_SIZE = 50
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_halo_app(
    scenario: Scenario,
    *,
    token_lifetime: float = 3600,
    rate_limit: tuple[int, float] | None = (300, 300.0),
    faults: FaultSpec | None = None,
    clock: Clock = time.monotonic,
    omitted_lines: str = "replace",
) -> ASGIApp:
    """The Halo auth and resource servers over one scenario; writes live as long as the app.

    ``omitted_lines`` decides what a RecurringInvoice POST does to lines its `lines` array leaves
    out: "replace" removes them, "keep" keeps them (Halo's behaviour is unconfirmed).
    """
    if omitted_lines not in OMITTED_LINES_MODES:
        raise ValueError(
            f"omitted_lines must be one of {OMITTED_LINES_MODES}, not {omitted_lines!r}"
        )
    simulator = _HaloSimulator(scenario, token_lifetime, rate_limit, clock, omitted_lines)
    app = Starlette(routes=[Route("/{path:path}", simulator.handle, methods=_METHODS)])
    return FaultInjector(app, faults)


def rate_limit_message(max_requests: int, window_seconds: float) -> str:
    if window_seconds % 60 == 0:
        window = f"{int(window_seconds // 60)} minute"
    else:
        window = f"{window_seconds:g} second"
    return f"Rate Limit Reached - {max_requests} Requests per rolling {window} window"


class _HaloSimulator:
    def __init__(
        self,
        scenario: Scenario,
        token_lifetime: float,
        rate_limit: tuple[int, float] | None,
        clock: Clock,
        omitted_lines: str,
    ) -> None:
        self.credentials = scenario.credentials_for("halo")
        self.tenant_id = self.credentials.get("tenant_id", "sandbox")
        self.token_lifetime = token_lifetime
        self.tokens = TokenStore(token_lifetime, clock)
        self.window = RollingWindow(*rate_limit, clock=clock) if rate_limit else None
        self.store = HaloStore(
            scenario.halo,
            omitted_lines=omitted_lines,
            today=scenario.as_of.strftime("%Y-%m-%dT00:00:00"),
        )

    async def handle(self, request: Request) -> Response:
        if self.window and not self.window.admit():
            message = rate_limit_message(self.window.max_requests, self.window.window_seconds)
            return PlainTextResponse(message, status_code=429)
        segments = [part.lower() for part in request.url.path.split("/") if part]
        try:
            if segments == ["auth", "token"]:
                _require(request, "POST")
                return await self._token(request)
            if segments[:1] != ["api"]:
                raise not_found("No such route.")
            if segments[1:] == ["authinfo"]:
                _require(request, "GET")
                return self._authinfo(request)
            if not self.tokens.valid(request.headers.get("authorization")):
                return _unauthorized()
            return await self._api(request, segments[1:])
        except HaloError as error:
            return json_response(error.body, error.status)

    # --- auth server ---------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "The body must be form-encoded.")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        missing = [f for f in ("grant_type", "client_id", "client_secret") if not form.get(f)]
        if missing:
            return _oauth_error(400, "invalid_request", f"Missing {', '.join(missing)}.")
        if form["grant_type"] != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Use client_credentials.")
        if not (
            secrets.compare_digest(form["client_id"], self.credentials["client_id"])
            and secrets.compare_digest(form["client_secret"], self.credentials["client_secret"])
        ):
            return _oauth_error(401, "invalid_client", "Unknown client or wrong secret.")
        return json_response(
            {
                "token_type": "Bearer",
                "expires_in": int(self.token_lifetime),
                "access_token": self.tokens.issue(),
                # An identity token, not a bearer for /api: nothing records it.
                "id_token": "eyJhbGciOiJub25lIn0." + secrets.token_urlsafe(24),
                "scope": form.get("scope") or "all",
            }
        )

    def _authinfo(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return json_response({"auth_url": f"{base}/auth", "tenant_id": self.tenant_id})

    # --- resource server -----------------------------------------------------------------

    async def _api(self, request: Request, segments: list[str]) -> Response:
        resource = RESOURCES.get(segments[0]) if segments else None
        if resource is None:
            raise not_found("No such resource.")
        if request.method != "GET":
            self.store.forget_selections()
        rest = segments[1:]
        if not rest:
            if request.method == "GET":
                return self._list(request, resource)
            _require(request, "POST")
            saved, created = self.store.save(resource, await _json_body(request))
            return _saved(saved, created)
        if len(rest) == 1 and rest[0] in _ACTIONS.get(resource.route, ()):
            _require(request, "POST")
            return await self._action(request, resource, rest[0])
        if len(rest) == 2 and rest[1] in _ID_ACTIONS.get(resource.route, ()):
            _require(request, "POST")
            return json_response(void(self.store, _path_id(rest[0])))
        if len(rest) == 1:
            row_id = _path_id(rest[0])
            if request.method == "GET":
                return json_response(self.store.get(resource, row_id))
            _require(request, "DELETE")
            self.store.delete(resource, row_id)
            return Response(status_code=200)
        raise not_found("No such route.")

    def _list(self, request: Request, resource: Resource) -> Response:
        query = {key.lower(): value for key, value in request.query_params.items()}
        rows = self.store.select(resource, query, query_flag(request, "includeinactive"))
        body: dict[str, Any] = {"record_count": len(rows)}
        if query_flag(request, "pageinate"):
            page_size = _positive(query, "page_size") or DEFAULT_PAGE_SIZE
            page_no = _positive(query, "page_no") or 1
            rows = rows[(page_no - 1) * page_size : page_no * page_size]
            body |= {"page_size": page_size, "page_no": page_no}
        elif (count := _positive(query, "count")) is not None:
            rows = rows[:count]
            body["record_count"] = len(rows)
        if resource.has_lines and not query_flag(request, "includelines"):
            body[resource.list_key] = [_without_lines(row) for row in rows]
        else:
            body[resource.list_key] = rows
        return json_response(body)

    async def _action(self, request: Request, resource: Resource, action: str) -> Response:
        body = await _json_body(request)
        if action == "updatelines":
            return json_response(update_lines(self.store, resource, body))
        if action == "lines":
            lines, created = append_lines(self.store, resource, body)
            return json_response(lines, 201 if created else 200)
        return json_response(process(self.store, body), 201)


# POST /api/{Resource}/{action}; matched before /{id}.
_ACTIONS = {
    "recurringinvoice": ("updatelines", "lines", "process"),
    "invoice": ("updatelines",),
}
# POST /api/{Resource}/{id}/{action}.
_ID_ACTIONS = {"invoice": ("void",)}


def _require(request: Request, method: str) -> None:
    if request.method != method:
        message = f"The requested resource does not support http method '{request.method}'."
        raise HaloError(405, {"Message": message})


def _unauthorized() -> Response:
    response = json_response(
        {"error": "unauthorized", "error_description": "The bearer token is missing or expired."},
        401,
    )
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid("$", "The body is not valid JSON.") from None


def _path_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise invalid("id", f"The value '{text}' is not valid.") from None


def _positive(query: dict[str, str], name: str) -> int | None:
    value = int_param(query, name)
    if value is not None and value < 1:
        raise invalid(name, f"The value '{value}' is not valid.")
    return value


def _saved(saved: list[Row], created: bool) -> Response:
    """One element: the saved object; several: the list (Halo's reply to several is unconfirmed)."""
    return json_response(saved[0] if len(saved) == 1 else saved, 201 if created else 200)


def _without_lines(row: Row) -> Row:
    return {key: value for key, value in row.items() if key != "lines"} if "lines" in row else row
