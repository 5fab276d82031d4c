"""Deliberate crashes for the posting crash test: `TRUEUP_CRASH_AT=<point>#<n>` kills this
process with SIGKILL the n-th time it reaches <point>. Unset (always, outside that test), every
call is a dictionary lookup and nothing else.

Points: the journal's commits (`queued`, `sending`, `answered`, `posted`, `unknown`,
`settled`) and, through `CrashingTransport`, the wire: `send` (the request is about to leave)
and `answer` (the destination has acted and answered; the answer is not read yet).
"""

from __future__ import annotations

import os
import signal

import httpx

ENV = "TRUEUP_CRASH_AT"
_hits: dict[str, int] = {}


def crash_point(name: str) -> None:
    target = os.environ.get(ENV)
    if not target:
        return
    point, _, nth = target.partition("#")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def crash_armed() -> bool:
    return bool(os.environ.get(ENV))


class CrashingTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport with the `send` and `answer` points."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        crash_point("send")
        response = await self._inner.handle_async_request(request)
        crash_point("answer")
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
