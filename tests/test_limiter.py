"""The exact rolling-window limiter (core.sources.limiter), on a fake clock: alone, and in the
Pax8 client against the sandbox's own RollingWindow judging each request when it arrives."""

from __future__ import annotations

import asyncio
import functools
import json
import selectors
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueup.core.sources.http import ApiError, RateLimit, RetryPolicy
from trueup.core.sources.limiter import SlidingWindowLimiter
from trueup.core.sources.pax8 import Pax8Client
from trueup.sandbox.common import RollingWindow


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on a virtual clock: when no task can run it jumps to the next timer instead
    of waiting for it, so every task sees one time and `asyncio.sleep(60)` costs nothing."""

    def __init__(self) -> None:
        self.now = 1000.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.now


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:  # no timer left: only a thread's wake-up could come
            ready = super().select(5.0)
            if not ready:
                raise RuntimeError("no task can run and no timer is set: the test is stuck")
            return ready
        ready = super().select(0)
        if not ready:
            self._loop.now += timeout
        return ready


def virtual_time(test: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """Run an async test on the virtual clock (a plain test for pytest, with its name)."""

    @functools.wraps(test)
    def run() -> None:
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            runner.run(test())

    return run


class Time:
    """The clock and sleep a client is given: the loop's, with each sleep recorded."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(seconds)


def busiest(times: list[float], window: float) -> int:
    """The most of `times` inside any window of `window` seconds."""
    return max((sum(1 for t in times if start <= t < start + window) for start in times), default=0)


# -- the limiter alone -----------------------------------------------------------------------


def limiter_for(limit: int, window: float, time: Time, **options: Any) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(limit, window, clock=time, sleep=time.sleep, **options)


class Requests:
    """Requests through a limiter: each notes when it was sent, then is answered `latency` on."""

    def __init__(self, limiter: SlidingWindowLimiter, time: Time) -> None:
        self.limiter = limiter
        self.time = time
        self.sent: list[float] = []

    async def send(self, latency: float = 0.0) -> None:
        async with self.limiter.turn():
            self.sent.append(self.time())
            await asyncio.sleep(latency)


@virtual_time
async def test_a_whole_window_goes_at_once_and_the_next_one_a_window_later() -> None:
    time = Time()
    requests = Requests(limiter_for(10, 60, time), time)
    await asyncio.gather(*(requests.send() for _ in range(25)))
    # No leaky-bucket spread: 10 at once, then 10 more when the first answers are a window and
    # the margin (a second) old, then the last 5.
    assert requests.sent == [1000.0] * 10 + [1061.0] * 10 + [1122.0] * 5
    assert busiest(requests.sent, 60) == 10


@virtual_time
async def test_a_request_counts_until_a_window_after_its_answer() -> None:
    time = Time()
    requests = Requests(limiter_for(1, 10, time, margin_seconds=0), time)
    await asyncio.gather(requests.send(30), requests.send(0))
    # The first may reach the server just before its answer, at 1030: a limiter counting only
    # send times would have let the second go at 1010, inside the same window at the server.
    assert requests.sent == [1000, 1040]


@virtual_time
async def test_a_failed_request_counts_as_answered() -> None:
    time = Time()
    limiter = limiter_for(2, 10, time, margin_seconds=0)
    with pytest.raises(RuntimeError):
        async with limiter.turn():
            await asyncio.sleep(1)
            raise RuntimeError("connection reset")  # it may well have reached the server
    assert limiter.counted() == 1
    await asyncio.sleep(9.5)
    assert limiter.counted() == 1  # counted from its failure at 1001 until 1011
    await asyncio.sleep(0.5)
    assert limiter.counted() == 0


@virtual_time
async def test_a_cancelled_request_counts_and_a_cancelled_waiter_does_not() -> None:
    time = Time()
    limiter = limiter_for(1, 10, time, margin_seconds=0)
    requests = Requests(limiter, time)
    first = asyncio.create_task(requests.send(100))
    waiter = asyncio.create_task(requests.send(0))
    await asyncio.sleep(5)
    assert (requests.sent, limiter.counted()) == ([1000], 1)
    waiter.cancel()  # gave up waiting: it was never sent, so it never counts
    first.cancel()  # cancelled in flight at 1005: it may have reached the server
    await asyncio.gather(first, waiter, return_exceptions=True)
    assert limiter.counted() == 1
    await requests.send(0)
    assert requests.sent == [1000, 1015]


@virtual_time
async def test_a_pause_holds_every_request_until_its_end() -> None:
    time = Time()
    limiter = limiter_for(100, 60, time)
    limiter.pause_until(1007.0)
    async with limiter.turn():
        assert time() == 1007.0
    limiter.pause_until(1003.0)  # an earlier end neither shortens the pause nor starts one
    async with limiter.turn():
        assert time() == 1007.0
    assert time.slept == [7.0]


@pytest.mark.parametrize(("limit", "window"), [(1000, 60), (300, 300), (500, 60)])
def test_the_services_limits_are_kept_whole_with_a_second_of_margin(
    limit: int, window: float
) -> None:
    limiter = RateLimit(limit, window).limiter()
    assert (limiter.max_requests, limiter.window_seconds) == (limit, window)
    assert limiter.margin_seconds == 1.0


@settings(max_examples=80, deadline=None)
@given(
    limit=st.integers(1, 6),
    window=st.sampled_from([1.0, 5.0, 60.0]),
    concurrency=st.integers(1, 8),
    latencies=st.lists(st.tuples(st.floats(0, 8), st.floats(0, 8)), min_size=1, max_size=40),
)
def test_no_rolling_window_at_the_server_is_ever_over_the_limit(
    limit: int, window: float, concurrency: int, latencies: list[tuple[float, float]]
) -> None:
    """Each request reaches the server `before` seconds after it is sent and is answered `after`
    more; the server is the sandbox's RollingWindow, which refuses past the limit."""
    arrived: list[float] = []
    refused = 0

    @virtual_time
    async def run() -> None:
        nonlocal refused
        time = Time()
        limiter = limiter_for(limit, window, time, margin_seconds=0)
        server = RollingWindow(limit, window, clock=time)
        slots = asyncio.Semaphore(concurrency)

        async def request(before: float, after: float) -> None:
            nonlocal refused
            async with slots, limiter.turn():
                await asyncio.sleep(before)
                if server.admit():
                    arrived.append(time())
                else:
                    refused += 1
                await asyncio.sleep(after)

        await asyncio.gather(*(request(before, after) for before, after in latencies))

    run()
    assert refused == 0
    assert len(arrived) == len(latencies)
    assert busiest(arrived, window) <= limit


# -- in the client ---------------------------------------------------------------------------

BASE = "https://api.pax8.test/v1"


class Pax8Server:
    """Pax8 as its limit sees it: the sandbox's RollingWindow judges each request (tokens too)
    `before` seconds after it is sent; the answer takes `after` more."""

    def __init__(
        self,
        rate: RateLimit,
        *script: httpx.Response,
        latency: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.time = Time()
        self.window = RollingWindow(rate.max_requests, rate.window_seconds, clock=self.time)
        self.script = list(script)
        self.latency = latency
        self.arrived: list[float] = []
        self.refused = 0
        self.in_flight = self.peak = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        before, after = self.latency
        await asyncio.sleep(before)
        answer = self._answer(request)
        await asyncio.sleep(after)
        self.in_flight -= 1
        return answer

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if not self.window.admit():
            self.refused += 1
            return httpx.Response(429, json={"type": "TOO_MANY_REQUESTS"})
        self.arrived.append(self.time())
        if request.url.path == "/v1/token":
            assert json.loads(request.content)["client_id"] == "id"
            return httpx.Response(200, json={"access_token": "t", "expires_in": 86400})
        if self.script:
            return self.script.pop(0)
        return httpx.Response(200, json={"id": "c1"})


def pax8(server: Pax8Server, rate: RateLimit, time: Time, **options: Any) -> Pax8Client:
    return Pax8Client(
        BASE,
        "id",
        "secret",
        transport=httpx.MockTransport(server.handle),
        rate=rate,
        sleep=time.sleep,
        clock=time,
        **options,
    )


async def gather(client: Pax8Client, count: int) -> None:
    await asyncio.gather(*(client.request("GET", "/companies/c1") for _ in range(count)))


@virtual_time
async def test_the_client_fills_each_window_without_a_429_and_within_its_concurrency() -> None:
    rate = RateLimit(10, 60)
    server = Pax8Server(rate, latency=(0.05, 0.05))
    async with pax8(server, rate, Time(), concurrency=8) as client:
        await gather(client, 24)
        assert (client.stats.requests, client.stats.rate_limited) == (25, 0)
    assert server.refused == 0
    assert server.peak == 8  # the slots still bound what is in flight
    assert busiest(server.arrived, 60) == 10  # the window used whole, never more
    # The token and 24 requests: 10, 10 and 5, each ten a window and its margin after the
    # answers of the ten before (the leaky bucket took ~170 s: 8.5 a minute after a burst of 1).
    assert 2 * 61 < server.arrived[-1] - server.arrived[0] < 2 * 61 + 0.5


@virtual_time
async def test_one_at_a_time_the_client_still_fills_the_window() -> None:
    rate = RateLimit(5, 10)
    server = Pax8Server(rate)
    async with pax8(server, rate, Time(), concurrency=1) as client:
        await gather(client, 9)
    assert (server.refused, server.peak) == (0, 1)
    window_and_margin = 10 + 10 / 60
    assert server.arrived == pytest.approx([1000.0] * 5 + [1000.0 + window_and_margin] * 5)


@virtual_time
async def test_a_429_with_retry_after_still_backs_off() -> None:
    rate = RateLimit(10, 60)
    server = Pax8Server(rate, httpx.Response(429, headers={"Retry-After": "7"}))
    async with pax8(server, rate, Time()) as client:
        assert await client.request("GET", "/companies/c1") == {"id": "c1"}
        assert (client.stats.rate_limited, client.stats.retries) == (1, 1)
    _token, refused, retried = server.arrived
    assert retried - refused >= 7


@virtual_time
async def test_a_429_with_retry_after_holds_the_clients_other_requests() -> None:
    rate = RateLimit(10, 60)
    server = Pax8Server(rate, httpx.Response(429, headers={"Retry-After": "7"}))
    time = Time()
    async with pax8(server, rate, time, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "/companies/c1")
        assert caught.value.kind == "rate_limited"
        await client.request("GET", "/companies/c2")  # not a retry, but held all the same
    _token, refused, after = server.arrived
    assert after - refused == 7
    assert time.slept == [7]
