"""HaloClient: form-encoded token (and auth-server discovery), Halo's 1-based paging with
record_count, its many error body shapes, and JSON-array writes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiError, RetryPolicy

HOST = "https://acme.halopsa.test"
AUTH = f"{HOST}/auth"
SECRET = "halo-secret-Wd93kq"


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class FakeHalo:
    """Halo's wire shapes: `POST /auth/token` form grant, `GET /api/authinfo` without a token,
    and lists as `{record_count, page_size, <key>: [...]}` paged only with `pageinate=true`."""

    def __init__(self, lists: dict[str, tuple[str, list[dict[str, Any]]]] | None = None) -> None:
        self.lists = lists or {}
        self.grants: list[httpx.Request] = []
        self.requests: list[httpx.Request] = []
        self.page_cap: int | None = None  # like /Tickets, which serves at most ~50 a page
        self.ignores_paging = False  # like /Agent: every page is the whole list
        self.ignores_page_no = False
        self.answers: list[httpx.Response] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            self.grants.append(request)
            form = parse_qs(request.content.decode())
            if form.get("client_secret") != [SECRET]:
                body = {"error": "invalid_client", "error_description": "Invalid client."}
                return httpx.Response(401, json=body)
            token = {"token_type": "Bearer", "expires_in": 3600, "access_token": "halo-jwt"}
            return httpx.Response(200, json={**token, "scope": "all"})
        if request.url.path == "/api/authinfo":
            return httpx.Response(200, json={"auth_url": AUTH, "tenant_id": "acme"})
        if not request.url.path.startswith("/api/"):
            return httpx.Response(404, text="<html><body>Not found</body></html>")
        self.requests.append(request)
        if request.headers.get("Authorization") != "Bearer halo-jwt":
            return httpx.Response(401)
        if self.answers:
            return self.answers.pop(0)
        key, rows = self.lists[request.url.path.removeprefix("/api/").lower()]
        params = request.url.params
        if params.get("pageinate") != "true" or self.ignores_paging:
            return httpx.Response(200, json={"record_count": len(rows), key: rows})
        size = min(int(params["page_size"]), self.page_cap or 10**6)
        page_no = 1 if self.ignores_page_no else int(params["page_no"])
        page = rows[(page_no - 1) * size : page_no * size]
        return httpx.Response(200, json={"page_size": size, "record_count": len(rows), key: page})

    def pages_asked(self) -> list[int]:
        return [int(request.url.params["page_no"]) for request in self.requests]


def client(fake: FakeHalo, auth_url: str | None = AUTH, **options: Any) -> HaloClient:
    options.setdefault("rate", None)
    options.setdefault("sleep", Sleeps())
    transport = httpx.MockTransport(fake.handle)
    return HaloClient(HOST, auth_url, "halo-id", SECRET, transport=transport, **options)


def numbered(count: int) -> list[dict[str, Any]]:
    return [{"id": n, "name": f"Client {n}"} for n in range(1, count + 1)]


async def collect(pages: Any) -> list[dict[str, Any]]:
    return [row async for page in pages for row in page]


# -- auth ----------------------------------------------------------------------------------


async def test_token_grant_is_form_encoded_with_scope() -> None:
    fake = FakeHalo({"client": ("clients", numbered(1))})
    async with client(fake, scope="read:customers read:invoices") as halo:
        await collect(halo.clients())
        await collect(halo.clients())
    (grant,) = fake.grants
    assert str(grant.url) == f"{AUTH}/token"
    assert grant.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(grant.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["halo-id"],
        "client_secret": [SECRET],
        "scope": ["read:customers read:invoices"],
    }


async def test_tenant_goes_in_the_token_query() -> None:
    fake = FakeHalo({"client": ("clients", [])})
    async with client(fake, tenant="acme") as halo:
        await collect(halo.clients())
    assert str(fake.grants[0].url) == f"{AUTH}/token?tenant=acme"


async def test_auth_server_is_discovered_without_a_token() -> None:
    fake = FakeHalo({"client": ("clients", [])})
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fake.handle(request)

    transport = httpx.MockTransport(handle)
    async with HaloClient(HOST, None, "halo-id", SECRET, transport=transport, rate=None) as halo:
        await collect(halo.clients())
        assert await halo.authinfo() == {"auth_url": AUTH, "tenant_id": "acme"}
    discovery, grant = seen[0], seen[1]
    assert str(discovery.url) == f"{HOST}/api/authinfo"
    assert "Authorization" not in discovery.headers
    assert str(grant.url) == f"{AUTH}/token?tenant=acme"  # the discovered tenant


async def test_authinfo_without_auth_url_is_a_config_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"tenant_id": "acme"})

    transport = httpx.MockTransport(handle)
    async with HaloClient(HOST, None, "id", SECRET, transport=transport, rate=None) as halo:
        with pytest.raises(ApiError) as caught:
            await collect(halo.clients())
    assert caught.value.kind == "config"
    assert str(caught.value).endswith("set TRUEUP_HALO_AUTH_URL")


async def test_wrong_secret_is_an_auth_error_naming_the_variables() -> None:
    fake = FakeHalo({"client": ("clients", [])})
    halo = HaloClient(
        HOST, AUTH, "halo-id", "not-it-8812", transport=httpx.MockTransport(fake.handle), rate=None
    )
    async with halo:
        with pytest.raises(ApiError) as caught:
            await collect(halo.clients())
    assert (caught.value.service, caught.value.kind, caught.value.status) == (
        "HaloPSA",
        "auth",
        401,
    )
    assert str(caught.value) == (
        "HaloPSA rejected the client id or secret (401 invalid_client): "
        "check TRUEUP_HALO_CLIENT_ID / TRUEUP_HALO_CLIENT_SECRET"
    )
    assert "not-it-8812" not in str(caught.value) + repr(halo)


async def test_wrong_auth_url_is_a_config_error() -> None:
    fake = FakeHalo()
    async with client(fake, auth_url=f"{HOST}/oauth") as halo:
        with pytest.raises(ApiError) as caught:
            await collect(halo.clients())
    assert str(caught.value) == (
        f"HaloPSA has no token endpoint at {HOST}/oauth/token (404): check TRUEUP_HALO_AUTH_URL"
    )


# -- paging --------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "pages"), [(2500, [1, 2, 3]), (2000, [1, 2]), (999, [1])])
async def test_paging_stops_at_record_count(count: int, pages: list[int]) -> None:
    fake = FakeHalo({"client": ("clients", numbered(count))})
    async with client(fake) as halo:
        got = await collect(halo.clients())
    assert [row["id"] for row in got] == list(range(1, count + 1))
    assert fake.pages_asked() == pages


async def test_paging_parameters_and_includeinactive() -> None:
    fake = FakeHalo({"client": ("clients", numbered(3))})
    async with client(fake, page_size=2) as halo:
        await collect(halo.clients())
    assert [dict(request.url.params) for request in fake.requests] == [
        {"includeinactive": "true", "pageinate": "true", "page_size": "2", "page_no": str(n)}
        for n in (1, 2)
    ]


async def test_an_empty_list_is_one_request() -> None:
    fake = FakeHalo({"site": ("sites", [])})
    async with client(fake) as halo:
        assert await collect(halo.sites()) == []
    assert fake.pages_asked() == [1]


async def test_a_server_ignoring_page_size_is_read_once() -> None:
    fake = FakeHalo({"item": ("items", numbered(1500))})
    fake.ignores_paging = True
    async with client(fake) as halo:
        assert len(await collect(halo.items())) == 1500
    assert fake.pages_asked() == [1]


async def test_a_server_ignoring_page_no_fails_the_list_at_the_repeated_page() -> None:
    """From a reliability pass: the first page stored as the whole list deleted the rest
    (Halo counted 30), with exit 0."""
    fake = FakeHalo({"item": ("items", numbered(30))})
    fake.ignores_page_no = True
    async with client(fake, page_size=10) as halo:
        with pytest.raises(ApiError, match="listed 10 rows at /api/Item by page 1 and counts 30"):
            await collect(halo.items())
    assert fake.pages_asked() == [1, 2]


async def test_a_page_that_ends_short_of_halos_count_fails_the_list() -> None:
    fake = FakeHalo()
    fake.answers = [
        httpx.Response(200, json={"record_count": 12, "invoices": numbered(5)}),
        httpx.Response(200, json={"invoices": []}),
    ]
    async with client(fake, page_size=5) as halo:
        with pytest.raises(ApiError, match=r"listed 5 rows .* counts 12: the list is incomplete"):
            await collect(halo.invoices())


async def test_a_server_capping_page_size_is_read_to_record_count() -> None:
    fake = FakeHalo({"softwarelicence": ("licences", numbered(120))})
    fake.page_cap = 50
    async with client(fake) as halo:
        assert len(await collect(halo.licences())) == 120
    assert fake.pages_asked() == [1, 2, 3]


def renamed_while_paging(rows: list[dict[str, Any]], key: str) -> list[httpx.Response]:
    """Pages of 5 of `rows` (Halo counting them all) as served when the last row is renamed to
    sort first once page 1 is read: page 2 starts with page 1's last row, and the renamed row
    is on no page."""
    moved = rows[-1:] + rows[:-1]
    pages = [rows[:5], moved[5:10], moved[10:15]]
    return [httpx.Response(200, json={"record_count": len(rows), key: p}) for p in pages]


async def test_rows_shifted_between_pages_fail_the_list() -> None:
    """From a fault review: Halo counted 15, 15 rows came, one on two pages; client 15, on no
    page, was deleted from the store as gone from Halo (the sync said only 'listed twice')."""
    fake = FakeHalo()
    fake.answers = renamed_while_paging(numbered(15), "clients")
    async with client(fake, page_size=5) as halo:
        with pytest.raises(ApiError) as caught:
            await collect(halo.clients())
    assert str(caught.value) == (
        "HaloPSA listed 14 different rows at /api/Client against the 15 it counts, 1 of them "
        "on two pages: the list changed while paging; nothing was saved, sync again"
    )


async def test_an_id_twice_on_one_page_is_halos_own_data_not_a_shift() -> None:
    rows = [*numbered(4), {"id": 4, "name": "Client 4 again"}]
    fake = FakeHalo()
    fake.answers = [httpx.Response(200, json={"record_count": 5, "clients": rows})]
    async with client(fake, page_size=5) as halo:
        assert len(await collect(halo.clients())) == 5


async def test_without_record_count_a_short_page_is_the_last() -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(200, json={"invoices": numbered(2)})]
    async with client(fake, page_size=5) as halo:
        assert len(await collect(halo.invoices())) == 2
    assert fake.pages_asked() == [1]


async def test_a_bare_array_is_one_page() -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(200, json=numbered(3))]
    async with client(fake) as halo:
        assert len(await collect(halo.iter_pages("Status", "statuses"))) == 3
    assert len(fake.requests) == 1


@pytest.mark.parametrize("key", ["links", "externallinks", "ExternalLinks"])
async def test_external_links_accept_the_only_list_whatever_its_key(key: str) -> None:
    fake = FakeHalo({"externallink": (key, [{"id": 9001, "third_party_id": "c1"}])})
    async with client(fake) as halo:
        assert await collect(halo.external_links()) == [{"id": 9001, "third_party_id": "c1"}]


async def test_a_list_under_an_unknown_key_among_several_is_a_bad_response() -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(200, json={"record_count": 2, "a": [{}], "b": [{}]})]
    async with client(fake) as halo:
        with pytest.raises(ApiError) as caught:
            await collect(halo.external_links())
    assert caught.value.kind == "bad_response"


async def test_recurring_invoices_include_lines_and_keep_decimal_money() -> None:
    body = (
        '{"record_count": 1, "invoices": [{"id": -94, "lines": '
        '[{"id": 24967, "ihid": -94, "qty_order": 14.0, "unit_price": 10.32}]}]}'
    )
    fake = FakeHalo()
    fake.answers = [httpx.Response(200, text=body)]
    async with client(fake) as halo:
        (invoice,) = await collect(halo.recurring_invoices())
    line = invoice["lines"][0]
    assert (line["qty_order"], line["unit_price"]) == (Decimal("14.0"), Decimal("10.32"))
    assert isinstance(line["unit_price"], Decimal)
    assert fake.requests[0].url.params["includelines"] == "true"
    assert "includeinactive" not in fake.requests[0].url.params


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "quoted"),
    [
        ({"[0].id": "The id field is required."}, "400: [0].id: The id field is required."),
        ({"resultCode": 1, "errorMessage": "Client not found"}, "400: Client not found"),
        ({"ClassName": "System.Exception", "Message": "Invalid column"}, "400: Invalid column"),
        ({"Message": "The request is invalid."}, "400: The request is invalid."),
        ({"error": "invalid_request", "error_description": "bad scope"}, "400: bad scope"),
        ({"errors": {"lines": ["Lines are required"]}, "title": ""}, "400: lines: Lines are"),
        ("An Outcome must be entered for this Action", "400: An Outcome must be entered"),
    ],
)
async def test_halo_error_bodies_become_one_line(body: Any, quoted: str) -> None:
    fake = FakeHalo()
    text = body if isinstance(body, str) else json.dumps(body)
    fake.answers = [httpx.Response(400, text=text)]
    async with client(fake) as halo:
        with pytest.raises(ApiError) as caught:
            await halo.post("RecurringInvoice", [{"id": -94}])
    assert caught.value.kind == "bad_request"
    assert str(caught.value).startswith(f"HaloPSA rejected POST /api/RecurringInvoice ({quoted}")


@pytest.mark.parametrize(
    ("resource", "method", "permission"),
    [
        ("RecurringInvoice", "GET", "read:invoices"),
        ("SoftwareLicence", "POST", "edit:softwarelicensing"),
    ],
)
async def test_403_names_the_missing_permission(
    resource: str, method: str, permission: str
) -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(403)]
    async with client(fake) as halo:
        with pytest.raises(ApiError) as caught:
            await halo.request(method, f"/api/{resource}")
    assert caught.value.kind == "permission"
    assert str(caught.value) == (
        f"HaloPSA denied access to /api/{resource} (403): "
        f"give the API application the {permission} permission"
    )


async def test_a_401_on_a_fresh_token_points_at_the_scope() -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(401), httpx.Response(401)]
    async with client(fake) as halo:
        with pytest.raises(ApiError) as caught:
            await halo.request("GET", "/api/Invoice")
    assert caught.value.kind == "auth"
    assert str(caught.value).endswith(
        "give the API application the read:invoices permission (or check its login agent)"
    )
    assert len(fake.grants) == 2


async def test_a_host_root_with_api_twice_is_not_found_with_a_hint() -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(404, text="")]
    async with client(fake) as halo:
        with pytest.raises(ApiError) as caught:
            await halo.request("GET", "/api/Clients")
    assert str(caught.value) == (
        "HaloPSA has no /api/Clients (404): check TRUEUP_HALO_URL is the host root "
        "(https://TENANT.halopsa.com; trueup adds /api), or the record is gone"
    )


async def test_rate_limit_429_is_retried() -> None:
    fake = FakeHalo({"client": ("clients", numbered(1))})
    limited = "Rate Limit Reached - 300 Requests per rolling 5 minute window"
    fake.answers = [httpx.Response(429, text=limited)]
    sleeps = Sleeps()
    async with client(fake, sleep=sleeps) as halo:
        assert len(await collect(halo.clients())) == 1
        assert (halo.stats.rate_limited, halo.stats.retries) == (1, 1)
    assert len(sleeps.waits) == 1


# -- writes --------------------------------------------------------------------------------


async def test_post_sends_a_json_array_and_returns_the_saved_object() -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(201, json={"id": -94, "lines": [{"id": 1, "qty_order": 15}]})]
    line = {"id": 24967, "ihid": -94, "qty_order": Decimal("15"), "unit_price": Decimal("10.32")}
    async with client(fake) as halo:
        saved = await halo.post("RecurringInvoice", [{"id": -94, "lines": [line]}])
    assert saved["id"] == -94
    sent = fake.requests[0]
    assert (sent.method, sent.url.path) == ("POST", "/api/RecurringInvoice")
    assert sent.content == (
        b'[{"id":-94,"lines":[{"id":24967,"ihid":-94,"qty_order":15,"unit_price":10.32}]}]'
    )


async def test_a_post_is_not_repeated_when_it_may_have_been_applied() -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(503), httpx.Response(201, json={"id": 5})]
    async with client(fake) as halo:
        with pytest.raises(ApiError) as caught:
            await halo.post("Client", [{"name": "New client"}])
    assert caught.value.kind == "server"
    assert "the write may have gone through: check it in HaloPSA" in str(caught.value)
    assert len(fake.requests) == 1


async def test_a_post_is_repeated_when_it_surely_was_not_applied() -> None:
    fake = FakeHalo()
    fake.answers = [httpx.Response(429), httpx.Response(201, json={"id": 5})]
    async with client(fake, retry=RetryPolicy(max_attempts=2)) as halo:
        assert await halo.post("Client", [{"name": "New client"}]) == {"id": 5}
    assert len(fake.requests) == 2


async def test_an_html_page_means_the_url_is_wrong() -> None:
    fake = FakeHalo()
    page = "<!DOCTYPE html><html><head><title>HaloPSA</title></head></html>"
    fake.answers = [httpx.Response(200, text=page, headers={"Content-Type": "text/html"})]
    async with client(fake) as halo:
        with pytest.raises(ApiError) as caught:
            await collect(halo.clients())
    assert caught.value.kind == "config"
    assert "with an HTML page, not JSON: check TRUEUP_HALO_URL" in str(caught.value)
