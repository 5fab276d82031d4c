"""Pax8 simulator: auth, paging, errors, rate limit, faults and a real loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from pax8_fixtures import (
    ACME,
    INVOICE_OCT,
    S_ACME_M365,
    S_ACME_PROOF,
    TOKEN_REQUEST,
    FakeClock,
    all_pages,
    behaviour_scenario,
    pax8_client,
    uid,
)
from trueup.sandbox.common import FaultSpec
from trueup.sandbox.pax8 import create_pax8_app
from trueup.sandbox.scenario import parse_scenario

TOKEN_DENIED = {"error": "access_denied", "error_description": "Unauthorized"}


def make_app(**options: Any) -> ASGIApp:
    return create_pax8_app(parse_scenario(behaviour_scenario()), **options)


# -- token --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/token", "/oauth/token"])
async def test_token_grants_a_bearer_that_opens_the_data_routes(path: str) -> None:
    async with pax8_client(make_app(), authorised=False) as client:
        response = await client.post(path, json=TOKEN_REQUEST)
        assert response.status_code == 200
        body = response.json()
        assert body["expires_in"] == 86400 and isinstance(body["expires_in"], int)
        assert body["token_type"] == "Bearer"
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        assert (await client.get("/v1/companies", headers=headers)).status_code == 200


@pytest.mark.parametrize("field", sorted(TOKEN_REQUEST))
async def test_token_needs_every_field(field: str) -> None:
    request = {name: value for name, value in TOKEN_REQUEST.items() if name != field}
    async with pax8_client(make_app(), authorised=False) as client:
        response = await client.post("/v1/token", json=request)
    assert (response.status_code, response.json()) == (401, TOKEN_DENIED)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_id", "someone-else"),
        ("client_secret", "wrong"),
        ("audience", "https://example.com"),
        ("grant_type", "password"),
        ("client_secret", 123),
    ],
)
async def test_token_refuses_wrong_values(field: str, value: object) -> None:
    async with pax8_client(make_app(), authorised=False) as client:
        response = await client.post("/v1/token", json={**TOKEN_REQUEST, field: value})
    assert (response.status_code, response.json()) == (401, TOKEN_DENIED)


@pytest.mark.parametrize("audience", ["api://p8p.client", "api://provisioning", "api://usage"])
async def test_token_accepts_every_audience_of_the_spec(audience: str) -> None:
    async with pax8_client(make_app(), authorised=False) as client:
        response = await client.post("/v1/token", json={**TOKEN_REQUEST, "audience": audience})
    assert response.status_code == 200


async def test_token_takes_json_only() -> None:
    async with pax8_client(make_app(), authorised=False) as client:
        form = await client.post("/v1/token", data=TOKEN_REQUEST)
        broken = await client.post("/v1/token", content=b'{"client_id": ')
        not_an_object = await client.post("/v1/token", json=[TOKEN_REQUEST])
    assert form.status_code == 400 and "access_token" not in form.json()
    assert broken.status_code == 400
    assert (not_an_object.status_code, not_an_object.json()) == (401, TOKEN_DENIED)


async def test_token_uses_the_scenario_credentials() -> None:
    data = behaviour_scenario() | {
        "credentials": {"pax8": {"client_id": "a", "client_secret": "b"}}
    }
    app = create_pax8_app(parse_scenario(data))
    async with pax8_client(app, authorised=False) as client:
        default = await client.post("/v1/token", json=TOKEN_REQUEST)
        custom = {**TOKEN_REQUEST, "client_id": "a", "client_secret": "b"}
        assert default.status_code == 401
        assert (await client.post("/v1/token", json=custom)).status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic c2FuZGJveA=="])
async def test_data_routes_need_a_valid_bearer(authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with pax8_client(make_app(), authorised=False) as client:
        response = await client.get(f"/v1/subscriptions/{S_ACME_M365}", headers=headers)
        unknown_route = await client.get("/v1/nowhere", headers=headers)
    assert response.status_code == unknown_route.status_code == 401
    assert response.json() == {
        "type": "UNAUTHORIZED",
        "message": "Unauthorized",
        "instance": f"/public/v1/subscriptions/{S_ACME_M365}",
        "status": 401,
        "details": [],
    }


async def test_a_token_expires_after_its_lifetime() -> None:
    clock = FakeClock()
    async with pax8_client(make_app(token_lifetime=60, clock=clock)) as client:
        clock.advance(59)
        assert (await client.get("/v1/companies")).status_code == 200
        clock.advance(1)
        expired = await client.get("/v1/companies")
        assert (expired.status_code, expired.json()["type"]) == (401, "UNAUTHORIZED")
        fresh = await client.post("/v1/token", json=TOKEN_REQUEST)
        assert fresh.json()["expires_in"] == 60
        client.headers["Authorization"] = f"Bearer {fresh.json()['access_token']}"
        assert (await client.get("/v1/companies")).status_code == 200


# -- paging -------------------------------------------------------------------------------------


async def test_pages_are_zero_based_with_ten_rows_by_default() -> None:
    async with pax8_client(make_app()) as client:
        first = (await client.get(f"/v1/invoices/{INVOICE_OCT}/items")).json()
        last = (await client.get(f"/v1/invoices/{INVOICE_OCT}/items?page=2")).json()
    assert first["page"] == {"size": 10, "totalElements": 25, "totalPages": 3, "number": 0}
    assert [item["quantity"] for item in first["content"]] == list(range(1, 11))
    assert [item["quantity"] for item in last["content"]] == list(range(21, 26))
    assert last["page"]["number"] == 2


async def test_all_pages_give_every_row_once_in_order() -> None:
    async with pax8_client(make_app()) as client:
        rows = await all_pages(client, f"/v1/invoices/{INVOICE_OCT}/items", size=7)
    assert [row["quantity"] for row in rows] == list(range(1, 26))


@pytest.mark.parametrize(
    ("query", "size", "number"),
    [("size=200", 200, 0), ("size=500", 200, 0), ("size=0", 1, 0), ("page=-3&size=5", 5, 0)],
)
async def test_out_of_range_page_params_are_clamped(query: str, size: int, number: int) -> None:
    async with pax8_client(make_app()) as client:
        body = (await client.get(f"/v1/invoices/{INVOICE_OCT}/items?{query}")).json()
    assert (body["page"]["size"], body["page"]["number"]) == (size, number)
    assert len(body["content"]) == min(size, 25)


async def test_a_page_past_the_end_is_empty_but_keeps_the_totals() -> None:
    async with pax8_client(make_app()) as client:
        body = (await client.get(f"/v1/invoices/{INVOICE_OCT}/items?page=9&size=10")).json()
    assert body == {
        "content": [],
        "page": {"size": 10, "totalElements": 25, "totalPages": 3, "number": 9},
    }


async def test_an_empty_list_has_zero_pages() -> None:
    async with pax8_client(make_app()) as client:
        body = (await client.get(f"/v1/orders?companyId={uid(999)}")).json()
    assert body == {"content": [], "page": {"size": 10, "totalElements": 0, "totalPages": 0,
                                            "number": 0}}  # fmt: skip


async def test_an_empty_invoice_list_has_no_content_key() -> None:
    async with pax8_client(make_app()) as client:
        empty = (await client.get("/v1/invoices?status=Void")).json()
        past_end = (await client.get("/v1/invoices?page=5")).json()
        full = (await client.get("/v1/invoices")).json()
    assert empty == {"page": {"size": 10, "totalElements": 0, "totalPages": 0, "number": 0}}
    assert "content" not in past_end and past_end["page"]["totalElements"] == 3
    assert len(full["content"]) == 3


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/subscriptions/{S_ACME_M365}/history",
        f"/v1/products/{uid(11)}/pricing",
        f"/v1/products/{uid(11)}/provision-details",
    ],
)
async def test_unpaged_lists_have_content_only(path: str) -> None:
    async with pax8_client(make_app()) as client:
        body = (await client.get(path)).json()
    assert list(body) == ["content"] and body["content"]


@pytest.mark.parametrize("query", ["page=first", "size=ten", "size=2.5"])
async def test_non_numeric_page_params_are_a_bad_request(query: str) -> None:
    async with pax8_client(make_app()) as client:
        response = await client.get(f"/v1/companies?{query}")
    body = response.json()
    assert (response.status_code, body["type"], body["status"]) == (400, "BAD_REQUEST", 400)
    assert body["details"][0]["type"] == "INVALID_PARAM"
    assert body["instance"] == "/public/v1/companies"


# -- errors -------------------------------------------------------------------------------------


async def test_an_unknown_id_is_a_404_envelope() -> None:
    missing = uid(404)
    async with pax8_client(make_app()) as client:
        response = await client.get(f"/v1/subscriptions/{missing}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "type": "NOT_FOUND",
        "message": f"Subscription Not Found: {missing}",
        "instance": f"/public/v1/subscriptions/{missing}",
        "status": 404,
        "details": [],
    }


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/v1/companies/{}", "Company"),
        ("/v1/products/{}", "Product"),
        ("/v1/orders/{}", "Order"),
        ("/v1/invoices/{}", "Invoice"),
        ("/v1/invoices/{}/items", "Invoice"),
        ("/v1/usage-summaries/{}", "Usage Summary"),
        ("/v1/subscriptions/{}/history", "Subscription"),
        ("/v1/subscriptions/{}/usage-summaries", "Subscription"),
        ("/v1/products/{}/pricing", "Product"),
    ],
)
async def test_every_lookup_answers_404_for_an_unknown_id(path: str, kind: str) -> None:
    async with pax8_client(make_app()) as client:
        response = await client.get(path.format("nope"))
    assert response.status_code == 404
    assert response.json()["message"] == f"{kind} Not Found: nope"


async def test_unknown_routes_and_methods_get_the_envelope() -> None:
    async with pax8_client(make_app()) as client:
        unknown = await client.get("/v1/usage-summaries")  # no top-level list exists
        wrong_method = await client.delete("/v1/companies")
    assert (unknown.status_code, unknown.json()["type"]) == (404, "NOT_FOUND")
    assert unknown.json()["instance"] == "/public/v1/usage-summaries"
    assert (wrong_method.status_code, wrong_method.json()["status"]) == (405, 405)


async def test_unknown_query_parameters_are_ignored() -> None:
    async with pax8_client(make_app()) as client:
        plain = (await client.get("/v1/orders")).json()
        with_unknown = (await client.get("/v1/orders?status=Completed&foo=bar")).json()
    assert plain == with_unknown and plain["page"]["totalElements"] == 1


# -- rate limit ---------------------------------------------------------------------------------


async def test_the_rate_limit_rolls_over_a_window_and_sends_no_retry_after() -> None:
    clock = FakeClock()
    async with pax8_client(make_app(rate_limit=(5, 60.0), clock=clock)) as client:  # token = 1
        statuses = [(await client.get("/v1/companies")).status_code for _ in range(4)]
        limited = await client.get("/v1/companies")
        assert statuses == [200] * 4
        assert limited.status_code == 429
        assert "retry-after" not in limited.headers
        assert limited.json() == {
            "type": "TOO_MANY_REQUESTS",
            "message": "Rate limit exceeded",
            "instance": "/public/v1/companies",
            "status": 429,
            "details": [],
        }
        refused_token = await client.post("/v1/token", json=TOKEN_REQUEST)
        assert refused_token.status_code == 429  # the token endpoint counts and is limited too
        clock.advance(60)
        assert (await client.get("/v1/companies")).status_code == 200


async def test_no_rate_limit_when_disabled() -> None:
    async with pax8_client(make_app(rate_limit=None)) as client:
        statuses = {(await client.get("/v1/companies")).status_code for _ in range(1100)}
    assert statuses == {200}


# -- faults -------------------------------------------------------------------------------------


def faulty_app(kind: str, **options: Any) -> ASGIApp:
    return make_app(faults=FaultSpec(rates={kind: 1.0}, **options))


@pytest.mark.parametrize(
    ("kind", "status", "retry_after"),
    [("429", 429, "1"), ("429-bare", 429, None), ("500", 500, None), ("503", 503, None)],
)
async def test_status_faults(kind: str, status: int, retry_after: str | None) -> None:
    async with pax8_client(faulty_app(kind), authorised=False) as client:
        token = await client.post("/v1/token", json=TOKEN_REQUEST)  # faults hit every route
        response = await client.get("/v1/companies")
    assert token.status_code == response.status_code == status
    assert response.headers.get("retry-after") == retry_after


async def test_reset_fault_drops_the_connection() -> None:
    async with pax8_client(faulty_app("reset"), authorised=False) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/v1/companies")


async def test_slow_fault_times_out_the_read() -> None:
    app = faulty_app("slow", slow_seconds=0.5)
    async with pax8_client(app, authorised=False, timeout=httpx.Timeout(5, read=0.1)) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/v1/companies")


async def test_malformed_fault_cuts_the_body() -> None:
    async with pax8_client(faulty_app("malformed"), authorised=False) as client:
        response = await client.get("/v1/companies")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_faults_are_deterministic_per_seed() -> None:
    async def statuses(seed: int) -> list[int]:
        spec = FaultSpec(rates={"500": 0.3, "503": 0.2}, seed=seed)
        async with pax8_client(make_app(faults=spec, rate_limit=None), authorised=False) as client:
            return [
                (await client.get(f"/v1/companies?page={number % 7}")).status_code
                for number in range(60)
            ]

    first, again, other = await statuses(7), await statuses(7), await statuses(8)
    assert first == again
    assert {500, 503, 401} <= set(first)  # faults drawn, the rest reach auth (no token)
    assert first != other


# -- loopback -----------------------------------------------------------------------------------


@contextmanager
def served_on_loopback(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 (a free port) in a thread; yield its /v1 URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            thread.join(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive()


@pytest.mark.slow
def test_served_over_real_http_on_loopback() -> None:
    with served_on_loopback(make_app()) as base_url:
        with httpx.Client(base_url=base_url + "/", timeout=5) as client:
            token = client.post("token", json=TOKEN_REQUEST).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            response = client.get("subscriptions", params={"companyId": ACME, "size": 1})
        assert response.status_code == 200
        body = response.json()
        assert body["page"] == {"size": 1, "totalElements": 2, "totalPages": 2, "number": 0}
        assert body["content"][0]["id"] in (S_ACME_M365, S_ACME_PROOF)
    with (
        served_on_loopback(faulty_app("reset")) as base_url,
        httpx.Client(timeout=5) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.get(base_url + "/companies")
