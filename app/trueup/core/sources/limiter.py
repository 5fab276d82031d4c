"""An exact rolling-window limiter for the API clients.

The services count the requests that reach them in any rolling window (Pax8 1,000 a minute,
HaloPSA 300 in 5 minutes, QuickBooks 500 a minute) and refuse the rest with 429. A request
reaches the server at some moment between the one it is sent and the one its answer is back,
so this limiter counts each request from its send until `window + margin` after its answer
(while it is in flight it counts too) and lets a request go only while fewer than
`max_requests` are counted.

Why that is enough, whatever the latency: take any max_requests + 1 requests that reached the
server within one window, and B the last of them to be sent. Every other one, A, was sent before
B and reached the server less than a window before B did, so after B was sent less a window:
A's answer came after that too, and A was still counted when B was sent. So max_requests were
counted at B's send and B would have waited. The margin covers only how the server stamps and
compares its times (to the whole second, say), not the network: a leaky bucket has to keep a
share of the window back for latency and spread the rest, while this uses the whole window and
costs `latency + margin` a window.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

MAX_MARGIN_SECONDS = 1.0  # a server that stamps arrivals to the whole second
MIN_WAIT_SECONDS = 0.001  # so a wait rounded to nothing on a float clock still moves it on


class SlidingWindowLimiter:
    """At most max_requests counted at once, each from its send to window + margin after its
    answer; `async with limiter.turn():` around the exchange."""

    def __init__(
        self,
        max_requests: int,
        window_seconds: float,
        *,
        margin_seconds: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError(
                "a limiter needs >= 1 request in a positive window, "
                f"not {max_requests} in {window_seconds} s"
            )
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        # The sandbox's windows of a second or two (tests) get a sixtieth, like a real minute's.
        if margin_seconds is None:
            margin_seconds = min(MAX_MARGIN_SECONDS, window_seconds / 60)
        self.margin_seconds = margin_seconds
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._answered: deque[float] = deque()  # when each counted answer came, oldest first
        self._paused_until = -math.inf  # a clock reading (seconds): no pause yet
        self._lock = asyncio.Lock()  # one waiter at a time, first come first served
        self._released = asyncio.Event()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for room, count the request while it is in flight, and from its answer on (or
        its failure or cancellation) for window + margin more."""
        await self._acquire()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._answered.append(self._clock())
            self._released.set()

    def pause_until(self, moment: float) -> None:
        """Send nothing before `moment` on the clock (a 429's Retry-After)."""
        self._paused_until = max(self._paused_until, moment)

    def counted(self) -> int:
        """Requests counted now: in flight, or answered less than window + margin ago."""
        self._forget(self._clock())
        return self._in_flight + len(self._answered)

    async def _acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(max(self._paused_until - now, MIN_WAIT_SECONDS))
                    continue
                self._forget(now)
                if self._in_flight + len(self._answered) < self.max_requests:
                    self._in_flight += 1
                    return
                if self._answered:  # the oldest answer leaves the count first
                    expires = self._answered[0] + self.window_seconds + self.margin_seconds
                    await self._sleep(max(expires - now, MIN_WAIT_SECONDS))
                else:  # every request counted is in flight: wait for an answer
                    self._released.clear()
                    await self._released.wait()

    def _forget(self, now: float) -> None:
        horizon = now - self.window_seconds - self.margin_seconds
        while self._answered and self._answered[0] <= horizon:
            self._answered.popleft()
