"""Halo answering a list that moved while it was paged, against the simulator: the last good
data stays and the sync says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from test_sync import TODAY, clients
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import SourceResult, sync_sources

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"


class RenamedWhilePaging(httpx.AsyncBaseTransport):
    """Halo's client list as served when a client on a later page is renamed to sort first
    once page 1 is read: page 2 starts with page 1's last client, and the renamed one is on
    no page (Halo's count unchanged)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.last_of_page_1: dict[str, Any] = {}
        self.renamed: int | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        page = request.url.params.get("page_no")
        if not request.url.path.endswith("/api/Client") or page not in ("1", "2"):
            return response
        body = json.loads(await response.aread())
        rows = body["clients"]
        if page == "1":
            self.last_of_page_1 = rows[-1]
            return httpx.Response(200, json=body)
        self.renamed = rows[-1]["id"]
        return httpx.Response(200, json={**body, "clients": [self.last_of_page_1, *rows[:-1]]})


async def sync(store: Any, wrap: Any = None) -> SourceResult:
    data = json.loads(DEMO.read_text())
    pax8, halo = clients(data, wrap_halo=wrap, page_size=20)
    async with pax8, halo:
        (result,) = await sync_sources(store, pax8=None, halo=halo, today=TODAY)
    return result


def client_ids(store: Any) -> set[int]:
    with store.read() as conn:
        return set(conn.execute(select(m.table_of(m.HaloClient).c.id)).scalars())


async def test_a_client_list_that_moved_while_paged_fails_halo_and_keeps_every_client(tmp_path):
    """From a fault review: the renamed client, listed on no page, was deleted from the store
    while Halo still had it; the sync said ok and only logged 'listed twice'."""
    store = open_database(tmp_path / "trueup.sqlite")
    try:
        assert (await sync(store)).status == "ok"
        before = client_ids(store)
        wraps: list[RenamedWhilePaging] = []

        def wrap(inner: httpx.AsyncBaseTransport) -> RenamedWhilePaging:
            wraps.append(RenamedWhilePaging(inner))
            return wraps[-1]

        result = await sync(store, wrap)
        assert wraps[0].renamed in before
        assert result.status == "failed"
        assert result.error == (
            "HaloPSA listed 58 different rows at /api/Client against the 59 it counts, 1 of "
            "them on two pages: the list changed while paging; nothing was saved, sync again"
        )
        assert client_ids(store) == before
    finally:
        store.dispose()
