"""QuickBooks Online API client: rotating refresh tokens, the query language, invoices, batches.

QuickBooks rotates the refresh token on refresh. The client hands each new one to
`on_refresh_token`, which must store it durably, before the access token that came with it is
used: if storing fails, nothing is sent with that access token. Every call carries
minorversion=75 (accounting-and-reliability.md §1.2), and Fault bodies become one-line ApiErrors
naming QuickBooks' error code, with the parsed body kept in `ApiError.body`.

`batch` sends up to MAX_BATCH_ITEMS operations in one `POST /batch` (accounting-and-reliability
§1.6); the batch endpoint has a limit of its own, 40 requests a minute per company, which the
client keeps with a second limiter beside the 500 a minute (a batch is one request of those).
Lookups by DocNumber of more than one chunk go as the queries of a batch: one request for up to
QUERIES_PER_BATCH chunks instead of one each.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

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
    _Call,
    encode_json,
)
from trueup.core.sources.rotating import (
    OnRefreshToken,
    Reload,
    newest_refresh_token,
    store_refresh_token,
)

QBO_URL = "https://quickbooks.api.intuit.com"
INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
QBO_RATE_LIMIT = RateLimit(500, 60)  # per app and company
QBO_BATCH_RATE_LIMIT = RateLimit(40, 60)  # requests to /batch, per company
MINOR_VERSION = "75"
MAX_PAGE_SIZE = 1000  # QBO serves at most 1000 rows per query
DOC_NUMBERS_PER_QUERY = 50  # keeps the query URL short
MAX_BATCH_ITEMS = 30  # BatchItemRequests per batch
MAX_BATCH_REQUEST_ID = 36  # a batch's requestid; its items' bIds then at most 10 characters
MAX_BATCH_ID = 10
MAX_BATCH_OBJECTS = 1000  # objects one batch answer holds at most (Intuit's batch reference)
# Each lookup query in a batch asks MAXRESULTS = its numbers + 1 (so one that fills it, a
# DocNumber held twice, is told apart and read again page by page): 19 x 51 = 969 objects.
QUERIES_PER_BATCH = min(MAX_BATCH_ITEMS, MAX_BATCH_OBJECTS // (DOC_NUMBERS_PER_QUERY + 1))
RECONNECT = "reconnect with `trueup connect qbo`"


def token_url_for(base_url: str) -> str:
    """Intuit's token endpoint for Intuit's API hosts; a sandbox serves it on its own host."""
    host = urlsplit(base_url.strip()).hostname or ""
    if host == "intuit.com" or host.endswith(".intuit.com"):
        return INTUIT_TOKEN_URL
    return base_url.strip().rstrip("/") + TOKEN_PATH


@dataclass(frozen=True)
class QboTokens:
    """The answer to a grant; repr never shows the tokens."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    refresh_token_expires_in: int | None = None


@dataclass(frozen=True)
class QboFault:
    """The first error of a QuickBooks Fault body."""

    code: str
    message: str
    detail: str
    type: str

    def __str__(self) -> str:
        text = f"QuickBooks error {self.code or '?'}: {self.message}"
        if self.detail and self.detail != self.message:
            text += f" ({self.detail})"
        return text if len(text) <= 240 else text[:239] + "…"


def parse_fault(body: Any) -> QboFault | None:
    """The API's `{"Fault": {"Error": [{Message, Detail, code}], type}}`, or the gateway's
    lower-case `{"fault": {"error": [{message, detail, code}], type}}` (its 401s)."""
    if not isinstance(body, dict):
        return None
    fault = body.get("Fault", body.get("fault"))
    if not isinstance(fault, dict):
        return None
    errors = fault.get("Error", fault.get("error"))
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, dict):
        return None

    def text(name: str) -> str:
        value = first.get(name.capitalize(), first.get(name))
        return " ".join(str(value).split()) if value is not None else ""

    # The gateway packs its message as "message=AuthenticationFailed; errorCode=003200; ..."
    message = text("message")
    packed = re.match(r"message=([^;]+)", message)
    return QboFault(
        code=text("code"),
        message=packed.group(1).strip() if packed else message,
        detail=text("detail"),
        type=str(fault.get("type") or ""),
    )


def fault_code(error: ApiError) -> str | None:
    """The QuickBooks error code of a refusal ("6140", "5010", ...), if it carried a Fault."""
    fault = parse_fault(error.body)
    return fault.code if fault else None


def qbo_string(value: str) -> str:
    """A quoted string literal for a QBO query; quotes and backslashes are backslash-escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class _Reads(_Call):
    """A POST that only reads (a batch of queries): sent again after a failure like a GET."""

    @property
    def repeatable(self) -> bool:
        return True


class QboClient(ApiClient):
    service = "QuickBooks"
    url_env = "TRUEUP_QBO_URL"
    token_url_env = "TRUEUP_QBO_URL"
    credential_envs = ("TRUEUP_QBO_CLIENT_ID", "TRUEUP_QBO_CLIENT_SECRET")
    url_example = QBO_URL

    def __init__(
        self,
        base_url: str,
        realm_id: str,
        client_id: str,
        client_secret: str,
        refresh_token: str | None,
        on_refresh_token: OnRefreshToken,
        *,
        token_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        rate: RateLimit | None = QBO_RATE_LIMIT,
        batch_rate: RateLimit | None = QBO_BATCH_RATE_LIMIT,
        concurrency: int = 4,
        page_size: int = MAX_PAGE_SIZE,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        names: Mapping[str, str] | None = None,
        reload_refresh_token: Reload | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"QBO pages hold 1 to {MAX_PAGE_SIZE} rows, not {page_size}")
        super().__init__(
            base_url,
            client_id,
            client_secret,
            transport=transport,
            rate=rate,
            concurrency=concurrency,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            clock=clock,
            names=names,
        )
        if not realm_id.strip():
            raise self._error("config", "no QuickBooks company: set TRUEUP_QBO_REALM (realmId)")
        self.realm_id = realm_id.strip()
        self.token_url = self._checked_url(token_url, self.token_url_env)
        self._refresh_token = refresh_token or None
        self._on_refresh_token = on_refresh_token
        self._reload_refresh_token = reload_refresh_token
        self._page_size = page_size
        self._last_auth_fault: QboFault | None = None
        self._http.auth = BasicAuthAt(self.token_url, client_id, client_secret)
        # With no rate limit (limits off) the batch endpoint's goes too.
        self._batch_limiter = (
            batch_rate.limiter(clock=clock, sleep=sleep) if rate and batch_rate else None
        )
        self.batch_requests = 0  # POST /batch sent, retries included

    # -- OAuth -------------------------------------------------------------------------------

    @property
    def refresh_token(self) -> str | None:
        """The refresh token in use: the one given, or the newest Intuit rotated in."""
        return self._refresh_token

    async def exchange_authorization_code(self, code: str, redirect_uri: str) -> QboTokens:
        """Trade a consent's authorization code for tokens; the refresh token is stored through
        `on_refresh_token` before this returns, and later calls refresh from it."""
        async with self._token_lock:
            tokens = await self._grant(
                {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
            )
            await self._adopt_refresh_token(tokens.refresh_token)
            self._token = None  # the next call refreshes: proof the stored token works
        return tokens

    async def _fetch_token(self) -> tuple[str, int]:
        self._refresh_token = newest_refresh_token(self._refresh_token, self._reload_refresh_token)
        if not self._refresh_token:
            raise self._error(
                "auth", f"no QuickBooks refresh token: {RECONNECT} or set TRUEUP_QBO_REFRESH_TOKEN"
            )
        tokens = await self._grant(
            {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        )
        await self._adopt_refresh_token(tokens.refresh_token)
        return tokens.access_token, tokens.expires_in

    async def _grant(self, form: dict[str, str]) -> QboTokens:
        """POST a grant to the token endpoint (Basic client authentication)."""
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
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise self._error(
                "bad_response",
                f"QuickBooks' token endpoint at {self.token_url} answered without an access and "
                f"a refresh token: check {self.token_url_env}",
            )
        return QboTokens(
            access,
            refresh,
            expires_in=_seconds(body.get("expires_in")) or 3600,
            refresh_token_expires_in=_seconds(body.get("x_refresh_token_expires_in")),
        )

    async def _adopt_refresh_token(self, new: str) -> None:
        """Make `new` the refresh token and have it stored; raise if storing fails."""
        if new == self._refresh_token:
            return  # QuickBooks hands back the same one for about a day
        # Kept even if storing fails: the server may already refuse the old one, and a later
        # refresh in this run then still works and stores its successor.
        self._refresh_token = new
        await store_refresh_token(self.service, new, self._on_refresh_token)

    # -- queries -----------------------------------------------------------------------------

    async def query(
        self, entity: str, where: str | None = None, also: Sequence[str] = ()
    ) -> list[Row]:
        """Every row of `SELECT * [, also...] FROM entity [WHERE where]`, page by page (`also`:
        fields QuickBooks leaves out of SELECT * unless named)."""
        if not all(name.isidentifier() for name in (entity, *also)):
            raise ValueError(f"not a QBO entity or field name: {entity!r} {also!r}")
        fields = "".join(f", {name}" for name in also)
        select = f"SELECT *{fields} FROM {entity}" + (f" WHERE {where}" if where else "")
        rows: list[Row] = []
        first_ids: set[Any] = set()
        while True:
            text = f"{select} STARTPOSITION {len(rows) + 1} MAXRESULTS {self._page_size}"
            body = await self._api("GET", "query", params={"query": text})
            response = self._object(body.get("QueryResponse", {}), "/query")
            page = self._rows(response.get(entity, []), "/query")
            if page and page[0].get("Id") in first_ids:  # STARTPOSITION was ignored
                raise self._unexpected("/query", f"a next page of {entity}")
            first_ids.update(row.get("Id") for row in page[:1])
            rows.extend(page)
            if len(page) < self._page_size:
                return rows

    async def customers(self) -> list[Row]:
        """Every customer, inactive ones included (QBO hides them unless asked)."""
        return await self.query("Customer", "Active IN (true, false)")

    async def items(self) -> list[Row]:
        """Every item with its Sku, which QuickBooks leaves out of SELECT * (python-quickbooks
        issue 373): asked for by name."""
        return await self.query("Item", "Active IN (true, false)", also=("Sku",))

    async def company(self) -> Row:
        """The company's CompanyInfo (its Country decides the tax model) and Preferences (its
        home currency and whether multicurrency is on), as `{"CompanyInfo", "Preferences"}`."""
        info, preferences = await self.query("CompanyInfo"), await self.query("Preferences")
        return {
            "CompanyInfo": info[0] if info else {},
            "Preferences": preferences[0] if preferences else {},
        }

    async def tax_codes(self) -> list[Row]:
        """Every tax code, inactive ones included."""
        return await self.query("TaxCode", "Active IN (true, false)")

    async def invoices_by_doc_number(
        self, numbers: Iterable[str], entity: str = "Invoice"
    ) -> list[Row]:
        """The invoices (or CreditMemos) whose DocNumber is one of `numbers`, voided ones
        included."""
        return (await self.by_doc_number({entity: numbers}))[entity]

    async def by_doc_number(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, list[Row]]:
        """Per entity (Invoice, CreditMemo), its rows whose DocNumber is one of the numbers
        given, voided ones included. The numbers go DOC_NUMBERS_PER_QUERY to a query; one query
        is a GET, more are the queries of batches (QUERIES_PER_BATCH each)."""
        chunks: list[tuple[str, list[str]]] = []
        for entity, numbers in wanted.items():
            unique = sorted(set(numbers))
            chunks += [
                (entity, unique[start : start + DOC_NUMBERS_PER_QUERY])
                for start in range(0, len(unique), DOC_NUMBERS_PER_QUERY)
            ]
        found: dict[str, list[Row]] = {entity: [] for entity in wanted}
        if len(chunks) == 1:
            entity, chunk = chunks[0]
            found[entity] = await self.query(entity, _doc_numbers_in(chunk))
            return found
        for start in range(0, len(chunks), QUERIES_PER_BATCH):
            part = chunks[start : start + QUERIES_PER_BATCH]
            items: list[Row] = [
                {
                    "bId": str(n),
                    "Query": f"SELECT * FROM {entity} WHERE {_doc_numbers_in(chunk)} "
                    f"STARTPOSITION 1 MAXRESULTS {len(chunk) + 1}",
                }
                for n, (entity, chunk) in enumerate(part)
            ]
            for (entity, chunk), answer in zip(part, await self.batch(items), strict=True):
                rows = self._query_rows(answer, entity)
                if len(rows) > len(chunk):  # a number held twice: read them all, page by page
                    rows = await self.query(entity, _doc_numbers_in(chunk))
                found[entity] += rows
        return found

    def _query_rows(self, answer: Row, entity: str) -> list[Row]:
        """The rows of a batch item's QueryResponse; its Fault as the error a query gets."""
        fault = parse_fault(answer)
        if fault is not None:
            raise ApiError(
                self.service,
                "bad_request",
                None,
                f"QuickBooks refused a query of its batch: {fault}",
                body=answer,
            )
        response = self._object(answer.get("QueryResponse"), "/batch")
        return self._rows(response.get(entity, []), "/batch")

    # -- batches -----------------------------------------------------------------------------

    async def batch(self, items: Sequence[Row], request_id: str | None = None) -> list[Row]:
        """Send `items` (BatchItemRequests, each with its own bId) as one `POST /batch`; the
        BatchItemResponses in the items' order, each the entity, a QueryResponse or a Fault.

        Every bId must come back once: an answer missing one (or naming one twice, or one not
        sent) is a bad_response, ambiguous when the batch writes (what it did is unknown). A
        batch of queries alone is a read: sent again after a failure. QuickBooks replays the
        first answer to a repeated `request_id` (at most 36 characters, and the bIds then at
        most 10)."""
        bids = [item.get("bId") for item in items]
        if not 1 <= len(items) <= MAX_BATCH_ITEMS:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, not {len(items)}")
        if not all(isinstance(b, str) and b for b in bids) or len(set(bids)) != len(bids):
            raise ValueError(f"every batch item needs a bId of its own: {bids}")
        if request_id is not None and (
            len(request_id) > MAX_BATCH_REQUEST_ID or any(len(str(b)) > MAX_BATCH_ID for b in bids)
        ):
            raise ValueError(
                f"a batch's requestid is at most {MAX_BATCH_REQUEST_ID} characters and its bIds "
                f"then {MAX_BATCH_ID}: {request_id!r}, {bids}"
            )
        writes = any("Query" not in item for item in items)
        params = {"requestid": request_id} if request_id else {}
        answer = await self._api(
            "POST", "batch", params=params, json={"BatchItemRequest": list(items)}, reads=not writes
        )
        responses = self._rows(answer.get("BatchItemResponse"), "/batch")
        by_bid: dict[Any, Row] = {}
        for response in responses:
            bid = response.get("bId")
            if bid not in bids or bid in by_bid:
                raise self._batch_unusable(len(items), f"an answer for bId {bid!r}", writes)
            by_bid[bid] = response
        missing = [b for b in bids if b not in by_bid]
        if missing:
            raise self._batch_unusable(
                len(items), f"no answer for bId {', '.join(map(str, missing))}", writes
            )
        return [by_bid[bid] for bid in bids]

    def _batch_unusable(self, count: int, what: str, writes: bool) -> ApiError:
        settle = "; what it did is settled by lookup" if writes else ""
        return ApiError(
            self.service,
            "bad_response",
            None,
            f"QuickBooks answered a batch of {count} with {what}{settle}",
            ambiguous=writes,
        )

    # -- invoices ----------------------------------------------------------------------------

    async def create_invoice(self, body: Row, request_id: str) -> Row:
        """Create an invoice; QBO answers a repeated `request_id` with the first answer."""
        answer = await self._api("POST", "invoice", params={"requestid": request_id}, json=body)
        return self._object(answer.get("Invoice"), "/invoice")

    async def get_invoice(self, invoice_id: str) -> Row:
        answer = await self._api("GET", f"invoice/{quote(invoice_id, safe='')}")
        return self._object(answer.get("Invoice"), "/invoice")

    async def void_invoice(self, invoice_id: str, sync_token: str) -> Row:
        """Void an invoice at its current SyncToken (a stale one is QBO error 5010)."""
        body = {"Id": invoice_id, "SyncToken": sync_token}
        answer = await self._api("POST", "invoice", params={"operation": "void"}, json=body)
        return self._object(answer.get("Invoice"), "/invoice")

    # -- credit memos: QuickBooks deletes one, it has no void (python-quickbooks' CreditMemo
    # offers delete only; Intuit's reference lists create, read, update, delete) -------------

    async def create_credit_memo(self, body: Row, request_id: str) -> Row:
        answer = await self._api("POST", "creditmemo", params={"requestid": request_id}, json=body)
        return self._object(answer.get("CreditMemo"), "/creditmemo")

    async def get_credit_memo(self, memo_id: str) -> Row:
        answer = await self._api("GET", f"creditmemo/{quote(memo_id, safe='')}")
        return self._object(answer.get("CreditMemo"), "/creditmemo")

    async def delete_credit_memo(self, memo_id: str, sync_token: str) -> Row:
        body = {"Id": memo_id, "SyncToken": sync_token}
        answer = await self._api("POST", "creditmemo", params={"operation": "delete"}, json=body)
        return self._object(answer.get("CreditMemo"), "/creditmemo")

    async def _api(
        self,
        method: str,
        resource: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        reads: bool = False,
    ) -> Row:
        """`reads`: a POST that only reads, retried like a GET."""
        path = f"/v3/company/{quote(self.realm_id, safe='')}/{resource}"
        query = {**(params or {}), "minorversion": MINOR_VERSION}
        if not reads:
            return self._object(await self.request(method, path, params=query, json=json), path)
        call = self._call(method, path, "data", query)
        call.content, call.content_type = encode_json(json).encode(), "application/json"
        read = _Reads(**{f.name: getattr(call, f.name) for f in fields(call)})
        return self._object(await self._perform(read), path)

    # -- errors ------------------------------------------------------------------------------

    def _refusal(self, call: Any, response: httpx.Response) -> ApiError:
        error = super()._refusal(call, response)
        body = _json(response)
        if call.purpose == "token":
            if isinstance(body, dict) and body.get("error") == "invalid_grant":
                return self._error(
                    "auth",
                    f"QuickBooks refused the refresh token or authorization code "
                    f"({response.status_code} invalid_grant): it expired, was revoked or was "
                    f"replaced; {RECONNECT}",
                    response.status_code,
                )
            return error
        fault = parse_fault(body)
        if fault is None:
            return error
        hints = {
            "permission": self._permission_hint(call.method, call.path),
            "not_found": self._not_found_hint(),
            "server": "try again later",
        }
        hint = hints.get(error.kind)
        return ApiError(
            self.service,
            "not_found" if fault.code == "610" else error.kind,
            response.status_code,
            self._named(
                f"QuickBooks refused {call.method} {call.path} ({response.status_code}): {fault}"
                + (f"; {hint}" if hint else "")
            ),
            ambiguous=error.ambiguous,
            body=body,
        )

    async def _send(self, call: Any, token: str | None) -> httpx.Response:
        if call.purpose == "data" and call.path.endswith("/batch"):
            self.batch_requests += 1
            if self._batch_limiter is not None:
                async with self._batch_limiter.turn():
                    response = await self._send_counted(call, token)
                return response
        return await self._send_counted(call, token)

    async def _send_counted(self, call: Any, token: str | None) -> httpx.Response:
        response = await super()._send(call, token)
        if response.status_code == 401 and call.purpose == "data":
            self._last_auth_fault = parse_fault(_json(response))
        return response

    def _fresh_token_hint(self, method: str, path: str) -> str:
        fault = f"{self._last_auth_fault}; " if self._last_auth_fault else ""
        return f"{fault}the app's access to company {self.realm_id} ended: {RECONNECT}"

    def _credentials_hint(self) -> str:
        return f"check {self.credential_envs[0]} / {self.credential_envs[1]}"

    def _permission_hint(self, method: str, path: str) -> str:
        return f"check TRUEUP_QBO_REALM ({self.realm_id}) is the company trueup was connected to"

    def _not_found_hint(self) -> str:
        return (
            f"check {self.url_env} is the host root ({self.url_example}; trueup adds "
            "/v3/company/...), or the record is gone"
        )

    def _redact(self, text: str) -> str:
        text = super()._redact(text)
        return text.replace(self._refresh_token, "***") if self._refresh_token else text


def _doc_numbers_in(numbers: Sequence[str]) -> str:
    return f"DocNumber IN ({', '.join(qbo_string(n) for n in numbers)})"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _seconds(value: Any) -> int | None:
    try:
        return max(1, int(Decimal(str(value))))
    except (InvalidOperation, ValueError, OverflowError):
        return None
