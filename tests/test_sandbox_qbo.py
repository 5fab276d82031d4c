"""The QuickBooks Online simulator: token rotation, queries, invoice posting, faults."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from halo_fixtures import FakeClock
from trueup.sandbox.qbo import create_qbo_app
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.transport import SandboxTransport

REALM = "9341453050071234"
CREDENTIALS = {"client_id": "ABqbo", "client_secret": "qbo-secret", "refresh_token": "RT-initial",
               "realm_id": REALM}  # fmt: skip
COMPANY = f"/v3/company/{REALM}"
CUSTOMERS = [
    {"Id": "58", "DisplayName": "Acme Dental LLC", "CompanyName": "Acme Dental LLC",
     "Active": True, "Balance": 0},
    {"Id": "59", "DisplayName": "Beta Logistics", "Active": True, "Balance": 120.5},
    {"Id": "60", "DisplayName": "Closed Co", "Active": False, "Balance": 0},
    {"Id": "61", "DisplayName": "acme holdings", "Active": True, "Balance": 10},
]  # fmt: skip
ITEMS = [
    {"Id": "21", "Name": "Managed Seat", "Type": "Service", "UnitPrice": 50, "Active": True},
    {"Id": "4", "Name": "Labour", "Type": "Service", "UnitPrice": 75, "Active": True},
]


def qbo_app(credentials: dict[str, str] = CREDENTIALS, **options: Any) -> Any:
    scenario = parse_scenario({
        "as_of": "2026-11-21T00:00:00Z", "credentials": {"qbo": credentials},
        "qbo": {"customers": CUSTOMERS, "items": ITEMS, "invoices": [
            {"Id": "230", "DocNumber": "HB41-0001", "CustomerRef": {"value": "58"},
             "TotalAmt": 100.0, "Balance": 0, "Line": []}]},
    })  # fmt: skip
    options.setdefault("rate_limit", None)
    return create_qbo_app(scenario, **options)


def basic(client_id: str = "ABqbo", secret: str = "qbo-secret") -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


async def refresh(client: httpx.AsyncClient, token: str, **headers: str) -> httpx.Response:
    return await client.post(
        "/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers=headers or basic(),
    )


@asynccontextmanager
async def connected(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding an access token from a refresh."""
    async with httpx.AsyncClient(
        transport=SandboxTransport(app=app), base_url="http://qbo.test"
    ) as client:
        access = (await refresh(client, "RT-initial")).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {access}"
        yield client


async def query(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.get(f"{COMPANY}/query", params={"query": text, "minorversion": "75"})


INVOICE = {
    "CustomerRef": {"value": "58"}, "DocNumber": "HB42-0007", "TxnDate": "2026-10-31",
    "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": 1250.00, "Description": "25 seats",
         "SalesItemLineDetail": {"ItemRef": {"value": "21"}, "Qty": 25, "UnitPrice": 50.00}},
        {"DetailType": "SalesItemLineDetail", "Amount": 337.50,
         "SalesItemLineDetail": {"ItemRef": {"value": "4"}, "Qty": 4.5, "UnitPrice": 75.00}},
    ],
}  # fmt: skip


# --- tokens ---------------------------------------------------------------------------------


async def test_refresh_rotates_and_earlier_tokens_stay_valid() -> None:
    async with httpx.AsyncClient(transport=SandboxTransport(app=qbo_app()),
                                 base_url="http://qbo.test") as client:  # fmt: skip
        first = (await refresh(client, "RT-initial")).json()
        second = (await refresh(client, first["refresh_token"])).json()
        again = await refresh(client, "RT-initial")
        post_auth = await client.post("/oauth2/v1/tokens/bearer", data={
            "grant_type": "refresh_token", "refresh_token": second["refresh_token"],
            "client_id": "ABqbo", "client_secret": "qbo-secret"})  # fmt: skip
    assert first["token_type"] == "bearer" and first["expires_in"] == 3600
    assert first["x_refresh_token_expires_in"] == 8726400
    assert len({"RT-initial", first["refresh_token"], second["refresh_token"]}) == 3
    assert first["access_token"] != second["access_token"]
    assert again.status_code == 200 and post_auth.status_code == 200


async def test_token_refusals() -> None:
    async with httpx.AsyncClient(transport=SandboxTransport(app=qbo_app()),
                                 base_url="http://qbo.test") as client:  # fmt: skip
        unknown = await refresh(client, "RT-forged")
        wrong_secret = await refresh(client, "RT-initial", **basic(secret="nope"))
        wrong_grant = await client.post("/oauth2/v1/tokens/bearer", headers=basic(),
                                        data={"grant_type": "password",
                                              "refresh_token": "RT-initial"})  # fmt: skip
        code_for_refresh = await client.post("/oauth2/v1/tokens/bearer", headers=basic(),
                                             data={"grant_type": "authorization_code",
                                                   "refresh_token": "RT-initial"})  # fmt: skip
    assert (unknown.status_code, unknown.json()) == (400, {"error": "invalid_grant"})
    assert (wrong_secret.status_code, wrong_secret.json()) == (401, {"error": "invalid_client"})
    assert wrong_grant.json() == {"error": "unsupported_grant_type"}
    assert code_for_refresh.json() == {"error": "invalid_request"}


@pytest.mark.parametrize(
    ("code", "redirect", "status", "error"),
    [("sandbox-code", "https://localhost/cb", 200, None),
     ("consent-42", "https://localhost/cb", 200, None),
     ("forged", "https://localhost/cb", 400, "invalid_grant"),
     ("sandbox-code", "", 400, "invalid_request")],
)  # fmt: skip
async def test_authorization_code_grant(
    code: str, redirect: str, status: int, error: str | None
) -> None:
    app = qbo_app(credentials={**CREDENTIALS, "auth_code": "consent-42"})
    async with httpx.AsyncClient(transport=SandboxTransport(app=app),
                                 base_url="http://qbo.test") as client:  # fmt: skip
        answer = await client.post(
            "/oauth2/v1/tokens/bearer",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            headers=basic(),
        )
        body = answer.json()
        if status == 200:  # the issued refresh token works
            assert (await refresh(client, body["refresh_token"])).status_code == 200
    assert answer.status_code == status
    if error:
        assert body == {"error": error}
    else:
        assert body["refresh_token"].startswith("RT1-") and body["expires_in"] == 3600


async def test_api_needs_a_live_bearer_for_the_right_realm() -> None:
    clock = FakeClock()
    async with connected(qbo_app(clock=clock)) as client:
        fresh = await query(client, "SELECT * FROM Item")
        other_realm = await client.get("/v3/company/123/query", params={"query": "x"})
        clock.now += 3600
        expired = await query(client, "SELECT * FROM Item")
        missing = await client.get(f"{COMPANY}/invoice/230", headers={"Authorization": ""})
    assert fresh.status_code == 200
    assert other_realm.status_code == 403
    assert other_realm.json()["Fault"]["Error"][0]["code"] == "3100"
    for response in (expired, missing):
        assert response.status_code == 401
        assert response.json()["fault"]["error"][0]["code"] == "3200"


# --- queries --------------------------------------------------------------------------------


async def test_select_hides_inactive_rows_unless_asked() -> None:
    async with connected(qbo_app()) as client:
        active = (await query(client, "SELECT * FROM Customer")).json()["QueryResponse"]
        everyone = await query(client, "select * from Customer where Active IN (true, false)")
    assert [row["Id"] for row in active["Customer"]] == ["58", "59", "61"]
    assert active["startPosition"] == 1 and active["maxResults"] == 3
    assert len(everyone.json()["QueryResponse"]["Customer"]) == 4
    assert "time" in everyone.json()


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("SELECT * FROM Customer WHERE DisplayName = 'Beta Logistics'", ["59"]),
        ("SELECT * FROM Customer WHERE DisplayName LIKE 'acme%'", ["58", "61"]),
        ("SELECT * FROM Customer WHERE Balance > '0' AND Active = true", ["59", "61"]),
        ("SELECT * FROM Customer ORDERBY DisplayName DESC", ["59", "61", "58"]),
        ("SELECT * FROM Customer ORDERBY Balance DESC STARTPOSITION 2 MAXRESULTS 1", ["61"]),
        ("SELECT * FROM Item WHERE Id IN ('4', '21') ORDERBY Name", ["4", "21"]),
        ("SELECT * FROM Invoice WHERE DocNumber = 'HB41-0001'", ["230"]),
        ("SELECT * FROM Invoice WHERE DocNumber IN ('HB41-0001', 'HB9-1')", ["230"]),
        ("SELECT * FROM Invoice WHERE CustomerRef = '58'", ["230"]),
        ("SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien'", []),
    ],
)
async def test_query_forms(text: str, ids: list[str]) -> None:
    async with connected(qbo_app()) as client:
        response = await query(client, text)
    assert response.status_code == 200, response.text
    rows = next(iter(response.json()["QueryResponse"].values()), [])
    assert [row["Id"] for row in rows] == ids


async def test_count_paging_and_empty_results() -> None:
    async with connected(qbo_app()) as client:
        count = (await query(client, "SELECT COUNT(*) FROM Customer")).json()
        pages = [(await query(client, f"SELECT * FROM Customer STARTPOSITION {start} "
                                      "MAXRESULTS 2")).json()["QueryResponse"]
                 for start in (1, 3, 5)]  # fmt: skip
        capped = (await query(client, "SELECT * FROM Item MAXRESULTS 5000")).json()
    assert count["QueryResponse"] == {"totalCount": 3}
    assert [len(page.get("Customer", [])) for page in pages] == [2, 1, 0]
    assert pages[1]["startPosition"] == 3
    assert pages[2] == {}  # QBO sends an empty QueryResponse past the end
    assert capped["QueryResponse"]["maxResults"] == 2


@pytest.mark.parametrize(
    "text",
    ["SELEC * FROM Customer", "SELECT * FROM customer", "SELECT Id FROM Customer",
     "SELECT * FROM Customer WHERE", "SELECT * FROM Customer WHERE Name ~ 'x'",
     "SELECT * FROM Customer MAXRESULTS 0", "SELECT * FROM Customer ORDERBY"],
)  # fmt: skip
async def test_bad_queries_are_validation_faults(text: str) -> None:
    async with connected(qbo_app()) as client:
        response = await query(client, text)
    assert response.status_code == 400
    fault = response.json()["Fault"]
    assert fault["type"] == "ValidationFault" and fault["Error"][0]["code"] == "4000"
    assert fault["Error"][0]["Detail"]


# --- invoices -------------------------------------------------------------------------------


async def test_invoice_create_totals_and_read_back() -> None:
    async with connected(qbo_app()) as client:
        response = await client.post(
            f"{COMPANY}/invoice", json=INVOICE, params={"requestid": "post-7", "minorversion": "75"}
        )
        invoice = response.json()["Invoice"]
        fetched = await client.get(f"{COMPANY}/invoice/{invoice['Id']}")
        found = await query(client, "SELECT * FROM Invoice WHERE DocNumber = 'HB42-0007'")
        missing = await client.get(f"{COMPANY}/invoice/999")
    assert response.status_code == 200
    assert invoice["Id"] == "231" and invoice["SyncToken"] == "0"
    assert invoice["TotalAmt"] == invoice["Balance"] == 1587.5
    assert invoice["CustomerRef"] == {"value": "58", "name": "Acme Dental LLC"}
    assert [line.get("Id") for line in invoice["Line"]] == ["1", "2", None]
    assert invoice["Line"][-1] == {"Amount": 1587.5, "DetailType": "SubTotalLineDetail",
                                   "SubTotalLineDetail": {}}  # fmt: skip
    assert invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"]["name"] == "Managed Seat"
    assert set(invoice["MetaData"]) == {"CreateTime", "LastUpdatedTime"}
    assert fetched.json()["Invoice"] == invoice
    assert found.json()["QueryResponse"]["Invoice"] == [invoice]
    assert missing.status_code == 400 and missing.json()["Fault"]["Error"][0]["code"] == "610"


async def test_repeated_requestid_replays_the_first_response() -> None:
    async with connected(qbo_app()) as client:
        first = await client.post(f"{COMPANY}/invoice", json=INVOICE, params={"requestid": "r1"})
        replay = await client.post(f"{COMPANY}/invoice", params={"requestid": "r1"},
                                   json={**INVOICE, "DocNumber": "HB42-0008"})  # fmt: skip
        count = (await query(client, "SELECT COUNT(*) FROM Invoice")).json()
    assert replay.status_code == 200 and replay.content == first.content
    assert count["QueryResponse"]["totalCount"] == 2


async def test_duplicate_doc_number_is_fault_6140_naming_the_existing_invoice() -> None:
    async with connected(qbo_app()) as client:
        await client.post(f"{COMPANY}/invoice", json=INVOICE, params={"requestid": "a"})
        duplicate = await client.post(f"{COMPANY}/invoice", json=INVOICE, params={"requestid": "b"})
        auto = await client.post(f"{COMPANY}/invoice", json={**INVOICE, "DocNumber": None})
    error = duplicate.json()["Fault"]["Error"][0]
    assert duplicate.status_code == 400
    assert error["code"] == "6140" and error["Message"] == "Duplicate Document Number Error"
    assert "DocNumber=HB42-0007" in error["Detail"] and "TxnId=231" in error["Detail"]
    assert auto.json()["Invoice"]["DocNumber"] == "1001"


@pytest.mark.parametrize(
    ("change", "code"),
    [({"CustomerRef": None}, "2020"), ({"CustomerRef": {"value": "999"}}, "2500"),
     ({"CustomerRef": {"value": "60"}}, "2500"), ({"Line": []}, "2020"),
     ({"Line": [{"DetailType": "SalesItemLineDetail"}]}, "2020"),
     ({"DocNumber": "X" * 22}, "2050")],
)  # fmt: skip
async def test_invalid_invoices_are_validation_faults(change: dict[str, Any], code: str) -> None:
    async with connected(qbo_app()) as client:
        response = await client.post(f"{COMPANY}/invoice", json={**INVOICE, **change})
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == code


async def test_throttle_is_fault_3001() -> None:
    async with connected(qbo_app(rate_limit=(2, 60.0), clock=FakeClock())) as client:
        statuses = [(await query(client, "SELECT * FROM Item")).status_code for _ in range(3)]
        throttled = await query(client, "SELECT * FROM Item")
    assert statuses == [200, 200, 429]
    error = throttled.json()["Fault"]["Error"][0]
    assert error["code"] == "3001" and "ThrottleExceeded" in error["Message"]


# --- void -----------------------------------------------------------------------------------


async def void(client: httpx.AsyncClient, body: dict[str, Any], **params: str) -> httpx.Response:
    params = {"operation": "void", "minorversion": "75", **params}
    return await client.post(f"{COMPANY}/invoice", json=body, params=params)


async def test_void_zeroes_the_invoice_and_keeps_its_doc_number() -> None:
    async with connected(qbo_app()) as client:
        created = (await client.post(f"{COMPANY}/invoice", json=INVOICE)).json()["Invoice"]
        voided = await void(client, {"Id": created["Id"], "SyncToken": "0"})
        found = await query(client, "SELECT * FROM Invoice WHERE DocNumber = 'HB42-0007'")
        duplicate = await client.post(f"{COMPANY}/invoice", json=INVOICE)
    invoice = voided.json()["Invoice"]
    assert voided.status_code == 200
    assert (invoice["TotalAmt"], invoice["Balance"], invoice["PrivateNote"]) == (0, 0, "Voided")
    assert invoice["SyncToken"] == "1" and invoice["DocNumber"] == "HB42-0007"
    assert [line["Amount"] for line in invoice["Line"]] == [0, 0, 0]
    assert found.json()["QueryResponse"]["Invoice"] == [invoice]
    # The number stays taken: QuickBooks refuses to reuse it.
    assert duplicate.json()["Fault"]["Error"][0]["code"] == "6140"


@pytest.mark.parametrize(
    ("body", "code"),
    [({"Id": "230", "SyncToken": "3"}, "5010"), ({"Id": "999", "SyncToken": "0"}, "610"),
     ({"Id": "230"}, "2020"), ({"SyncToken": "0"}, "2020")],
)  # fmt: skip
async def test_void_refusals(body: dict[str, Any], code: str) -> None:
    async with connected(qbo_app()) as client:
        response = await void(client, body)
        untouched = (await client.get(f"{COMPANY}/invoice/230")).json()["Invoice"]
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == code
    assert untouched["TotalAmt"] == 100.0 and "PrivateNote" not in untouched


async def test_void_replays_its_requestid_and_refuses_other_operations() -> None:
    async with connected(qbo_app()) as client:
        first = await void(client, {"Id": "230", "SyncToken": "0"}, requestid="v1")
        replay = await void(client, {"Id": "230", "SyncToken": "0"}, requestid="v1")
        stale = await void(client, {"Id": "230", "SyncToken": "0"}, requestid="v2")
        merge = await client.post(f"{COMPANY}/invoice", json=INVOICE,
                                  params={"operation": "merge"})  # fmt: skip
    assert replay.content == first.content
    assert stale.json()["Fault"]["Error"][0]["code"] == "5010"
    assert merge.status_code == 400 and merge.json()["Fault"]["Error"][0]["code"] == "2010"


# --- updates, deletes, what every row carries -----------------------------------------------


async def test_sparse_and_full_updates_name_the_sync_token_and_work_the_totals_out_again():
    async with connected(qbo_app()) as client:
        created = (await client.post(f"{COMPANY}/invoice", json=INVOICE)).json()["Invoice"]
        ids = {"Id": created["Id"], "SyncToken": "0"}
        sparse = await client.post(f"{COMPANY}/invoice", json={
            **ids, "sparse": True, "PrivateNote": "checked", "TotalAmt": 9999})  # fmt: skip
        stale = await client.post(f"{COMPANY}/invoice", json={**ids, "sparse": True})
        full = await client.post(f"{COMPANY}/invoice", json={
            "Id": created["Id"], "SyncToken": "1", "CustomerRef": {"value": "58"},
            "DocNumber": "HB42-0007", "Line": INVOICE["Line"][:1]})  # fmt: skip
    changed = sparse.json()["Invoice"]
    assert (changed["SyncToken"], changed["PrivateNote"]) == ("1", "checked")
    assert changed["TotalAmt"] == 1587.5  # QuickBooks' own sum, not the body's
    assert changed["MetaData"]["CreateTime"] == created["MetaData"]["CreateTime"]
    assert stale.json()["Fault"]["Error"][0]["code"] == "5010"
    replaced = full.json()["Invoice"]
    assert (replaced["SyncToken"], replaced["TotalAmt"]) == ("2", 1250.0)
    assert "PrivateNote" not in replaced  # a full update clears what it leaves out


async def test_an_invoice_is_deleted_by_id_and_sync_token():
    async with connected(qbo_app()) as client:
        deleted = await client.post(f"{COMPANY}/invoice", params={"operation": "delete"},
                                    json={"Id": "230", "SyncToken": "0"})  # fmt: skip
        gone = await client.get(f"{COMPANY}/invoice/230")
    assert deleted.json()["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": "230"}
    assert gone.json()["Fault"]["Error"][0]["code"] == "610"


async def test_a_requestid_over_50_characters_is_refused_and_nothing_is_written():
    async with connected(qbo_app()) as client:
        long = await client.post(f"{COMPANY}/invoice", json=INVOICE, params={"requestid": "r" * 51})
        count = (await query(client, "SELECT COUNT(*) FROM Invoice")).json()
    assert long.json()["Fault"]["Error"][0]["code"] == "6000"
    assert "more than 50 characters in the request_id field" in long.text
    assert count["QueryResponse"]["totalCount"] == 1


async def test_customers_and_items_carry_their_sync_token_and_metadata():
    async with connected(qbo_app()) as client:
        customer = (await client.get(f"{COMPANY}/customer/58")).json()["Customer"]
        [item] = (await query(client, "SELECT * FROM Item WHERE Id = '21'")).json()[
            "QueryResponse"]["Item"]  # fmt: skip
    for row in (customer, item):
        assert row["SyncToken"] == "0" and set(row["MetaData"]) == {"CreateTime", "LastUpdatedTime"}


# --- batch ----------------------------------------------------------------------------------


async def batch(
    client: httpx.AsyncClient, items: list[dict[str, Any]], **params: str
) -> httpx.Response:
    return await client.post(f"{COMPANY}/batch", json={"BatchItemRequest": items},
                             params={"minorversion": "75", **params})  # fmt: skip


def create(bid: str, doc_number: str, entity: str = "Invoice", **changes: Any) -> dict[str, Any]:
    return {"bId": bid, "operation": "create", entity: {**INVOICE, "DocNumber": doc_number,
                                                        **changes}}  # fmt: skip


def answers(response: httpx.Response) -> dict[str, dict[str, Any]]:
    """The BatchItemResponses by bId, each without its bId."""
    return {
        item["bId"]: {k: v for k, v in item.items() if k != "bId"}
        for item in response.json()["BatchItemResponse"]
    }


async def test_batch_creates_queries_voids_and_deletes_as_the_single_endpoints_do() -> None:
    async with connected(qbo_app()) as client:
        first = await batch(client, [
            create("inv", "HB42-0007"), create("memo", "HB42-0007-A1", "CreditMemo"),
            {"bId": "old", "Query": "SELECT * FROM Invoice WHERE DocNumber = 'HB41-0001'"},
            {"bId": "none", "Query": "SELECT * FROM Invoice WHERE DocNumber = 'HB9-9'"},
            {"bId": "void", "operation": "update", "optionsData": "void",
             "Invoice": {"Id": "230", "SyncToken": "0"}},
        ])  # fmt: skip
        memo_id = answers(first)["memo"]["CreditMemo"]["Id"]
        second = await batch(client, [
            {"bId": "del", "operation": "delete", "CreditMemo": {"Id": memo_id, "SyncToken": "0"}}
        ])  # fmt: skip
        single = (await client.get(f"{COMPANY}/invoice/231")).json()["Invoice"]
        voided = (await client.get(f"{COMPANY}/invoice/230")).json()["Invoice"]
        gone = await client.get(f"{COMPANY}/creditmemo/{memo_id}")
    assert first.status_code == 200 and set(first.json()) == {"BatchItemResponse", "time"}
    assert [item["bId"] for item in first.json()["BatchItemResponse"]] == [
        "inv", "memo", "old", "none", "void"]  # fmt: skip
    got = answers(first)
    assert got["inv"] == {"Invoice": single} and single["TotalAmt"] == 1587.5
    assert got["memo"]["CreditMemo"]["RemainingCredit"] == 1587.5
    assert got["old"]["QueryResponse"]["Invoice"][0]["Id"] == "230"
    assert got["none"] == {"QueryResponse": {}}
    assert got["void"]["Invoice"] == voided and voided["PrivateNote"] == "Voided"
    assert answers(second) == {"del": {"CreditMemo": {"status": "Deleted", "domain": "QBO",
                                                      "Id": memo_id}}}  # fmt: skip
    assert gone.json()["Fault"]["Error"][0]["code"] == "610"


async def test_an_item_refused_is_refused_alone() -> None:
    async with connected(qbo_app()) as client:
        response = await batch(client, [
            create("a", "HB42-0007"), create("b", "HB41-0001"),
            create("c", "HB42-0009", CustomerRef={"value": "999"}), create("d", "HB42-0010"),
            create("e", "HB42-0011", Line=[]),
            {"bId": "f", "operation": "void", "Invoice": {"Id": "230", "SyncToken": "0"}},
            {"bId": "g", "operation": "update", "Invoice": {"Id": "230", "SyncToken": "0"}},
            {"bId": "h", "operation": "create", "Vendor": {"DisplayName": "Smith"}},
            {"bId": "i", "Query": "SELECT * FROM Invoice", "operation": "create"},
            {"bId": "j", "Query": "SELECT * FROM Nowhere"},
        ])  # fmt: skip
        count = (await query(client, "SELECT COUNT(*) FROM Invoice")).json()
    assert response.status_code == 200
    got = answers(response)
    assert "Invoice" in got["a"] and "Invoice" in got["d"]
    codes = {bid: got[bid]["Fault"]["Error"][0]["code"] for bid in "bcefghij"}
    # g: a full update whose body names no customer (what it leaves out is cleared)
    assert codes == {"b": "6140", "c": "2500", "e": "2020", "f": "2010", "g": "2020",
                     "h": "2010", "i": "2010", "j": "4000"}  # fmt: skip
    assert all(got[bid]["Fault"]["type"] == "ValidationFault" for bid in codes)
    # As Intuit's sample writes them: Message, Detail, code, element.
    assert set(got["b"]["Fault"]["Error"][0]) == {"Message", "Detail", "code", "element"}
    assert (
        "DocNumber=HB41-0001 is assigned to TxnType=Invoice with TxnId=230"
        in (got["b"]["Fault"]["Error"][0]["Detail"])
    )
    assert count["QueryResponse"]["totalCount"] == 3  # 230, a and d


async def test_a_batch_holds_at_most_30_items_each_with_its_own_bid() -> None:
    items = [create(str(n), f"HB42-{n:04}") for n in range(31)]
    async with connected(qbo_app()) as client:
        over = await batch(client, items)
        empty = await batch(client, [])
        twice = await batch(client, [create("a", "HB42-0001"), create("a", "HB42-0002")])
        unnamed = await batch(client, [{"operation": "create", "Invoice": INVOICE}])
        thirty = await batch(client, items[:30])
    assert over.status_code == 400
    fault = over.json()["Fault"]
    assert fault["type"] == "ValidationFault" and "at most 30" in fault["Error"][0]["Detail"]
    for refused in (empty, twice, unnamed):
        assert refused.status_code == 400 and "BatchItemResponse" not in refused.json()
    assert thirty.status_code == 200
    assert all("Invoice" in answer for answer in answers(thirty).values())


async def test_a_repeated_batch_requestid_replays_the_first_answer() -> None:
    async with connected(qbo_app()) as client:
        first = await batch(client, [create("0", "HB42-0007")], requestid="batch-1")
        replay = await batch(client, [create("0", "HB42-0008")], requestid="batch-1")
        refused = await batch(client, [create("0", "X" * 22)], requestid="batch-2")
        refused_again = await batch(client, [create("0", "HB42-0009")], requestid="batch-2")
        count = (await query(client, "SELECT COUNT(*) FROM Invoice")).json()
    assert replay.content == first.content and refused_again.content == refused.content
    assert answers(refused)["0"]["Fault"]["Error"][0]["code"] == "2050"
    assert count["QueryResponse"]["totalCount"] == 2  # 230 and HB42-0007


async def test_the_items_request_id_is_the_batchs_and_the_bid_at_most_50() -> None:
    async with connected(qbo_app()) as client:
        response = await batch(client, [create("b" * 10, "HB42-0007"),
                                        create("c" * 15, "HB42-0008")],
                               requestid="r" * 36)  # fmt: skip
    got = answers(response)
    assert "Invoice" in got["b" * 10]  # 46 characters
    error = got["c" * 15]["Fault"]["Error"][0]
    assert error["code"] == "6000"
    assert error["Detail"].endswith(
        "You cannot enter more than 50 characters in the request_id field. You tried entering "
        "rrrrrrrrrr..., which is 51 characters."
    )


async def test_a_batch_is_one_request_of_the_500_and_one_of_its_own_40() -> None:
    clock = FakeClock()
    app = qbo_app(rate_limit=(3, 60.0), batch_rate_limit=(2, 60.0), clock=clock)
    items = [create(str(n), f"HB42-{n:04}") for n in range(30)]
    async with connected(app) as client:
        thirty = await batch(client, items)
        read = await batch(client, [{"bId": "q", "Query": "SELECT * FROM Item"}])
        third = await batch(client, [{"bId": "q", "Query": "SELECT * FROM Item"}])
        plain = await query(client, "SELECT * FROM Item")  # the third of the 500 (here 3)
        over = await query(client, "SELECT * FROM Item")
        clock.now += 60
        later = await batch(client, [{"bId": "q", "Query": "SELECT * FROM Item"}])
    assert (thirty.status_code, read.status_code, plain.status_code) == (200, 200, 200)
    assert third.status_code == over.status_code == 429  # the batch limit; then the 500's
    assert third.json()["Fault"]["Error"][0]["code"] == "3001"
    assert later.status_code == 200


async def test_by_default_40_batches_a_minute() -> None:
    app = qbo_app(rate_limit=(500, 60.0), clock=FakeClock())
    read = [{"bId": "q", "Query": "SELECT * FROM Item"}]
    async with connected(app) as client:
        statuses = [(await batch(client, read)).status_code for _ in range(41)]
    assert statuses == [200] * 40 + [429]
