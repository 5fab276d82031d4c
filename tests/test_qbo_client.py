"""QboClient against the QuickBooks simulator: rotating refresh tokens stored before use, paged
queries, Fault bodies as one-line errors, retries of reads, and writes whose answer was lost."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from qbo_fixtures import (
    FIRST_REFRESH_TOKEN,
    REALM,
    Recorder,
    Sleeps,
    TokenBook,
    faults,
    qbo_app,
    qbo_client,
)
from trueup.core.sources.http import ApiError, RateLimit, RetryPolicy
from trueup.core.sources.qbo import (
    INTUIT_TOKEN_URL,
    QBO_RATE_LIMIT,
    QboTokens,
    fault_code,
    parse_fault,
    qbo_string,
    token_url_for,
)
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background
from trueup.sandbox.transport import SandboxTransport

INVOICE = {
    "CustomerRef": {"value": "58"}, "DocNumber": "HB42-0007", "TxnDate": "2026-10-31",
    "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 1250, "Description": "25 seats",
              "SalesItemLineDetail": {"ItemRef": {"value": "21"}, "Qty": 25, "UnitPrice": 50}}],
}  # fmt: skip


def recorded(app: Any) -> Recorder:
    return Recorder(SandboxTransport(app=app))


def query_of(request: httpx.Request) -> str:
    return request.url.params["query"]


# --- tokens ---------------------------------------------------------------------------------


def test_token_url_is_intuits_for_intuit_hosts_and_the_sandbox_host_otherwise() -> None:
    assert token_url_for("https://quickbooks.api.intuit.com") == INTUIT_TOKEN_URL
    assert token_url_for("https://sandbox-quickbooks.api.intuit.com/") == INTUIT_TOKEN_URL
    assert (
        token_url_for("http://127.0.0.1:8123/") == "http://127.0.0.1:8123/oauth2/v1/tokens/bearer"
    )


async def test_new_refresh_token_is_stored_before_the_access_token_is_used() -> None:
    app = qbo_app()
    transport = recorded(app)
    seen_at_store: list[int] = []

    def store(token: str) -> None:
        seen_at_store.append(len(transport.api_requests()))
        book.tokens.append(token)

    book = TokenBook()
    async with qbo_client(app, store, transport=transport) as client:
        await client.customers()
    assert len(book.tokens) == 1 and book.tokens[0] != FIRST_REFRESH_TOKEN
    assert seen_at_store == [0]  # nothing had been sent with the new access token yet
    [grant] = transport.token_requests()
    assert parse_qs(grant.content.decode()) == {
        "grant_type": ["refresh_token"], "refresh_token": [FIRST_REFRESH_TOKEN]}  # fmt: skip
    expected = base64.b64encode(b"ABqbo:qbo-secret").decode()
    assert grant.headers["Authorization"] == f"Basic {expected}"
    for request in transport.api_requests():
        assert request.headers["Authorization"].startswith("Bearer ")
        assert request.url.params["minorversion"] == "75"
    # The stored token is the live one: a new run starts from it.
    again = TokenBook()
    async with qbo_client(app, again, refresh_token=book.tokens[0]) as client:
        await client.items()
    assert len(again.tokens) == 1


async def test_an_async_store_is_awaited() -> None:
    stored: list[str] = []

    async def store(token: str) -> None:
        await asyncio.sleep(0)
        stored.append(token)

    async with qbo_client(qbo_app(), store) as client:
        await client.items()
    assert len(stored) == 1


async def test_when_storing_the_refresh_token_fails_nothing_is_sent_with_it() -> None:
    app = qbo_app()
    transport = recorded(app)
    book = TokenBook(fail=True)
    async with qbo_client(app, book, transport=transport) as client:
        with pytest.raises(ApiError) as caught:
            await client.customers()
    assert caught.value.kind == "config"
    assert "storing it failed (OSError: disk full while writing ***)" in str(caught.value)
    assert "RT1-" not in str(caught.value)
    assert transport.api_requests() == []
    assert len(transport.token_requests()) == 1


async def test_one_refresh_serves_concurrent_calls() -> None:
    book = TokenBook()
    async with qbo_client(qbo_app(), book) as client:
        await asyncio.gather(*(client.items() for _ in range(5)))
        assert client.stats.token_requests == 1
    assert len(book.tokens) == 1


async def test_an_unchanged_refresh_token_is_not_stored_again() -> None:
    def token_endpoint(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth2"):
            return httpx.Response(200, json={"access_token": "AT", "expires_in": 3600,
                                             "refresh_token": FIRST_REFRESH_TOKEN})  # fmt: skip
        return httpx.Response(200, json={"QueryResponse": {}})

    book = TokenBook()
    async with qbo_client(None, book, transport=httpx.MockTransport(token_endpoint)) as client:
        assert await client.items() == []
    assert book.tokens == []


@pytest.mark.parametrize(
    ("refresh_token", "words"),
    [("RT-forged", "refused the refresh token or authorization code (400 invalid_grant)"),
     (None, "no QuickBooks refresh token")],
)  # fmt: skip
async def test_unusable_refresh_tokens(refresh_token: str | None, words: str) -> None:
    async with qbo_client(qbo_app(), refresh_token=refresh_token) as client:
        with pytest.raises(ApiError) as caught:
            await client.items()
    assert caught.value.kind == "auth"
    assert words in str(caught.value) and "trueup connect qbo" in str(caught.value)


async def test_wrong_client_secret_names_the_variables() -> None:
    async with qbo_client(qbo_app(), client_secret="wrong") as client:
        with pytest.raises(ApiError, match="TRUEUP_QBO_CLIENT_SECRET") as caught:
            await client.items()
    assert caught.value.status == 401


async def test_authorization_code_is_exchanged_and_its_refresh_token_stored() -> None:
    book = TokenBook()
    async with qbo_client(qbo_app(), book, refresh_token=None) as client:
        tokens = await client.exchange_authorization_code("sandbox-code", "https://localhost/cb")
        customers = await client.customers()
    assert isinstance(tokens, QboTokens) and tokens.expires_in == 3600
    assert tokens.refresh_token_expires_in == 8726400
    assert "RT1-" not in repr(tokens) and tokens.access_token not in repr(tokens)
    # The code's refresh token was stored, then rotated by the first call's refresh.
    assert book.tokens[0] == tokens.refresh_token and len(book.tokens) == 2
    assert len(customers) == 5


async def test_a_used_up_authorization_code_is_refused() -> None:
    async with qbo_client(qbo_app(), refresh_token=None) as client:
        with pytest.raises(ApiError, match="invalid_grant"):
            await client.exchange_authorization_code("stale", "https://localhost/cb")


# --- queries --------------------------------------------------------------------------------


async def test_queries_page_until_a_short_page_and_include_inactive_rows() -> None:
    app = qbo_app()
    transport = recorded(app)
    async with qbo_client(app, transport=transport, page_size=2) as client:
        customers = await client.customers()
        items = await client.items()
    assert [c["Id"] for c in customers] == ["58", "59", "60", "61", "62"]
    assert [i["Id"] for i in items] == ["21", "4", "5"]
    assert [query_of(r) for r in transport.api_requests()] == [
        f"SELECT * FROM Customer WHERE Active IN (true, false) STARTPOSITION {start} MAXRESULTS 2"
        for start in (1, 3, 5)
    ] + [  # Sku by name: QuickBooks leaves it out of SELECT *
        f"SELECT *, Sku FROM Item WHERE Active IN (true, false) STARTPOSITION {start} MAXRESULTS 2"
        for start in (1, 3)
    ]


async def test_a_full_last_page_costs_one_empty_page() -> None:
    app = qbo_app()
    transport = recorded(app)
    async with qbo_client(app, transport=transport, page_size=3) as client:
        items = await client.query("Item", "Active IN (true, false)")
    assert len(items) == 3 and len(transport.api_requests()) == 2


async def test_a_server_ignoring_startposition_is_caught() -> None:
    page = {"QueryResponse": {"Item": [{"Id": "1"}, {"Id": "2"}]}}
    transport = Recorder(SandboxTransport(app=qbo_app()))
    transport.script = [httpx.Response(200, json=page) for _ in range(3)]
    async with qbo_client(None, transport=transport, page_size=2) as client:
        with pytest.raises(ApiError, match="a next page of Item"):
            await client.query("Item")


def test_query_strings_escape_quotes_and_backslashes() -> None:
    assert qbo_string("O'Brien") == "'O\\'Brien'"
    assert qbo_string("a\\b") == "'a\\\\b'"


async def test_invoices_by_doc_number_are_queried_in_chunks_and_quoted() -> None:
    app = qbo_app()
    transport = recorded(app)
    async with qbo_client(app, transport=transport) as client:
        created = await client.create_invoice({**INVOICE, "DocNumber": "O'B\\1"}, "r-1")
        found = await client.invoices_by_doc_number(
            ["O'B\\1", *(f"HB1-{n:04}" for n in range(120)), "O'B\\1"]
        )
    assert [invoice["Id"] for invoice in found] == [created["Id"]]
    # 121 distinct numbers, 50 a query: three queries in one batch, each asking one row more
    # than its numbers (a number held twice would fill it).
    [batch] = [r for r in transport.api_requests() if r.url.path.endswith("/batch")]
    assert "requestid" not in batch.url.params
    items = json.loads(batch.content)["BatchItemRequest"]
    assert [item["bId"] for item in items] == ["0", "1", "2"]
    queries = [item["Query"] for item in items]
    assert "DocNumber IN ('HB1-0000', 'HB1-0001'," in queries[0]
    assert queries[0].endswith("STARTPOSITION 1 MAXRESULTS 51")
    assert "'O\\'B\\\\1') STARTPOSITION 1 MAXRESULTS 22" in queries[2]
    assert len(transport.api_requests()) == 2  # the create and the batch


async def test_a_single_chunk_of_doc_numbers_is_one_get() -> None:
    transport = recorded(qbo_app())
    async with qbo_client(None, transport=transport) as client:
        assert await client.invoices_by_doc_number(["HB1-0001", "HB1-0002"]) == []
    [get] = transport.api_requests()
    assert get.method == "GET" and "DocNumber IN ('HB1-0001', 'HB1-0002')" in query_of(get)


async def test_doc_numbers_of_both_entities_share_batches_of_19_queries() -> None:
    transport = recorded(qbo_app())
    numbers = [f"HB1-{n:04}" for n in range(1000)]
    async with qbo_client(None, transport=transport) as client:
        found = await client.by_doc_number({"Invoice": numbers, "CreditMemo": numbers[:10]})
    assert found == {"Invoice": [], "CreditMemo": []}
    batches = [json.loads(r.content)["BatchItemRequest"] for r in transport.api_requests()]
    assert [len(items) for items in batches] == [19, 2]  # 20 invoice chunks, 1 credit memo
    assert "FROM CreditMemo" in batches[1][1]["Query"]


async def test_a_doc_number_held_more_than_once_is_read_again_page_by_page() -> None:
    # Two invoices with one number (QuickBooks lets one through with
    # include=allowduplicatedocnum, or from its own screens when the warning is off).
    # The 51st number goes alone in the second query, which asks for 2 rows and gets 2 of 3.
    thrice = [{**INVOICE, "Id": str(n), "DocNumber": "HB1-0050"} for n in (7, 8, 9)]
    transport = recorded(qbo_app(invoices=thrice))
    async with qbo_client(None, transport=transport) as client:
        found = await client.invoices_by_doc_number([f"HB1-{n:04}" for n in range(51)])
    assert sorted(invoice["Id"] for invoice in found) == ["7", "8", "9"]
    paths = [(r.method, r.url.path.rsplit("/", 1)[1]) for r in transport.api_requests()]
    assert paths == [("POST", "batch"), ("GET", "query")]


# --- errors ---------------------------------------------------------------------------------


def test_fault_bodies_of_the_api_and_of_the_gateway() -> None:
    api = {"Fault": {"Error": [{"Message": "Stale Object Error", "Detail": "Stale Object Error : "
                                "You and Ann were working on this at the same time.",
                                "code": "5010", "element": ""}], "type": "ValidationFault"},
           "time": "2026-04-01T09:12:44.512-07:00"}  # fmt: skip
    gateway = {"warnings": None, "intuitObject": None, "fault": {"error": [{
        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        "detail": "Token expired or invalid.", "code": "3200", "element": None}],
        "type": "AUTHENTICATION"}, "time": 1700000000000}  # fmt: skip
    stale, expired = parse_fault(api), parse_fault(gateway)
    assert stale is not None and expired is not None
    assert (stale.code, stale.type) == ("5010", "ValidationFault")
    assert str(stale) == (
        "QuickBooks error 5010: Stale Object Error (Stale Object Error : You and Ann were "
        "working on this at the same time.)"
    )
    assert str(expired) == "QuickBooks error 3200: AuthenticationFailed (Token expired or invalid.)"
    for not_a_fault in (None, [], {"error": "invalid_grant"}, {"Fault": {"Error": []}}):
        assert parse_fault(not_a_fault) is None


@pytest.mark.parametrize(
    ("call", "kind", "status", "code"),
    [(lambda c: c.query("Customer", "Name ~ 'x'"), "bad_request", 400, "4000"),
     (lambda c: c.get_invoice("999"), "not_found", 400, "610"),
     (lambda c: c.void_invoice("999", "0"), "not_found", 400, "610"),
     (lambda c: c.create_invoice({**INVOICE, "CustomerRef": {"value": "404"}}, "x"),
      "bad_request", 400, "2500")],
)  # fmt: skip
async def test_faults_become_one_line_errors_naming_the_code(
    call: Any, kind: str, status: int, code: str
) -> None:
    async with qbo_client(qbo_app()) as client:
        with pytest.raises(ApiError) as caught:
            await call(client)
    error = caught.value
    assert (error.kind, error.status, fault_code(error)) == (kind, status, code)
    assert f"QuickBooks error {code}: " in str(error) and "\n" not in str(error)
    assert not error.ambiguous


async def test_another_company_is_a_permission_error() -> None:
    client = qbo_client(qbo_app())
    client.realm_id = "123"
    async with client:
        with pytest.raises(ApiError) as caught:
            await client.items()
    assert caught.value.kind == "permission" and "QuickBooks error 3100" in str(caught.value)
    assert "TRUEUP_QBO_REALM (123)" in str(caught.value)


async def test_a_rejected_fresh_token_names_the_gateways_code() -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth2"):
            return httpx.Response(200, json={"access_token": "AT", "expires_in": 3600,
                                             "refresh_token": "RT-next"})  # fmt: skip
        error = {"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                 "detail": "Token expired or invalid.", "code": "3200"}  # fmt: skip
        return httpx.Response(401, json={"fault": {"error": [error], "type": "AUTHENTICATION"}})

    async with qbo_client(None, transport=httpx.MockTransport(gateway)) as client:
        with pytest.raises(ApiError) as caught:
            await client.items()
        assert client.stats.token_requests == 2  # one more try with a new token
    message = str(caught.value)
    assert caught.value.kind == "auth" and "QuickBooks error 3200: AuthenticationFailed" in message
    assert "trueup connect qbo" in message


# --- retries and writes whose answer was lost -----------------------------------------------


async def test_429_waits_as_long_as_retry_after_says() -> None:
    transport = recorded(qbo_app())
    transport.script = [httpx.Response(429, headers={"Retry-After": "7"})]
    sleeps = Sleeps()
    retry = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_cap=0.001)
    async with qbo_client(None, transport=transport, sleep=sleeps, retry=retry) as client:
        assert len(await client.items()) == 3
    assert sleeps.waits == [7]


async def test_a_throttled_create_is_retried_as_it_was_refused_unseen() -> None:
    app = qbo_app(rate_limit=(3, 60.0))
    retry = RetryPolicy(max_attempts=4, backoff_base=0.001, backoff_cap=0.001)
    async with qbo_client(app, sleep=Sleeps(), retry=retry) as client:
        for _ in range(3):
            await client.items()  # the window is now full: the create is throttled
        with pytest.raises(ApiError) as caught:
            await client.create_invoice(INVOICE, "r-1")
        assert client.stats.rate_limited == 4
    assert caught.value.kind == "rate_limited" and not caught.value.ambiguous


@pytest.mark.parametrize(
    "failure",
    [lambda: httpx.Response(500, json={"Fault": {"Error": [{"Message": "oops", "code": "1"}]}}),
     lambda: httpx.RemoteProtocolError("peer closed connection"),
     lambda: httpx.ReadTimeout("slow")],
)  # fmt: skip
async def test_reads_are_retried_after_server_errors_and_resets(failure: Any) -> None:
    transport = recorded(qbo_app())
    transport.script = [failure(), failure()]
    async with qbo_client(None, transport=transport) as client:
        assert len(await client.items()) == 3
        assert client.stats.retries == 2


@pytest.mark.parametrize("fault", ["lost", "late", "lost_500", "malformed"])
async def test_a_create_whose_answer_is_lost_is_ambiguous_and_found_once(fault: str) -> None:
    app = qbo_app()
    timeout = httpx.Timeout(5.0, read=0.1)
    async with qbo_client(app, timeout=timeout) as client:
        await client.items()  # the token first, outside the faults
        with faults(app, slow_seconds=0.5, **{fault: 1.0}), pytest.raises(ApiError) as caught:
            await client.create_invoice(INVOICE, "r-1")
        found = await client.invoices_by_doc_number(["HB42-0007"])
        assert client.stats.retries == 0  # a write is never resent blindly
    assert caught.value.ambiguous and "may have gone through" in str(caught.value)
    assert len(found) == 1


@pytest.mark.parametrize("fault", ["500", "reset"])
async def test_a_create_refused_before_acting_is_ambiguous_yet_absent(fault: str) -> None:
    app = qbo_app()
    async with qbo_client(app) as client:
        await client.items()
        with faults(app, **{fault: 1.0}), pytest.raises(ApiError) as caught:
            await client.create_invoice(INVOICE, "r-1")
        found = await client.invoices_by_doc_number(["HB42-0007"])
    assert caught.value.ambiguous and found == []


async def test_repeating_a_request_id_returns_the_first_invoice() -> None:
    async with qbo_client(qbo_app()) as client:
        first = await client.create_invoice(INVOICE, "r-1")
        again = await client.create_invoice(INVOICE, "r-1")
        found = await client.invoices_by_doc_number(["HB42-0007"])
    assert again == first and len(found) == 1


async def test_void_needs_the_current_sync_token() -> None:
    async with qbo_client(qbo_app()) as client:
        invoice = await client.create_invoice(INVOICE, "r-1")
        with pytest.raises(ApiError) as stale:
            await client.void_invoice(invoice["Id"], "7")
        voided = await client.void_invoice(invoice["Id"], invoice["SyncToken"])
        fetched = await client.get_invoice(invoice["Id"])
    assert fault_code(stale.value) == "5010" and not stale.value.ambiguous
    assert voided == fetched and fetched["PrivateNote"] == "Voided" and fetched["TotalAmt"] == 0


# --- batches -------------------------------------------------------------------------------


def create_item(bid: str, doc_number: str, **changes: Any) -> dict[str, Any]:
    return {"bId": bid, "operation": "create", "Invoice": {**INVOICE, "DocNumber": doc_number,
                                                           **changes}}  # fmt: skip


def batch_answer(*responses: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"BatchItemResponse": list(responses), "time": "now"})


async def test_a_batch_answers_in_the_items_order_with_faults_per_item() -> None:
    transport = recorded(qbo_app())
    query = "SELECT * FROM Invoice WHERE DocNumber = 'HB42-0001'"
    items = [create_item("0", "HB42-0001"), create_item("1", "HB42-0001"),
             create_item("2", "HB42-0003", CustomerRef={"value": "999"}),
             {"bId": "3", "Query": query}]  # fmt: skip
    async with qbo_client(None, transport=transport) as client:
        first, taken, invalid, read = await client.batch(items, "B-1")
    [sent] = transport.api_requests()
    assert sent.url.path == f"/v3/company/{REALM}/batch"
    assert dict(sent.url.params) == {"requestid": "B-1", "minorversion": "75"}
    assert first["bId"] == "0" and first["Invoice"]["DocNumber"] == "HB42-0001"
    assert parse_fault(taken) is not None and parse_fault(taken).code == "6140"
    assert f"TxnId={first['Invoice']['Id']}" in parse_fault(taken).detail
    assert parse_fault(invalid).code == "2500" and parse_fault(invalid).type == "ValidationFault"
    assert read["QueryResponse"]["Invoice"] == [first["Invoice"]]


async def test_answers_are_matched_by_bid_whatever_their_order() -> None:
    transport = recorded(qbo_app())
    transport.script = [batch_answer({"bId": "b", "Invoice": {"Id": "2"}},
                                     {"bId": "a", "Invoice": {"Id": "1"}})]  # fmt: skip
    async with qbo_client(None, transport=transport) as client:
        answers = await client.batch([create_item("a", "X1"), create_item("b", "X2")], "B-2")
    assert [a["Invoice"]["Id"] for a in answers] == ["1", "2"]


@pytest.mark.parametrize(
    ("answers", "words"),
    [([{"bId": "a", "Invoice": {"Id": "1"}}], "no answer for bId b"),
     ([{"bId": "a"}, {"bId": "a"}, {"bId": "b"}], "an answer for bId 'a'"),
     ([{"bId": "a"}, {"bId": "b"}, {"bId": "c"}], "an answer for bId 'c'")],
)  # fmt: skip
async def test_an_answer_that_does_not_account_for_every_bid_is_ambiguous(
    answers: list[dict[str, Any]], words: str
) -> None:
    transport = recorded(qbo_app())
    transport.script = [batch_answer(*answers)] * 2
    async with qbo_client(None, transport=transport) as client:
        with pytest.raises(ApiError) as writes:
            await client.batch([create_item("a", "X1"), create_item("b", "X2")], "B-3")
        with pytest.raises(ApiError) as reads:
            await client.batch([{"bId": "a", "Query": "SELECT * FROM Item"},
                                {"bId": "b", "Query": "SELECT * FROM Item"}])  # fmt: skip
    assert writes.value.kind == reads.value.kind == "bad_response"
    assert words in str(writes.value) and "settled by lookup" in str(writes.value)
    assert writes.value.ambiguous and not reads.value.ambiguous


async def test_a_batch_of_queries_is_retried_a_batch_of_writes_never() -> None:
    transport = recorded(qbo_app())
    async with qbo_client(None, transport=transport) as client:
        await client.items()  # the token first
        transport.script = [httpx.Response(500), httpx.RemoteProtocolError("reset")]
        [items] = await client.batch([{"bId": "q", "Query": "SELECT * FROM Item"}])
        assert client.stats.retries == 2
        transport.script = [httpx.Response(500)]
        with pytest.raises(ApiError) as caught:
            await client.batch([create_item("a", "X1")], "B-4")
        assert client.stats.retries == 2
    assert len(items["QueryResponse"]["Item"]) == 2  # the active ones
    assert caught.value.ambiguous


async def test_a_refused_batch_is_one_error_naming_the_fault() -> None:
    async with qbo_client(qbo_app()) as client:
        bodies = [{"bId": str(n), "Query": "SELECT * FROM Item"} for n in range(31)]
        with pytest.raises(ValueError, match="1 to 30 items"):
            await client.batch(bodies)
        with pytest.raises(ValueError, match="a bId of its own"):
            await client.batch([create_item("a", "X1"), create_item("a", "X2")])
        with pytest.raises(ValueError, match="requestid is at most 36"):
            await client.batch([create_item("a", "X1")], "r" * 37)
        with pytest.raises(ValueError, match="requestid is at most 36"):
            await client.batch([create_item("a" * 11, "X1")], "r-1")
        # Past the client's own checks: QuickBooks refuses the whole request.
        with pytest.raises(ApiError) as refused:
            await client.request("POST", f"/v3/company/{REALM}/batch",
                                 json={"BatchItemRequest": bodies})  # fmt: skip
    assert refused.value.kind == "bad_request" and not refused.value.ambiguous
    assert "QuickBooks error 6000" in str(refused.value) and "at most 30" in str(refused.value)


class Time:
    """A clock the limiter's sleeps move on, shared by the client and the simulator."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


async def test_the_client_keeps_the_batch_endpoints_own_limit() -> None:
    time = Time()
    app = qbo_app(rate_limit=(500, 60.0), batch_rate_limit=(3, 60.0), clock=time)
    query = [{"bId": "q", "Query": "SELECT * FROM Item"}]
    async with qbo_client(app, rate=QBO_RATE_LIMIT, batch_rate=RateLimit(3, 60),
                          clock=time, sleep=time.sleep) as client:  # fmt: skip
        for _ in range(4):
            await client.batch(query)
        await client.items()  # not a batch: not held back by the batch limit
    assert client.stats.rate_limited == 0 and client.batch_requests == 4
    assert len(time.waits) == 1 and 60 <= time.waits[0] <= 62


# --- over loopback HTTP ---------------------------------------------------------------------


@pytest.mark.slow
def test_over_loopback_http() -> None:
    sims = build_simulators(parse_scenario({
        "as_of": "2026-11-21T00:00:00Z", "credentials": {"qbo": {
            "client_id": "ABqbo", "client_secret": "qbo-secret",
            "refresh_token": FIRST_REFRESH_TOKEN, "realm_id": REALM}},
        "qbo": {"customers": [{"Id": "58", "DisplayName": "Acme", "Active": True}],
                "items": [{"Id": "21", "Name": "Managed Seat", "Active": True}]},
    }), rate_limits=True)  # fmt: skip
    book = TokenBook()

    async def run(url: str) -> tuple[Any, ...]:
        timeout = httpx.Timeout(5.0, read=0.3)
        async with qbo_client(None, book, base=url, timeout=timeout) as client:
            customers = await client.customers()
            with faults(sims.qbo, slow_seconds=1.0, late=1.0), pytest.raises(ApiError) as lost:
                await client.create_invoice(INVOICE, "r-1")
            found = await client.invoices_by_doc_number(["HB42-0007"])
            voided = await client.void_invoice(found[0]["Id"], found[0]["SyncToken"])
            return customers, lost.value, found, voided

    with serve_in_background(sims) as urls:
        assert urls.qbo.startswith("http://127.0.0.1:")
        customers, lost, found, voided = asyncio.run(run(urls.qbo))
    assert [c["Id"] for c in customers] == ["58"]
    assert lost.ambiguous and len(found) == 1
    assert voided["PrivateNote"] == "Voided" and len(book.tokens) == 1
