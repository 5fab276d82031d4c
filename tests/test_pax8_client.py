"""Pax8Client: its token grant, Pax8's 0-based paging envelope and the endpoints trueup reads."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from trueup.core.sources.http import ApiError
from trueup.core.sources.pax8 import PageInfo, Pax8Client

BASE = "https://api.pax8.test/v1"


class FakePax8:
    """Pax8's wire shapes: JSON client-credentials grant, `{content, page}` lists paged by
    0-based `page` and `size` (capped at 200), and the quirks the reference documents."""

    def __init__(self, lists: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.lists = lists or {}
        self.objects: dict[str, Any] = {}
        self.grants: list[httpx.Request] = []
        self.requests: list[httpx.Request] = []
        self.ignores_page = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        if path == "/token":
            self.grants.append(request)
            return httpx.Response(200, json={"access_token": "jwt", "expires_in": 86400})
        self.requests.append(request)
        if path in self.objects:
            return httpx.Response(200, json=self.objects[path])
        rows = self.lists.get(path)
        if rows is None:
            return httpx.Response(404, json={"type": "NOT_FOUND", "message": f"No {path}"})
        size = min(int(request.url.params.get("size", 10)), 200)
        page = 0 if self.ignores_page else int(request.url.params.get("page", 0))
        total_pages = -(-len(rows) // size)
        block = {"size": size, "totalElements": len(rows), "totalPages": total_pages}
        content = rows[page * size : (page + 1) * size]
        if path == "/invoices" and not rows:
            return httpx.Response(200, json={"page": {**block, "number": page}})  # no content
        return httpx.Response(200, json={"content": content, "page": {**block, "number": page}})

    def pages_asked(self) -> list[int]:
        return [int(request.url.params["page"]) for request in self.requests]


def client(fake: FakePax8, **options: Any) -> Pax8Client:
    return Pax8Client(
        BASE,
        "the-id",
        "the-secret",
        transport=httpx.MockTransport(fake.handle),
        rate=None,
        **options,
    )


def rows(count: int) -> list[dict[str, Any]]:
    return [{"id": f"id-{n}", "name": f"Company {n}"} for n in range(count)]


async def collect(pages: Any) -> list[list[dict[str, Any]]]:
    return [page async for page in pages]


async def test_token_grant_is_json_with_audience() -> None:
    fake = FakePax8({"/companies": rows(1)})
    async with client(fake) as pax8:
        await collect(pax8.companies())
    (grant,) = fake.grants
    assert str(grant.url) == f"{BASE}/token"
    assert grant.headers["Content-Type"] == "application/json"
    assert json.loads(grant.content) == {
        "client_id": "the-id",
        "client_secret": "the-secret",
        "audience": "https://api.pax8.com",
        "grant_type": "client_credentials",
    }
    assert fake.requests[0].headers["Authorization"] == "Bearer jwt"


async def test_a_custom_token_url_is_used() -> None:
    fake = FakePax8({"/companies": []})
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "login.pax8.test":
            return httpx.Response(200, json={"access_token": "jwt", "expires_in": 86400})
        return fake.handle(request)

    pax8 = Pax8Client(
        BASE,
        "id",
        "secret",
        token_url="https://login.pax8.test/oauth/token",
        audience="api://p8p.client",
        transport=httpx.MockTransport(handle),
        rate=None,
    )
    async with pax8:
        await collect(pax8.companies())
    assert seen[0] == "https://login.pax8.test/oauth/token"


@pytest.mark.parametrize(("count", "pages"), [(4, [0, 1]), (5, [0, 1, 2]), (1, [0])])
async def test_paging_stops_on_the_last_page(count: int, pages: list[int]) -> None:
    fake = FakePax8({"/companies": rows(count)})
    async with client(fake, page_size=2) as pax8:
        got = await collect(pax8.companies())
    assert [row["id"] for page in got for row in page] == [f"id-{n}" for n in range(count)]
    assert fake.pages_asked() == pages  # an exact multiple asks for no empty extra page
    assert {request.url.params["size"] for request in fake.requests} == {"2"}


async def test_an_empty_list_has_zero_pages_and_one_request() -> None:
    fake = FakePax8({"/companies": []})
    async with client(fake) as pax8:
        assert await collect(pax8.companies()) == []
    assert fake.pages_asked() == [0]


async def test_an_empty_invoice_list_without_content_is_an_empty_page() -> None:
    fake = FakePax8({"/invoices": []})
    async with client(fake) as pax8:
        assert await collect(pax8.invoices(status="Unpaid")) == []
        rows_, info = await pax8.get_page("/invoices", 0)
    assert rows_ == []
    assert info == PageInfo(number=0, size=200, total_elements=0, total_pages=0)


async def test_a_list_without_a_page_block_is_one_page() -> None:
    fake = FakePax8()
    fake.objects["/usage-summaries/u1/usage-lines"] = {"content": rows(3)}
    async with client(fake) as pax8:
        got = await collect(pax8.usage_lines("u1", date(2024, 6, 14)))
        _, info = await pax8.get_page("/usage-summaries/u1/usage-lines", 0)
    assert [len(page) for page in got] == [3]
    assert info == PageInfo(number=0, size=3, total_elements=3, total_pages=1)
    assert fake.requests[0].url.params["usageDate"] == "2024-06-14"


@pytest.mark.parametrize(
    ("block", "said"),
    [
        (None, "no page block"),
        ({"size": 2, "number": 0}, "a page block without totalElements and totalPages"),
        ({"size": 2, "number": 0, "totalPages": 3}, "a page block without totalElements"),
        ({"size": 2, "number": 0, "totalElements": 5}, "a page block without totalPages"),
    ],
)
@pytest.mark.parametrize(
    "path", ["/companies", "/invoices/i1/items", "/subscriptions/s1/usage-summaries"]
)
async def test_a_paged_list_answered_without_its_counts_is_malformed(
    path: str, block: dict[str, Any] | None, said: str
) -> None:
    """From a paging review: every list the spec pages answers `{content, page}` (an empty
    invoice list too). An answer without the block, or without its counts, was taken as the
    whole list: an invoice's items stored as their first 200, the rest deleted as gone."""
    fake = FakePax8()
    fake.objects[path] = {"content": rows(2)} | ({} if block is None else {"page": block})
    async with client(fake, page_size=2) as pax8:
        with pytest.raises(ApiError) as caught:
            if path == "/companies":
                await collect(pax8.companies())
            elif path.startswith("/invoices"):
                await collect(pax8.invoice_items("i1"))
            else:
                await collect(pax8.usage_summaries("s1"))
    assert caught.value.kind == "bad_response"
    assert str(caught.value) == (
        f"Pax8 answered {path} with {said}, so how long the list is is unknown: the answer is "
        "malformed; nothing was saved, sync again"
    )


@pytest.mark.parametrize("path", ["/companies", "/invoices/i1/items"])
async def test_a_server_that_ignores_page_is_refused_at_the_page_it_repeats(path: str) -> None:
    """From a boundary review: its repeats were taken as the list, so an invoice's items were
    stored short (571 of the demo's 1,968) and the sync said ok."""
    fake = FakePax8({path: rows(5)})
    fake.ignores_page = True
    async with client(fake, page_size=2) as pax8:
        pages = pax8.companies() if path == "/companies" else pax8.invoice_items("i1")
        with pytest.raises(ApiError, match=f"sent page 1 of {path} again"):
            await collect(pages)
    assert len(fake.requests) == 2


@pytest.mark.parametrize(("kept", "listed"), [(0, 2), (1, 4)])
async def test_a_list_ending_short_of_what_its_first_page_counted_is_refused(
    kept: int, listed: int
) -> None:
    """From a fault review: a page served empty ended the list, one cut short was taken as all
    of its page, and an invoice's items were stored short (the sync said ok)."""
    fake = FakePax8({"/invoices/i1/items": rows(5)})
    served = fake.handle

    def handle(request: httpx.Request) -> httpx.Response:
        answer = served(request)
        if request.url.params.get("page") != "1":
            return answer
        body = answer.json()
        return httpx.Response(200, json={**body, "content": body["content"][:kept]})

    fake.handle = handle  # type: ignore[method-assign]
    async with client(fake, page_size=2) as pax8:
        with pytest.raises(ApiError, match=f"Pax8 listed {listed} of the 5 rows it counted at"):
            await collect(pax8.invoice_items("i1"))


async def test_a_page_block_counting_absurdly_many_pages_is_refused() -> None:
    """From a boundary review: a sync asked for every page it named (1,000 took a minute of
    the rate limit; 10**9 would have made a request object for each before sending one)."""
    fake = FakePax8()
    block = {"number": 0, "size": 200, "totalElements": 3, "totalPages": 10**9}
    fake.objects["/companies"] = {"content": rows(3), "page": block}
    async with client(fake) as pax8:
        with pytest.raises(ApiError, match="counting 1,000,000,000 pages, more than any list"):
            await pax8.get_page("/companies", 0)


async def test_get_page_reports_the_page_block() -> None:
    fake = FakePax8({"/subscriptions": rows(450)})
    async with client(fake) as pax8:
        got, info = await pax8.get_page("/subscriptions", 2, {"companyId": "c1"})
    assert [row["id"] for row in got] == [f"id-{n}" for n in range(400, 450)]
    assert info == PageInfo(number=2, size=200, total_elements=450, total_pages=3)
    assert dict(fake.requests[0].url.params) == {"companyId": "c1", "page": "2", "size": "200"}


async def test_filters_and_paths() -> None:
    fake = FakePax8(
        {
            "/subscriptions": [],
            "/orders": [],
            "/invoices": [],
            "/invoices/inv-1/items": [],
            "/subscriptions/s1/usage-summaries": [],
            "/products": [],
        }
    )
    async with client(fake) as pax8:
        await collect(pax8.subscriptions(companyId="c1", status="Active"))
        await collect(pax8.orders())
        await collect(pax8.orders(company_id="c1"))
        await collect(pax8.invoices(invoiceDateRangeStart=date(2024, 7, 1), companyId="c1"))
        await collect(pax8.invoice_items("inv-1"))
        await collect(pax8.usage_summaries("s1"))
        await collect(pax8.products())
    asked = [(r.url.path, dict(r.url.params)) for r in fake.requests]
    paging = {"page": "0", "size": "200"}
    assert asked == [
        ("/v1/subscriptions", {"companyId": "c1", "status": "Active", **paging}),
        ("/v1/orders", paging),
        ("/v1/orders", {"companyId": "c1", **paging}),
        ("/v1/invoices", {"invoiceDateRangeStart": "2024-07-01", "companyId": "c1", **paging}),
        ("/v1/invoices/inv-1/items", paging),
        ("/v1/subscriptions/s1/usage-summaries", paging),
        ("/v1/products", paging),
    ]


async def test_single_objects_and_history_keep_decimal_money() -> None:
    fake = FakePax8()
    raw_subscription = '{"id": "s1", "quantity": 12, "price": 26.40, "partnerCost": 22.00}'
    fake.objects["/subscriptions/s1/history"] = {"content": [{"id": "s1", "quantity": 5}] * 2}
    fake.objects["/products/p 1"] = {"id": "p 1", "name": "M365"}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/subscriptions/s1":  # send the exact wire text
            fake.requests.append(request)
            return httpx.Response(200, text=raw_subscription)
        return fake.handle(request)

    transport = httpx.MockTransport(handle)
    async with Pax8Client(BASE, "id", "secret", transport=transport, rate=None) as pax8:
        subscription = await pax8.subscription("s1")
        history = await pax8.subscription_history("s1")
        product = await pax8.product("p 1")
    assert subscription["price"] == Decimal("26.40")
    assert isinstance(subscription["partnerCost"], Decimal)
    assert [version["quantity"] for version in history] == [5, 5]
    assert product["name"] == "M365"
    assert fake.requests[-1].url.raw_path == b"/v1/products/p%201"


async def test_an_unknown_subscription_is_not_found() -> None:
    fake = FakePax8()
    async with client(fake) as pax8:
        with pytest.raises(ApiError) as caught:
            await pax8.subscription("missing")
    assert caught.value.kind == "not_found"
    assert "(404: No /subscriptions/missing)" in str(caught.value)


async def test_a_list_that_is_not_a_list_is_a_bad_response() -> None:
    fake = FakePax8()
    fake.objects["/companies"] = {"content": {"id": "c1"}, "page": {"totalPages": 1}}
    async with client(fake) as pax8:
        with pytest.raises(ApiError) as caught:
            await collect(pax8.companies())
    assert caught.value.kind == "bad_response"


def test_page_size_is_capped_at_pax8s_maximum() -> None:
    with pytest.raises(ValueError, match="1 to 200"):
        Pax8Client(BASE, "id", "secret", page_size=500)


def test_repr_shows_no_secret() -> None:
    pax8 = Pax8Client(BASE, "the-id", "Sup3r-Secret")
    assert repr(pax8) == f"Pax8Client(base_url='{BASE}', client_id='the-id')"
