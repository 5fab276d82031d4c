"""What every simulator shares: bearer tokens, a rolling-window rate limit, fault injection."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trueup.core.errors import TrueupError

Clock = Callable[[], float]


class TokenStore:
    """Issues opaque bearer tokens that expire after a configurable lifetime."""

    def __init__(self, lifetime_seconds: float, clock: Clock = time.monotonic) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        # A JWT-looking token: real clients must treat it as opaque anyway.
        token = "eyJhbGciOiJub25lIn0." + secrets.token_urlsafe(24)
        self._expiry[token] = self._clock() + self.lifetime_seconds
        return token

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        expiry = self._expiry.get(authorization[7:].strip())
        return expiry is not None and self._clock() < expiry

    def revoke(self, token: str) -> None:
        self._expiry.pop(token, None)


class RollingWindow:
    """Counts requests in a rolling window, as Pax8 (1000/min) and Halo (300/5 min) do."""

    def __init__(self, max_requests: int, window_seconds: float, clock: Clock = time.monotonic):
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        self._clock = clock
        self._times: deque[float] = deque()

    def admit(self) -> bool:
        """Record one request; False when it is over the limit (it is then not counted)."""
        now = self._clock()
        while self._times and self._times[0] <= now - self.window_seconds:
            self._times.popleft()
        if len(self._times) >= self.max_requests:
            return False
        self._times.append(now)
        return True

    def remaining(self) -> int:
        """How many more requests the window admits now."""
        now = self._clock()
        while self._times and self._times[0] <= now - self.window_seconds:
            self._times.popleft()
        return max(0, self.max_requests - len(self._times))

    def seconds_until_free(self) -> float:
        if not self._times:
            return 0.0
        return max(0.0, self._times[0] + self.window_seconds - self._clock())


FAULT_KINDS = (
    "429", "429-bare", "500", "503", "reset", "slow", "malformed",
    # The server acts on the request, then the answer is lost: "lost" drops the connection,
    # "late" answers after slow_seconds (past a client's timeout), "lost-500" answers 500.
    "lost", "late", "lost-500",
)  # fmt: skip


class FaultSpecError(TrueupError, ValueError):
    pass


@dataclass(frozen=True)
class FaultSpec:
    """Rates of injected faults, drawn deterministically from (seed, request, occurrence).

    Text form: ``429=0.05,429-bare=0.02,500=0.02,503=0.02,reset=0.01,slow=0.01,malformed=0.01,
    lost=0.01,late=0.01,lost-500=0.01,seed=7,slow_seconds=35``. ``429`` carries Retry-After,
    ``429-bare`` does not; ``lost``, ``late`` and ``lost-500`` let the server act first.
    """

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    slow_seconds: float = 35.0
    retry_after_seconds: int = 1

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        rates: dict[str, float] = {}
        options: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            if not sep:
                raise FaultSpecError(f"fault '{part}' needs a value, e.g. {part}=0.05")
            try:
                number = float(value)
            except ValueError:
                raise FaultSpecError(f"fault '{name}': '{value}' is not a number") from None
            if name in FAULT_KINDS:
                if not 0 <= number <= 1:
                    raise FaultSpecError(f"fault '{name}': rate must be between 0 and 1")
                rates[name] = number
            elif name in _OPTION_RANGES:
                options[name] = _option(name, value, number)
            else:
                known = ", ".join((*FAULT_KINDS, *_OPTION_RANGES))
                raise FaultSpecError(f"unknown fault '{name}' (known: {known})")
        if sum(rates.values()) > 1:
            raise FaultSpecError("fault rates add up to more than 1")
        return cls(
            rates=rates,
            seed=int(options.get("seed", 0)),
            slow_seconds=options.get("slow_seconds", 35.0),
            retry_after_seconds=int(options.get("retry_after_seconds", 1)),
        )


# An option's least and greatest value, and whether it is a whole number: an infinite or NaN
# one stopped the run with OverflowError (seed), or held every slow request forever.
_OPTION_RANGES = {
    "seed": (0, 2**32 - 1, True),
    "slow_seconds": (0, 3600, False),
    "retry_after_seconds": (0, 86_400, True),
}


def _option(name: str, text: str, number: float) -> float:
    low, high, whole = _OPTION_RANGES[name]
    if not low <= number <= high or (whole and not number.is_integer()):
        kind = "a whole number" if whole else "a number of seconds"
        raise FaultSpecError(
            f"fault option '{name}': '{text}' is not {kind} from {low:,} to {high:,}"
        )
    return number


class ConnectionResetFault(Exception):
    """Raised by the fault middleware mid-response; transports turn it into a dropped connection."""


class FaultInjector:
    """ASGI middleware injecting the faults of a FaultSpec.

    The draw for a request depends only on the seed, the method, the path with its query and how
    many times that same request was seen before, so a run is repeatable whatever the concurrency.
    """

    def __init__(self, app: ASGIApp, spec: FaultSpec | None) -> None:
        self.app = app
        self.spec = spec
        self._seen: dict[str, int] = {}
        self.injected: dict[str, int] = {}

    def _draw(self, scope: Scope) -> str | None:
        assert self.spec is not None
        key = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}"
        occurrence = self._seen.get(key, 0)
        self._seen[key] = occurrence + 1
        digest = hashlib.sha256(f"{self.spec.seed}|{key}|{occurrence}".encode()).digest()
        roll = int.from_bytes(digest[:8], "big") / 2**64
        for kind in FAULT_KINDS:
            rate = self.spec.rates.get(kind, 0.0)
            if roll < rate:
                return kind
            roll -= rate
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.spec or not self.spec.rates:
            await self.app(scope, receive, send)
            return
        fault = self._draw(scope)
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.injected[fault] = self.injected.get(fault, 0) + 1
        if fault == "slow":
            await asyncio.sleep(self.spec.slow_seconds)
            await self.app(scope, receive, send)
        elif fault == "malformed":
            await self.app(scope, receive, _truncating(send))
        elif fault in ("lost", "late", "lost-500"):
            await self._answer_lost(fault, scope, receive, send)
        elif fault == "reset":
            await _drop_connection(send)
        else:
            await _fault_response(fault, self.spec)(scope, receive, send)

    async def _answer_lost(self, fault: str, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.spec is not None
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)  # the write happens; its answer is held back
        if fault == "late":
            await asyncio.sleep(self.spec.slow_seconds)
            for message in held:
                await send(message)
        elif fault == "lost-500":
            await _fault_response("500", self.spec)(scope, receive, send)
        else:
            await _drop_connection(send)


async def _drop_connection(send: Send) -> None:
    """Start an answer, then cut it off: the client sees the connection reset mid-response."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"content": [', "more_body": True})
    raise ConnectionResetFault("connection reset by the fault injector")


def _fault_response(fault: str, spec: FaultSpec) -> Response:
    if fault.startswith("429"):
        headers = {"Retry-After": str(spec.retry_after_seconds)} if fault == "429" else {}
        return JSONResponse(
            {
                "type": "TOO_MANY_REQUESTS",
                "message": "Rate limit exceeded",
                "status": 429,
                "details": [],
            },
            status_code=429,
            headers=headers,
        )
    status = int(fault)
    return JSONResponse(
        {
            "type": "INTERNAL_SERVER_ERROR",
            "message": "Injected fault",
            "status": status,
            "details": [],
        },
        status_code=status,
    )


def _truncating(send: Send) -> Send:
    """Cut every JSON body in half, as a proxy dropping the tail of a response would."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [
                    (k, v) for k, v in message["headers"] if k.lower() != b"content-length"
                ],
            }
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            message = {**message, "body": body[: max(1, len(body) // 2)]}
        await send(message)

    return wrapped


def json_response(data: Any, status_code: int = 200) -> Response:
    """Compact JSON; numbers keep the scenario's text (floats round-trip by shortest repr)."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status_code, media_type="application/json")


def query_flag(request: Request, name: str) -> bool:
    """Case-insensitive lookup of a boolean query parameter (Halo accepts any case)."""
    for key, value in request.query_params.items():
        if key.lower() == name.lower():
            return value.strip().lower() in ("true", "1", "yes")
    return False
