"""The order of a Pax8 sync's requests: in a rolling window, every later window repeats the
pace of the first, so the cheap history requests go while the subscriptions are still paged."""

from datetime import date

import httpx
from sqlalchemy import func, select

from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import sync_sources
from trueup.sandbox.generate import generate_scenario
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports


class InOrder(httpx.AsyncBaseTransport):
    """Keeps each request's path and page, in the order they were sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path.removeprefix("/v1"), request.url.params.get("page")))
        return await self.inner.handle_async_request(request)


async def test_history_is_asked_for_while_the_subscriptions_are_still_paged(tmp_path):
    data = generate_scenario(60, seed=1, month="2026-11")
    transport = InOrder(in_process_transports(build_simulators(parse_scenario(data)))["pax8"])
    store = open_database(tmp_path / "trueup.sqlite")
    try:
        async with Pax8Client(
            "http://pax8.test/v1", "sandbox", "sandbox", transport=transport
        ) as c:
            today = date.fromisoformat(data["as_of"][:10])
            [result] = await sync_sources(store, pax8=c, halo=None, today=today)
        assert result.status == "ok", result.error
        snapshots = m.table_of(m.Pax8SubscriptionSnapshot)
        with store.read() as conn:
            stored = conn.execute(select(func.count(snapshots.c.subscription_id.distinct())))
            with_history = stored.scalar_one()
    finally:
        store.dispose()
    pages = [n for n, (path, _) in enumerate(transport.sent) if path == "/subscriptions"]
    asked = [path for path, _ in transport.sent if path.endswith("/history")]
    assert len(pages) >= 4  # the list comes in several pages
    assert asked and transport.sent.index((asked[0], None)) < pages[-1]
    # Each subscription's history once, and every one asked for is stored.
    assert len(asked) == len(set(asked)) == with_history
