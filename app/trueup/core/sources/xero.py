"""Xero Accounting API client: a Custom Connection or a PKCE consent, the tenant, invoices and
credit notes.

Two ways in (accounting-and-reliability.md §2.1): a **Custom Connection** trades the client id
and secret for a token (client credentials, no refresh token, one organisation); a **PKCE**
consent gives a refresh token that is single use, so the client hands each new one to
`on_refresh_token`, which must store it durably before the access token that came with it is
used. Every accounting call names the organisation in `xero-tenant-id`. Xero's limits are per
organisation: 60 calls a minute, 5 at once, 5,000 a day; the remaining day allowance is read from
each answer's `X-DayLimit-Remaining`, so a poster can refuse a month that would not fit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from trueup.core.sources.http import (
    DEFAULT_RETRY,
    ApiClient,
    ApiError,
    BasicAuthAt,
    Clock,
    RateLimit,
    RetryPolicy,
    Row,
    Sleep,
    duration,
    retry_after,
)
from trueup.core.sources.rotating import (
    OnRefreshToken,
    Reload,
    newest_refresh_token,
    store_refresh_token,
)

XERO_URL = "https://api.xero.com"
XERO_IDENTITY_URL = "https://identity.xero.com"
TOKEN_PATH = "/connect/token"
API_PATH = "/api.xro/2.0"
XERO_RATE_LIMIT = RateLimit(60, 60)  # per organisation; also 5 at once and 5,000 a day
XERO_CONCURRENCY = 5
DAY_ALLOWANCE = 5000
PAGE_SIZE = 100  # Xero's pages of contacts and invoices
NUMBERS_PER_QUERY = 40  # invoice numbers per lookup, keeping the URL short
RECONNECT = "reconnect with `trueup connect xero`"


@dataclass(frozen=True)
class XeroTokens:
    """The answer to a grant; repr never shows the tokens."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int


def validation_messages(body: Any) -> list[str]:
    """Xero's ValidationErrors, from a 400 ValidationException (`Elements[].ValidationErrors`)
    or from one element of a `summarizeErrors=false` answer."""
    if not isinstance(body, dict):
        return []
    elements = body.get("Elements")
    sources = elements if isinstance(elements, list) else [body]
    messages = []
    for element in sources:
        errors = element.get("ValidationErrors") if isinstance(element, dict) else None
        for error in errors if isinstance(errors, list) else []:
            message = error.get("Message") if isinstance(error, dict) else None
            if isinstance(message, str) and message.strip():
                messages.append(" ".join(message.split()))
    if not messages and isinstance(body.get("Message"), str) and elements is not None:
        messages.append(" ".join(body["Message"].split()))
    return messages


class XeroClient(ApiClient):
    service = "Xero"
    url_env = "TRUEUP_XERO_URL"
    token_url_env = "TRUEUP_XERO_IDENTITY_URL"
    credential_envs = ("TRUEUP_XERO_CLIENT_ID", "TRUEUP_XERO_CLIENT_SECRET")
    url_example = XERO_URL

    def __init__(
        self,
        base_url: str,
        identity_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        tenant_id: str | None = None,
        refresh_token: str | None = None,
        on_refresh_token: OnRefreshToken | None = None,
        reload_refresh_token: Reload | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rate: RateLimit | None = XERO_RATE_LIMIT,
        concurrency: int = XERO_CONCURRENCY,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        names: Mapping[str, str] | None = None,
    ) -> None:
        """A client secret makes it a Custom Connection; without one it refreshes the PKCE
        consent's `refresh_token`."""
        super().__init__(
            base_url,
            client_id,
            client_secret or "",
            transport=transport,
            rate=rate,
            concurrency=concurrency,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            clock=clock,
            names=names,
        )
        if not client_id.strip():
            raise self._error("config", "no Xero client id: set TRUEUP_XERO_CLIENT_ID")
        self.identity_url = self._checked_url(identity_url, self.token_url_env)
        self.token_url = self.identity_url + TOKEN_PATH
        self.custom_connection = bool(client_secret)
        if client_secret:  # a Custom Connection authenticates at the token endpoint
            self._http.auth = BasicAuthAt(self.token_url, client_id, client_secret)
        self.tenant_id = (tenant_id or "").strip() or None
        self._refresh_token = refresh_token or None
        self._on_refresh_token = on_refresh_token
        self._reload_refresh_token = reload_refresh_token
        self.day_remaining: int | None = None  # from the last answer's X-DayLimit-Remaining

    # -- OAuth -------------------------------------------------------------------------------

    async def exchange_authorization_code(
        self, code: str, redirect_uri: str, code_verifier: str
    ) -> XeroTokens:
        """Trade a PKCE consent's code for tokens; the refresh token is stored through
        `on_refresh_token` before this returns."""
        async with self._token_lock:
            tokens = await self._grant(
                {
                    "grant_type": "authorization_code",
                    "client_id": self._client_id,
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                }
            )
            if tokens.refresh_token is None:
                raise self._error(
                    "auth",
                    "Xero gave no refresh token: the consent must include the offline_access scope",
                )
            await self._adopt_refresh_token(tokens.refresh_token)
            self._token = tokens.access_token
            self._token_renew_at = self._clock() + max(1, tokens.expires_in - 60)
        return tokens

    async def _fetch_token(self) -> tuple[str, int]:
        if self.custom_connection:
            tokens = await self._grant({"grant_type": "client_credentials"})
            return tokens.access_token, tokens.expires_in
        self._refresh_token = newest_refresh_token(self._refresh_token, self._reload_refresh_token)
        if not self._refresh_token:
            raise self._error("auth", f"no Xero refresh token: {RECONNECT}")
        tokens = await self._grant(
            {
                "grant_type": "refresh_token",
                "refresh_token": self._refresh_token,
                "client_id": self._client_id,
            }
        )
        if tokens.refresh_token is None:
            raise self._error("bad_response", "Xero refreshed the token without a new one")
        await self._adopt_refresh_token(tokens.refresh_token)
        return tokens.access_token, tokens.expires_in

    async def _grant(self, form: dict[str, str]) -> XeroTokens:
        call = replace(
            self._call("POST", "", "token", None),
            url=self.token_url,
            where=self.token_url,
            env=self.token_url_env,
            content=urlencode(form).encode(),
            content_type="application/x-www-form-urlencoded",
        )
        body = await self._perform(call)
        access = body.get("access_token") if isinstance(body, dict) else None
        refresh = body.get("refresh_token") if isinstance(body, dict) else None
        if not (isinstance(access, str) and access):
            raise self._error(
                "bad_response",
                f"Xero's token endpoint at {self.token_url} answered without an access token: "
                f"check {self.token_url_env}",
            )
        lifetime = body.get("expires_in")
        return XeroTokens(
            access,
            refresh if isinstance(refresh, str) and refresh else None,
            int(lifetime) if isinstance(lifetime, int) and lifetime > 0 else 1800,
        )

    async def _adopt_refresh_token(self, new: str) -> None:
        """Make `new` the refresh token and have it stored; raise if storing fails. Kept even
        then: the old one is spent, and a later refresh in this run stores its successor."""
        self._refresh_token = new
        if self._on_refresh_token is not None:
            await store_refresh_token(self.service, new, self._on_refresh_token)

    # -- organisations -----------------------------------------------------------------------

    async def connections(self) -> list[Row]:
        """The organisations this token may reach (`GET /connections`)."""
        body = await self.request("GET", "/connections")
        return self._rows(body, "/connections")

    async def resolve_tenant(self) -> str:
        """The organisation to use: the configured one, else the only one connected."""
        if self.tenant_id:
            return self.tenant_id
        tenants = [c for c in await self.connections() if c.get("tenantType") == "ORGANISATION"]
        if len(tenants) != 1:
            names = ", ".join(f"{t.get('tenantName')} ({t.get('tenantId')})" for t in tenants)
            raise self._error(
                "config",
                f"Xero connects {len(tenants)} organisations"
                + (f" ({names})" if names else "")
                + ": choose one with `trueup connect xero --tenant ID` or TRUEUP_XERO_TENANT",
            )
        self.tenant_id = str(tenants[0].get("tenantId") or "")
        return self.tenant_id

    # -- reading -----------------------------------------------------------------------------

    async def organisation(self) -> Row:
        """The organisation the tenant id names (its name, base currency, edition)."""
        return self._single(await self._api("GET", "Organisation"), "Organisations")

    async def contacts(self) -> list[Row]:
        """Every contact, archived ones included (a mapping to one is then shown stale)."""
        return await self.pages("Contacts", {"includeArchived": "true"})

    async def items(self) -> list[Row]:
        return await self._list("Items")

    async def accounts(self) -> list[Row]:
        return await self._list("Accounts")

    async def tax_rates(self) -> list[Row]:
        return await self._list("TaxRates")

    async def invoices_by_number(self, numbers: Iterable[str]) -> list[Row]:
        """The invoices whose InvoiceNumber is one of `numbers`, voided and deleted ones too."""
        unique = sorted(set(numbers))
        rows: list[Row] = []
        for start in range(0, len(unique), NUMBERS_PER_QUERY):
            chunk = unique[start : start + NUMBERS_PER_QUERY]
            rows += await self.pages("Invoices", {"InvoiceNumbers": ",".join(chunk)})
        return rows

    async def credit_notes_by_number(self, numbers: Iterable[str]) -> list[Row]:
        """The credit notes whose CreditNoteNumber is one of `numbers` (by `where`: credit
        notes have no list parameter for numbers)."""
        unique = sorted(set(numbers))
        rows: list[Row] = []
        for start in range(0, len(unique), NUMBERS_PER_QUERY):
            chunk = unique[start : start + NUMBERS_PER_QUERY]
            where = " OR ".join(f"CreditNoteNumber=={xero_string(n)}" for n in chunk)
            rows += await self.pages("CreditNotes", {"where": where})
        return rows

    async def get(self, collection: str, identifier: str) -> Row:
        """One invoice or credit note by its id."""
        body = await self._api("GET", f"{collection}/{quote(identifier, safe='')}")
        return self._single(body, collection)

    # -- writing -----------------------------------------------------------------------------

    async def create(self, collection: str, records: Sequence[Row], key: str) -> list[Row]:
        """PUT (create only) invoices or credit notes under one idempotency key, each answered
        on its own (`summarizeErrors=false`): the element of a refused one carries its
        ValidationErrors; the caller reads them."""
        body = await self._api(
            "PUT",
            collection,
            params={"summarizeErrors": "false", "unitdp": "4"},
            json={collection: list(records)},
            key=key,
        )
        answered = self._rows(body.get(collection), f"/{collection}")
        if len(answered) != len(records):
            raise ApiError(
                self.service,
                "bad_response",
                None,
                f"Xero answered {len(answered)} of {len(records)} {collection}: settled by "
                "looking them up",
                ambiguous=True,
            )
        return answered

    async def set_status(self, collection: str, identifier: str, status: str, key: str) -> Row:
        """Move one invoice or credit note to VOIDED or DELETED."""
        id_field = "InvoiceID" if collection == "Invoices" else "CreditNoteID"
        body = await self._api(
            "POST",
            f"{collection}/{quote(identifier, safe='')}",
            json={collection: [{id_field: identifier, "Status": status}]},
            key=key,
        )
        return self._single(body, collection)

    # -- plumbing ----------------------------------------------------------------------------

    async def _list(self, collection: str) -> list[Row]:
        body = await self._api("GET", collection)
        return self._rows(body.get(collection), f"/{collection}")

    async def pages(self, collection: str, params: dict[str, str]) -> list[Row]:
        """Every record of a paged collection (Contacts, Invoices, CreditNotes) for `params`."""
        rows: list[Row] = []
        page = 1
        while True:
            body = await self._api("GET", collection, params={**params, "page": str(page)})
            found = self._rows(body.get(collection, []), f"/{collection}")
            rows += found
            if len(found) < PAGE_SIZE:
                return rows
            page += 1

    def _single(self, body: Row, collection: str) -> Row:
        rows = self._rows(body.get(collection), f"/{collection}")
        if len(rows) != 1:
            raise self._unexpected(f"/{collection}", "one record")
        return rows[0]

    async def _api(
        self,
        method: str,
        resource: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        key: str | None = None,
    ) -> Row:
        headers = {"xero-tenant-id": await self.resolve_tenant()}
        if key is not None:
            headers["Idempotency-Key"] = key
        path = f"{API_PATH}/{resource}"
        answer = await self.request(method, path, params=params, json=json, headers=headers)
        return self._object(answer, path)

    async def _send(self, call: Any, token: str | None) -> httpx.Response:
        response = await super()._send(call, token)
        remaining = response.headers.get("X-DayLimit-Remaining", "")
        if remaining.isdigit() and len(remaining) <= 9:  # past a day's 5,000 is no count
            self.day_remaining = int(remaining)
        return response

    def _interpret(self, call: Any, response: httpx.Response) -> Any:
        if response.status_code == 429 and response.headers.get("X-Rate-Limit-Problem") in (
            "day",
            "Day",
        ):
            raise self._error(
                "rate_limited",
                f"Xero's daily allowance for this organisation is used up ({DAY_ALLOWANCE:,} "
                f"calls a day); it frees up over the next "
                f"{_frees_up(response)}: post the rest then",
                429,
            )
        return super()._interpret(call, response)

    # -- errors ------------------------------------------------------------------------------

    def _refusal(self, call: Any, response: httpx.Response) -> ApiError:
        error = super()._refusal(call, response)
        if call.purpose == "token":
            code = _json(response)
            if isinstance(code, dict) and code.get("error") == "invalid_grant":
                return self._error(
                    "auth",
                    f"Xero refused the refresh token or code ({response.status_code} "
                    f"invalid_grant): it expired, was used already or was revoked; {RECONNECT}",
                    response.status_code,
                )
            return error
        body = _json(response)
        messages = validation_messages(body)
        if not messages:
            return error
        return ApiError(
            self.service,
            "bad_request",
            response.status_code,
            f"Xero refused {call.method} {call.path} ({response.status_code}): "
            + "; ".join(messages),
            body=body,
        )

    def _permission_hint(self, method: str, path: str) -> str:
        return (
            f"check TRUEUP_XERO_TENANT ({self.tenant_id}) is an organisation this app is "
            f"connected to, or {RECONNECT}"
        )

    def _fresh_token_hint(self, method: str, path: str) -> str:
        return f"the app's access to the organisation ended: {RECONNECT}"

    def _not_found_hint(self) -> str:
        return (
            f"check {self.url_env} is the host root ({self.url_example}; trueup adds "
            f"{API_PATH}/...), or the record is gone"
        )

    def _redact(self, text: str) -> str:
        text = super()._redact(text)
        return text.replace(self._refresh_token, "***") if self._refresh_token else text


def xero_string(value: str) -> str:
    """A string literal for a Xero `where` filter: in double quotes, a quote doubled. Xero reads
    no backslash escape (`"PO \\"7\\""` is its QueryParseException; sandbox/xero_where.py has
    the evidence)."""
    return '"' + value.replace('"', '""') + '"'


def _frees_up(response: httpx.Response) -> str:
    """The wait Retry-After gives (seconds or an HTTP-date, as any answer's), else a day."""
    wait = retry_after(response)
    return duration(86400 if wait is None else max(wait, 60))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
