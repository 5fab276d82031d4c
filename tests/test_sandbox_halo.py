"""The Halo simulator: auth, routes, list envelopes, paging, filters, rate limit, faults, HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from halo_fixtures import (
    FakeClock,
    authed_client,
    client_for,
    fetch_token,
    halo_scenario,
    make_app,
)
from trueup.sandbox.common import FaultSpec
from trueup.sandbox.halo import create_halo_app

TOKEN_FORM = {"grant_type": "client_credentials", "client_id": "sandbox",
              "client_secret": "sandbox", "scope": "all"}  # fmt: skip


async def ids(client: httpx.AsyncClient, path: str, key: str, **params: object) -> list[int]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()[key]]


# --- auth -----------------------------------------------------------------------------------


async def test_token_is_issued_for_form_encoded_client_credentials() -> None:
    async with client_for(make_app(token_lifetime=1800)) as client:
        for path in ("/auth/token", "/auth/token?tenant=acme"):
            response = await client.post(path, data=TOKEN_FORM)
            assert response.status_code == 200
            body = response.json()
            assert body["token_type"] == "Bearer"
            assert body["expires_in"] == 1800
            assert body["scope"] == "all"
            assert body["access_token"] and body["id_token"]
            assert body["id_token"] != body["access_token"]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "error"),
    [
        ({"data": {**TOKEN_FORM, "client_secret": "wrong"}}, 401, "invalid_client"),
        ({"data": {**TOKEN_FORM, "client_id": "someone"}}, 401, "invalid_client"),
        ({"json": TOKEN_FORM}, 400, "invalid_request"),
        ({"data": {"grant_type": "client_credentials", "client_id": "sandbox"}}, 400,
         "invalid_request"),
        ({"data": {**TOKEN_FORM, "grant_type": "password"}}, 400, "unsupported_grant_type"),
    ],
)  # fmt: skip
async def test_token_refusals(request_kwargs: dict, status: int, error: str) -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/auth/token", **request_kwargs)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


async def test_token_uses_scenario_credentials() -> None:
    credentials = {"halo": {"client_id": "trueup-app", "client_secret": "s3cret"}}
    async with client_for(make_app(halo_scenario(credentials=credentials))) as client:
        refused = await client.post("/auth/token", data=TOKEN_FORM)
        accepted = await client.post(
            "/auth/token", data={**TOKEN_FORM, "client_id": "trueup-app", "client_secret": "s3cret"}
        )
    assert refused.status_code == 401
    assert accepted.status_code == 200


async def test_authinfo_is_public_and_points_at_the_auth_server() -> None:
    credentials = {"halo": {"client_id": "a", "client_secret": "b", "tenant_id": "acme"}}
    async with client_for(make_app(halo_scenario(credentials=credentials))) as client:
        response = await client.get("/api/authinfo")
    assert response.status_code == 200
    assert response.json() == {"auth_url": "http://halo.test/auth", "tenant_id": "acme"}


async def test_api_requires_a_valid_unexpired_bearer() -> None:
    clock = FakeClock()
    async with client_for(make_app(clock=clock, token_lifetime=3600)) as client:
        missing = await client.get("/api/Client")
        bogus = await client.get("/api/Client", headers={"Authorization": "Bearer nope"})
        headers = {"Authorization": f"Bearer {await fetch_token(client)}"}
        clock.now += 3599
        fresh = await client.get("/api/Client", headers=headers)
        clock.now += 1
        expired = await client.get("/api/Client", headers=headers)
        unknown_route = await client.get("/api/NoSuchThing")
    for response in (missing, bogus, expired, unknown_route):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert fresh.status_code == 200


# --- routes and envelopes -------------------------------------------------------------------


async def test_routes_match_case_insensitively() -> None:
    async with authed_client(make_app()) as client:
        for path in ("/api/Client", "/api/client", "/API/CLIENT"):
            assert await ids(client, path, "clients") == [12, 14, 16, 420]
        lower = await client.get("/api/recurringinvoice/-94")
        pascal = await client.get("/api/RecurringInvoice/-94")
    assert lower.status_code == pascal.status_code == 200
    assert lower.json() == pascal.json()


@pytest.mark.parametrize(
    ("path", "key", "count"),
    [("/api/Client", "clients", 4), ("/api/Site", "sites", 3), ("/api/Item", "items", 2),
     ("/api/RecurringInvoice", "invoices", 2), ("/api/Invoice", "invoices", 2),
     ("/api/SoftwareLicence", "licences", 2), ("/api/ExternalLink", "links", 3)],
)  # fmt: skip
async def test_list_envelope_without_paging(path: str, key: str, count: int) -> None:
    async with authed_client(make_app()) as client:
        body = (await client.get(path, params={"page_size": 1, "page_no": 2})).json()
    assert set(body) == {"record_count", key}  # page_size/page_no ignored without pageinate
    assert body["record_count"] == len(body[key]) == count


async def test_single_get_is_bare_and_null_fields_are_left_out() -> None:
    async with authed_client(make_app()) as client:
        gamma = (await client.get("/api/Client/16")).json()
        listed = (await client.get("/api/Client")).json()["clients"]
    assert gamma["id"] == 16 and gamma["name"] == "Gamma Dental"
    assert "website" not in gamma
    assert all("website" not in row for row in listed)


async def test_unknown_ids_routes_and_malformed_ids() -> None:
    async with authed_client(make_app()) as client:
        missing = await client.get("/api/Client/999")
        no_resource = await client.get("/api/Ticketz")
        malformed = await client.get("/api/Client/abc")
        ignored_param = await client.get("/api/Client", params={"frobnicate": "yes"})
        wrong_method = await client.put("/api/Client", json=[])
    assert missing.status_code == 404 and "Message" in missing.json()
    assert no_resource.status_code == 404
    assert malformed.status_code == 400 and "id" in malformed.json()
    assert ignored_param.status_code == 200
    assert wrong_method.status_code == 405


# --- paging and count -----------------------------------------------------------------------


async def test_paging_only_with_pageinate() -> None:
    async with authed_client(make_app()) as client:
        page = (await client.get("/api/Client?pageinate=true&page_size=2&page_no=2")).json()
        first = (await client.get("/api/Client?PAGEINATE=True&page_size=3")).json()
        default = (await client.get("/api/Client?pageinate=true")).json()
        beyond = (await client.get("/api/Client?pageinate=true&page_size=2&page_no=5")).json()
        bad = await client.get("/api/Client?pageinate=true&page_size=0")
    assert page == {"record_count": 4, "page_size": 2, "page_no": 2, "clients": page["clients"]}
    assert [row["id"] for row in page["clients"]] == [16, 420]
    assert [row["id"] for row in first["clients"]] == [12, 14, 16]
    assert first["page_no"] == 1
    assert default["page_size"] == 50 and len(default["clients"]) == 4
    assert beyond["clients"] == [] and beyond["record_count"] == 4
    assert bad.status_code == 400 and "page_size" in bad.json()


async def test_count_caps_rows_and_record_count() -> None:
    async with authed_client(make_app()) as client:
        body = (await client.get("/api/Client", params={"count": 2})).json()
    assert body["record_count"] == 2
    assert [row["id"] for row in body["clients"]] == [12, 14]


# --- inactive rows and filters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key", "hidden"),
    [("/api/Client", "clients", {18}), ("/api/Site", "sites", {31}), ("/api/Item", "items", {1500}),
     ("/api/SoftwareLicence", "licences", {509, 510}),
     ("/api/RecurringInvoice", "invoices", {-96})],
)  # fmt: skip
async def test_inactive_rows_need_includeinactive(path: str, key: str, hidden: set[int]) -> None:
    async with authed_client(make_app()) as client:
        default = set(await ids(client, path, key))
        everything = set(await ids(client, path, key, includeinactive="true"))
    assert not default & hidden
    assert everything == default | hidden


@pytest.mark.parametrize(
    ("path", "key", "params", "expected"),
    [
        ("/api/Site", "sites", {"client_id": 12}, [30]),
        ("/api/Site", "sites", {"client_id": 12, "includeinactive": "true"}, [30, 31]),
        ("/api/RecurringInvoice", "invoices", {"client_id": 420}, [-94]),
        ("/api/RecurringInvoice", "invoices", {"client_ids": "12,420"}, [-95, -94]),
        ("/api/Invoice", "invoices", {"client_id": 14}, [7002]),
        ("/api/Invoice", "invoices", {"client_ids": "12, 14"}, [7001, 7002]),
        ("/api/SoftwareLicence", "licences", {"client_id": 12}, [508]),
        ("/api/SoftwareLicence", "licences", {"client_id": 999}, []),
        ("/api/Client", "clients", {"search": "acme"}, [12]),
        ("/api/Client", "clients", {"search": "ACME", "includeinactive": "true"}, [12, 18]),
        ("/api/Client", "clients", {"toplevel_id": 2}, [16]),
        ("/api/Item", "items", {"search": "microsoft"}, [1000]),
        ("/api/ExternalLink", "links", {"halo_id": 12}, [9002, 9003]),
        ("/api/ExternalLink", "links", {"module_id": 2}, [9003]),
        ("/api/ExternalLink", "links", {"table_id": 1, "third_party_type": "pax8"}, [9001, 9002]),
        ("/api/ExternalLink", "links", {"third_party_id": "7c1e2d3f-acme"}, [9002]),
    ],
)
async def test_filters(path: str, key: str, params: dict, expected: list[int]) -> None:
    async with authed_client(make_app()) as client:
        assert await ids(client, path, key, **params) == expected


async def test_malformed_filter_value_is_a_field_keyed_400() -> None:
    async with authed_client(make_app()) as client:
        response = await client.get("/api/Site", params={"client_id": "twelve"})
    assert response.status_code == 400
    assert response.json() == {"client_id": "The value 'twelve' is not valid."}


@pytest.mark.parametrize("path", ["/api/Invoice", "/api/RecurringInvoice"])
async def test_invoicedatestart_and_invoicedateend_are_booleans_not_a_date_window(
    path: str,
) -> None:
    """The swagger: "(bool) Include the field invoicedatestart in the response"."""
    async with authed_client(make_app()) as client:
        everything = await ids(client, path, "invoices")
        flagged = await ids(client, path, "invoices", invoicedatestart="true",
                            invoicedateend="False")  # fmt: skip
        dated = await client.get(path, params={"invoicedatestart": "2026-11-01"})
        dated_end = await client.get(path, params={"invoicedateend": "2026-10-31T00:00:00"})
    assert flagged == everything and len(everything) >= 2
    assert dated.status_code == dated_end.status_code == 400
    assert dated.json() == {"invoicedatestart": "The value '2026-11-01' is not valid."}
    assert list(dated_end.json()) == ["invoicedateend"]


@pytest.mark.parametrize("path", ["/api/RecurringInvoice", "/api/Invoice"])
async def test_lines_on_lists_only_with_includelines(path: str) -> None:
    async with authed_client(make_app()) as client:
        bare = (await client.get(path)).json()["invoices"]
        full = (await client.get(path, params={"includelines": "true"})).json()["invoices"]
        single = (await client.get(f"{path}/{bare[0]['id']}")).json()
    assert all("lines" not in row for row in bare)
    assert all("lines" in row for row in full)
    assert single["lines"] == full[0]["lines"] and single["lines"]


async def test_recurring_invoice_ids_are_negative_and_line_ids_positive() -> None:
    async with authed_client(make_app()) as client:
        rows = (await client.get("/api/RecurringInvoice?includelines=true")).json()["invoices"]
    assert all(row["id"] < 0 for row in rows)
    assert all(
        line["id"] > 0 and line["ihid"] == row["id"] for row in rows for line in row["lines"]
    )


# --- rate limit and faults ------------------------------------------------------------------


async def test_rate_limit_is_a_rolling_window() -> None:
    clock = FakeClock()
    app = create_halo_app(halo_scenario(), clock=clock)  # the default 300 per 5 minutes
    async with client_for(app) as client:
        token = await fetch_token(client)  # the token request counts too
        headers = {"Authorization": f"Bearer {token}"}
        clock.now += 10
        for _ in range(299):
            assert (await client.get("/api/Item", headers=headers)).status_code == 200
        refused = await client.get("/api/Item", headers=headers)
        clock.now += 290  # the token request (t=0) leaves the window, the others do not
        one_more = await client.get("/api/Item", headers=headers)
        refused_again = await client.get("/api/Item", headers=headers)
    assert refused.status_code == 429
    assert refused.text == "Rate Limit Reached - 300 Requests per rolling 5 minute window"
    assert "retry-after" not in refused.headers
    assert one_more.status_code == 200
    assert refused_again.status_code == 429


async def test_rate_limit_message_uses_the_configured_numbers() -> None:
    async with client_for(make_app(rate_limit=(2, 60.0), clock=FakeClock())) as client:
        statuses = [(await client.get("/api/authinfo")).status_code for _ in range(3)]
        refused = await client.get("/api/authinfo")
    assert statuses == [200, 200, 429]
    assert refused.text == "Rate Limit Reached - 2 Requests per rolling 1 minute window"


async def test_injected_faults_reach_the_client() -> None:
    failing = make_app(faults=FaultSpec(rates={"503": 1.0}))
    async with client_for(failing) as client:
        assert (await client.get("/api/authinfo")).status_code == 503
    resetting = make_app(faults=FaultSpec(rates={"reset": 1.0}))
    async with client_for(resetting) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/api/authinfo")


# --- loopback -------------------------------------------------------------------------------


@pytest.fixture
def served_halo() -> Iterator[str]:
    config = uvicorn.Config(make_app(), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.slow
async def test_token_and_paged_list_over_real_http(served_halo: str) -> None:
    async with httpx.AsyncClient(base_url=served_halo) as client:
        info = (await client.get("/api/authinfo")).json()
        assert info["auth_url"] == f"{served_halo}/auth"
        token = (await client.post(f"{info['auth_url']}/token", data=TOKEN_FORM)).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        pages = [
            (await client.get("/api/Client", headers=headers,
                              params={"pageinate": "true", "page_size": 3, "page_no": n})).json()
            for n in (1, 2)
        ]  # fmt: skip
    assert [len(page["clients"]) for page in pages] == [3, 1]
    assert {page["record_count"] for page in pages} == {4}


# --- scale ----------------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_two_thousand_client_world_is_served_quickly() -> None:
    clients = [{"id": n, "name": f"Client {n}", "inactive": False} for n in range(1, 2001)]
    licences = [{"id": n, "name": f"SKU {n % 40}", "client_id": 1 + n % 2000, "count": 3,
                 "is_active": True} for n in range(1, 40001)]  # fmt: skip
    headers = [{"id": -n, "client_id": n, "lines": [
        {"id": n * 100 + k, "ihid": -n, "qty_order": 2.0, "unit_price": 9.99} for k in range(20)
    ]} for n in range(1, 2001)]  # fmt: skip
    started = time.perf_counter()
    app = make_app(halo_scenario(clients=clients, licences=licences, recurring_invoices=headers))
    async with authed_client(app) as client:
        pages = await asyncio.gather(*(
            client.get("/api/SoftwareLicence", params={"pageinate": "true", "page_size": 1000,
                                                       "page_no": n}) for n in range(1, 41)
        ))  # fmt: skip
        per_client = await client.get("/api/SoftwareLicence", params={"client_id": 77})
        with_lines = await client.get(
            "/api/RecurringInvoice",
            params={"pageinate": "true", "page_size": 1000, "includelines": "true"},
        )
    assert sum(len(page.json()["licences"]) for page in pages) == 40000
    assert per_client.json()["record_count"] == 20
    assert len(with_lines.json()["invoices"]) == 1000
    assert time.perf_counter() - started < 20
