"""Shared async HTTP machinery for the Pax8 and HaloPSA clients.

An ApiClient owns one httpx.AsyncClient and adds what both services need: a cached OAuth
client-credentials token, a client-side rate limiter, bounded concurrency, retries with backoff,
and ApiError, whose one-line message tells the user what happened and what to do.

Hardening: TLS certificates are always verified; plain http:// is refused except on loopback
(the sandbox) or an in-process transport (nothing leaves the process); a response body larger
than MAX_RESPONSE_BYTES is refused while it streams in, before it can exhaust memory.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import math
import random
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, ClassVar, Literal, NoReturn, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from trueup.core.errors import TrueupError
from trueup.core.sources.limiter import SlidingWindowLimiter
from trueup.core.values.text import visible
from trueup.core.values.urls import HTTPS_ONLY, in_clear

log = logging.getLogger("trueup.http")

ErrorKind = Literal[
    "auth",
    "permission",
    "not_found",
    "rate_limited",
    "server",
    "network",
    "timeout",
    "bad_response",
    "bad_request",
    "config",
]
Row = dict[str, Any]
ParamValue = str | int | bool | date | None
Params = Mapping[str, ParamValue]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Purpose = Literal["data", "token", "public"]

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0)
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})
MESSAGE_LIMIT = 200  # characters of a server's error text quoted in an ApiError
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # a Pax8 page of 200 rows is well under 1 MB
# A Retry-After or token lifetime past this is read as this (a year).
LONGEST_SECONDS = Decimal(366 * 86400)
_VARIABLE = re.compile(r"\bTRUEUP_[A-Z0-9_]+\b")
# Fields of a token request or answer whose values are secrets (RFC 6749, RFC 7636).
_SECRET_FIELDS = frozenset(
    {"client_secret", "refresh_token", "code", "code_verifier", "access_token", "id_token"}
)


class ApiError(TrueupError):
    """A failed call to Pax8 or HaloPSA; str() is one line saying what happened and what to do."""

    def __init__(
        self,
        service: str,
        kind: ErrorKind,
        status: int | None,
        message: str,
        *,
        ambiguous: bool = False,
        body: Any = None,
    ) -> None:
        super().__init__(_one_line(message))
        self.service = service
        self.kind = kind
        self.status = status
        # A write that failed in a way that may have been applied (timeout, reset, 5xx, a
        # malformed answer): only looking the document up can tell.
        self.ambiguous = ambiguous
        self.body = body  # the refusal's parsed JSON, for services with error codes in it


@dataclass(frozen=True)
class RateLimit:
    """The server's limit: at most max_requests in any rolling window of window_seconds."""

    max_requests: int
    window_seconds: float

    def __post_init__(self) -> None:
        if self.max_requests < 2 or self.window_seconds <= 0:
            raise ValueError(f"a rate limit needs >= 2 requests in a positive window: {self}")

    def limiter(
        self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> SlidingWindowLimiter:
        # Exact: each request counts from its send until a window (and a margin) after its
        # answer, so the whole window is used and no rolling window at the server exceeds it.
        return SlidingWindowLimiter(
            self.max_requests, self.window_seconds, clock=clock, sleep=sleep
        )


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 300.0  # Halo's window is 5 minutes; longer asks are clamped


DEFAULT_RETRY = RetryPolicy()


class BasicAuthAt(httpx.Auth):
    """HTTP Basic client authentication, sent to one URL (a token endpoint) only: set as a
    client's auth, it never reaches the API's own requests."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self._token_url = _endpoint(httpx.URL(token_url))
        self._basic = httpx.BasicAuth(client_id, client_secret)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _endpoint(request.url) == self._token_url:
            yield from self._basic.auth_flow(request)
        else:
            yield request


def _endpoint(url: httpx.URL) -> tuple[str, str, int | None, str]:
    return url.scheme, url.host, url.port, url.path


@dataclass
class ClientStats:
    """Counts of HTTP requests actually sent, including token requests."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    token_requests: int = 0


class _Transient(Exception):
    """A failure worth retrying; becomes an ApiError when the attempts run out."""

    def __init__(
        self,
        kind: ErrorKind,
        reason: str,
        status: int | None = None,
        retry_after: float | None = None,
        unreachable: bool = False,
        unsent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.unreachable = unreachable  # no connection was made: the URL may be wrong
        self.unsent = unsent or unreachable  # the server surely did not act on the request


@dataclass
class _Call:
    method: str
    url: str
    purpose: Purpose
    where: str  # the configured URL to name in messages
    env: str  # the variable that sets it
    params: dict[str, str]
    content: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # the service's own, e.g. a tenant
    sends: int = 0
    token_refreshed: bool = False

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def repeatable(self) -> bool:
        """Whether sending it twice is harmless (a Halo POST without an id creates a record; a
        write under an idempotency key is answered once however often it is sent)."""
        return (
            self.method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
            or self.purpose == "token"
            or "Idempotency-Key" in self.headers
        )


class ApiClient(ABC):
    """Base of the service clients: token cache, limiter, concurrency, retries, errors."""

    service: ClassVar[str]
    url_env: ClassVar[str]
    token_url_env: ClassVar[str]
    credential_envs: ClassVar[tuple[str, str]]
    url_example: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None,
        rate: RateLimit | None,
        concurrency: int,
        timeout: httpx.Timeout | None,
        retry: RetryPolicy,
        sleep: Sleep,
        clock: Clock,
        names: Mapping[str, str] | None = None,
    ) -> None:
        # Messages name a value by the TRUEUP_* variable that sets it; `names` says instead
        # where one came from when it did not (the config file, a flag, stdin).
        self._names = dict(names or {})
        # A transport of our own (simulators, tests) sends nothing over a network.
        self._network = transport is None or isinstance(transport, httpx.AsyncHTTPTransport)
        self.max_response_bytes = MAX_RESPONSE_BYTES
        self.base_url = self._checked_url(base_url, self.url_env)
        self._client_id = client_id
        self._client_secret = client_secret
        # Every secret this client sent or was given, so a refusal echoing one never shows it.
        self._secrets = {client_secret} if client_secret else set()
        self._retry = retry
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout or DEFAULT_TIMEOUT,
            headers={"Accept": "application/json", "User-Agent": "trueup"},
            verify=True,  # never turned off: a proxy that breaks TLS must be trusted explicitly
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._limiter = rate.limiter(clock=clock, sleep=sleep) if rate else None
        self._token: str | None = None
        self._token_renew_at = 0.0
        self._token_lock = asyncio.Lock()
        self._capped_said_until = -math.inf  # a clock reading: a capped wait is said once a cap
        self.stats = ClientStats()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, client_id={self._client_id!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send an authorised request; return the parsed JSON (floats as Decimal), None if empty."""
        call = self._call(method, path, "data", params)
        call.headers.update(headers or {})
        if json is not None:
            call.content, call.content_type = encode_json(json).encode(), "application/json"
        return await self._perform(call)

    async def check_credentials(self) -> None:
        """Request a new token now: proves the token URL and the credentials, or raises."""
        async with self._token_lock:
            self._token = None
        await self._valid_token()

    # -- hooks for the service clients -------------------------------------------------------

    @abstractmethod
    async def _fetch_token(self) -> tuple[str, int]:
        """Ask the authorisation server for a token: (access_token, lifetime in seconds)."""

    def _permission_hint(self, method: str, path: str) -> str:
        return "check the API credentials' permissions"

    def _not_found_hint(self) -> str:
        return f"check {self.url_env}, or the record no longer exists"

    def _credentials_hint(self) -> str:
        return f"check {self.credential_envs[0]} / {self.credential_envs[1]}"

    def _fresh_token_hint(self, method: str, path: str) -> str:
        """What to do when a data endpoint rejects a token just issued."""
        return self._credentials_hint()

    async def _request_public(self, method: str, path: str) -> Any:
        """A request that needs no token (discovery endpoints)."""
        return await self._perform(self._call(method, path, "public", None))

    async def _request_token(
        self, url: str, *, json_body: Any = None, form: Mapping[str, str] | None = None
    ) -> tuple[str, int]:
        """POST a client-credentials grant and read (access_token, expires_in) from the answer."""
        where = url.split("?")[0]
        call = _Call("POST", url, "token", where, self.token_url_env, {})
        if json_body is not None:
            call.content, call.content_type = encode_json(json_body).encode(), "application/json"
        else:
            call.content = urlencode(form or {}).encode()
            call.content_type = "application/x-www-form-urlencoded"
        body = await self._perform(call)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise self._error(
                "bad_response",
                f"{self.service}'s token endpoint at {where} answered without an access token: "
                f"check {self.token_url_env}",
            )
        return token, _seconds(body.get("expires_in"))

    def _rows(self, value: Any, path: str) -> list[Row]:
        """Check that a list from a response holds objects. `null` is malformed, not empty: read
        as empty it would delete every stored row (a caller whose key may be absent passes its
        default, `[]`)."""
        if isinstance(value, list) and all(isinstance(row, dict) for row in value):
            return value
        if value is None:  # the service's own fault, most likely: the URL answered JSON
            raise self._error(
                "bad_response",
                f"{self.service} answered {path} with null where a list of objects belongs "
                f"(malformed, not empty); if it goes on, check {self.url_env} points at the "
                f"{self.service} API ({self.url_example})",
            )
        raise self._unexpected(path, "a list of objects")

    def _object(self, value: Any, path: str) -> Row:
        if isinstance(value, dict):
            return value
        raise self._unexpected(path, "an object")

    def _unexpected(self, path: str, expected: str) -> ApiError:
        return self._error(
            "bad_response",
            f"{self.service} answered {path} with something other than {expected}: "
            f"check {self.url_env} points at the {self.service} API ({self.url_example})",
        )

    def _error(self, kind: ErrorKind, message: str, status: int | None = None) -> ApiError:
        return ApiError(self.service, kind, status, self._named(message))

    def _named(self, message: str) -> str:
        """`message` with each TRUEUP_* variable of a value that came from elsewhere named by
        where it came from."""
        return _VARIABLE.sub(lambda found: self._names.get(found[0], found[0]), message)

    # -- token -------------------------------------------------------------------------------

    async def _valid_token(self) -> str:
        token = self._token
        if token is not None and self._clock() < self._token_renew_at:
            return token
        async with self._token_lock:  # one refresh at a time; waiters reuse its result
            token = self._token
            if token is None or self._clock() >= self._token_renew_at:
                requested_at = self._clock()
                token, lifetime = await self._fetch_token()
                self._token = token
                self._token_renew_at = requested_at + _renew_after(lifetime)
            return token

    def _drop_token(self, rejected: str) -> None:
        # Only the first of several concurrent 401s drops it; the others see a newer token.
        if self._token == rejected:
            self._token = None

    # -- sending and retrying ----------------------------------------------------------------

    def _call(self, method: str, path: str, purpose: Purpose, params: Params | None) -> _Call:
        return _Call(
            method, self.base_url + path, purpose, self.base_url, self.url_env, _query(params)
        )

    async def _perform(self, call: _Call) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.max_attempts),
            wait=self._backoff,
            retry=retry_if_exception(
                lambda exc: isinstance(exc, _Transient) and (call.repeatable or exc.unsent)
            ),
            sleep=self._sleep,
            before_sleep=self._note_retry,
            reraise=True,
        )
        try:
            answer: Any = await retrying(self._attempt, call)
        except _Transient as failure:
            raise self._gave_up(call, failure) from failure
        if call.purpose == "token" and isinstance(answer, dict):
            self._secrets.update(_secret_values(answer.items()))
        return answer

    async def _attempt(self, call: _Call) -> Any:
        token = await self._valid_token() if call.purpose == "data" else None
        response = await self._send(call, token)
        if response.status_code == 401 and token is not None:
            self._drop_token(token)
            if call.token_refreshed:
                raise self._rejected_token(call)
            call.token_refreshed = True
            raise _Transient("auth", "the access token was rejected", 401, unsent=True)
        return self._interpret(call, response)

    async def _send(self, call: _Call, token: str | None) -> httpx.Response:
        headers = dict(call.headers)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if call.content_type is not None:
            headers["Content-Type"] = call.content_type
        call.sends += 1
        if call.purpose == "token":
            self._secrets.update(_sent_secrets(call))
        # Slot first, then the limiter's turn: a turn taken before waiting for a slot would
        # count against the window while nothing is sent.
        async with self._slots, self._turn():
            self.stats.requests += 1
            if call.purpose == "token":
                self.stats.token_requests += 1
            started = self._clock()
            try:
                request = self._http.build_request(
                    call.method,
                    call.url,
                    params=call.params or None,
                    content=call.content,
                    headers=headers,
                )
                response = await self._bounded(call, await self._http.send(request, stream=True))
            except httpx.TransportError as exc:
                self._log(call, type(exc).__name__, started)
                raise self._transport_failure(call, exc) from exc
        self._log(call, response.status_code, started)
        if response.status_code == 429:
            self.stats.rate_limited += 1
            self._pause(response)
        # A refusal's body is read into messages and errors (a QuickBooks Fault, an OAuth
        # error_description): a secret it echoes is gone before anyone reads it.
        return self._redacted(response) if response.status_code >= 400 else response

    def _turn(self) -> AbstractAsyncContextManager[None]:
        return self._limiter.turn() if self._limiter is not None else nullcontext()

    def _pause(self, response: httpx.Response) -> None:
        """After a 429 with Retry-After, hold every request of this client, not just the one
        retried: the others would only be refused too."""
        wait = retry_after(response)
        if self._limiter is not None and wait is not None:
            self._limiter.pause_until(self._clock() + min(wait, self._retry.max_retry_after))

    async def _bounded(self, call: _Call, streamed: httpx.Response) -> httpx.Response:
        """The response with its body read, refusing one larger than max_response_bytes."""
        limit = self.max_response_bytes
        chunks: list[bytes] = []
        declared = streamed.headers.get("Content-Length", "")
        too_big = declared.isdigit() and int(declared) > limit  # refused before any byte is read
        try:
            received = 0
            if not too_big:
                async for chunk in streamed.aiter_bytes():  # decoded: a compressed bomb counts
                    received += len(chunk)
                    if received > limit:
                        too_big = True
                        break
                    chunks.append(chunk)
        finally:
            await streamed.aclose()
        if too_big:
            raise self._error(
                "bad_response",
                f"{self.service} sent more than {_size(limit)} for {call.method} "
                f"{call.path}; refused — check {call.env} points at the {self.service} API",
                streamed.status_code,
            )
        # The body is decoded already: the copy must not announce a content encoding.
        headers = [
            (name, value)
            for name, value in streamed.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            streamed.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=streamed.request,
            extensions=streamed.extensions,
        )

    def _log(self, call: _Call, outcome: object, started: float) -> None:
        log.debug(
            "%s %s %s -> %s (attempt %d, %.3f s)",
            self.service,
            call.method,
            call.path,
            outcome,
            call.sends,
            self._clock() - started,
        )

    def _backoff(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Transient) and failure.kind == "auth":
            return 0.0  # a fresh token is all the retry needs
        ceiling = min(
            self._retry.backoff_cap, self._retry.backoff_base * 2 ** (state.attempt_number - 1)
        )
        wait = random.uniform(0, ceiling)  # full jitter keeps concurrent retries apart
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            wait = max(wait, min(failure.retry_after, self._retry.max_retry_after))
            if failure.retry_after > self._retry.max_retry_after:
                self._say_capped(failure.retry_after)
        return wait

    def _say_capped(self, asked: float) -> None:
        """A wait shorter than the server asked for is said (at most once a cap): at 300 s
        each, five retries were 25 silent minutes."""
        cap = self._retry.max_retry_after
        if self._clock() < self._capped_said_until:
            return
        self._capped_said_until = self._clock() + cap
        log.warning(
            "%s asks to wait %s before the next request (Retry-After); trueup waits %s, "
            "its longest, then tries again",
            self.service,
            duration(asked),
            duration(cap),
        )

    def _note_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        failure = state.outcome.exception() if state.outcome else None
        log.debug(
            "%s retry %d in %.2f s after %s",
            self.service,
            state.attempt_number,
            state.upcoming_sleep,
            failure,
        )

    # -- turning responses and failures into results or errors -------------------------------

    def _interpret(self, call: _Call, response: httpx.Response) -> Any:
        status = response.status_code
        if status == 429:
            wait = retry_after(response)
            raise _Transient("rate_limited", "rate limited", 429, wait, unsent=True)
        if status in RETRY_STATUSES:
            kind: ErrorKind = "timeout" if status == 408 else "server"
            reason = f"{status} {response.reason_phrase}".strip()
            raise _Transient(kind, reason, status, retry_after(response))
        if 300 <= status < 400:
            location = response.headers.get("Location", "elsewhere")
            raise self._error(
                "config",
                f"{self.service} at {call.where} redirected {call.method} {call.path} to "
                f"{location} ({status}): check {call.env}",
                status,
            )
        if status >= 400:
            raise self._refusal(call, response)
        return self._parse(call, response)

    def _parse(self, call: _Call, response: httpx.Response) -> Any:
        if not response.content.strip():
            return None
        text = response.text
        if _is_html(response, text):
            raise self._error(
                "config",
                f"{self.service} at {call.where} answered {call.method} {call.path} with an HTML "
                f"page, not JSON: check {call.env} ({self.url_example})",
                response.status_code,
            )
        try:
            return jsonlib.loads(text, parse_float=Decimal, parse_constant=_not_json)
        except _NotJson as constant:  # sent on purpose, not cut short: asking again won't help
            raise self._unusable(
                call, f"{constant} in its JSON, which JSON does not allow"
            ) from None
        except RecursionError:
            raise self._unusable(call, "JSON nested deeper than any record is") from None
        except ValueError:
            raise _Transient("bad_response", "malformed JSON", response.status_code) from None

    def _unusable(self, call: _Call, what: str) -> ApiError:
        return self._error(
            "bad_response",
            f"{self.service} answered {call.method} {call.path} with {what}: nothing from it "
            "was used",
        )

    def _refusal(self, call: _Call, response: httpx.Response) -> ApiError:
        """The error for a 4xx (other than 401 on data, 408, 429) or an unretried 5xx."""
        status = response.status_code
        message = self._redact(_server_message(response))
        quoted = f"{status}: {message}" if message else f"{status}"
        if call.purpose == "token":
            if status in (404, 405):
                return self._error(
                    "config",
                    f"{self.service} has no token endpoint at {call.where} ({status}): "
                    f"check {call.env}",
                    status,
                )
            code = _oauth_error(response)
            return self._error(
                "auth",
                f"{self.service} rejected the client id or secret ({status}{code}): "
                f"{self._credentials_hint()}",
                status,
            )
        if call.purpose == "public":
            return self._error(
                "config",
                f"{self.service} at {call.where} answered {call.method} {call.path} with {quoted}: "
                f"check {call.env}",
                status,
            )
        if status == 403:
            hint = self._permission_hint(call.method, call.path)
            return self._error(
                "permission", f"{self.service} denied access to {call.path} ({quoted}): {hint}", 403
            )
        if status == 404:
            return self._error(
                "not_found",
                f"{self.service} has no {call.path} ({quoted}): {self._not_found_hint()}",
                404,
            )
        if status >= 500:
            return ApiError(
                self.service,
                "server",
                status,
                f"{self.service} failed on {call.method} {call.path} ({quoted}): try again later",
                ambiguous=not call.repeatable,
            )
        return ApiError(
            self.service,
            "bad_request",
            status,
            f"{self.service} rejected {call.method} {call.path} ({quoted})",
            body=_json_or_none(response),
        )

    def _rejected_token(self, call: _Call) -> ApiError:
        return self._error(
            "auth",
            f"{self.service} rejected a fresh access token for {call.method} {call.path} (401): "
            f"{self._fresh_token_hint(call.method, call.path)}",
            401,
        )

    def _transport_failure(self, call: _Call, exc: httpx.TransportError) -> Exception:
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            return self._error(
                "config",
                f"cannot send {call.method} {call.path} to {self.service} at {call.where} "
                f"({type(exc).__name__}): check {call.env}",
            )
        if isinstance(exc, httpx.TimeoutException):
            reason = _TIMEOUT_REASONS.get(type(exc), "timed out")
            unreachable = isinstance(exc, httpx.ConnectTimeout)
            unsent = isinstance(exc, httpx.PoolTimeout)
            return _Transient("timeout", reason, unreachable=unreachable, unsent=unsent)
        unreachable = isinstance(exc, httpx.ConnectError | httpx.ProxyError)
        return _Transient("network", _network_reason(exc), unreachable=unreachable)

    def _gave_up(self, call: _Call, failure: _Transient) -> ApiError:
        attempts = self._retry.max_attempts
        what = f"{call.method} {call.path}"
        if not (call.repeatable or failure.unsent):
            message = (
                f"{self.service} failed on {what} ({failure.reason}) and the write may have "
                f"gone through: check it in {self.service} before posting again"
            )
            return ApiError(self.service, failure.kind, failure.status, message, ambiguous=True)
        if failure.unreachable:
            message = (
                f"cannot reach {self.service} at {call.where}: {failure.reason} "
                f"(tried {attempts} times) — check {call.env}"
            )
        elif failure.kind == "rate_limited":
            asked = failure.retry_after or 0
            wait = (
                f"it asks to wait {duration(asked)} (Retry-After): try again then"
                if asked > self._retry.max_retry_after
                else "wait a few minutes and try again"
            )
            message = f"{self.service} kept rate-limiting after {attempts} attempts (429): {wait}"
        elif failure.kind == "server":
            message = (
                f"{self.service} kept failing on {what} after {attempts} attempts "
                f"({failure.reason}): the service may be down — try again later"
            )
        elif failure.kind == "timeout":
            message = (
                f"{self.service} did not answer {what} in time after {attempts} attempts "
                f"({failure.reason}): try again later"
            )
        elif failure.kind == "bad_response":
            message = (
                f"{self.service} kept sending malformed JSON for {what} after {attempts} "
                "attempts: try again later"
            )
        elif failure.kind == "auth":
            return self._rejected_token(call)
        else:
            message = (
                f"{self.service} kept dropping the connection on {what} after {attempts} "
                f"attempts ({failure.reason}): check your network and try again"
            )
        return self._error(failure.kind, message, failure.status)

    def _redact(self, text: str) -> str:
        for secret in sorted(self._secrets | {self._token or ""}, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _redacted(self, response: httpx.Response) -> httpx.Response:
        text = response.text
        redacted = self._redact(text)
        if redacted == text:
            return response
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() != "content-length"
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=redacted.encode(response.encoding or "utf-8", "replace"),
            request=response.request,
            extensions=response.extensions,
        )

    def _checked_url(self, url: str, env: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self._error(
                "config", f"{env} must be an http(s) URL like {self.url_example}, got {url!r}"
            )
        if parts.username or parts.password:  # not echoed: it may hold a password
            raise self._error("config", f"{env} must not carry a user name or password")
        if self._network and in_clear(url):  # the rule the settings check too (values.urls)
            raise self._error("config", f"{env} {HTTPS_ONLY}, got {url.strip()!r}")
        return url.strip().rstrip("/")


def _size(count: int) -> str:
    return f"{count // 2**20} MB" if count >= 2**20 else f"{count} bytes"


_TIMEOUT_REASONS: dict[type[Exception], str] = {
    httpx.ConnectTimeout: "connection timed out",
    httpx.ReadTimeout: "no response in time",
    httpx.WriteTimeout: "sending timed out",
    httpx.PoolTimeout: "no free connection in time",
}


def _network_reason(exc: httpx.TransportError) -> str:
    text = str(exc).lower()
    if isinstance(exc, httpx.ConnectError):
        dns_words = ("name or service", "nodename", "name resolution", "getaddrinfo", "no address")
        if any(word in text for word in dns_words):
            return "host name not found"
        if "certificate" in text or "ssl" in text:
            return "TLS handshake failed"
        if "refused" in text or "all connection attempts failed" in text:
            return "connection refused"
        return "connection failed"
    if isinstance(exc, httpx.ProxyError):
        return "proxy error"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection mid-response"
    return "connection reset"


def _renew_after(lifetime: int) -> float:
    """Seconds until a token of this lifetime is renewed: at 90% or 60 s before expiry,
    whichever is earlier, but never before half its life (short sandbox tokens)."""
    return max(min(0.9 * lifetime, lifetime - 60), 0.5 * lifetime)


def _seconds(value: Any) -> int:
    """A token's lifetime as answered, at least a second and at most a year: "1e99999999" was
    made an int of a hundred million digits, minutes of CPU before the first request."""
    try:
        seconds = Decimal(str(value))
    except InvalidOperation:
        seconds = Decimal("NaN")
    if not seconds.is_finite():
        return 3600  # a missing lifetime: assume an hour, the shorter of the two services'
    return int(min(max(seconds, Decimal(1)), LONGEST_SECONDS))


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After as seconds from now; it is either delta-seconds or an HTTP-date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = Decimal(value)
    except InvalidOperation:
        seconds = Decimal("NaN")  # not a number of seconds: try an HTTP-date
    if seconds.is_finite():
        return math.ceil(min(max(seconds, Decimal(0)), LONGEST_SECONDS))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - datetime.now(UTC)).total_seconds()), float(LONGEST_SECONDS))


def duration(seconds: float) -> str:
    """'45 seconds', '5 minutes', '24 hours', '3 days': a wait as a person reads it."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{round(seconds / size)} {unit}s"
    whole = math.ceil(seconds)
    return "1 second" if whole == 1 else f"{whole} seconds"


def _query(params: Params | None) -> dict[str, str]:
    query: dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            query[name] = "true" if value else "false"
        elif isinstance(value, date):
            query[name] = value.isoformat()
        else:
            query[name] = str(value)
    return query


def _is_html(response: httpx.Response, text: str) -> bool:
    head = text.lstrip()[:15].lower()
    return "html" in response.headers.get("Content-Type", "") or head.startswith(
        ("<!doctype", "<html")
    )


def _oauth_error(response: httpx.Response) -> str:
    """' access_denied' from an OAuth error body, or ''."""
    try:
        body = jsonlib.loads(response.text)
    except ValueError:
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return f" {code[:40]}" if isinstance(code, str) and code.isidentifier() else ""


class _NotJson(Exception):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON (RFC 8259) has none."""


def _not_json(constant: str) -> NoReturn:
    raise _NotJson(constant)


def _server_message(response: httpx.Response) -> str:
    """The server's own explanation, whatever shape its error body takes, on one short line,
    its control characters written out: it is shown, journaled and logged as it comes."""
    text = response.text
    try:
        body: Any = jsonlib.loads(text, parse_float=Decimal, parse_constant=_not_json)
    except (ValueError, RecursionError, _NotJson):
        body = "" if _is_html(response, text) else text
    message = visible(_one_line(_describe(body)))
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"


def _describe(body: Any) -> str:
    # Pax8 {type, message, ...}; Halo {resultCode, errorMessage}, .NET {ClassName, Message},
    # {Message}, OAuth {error, error_description}, ASP.NET {title, errors}, or field-keyed
    # {"[0].id": "..."} as n8n parses it.
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return _describe(body[0]) if body else ""
    if not isinstance(body, dict):
        return ""
    for key in ("errorMessage", "message", "Message", "error_description", "detail", "title"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value
    if isinstance(body.get("errors"), dict):
        return _describe(body["errors"])
    if isinstance(body.get("error"), str):
        return str(body["error"])
    fields = [f"{key}: {_describe(value)}" for key, value in body.items()]
    return "; ".join(field for field in fields if not field.endswith(": "))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def encode_json(value: Any) -> str:
    """JSON text with Decimal written as an exact number (json.dumps would need a float)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value} as a JSON number")
        return format(value, "f")
    if isinstance(value, Mapping):
        members = (f"{jsonlib.dumps(str(key))}:{encode_json(item)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode_json(item) for item in value) + "]"
    if isinstance(value, date):
        return jsonlib.dumps(value.isoformat())
    return jsonlib.dumps(value)


def _sent_secrets(call: _Call) -> list[str]:
    """The secrets a token request carries in its body: a code, a verifier, a refresh token."""
    text = (call.content or b"").decode("utf-8", "replace")
    if call.content_type == "application/json":
        try:
            fields = jsonlib.loads(text)
        except ValueError:
            return []
        return _secret_values(fields.items()) if isinstance(fields, dict) else []
    return _secret_values(parse_qsl(text))


def _secret_values(fields: Iterable[tuple[Any, Any]]) -> list[str]:
    return [value for name, value in fields if name in _SECRET_FIELDS and isinstance(value, str)]


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
