"""The Xero simulator's behaviour, read back through its own API: tokens (client credentials,
PKCE, rotating refresh tokens with Xero's grace period), the tenant header, the reads and their
paging and filters, invoice and credit note writes with every refusal and its message, status
changes, idempotency keys, rate limits and faults."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from halo_fixtures import FakeClock
from trueup.core.sources.xero import XeroClient
from trueup.sandbox.common import FaultSpec
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.transport import SandboxTransport
from trueup.sandbox.xero import XeroRateLimit, create_xero_app
from xero_fixtures import (
    ACME,
    API,
    ARCHIVED,
    BASE,
    BETA,
    CONTACTS,
    TENANT,
    basic,
    connected,
    credit_note,
    custom_connection_token,
    invoice,
    plain,
    s256,
    xero_app,
    xero_world,
)

REDIRECT = "http://localhost:8765/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" * 2


class Wall:
    """A settable wall clock for UpdatedDateUTC and If-Modified-Since."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


async def put(client: httpx.AsyncClient, collection: str, *documents: dict[str, Any],
              **params: str) -> httpx.Response:  # fmt: skip
    params.setdefault("unitdp", "4")  # as trueup sends them: 4-place unit amounts
    return await client.put(
        f"{API}/{collection}", params=params, json={collection: list(documents)}
    )


async def refused(client: httpx.AsyncClient, document: dict[str, Any],
                  collection: str = "Invoices") -> list[str]:  # fmt: skip
    answer = await put(client, collection, document, summarizeErrors="false")
    assert answer.status_code == 200, answer.text
    (element,) = answer.json()[collection]
    assert element["HasErrors"] is True and element["StatusAttributeString"] == "ERROR"
    return [error["Message"] for error in element["ValidationErrors"]]


async def consent(client: httpx.AsyncClient, scope: str = "openid accounting.transactions "
                  "offline_access", verifier: str = VERIFIER) -> str:  # fmt: skip
    answer = await client.get("/identity/connect/authorize", params={
        "response_type": "code", "client_id": "PKCE-client", "redirect_uri": REDIRECT,
        "scope": scope, "state": "st-1", "code_challenge": s256(verifier),
        "code_challenge_method": "S256"})  # fmt: skip
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    assert query["state"] == ["st-1"]
    return query["code"][0]


async def exchange(client: httpx.AsyncClient, code: str, verifier: str = VERIFIER,
                   redirect: str = REDIRECT) -> httpx.Response:  # fmt: skip
    return await client.post("/identity/connect/token", data={
        "grant_type": "authorization_code", "client_id": "PKCE-client", "code": code,
        "redirect_uri": redirect, "code_verifier": verifier})  # fmt: skip


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": "PKCE-client"},
    )


# -- identity ---------------------------------------------------------------------------------


async def test_a_custom_connection_trades_its_id_and_secret_for_a_30_minute_token() -> None:
    async with plain(xero_app()) as client:
        answer = await client.post(
            "/identity/connect/token", data={"grant_type": "client_credentials"}, headers=basic()
        )
        in_form = await client.post("/identity/connect/token", data={
            "grant_type": "client_credentials", "client_id": "CC-client",
            "client_secret": "cc-secret"})  # fmt: skip
        wrong = await client.post("/identity/connect/token", data={
            "grant_type": "client_credentials"}, headers=basic(secret="nope"))  # fmt: skip
        pkce_app = await client.post("/identity/connect/token", data={
            "grant_type": "client_credentials", "client_id": "PKCE-client"})  # fmt: skip
        unknown = await client.post("/identity/connect/token", data={"grant_type": "password"})
    body = answer.json()
    assert answer.status_code == 200 and body["expires_in"] == 1800
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    assert in_form.status_code == 200  # xero-python sends the pair in the form
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_client"})
    assert (pkce_app.status_code, pkce_app.json()) == (400, {"error": "unauthorized_client"})
    assert unknown.json() == {"error": "unsupported_grant_type"}


async def test_the_tenant_header_is_optional_for_a_custom_connection_only() -> None:
    async with plain(xero_app()) as client:
        token = await custom_connection_token(client)
        bearer = {"Authorization": f"Bearer {token}"}
        bare = await client.get(f"{API}/Organisation", headers=bearer)
        wrong = await client.get(
            f"{API}/Organisation", headers={**bearer, "xero-tenant-id": str(ACME)}
        )
        code = await consent(client)
        pkce = (await exchange(client, code)).json()["access_token"]
        without = await client.get(
            f"{API}/Organisation", headers={"Authorization": f"Bearer {pkce}"}
        )
        with_it = await client.get(f"{API}/Organisation", headers={
            "Authorization": f"Bearer {pkce}", "xero-tenant-id": TENANT})  # fmt: skip
        nobody = await client.get(f"{API}/Organisation")
    assert bare.status_code == 200
    assert bare.json()["Organisations"][0]["OrganisationID"] == TENANT
    for forbidden in (wrong, without):
        assert forbidden.status_code == 403
        assert forbidden.json()["Title"] == "Forbidden"
        assert forbidden.json()["Detail"] == "AuthenticationUnsuccessful"
    assert with_it.status_code == 200
    assert nobody.status_code == 401 and nobody.json()["Detail"] == "AuthenticationUnsuccessful"


async def test_an_access_token_expires_after_30_minutes_with_xeros_detail() -> None:
    clock = FakeClock()
    async with connected(xero_app(clock=clock)) as client:
        assert (await client.get(f"{API}/Organisation")).status_code == 200
        clock.now += 1801
        expired = await client.get(f"{API}/Organisation")
    assert expired.status_code == 401
    assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")


async def test_pkce_checks_the_verifier_and_spends_the_code() -> None:
    async with plain(xero_app()) as client:
        good = await exchange(client, await consent(client))
        code = await consent(client)
        wrong_verifier = await exchange(client, code, verifier="another-verifier-" * 3)
        retried = await exchange(client, code)  # spent by the refused attempt
        moved = await exchange(client, await consent(client), redirect="http://localhost/other")
        no_offline = await exchange(client, await consent(client, scope="accounting.transactions"))
        bad_method = await client.get("/identity/connect/authorize", params={
            "response_type": "code", "client_id": "PKCE-client", "redirect_uri": REDIRECT,
            "code_challenge": "x", "code_challenge_method": "plain", "state": "s"})  # fmt: skip
        stranger = await client.get("/identity/connect/authorize", params={
            "response_type": "code", "client_id": "who", "redirect_uri": REDIRECT})  # fmt: skip
    body = good.json()
    assert good.status_code == 200 and body["refresh_token"] and body["id_token"]
    assert body["expires_in"] == 1800 and body["scope"].endswith("offline_access")
    for answer in (wrong_verifier, retried, moved):
        assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant"})
    assert no_offline.status_code == 200 and "refresh_token" not in no_offline.json()
    assert "error=invalid_request" in bad_method.headers["location"]
    assert stranger.status_code == 400


async def test_refresh_tokens_rotate_and_a_spent_one_works_for_30_minutes_only() -> None:
    clock = FakeClock()
    async with plain(xero_app(clock=clock)) as client:
        first = await refresh(client, "RT-seed")
        second_token = first.json()["refresh_token"]
        clock.now += 29 * 60  # Xero's grace period: the spent token still refreshes
        again = await refresh(client, "RT-seed")
        clock.now += 2 * 60
        too_late = await refresh(client, "RT-seed")
        newest = await refresh(client, again.json()["refresh_token"])
        other_client = await client.post("/identity/connect/token", data={
            "grant_type": "refresh_token", "refresh_token": second_token,
            "client_id": "CC-client"})  # fmt: skip
        revoked = await client.post(
            "/identity/connect/revocation", data={"token": second_token, "client_id": "PKCE-client"}
        )
        after_revoke = await refresh(client, second_token)
    assert first.status_code == 200 and second_token != "RT-seed"
    assert again.status_code == 200 and again.json()["refresh_token"] not in (second_token,)
    assert (too_late.status_code, too_late.json()) == (400, {"error": "invalid_grant"})
    assert newest.status_code == 200
    assert other_client.json() == {"error": "invalid_grant"}
    assert revoked.status_code == 200 and after_revoke.json() == {"error": "invalid_grant"}


async def test_connections_list_the_organisation_and_a_deleted_one_is_gone() -> None:
    async with connected(xero_app()) as client:
        (connection,) = (await client.get("/connections")).json()
        same = (
            await client.get("/Connections", params={"authEventId": connection["authEventId"]})
        ).json()
        none = (await client.get("/connections", params={"authEventId": str(ACME)})).json()
        deleted = await client.delete(f"/connections/{connection['id']}")
        after = await client.get(f"{API}/Contacts")
        listed = (await client.get("/connections")).json()
    assert connection["tenantId"] == TENANT and connection["tenantType"] == "ORGANISATION"
    assert connection["tenantName"] == "Trailhead Technology Partners"
    assert set(connection) == {"id", "authEventId", "tenantId", "tenantType", "tenantName",
                               "createdDateUtc", "updatedDateUtc"}  # fmt: skip
    assert same == [connection] and none == []
    assert deleted.status_code == 204 and after.status_code == 403 and listed == []


# -- reads ------------------------------------------------------------------------------------


async def test_contacts_page_by_100_and_filter_as_xero_does() -> None:
    async with connected(xero_app()) as client:
        pages = [
            (await client.get(f"{API}/Contacts", params={"page": n})).json() for n in (1, 2, 3)
        ]
        everyone = (await client.get(f"{API}/Contacts")).json()["Contacts"]
        archived_too = (await client.get(f"{API}/Contacts", params={
            "page": 3, "includeArchived": "true"})).json()  # fmt: skip
        big_page = (await client.get(f"{API}/Contacts", params={"page": 1, "pageSize": 500})).json()
        by_ids = (await client.get(f"{API}/Contacts", params={"IDs": f"{ACME},{BETA}"})).json()
        by_name = (await client.get(f"{API}/Contacts", params={
            "where": 'Name=="Acme Dental LLC"'})).json()  # fmt: skip
        either = (
            await client.get(
                f"{API}/Contacts",
                params={
                    "where": 'AccountNumber=="58" OR AccountNumber=="59"',
                    "order": "Name DESC",
                },
            )
        ).json()
        searched = (await client.get(f"{API}/Contacts", params={"searchTerm": "acme"})).json()
        one = (await client.get(f"{API}/Contacts/{BETA}")).json()["Contacts"]
        bad = await client.get(f"{API}/Contacts", params={"where": 'Nmae=="x"'})
    assert [len(p["Contacts"]) for p in pages] == [100, 100, 4]
    assert pages[2]["pagination"] == {"page": 3, "pageSize": 100, "pageCount": 3, "itemCount": 204}
    assert len(everyone) == 204 and ARCHIVED not in {c["ContactID"] for c in everyone}
    assert len(archived_too["Contacts"]) == 5 and len(big_page["Contacts"]) == 204
    assert {c["Name"] for c in by_ids["Contacts"]} == {"Acme Dental LLC", "Beta Logistics"}
    assert [c["ContactID"] for c in by_name["Contacts"]] == [ACME]
    assert [c["Name"] for c in either["Contacts"]] == ["Beta Logistics", "Acme Dental LLC"]
    assert [c["ContactID"] for c in searched["Contacts"]] == [ACME]
    assert one[0]["DefaultCurrency"] == "CAD" and one[0]["UpdatedDateUTC"].startswith("/Date(")
    assert bad.status_code == 400 and bad.json()["Type"] == "QueryParseException"
    assert "Nmae" in bad.json()["Message"]


async def test_organisation_currencies_accounts_tax_rates_and_items() -> None:
    async with connected(xero_app()) as client:
        org = (await client.get(f"{API}/Organisation")).json()["Organisations"][0]
        currencies = (await client.get(f"{API}/Currencies")).json()["Currencies"]
        accounts = (await client.get(f"{API}/Accounts")).json()["Accounts"]
        revenue = (await client.get(f"{API}/Accounts", params={"where": 'Class=="REVENUE"'})).json()
        rates = (await client.get(f"{API}/TaxRates")).json()["TaxRates"]
        items = (await client.get(f"{API}/Items", params={"unitdp": 4})).json()["Items"]
        item = (await client.get(f"{API}/Items/MSP-USER")).json()["Items"][0]
    assert (org["BaseCurrency"], org["Version"], org["Name"]) == (
        "USD",
        "US",
        "Trailhead Technology Partners",
    )
    assert [c["Code"] for c in currencies] == ["USD", "CAD", "GBP"]
    assert {a["Code"]: a["Class"] for a in accounts}["400"] == "EXPENSE"
    assert {a["Code"] for a in revenue["Accounts"]} == {"200", "260", "299"}
    assert {r["TaxType"] for r in rates} >= {"NONE", "TAX001", "GSTONIMPORTS"}
    assert items[0]["SalesDetails"]["UnitPrice"] == 22.0 and item["Code"] == "MSP-USER"


# -- invoices ---------------------------------------------------------------------------------


async def test_an_invoice_is_created_computed_and_read_back_as_written() -> None:
    async with connected(xero_app()) as client:
        answer = await put(client, "Invoices", invoice(), summarizeErrors="false", unitdp="4")
        (created,) = answer.json()["Invoices"]
        found = (
            await client.get(
                f"{API}/Invoices",
                params={"InvoiceNumbers": "TU2611-58,TU2611-99", "page": 1, "unitdp": 4},
            )
        ).json()["Invoices"]
        by_id = (await client.get(f"{API}/Invoices/{created['InvoiceID']}")).json()["Invoices"]
        by_number = (await client.get(f"{API}/Invoices/TU2611-58")).json()["Invoices"]
        summary = (await client.get(f"{API}/Invoices")).json()["Invoices"]
        missing = await client.get(f"{API}/Invoices/{ACME}")
    assert answer.status_code == 200
    assert (created["HasErrors"], created["StatusAttributeString"]) == (False, "OK")
    assert created["InvoiceNumber"] == "TU2611-58" and created["Status"] == "AUTHORISED"
    # 18.6333 x 22.1234 = 412.23; 3 x 95 = 285.00 taxed at 8.875% = 25.29
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (697.23, 25.29, 722.52)
    assert created["AmountDue"] == 722.52
    assert created["Date"] == "/Date(1795996800000+0000)/"
    assert created["DateString"] == "2026-11-30T00:00:00"
    assert created["LineItems"][0]["UnitAmount"] == 22.1234
    assert created["LineItems"][1]["AccountID"] and created["LineItems"][1]["TaxAmount"] == 25.29
    assert found == [{k: v for k, v in created.items() if k != "StatusAttributeString"}
                     | {"LineItems": [{k: v for k, v in line.items() if k != "ValidationErrors"}
                                      for line in created["LineItems"]]}]  # fmt: skip
    assert by_id[0]["LineItems"][0]["UnitAmount"] == 22.12  # 2 places unless unitdp=4
    assert by_number[0]["InvoiceID"] == created["InvoiceID"]
    assert summary[0]["LineItems"] == []  # no page: Xero leaves the lines out
    assert missing.status_code == 404
    assert missing.text == "The resource you're looking for cannot be found"


async def test_a_contacts_own_sales_tax_is_answered_and_never_applied_to_a_line() -> None:
    """developer.xero.com, "Tax and the Xero API": the API "won't use Contact defaults"; a line
    without a TaxType takes its account's. The contact answers its AccountsReceivableTaxType."""
    contacts = [{**CONTACTS[0], "AccountsReceivableTaxType": "TAX001"}, *CONTACTS[1:]]
    app = create_xero_app(parse_scenario(xero_world(contacts=contacts)), rate_limit=None)
    line = {"Description": "Managed services", "Quantity": 3, "UnitAmount": 95,
            "AccountCode": "200"}  # fmt: skip
    async with connected(app) as client:
        (contact,) = (await client.get(f"{API}/Contacts/{ACME}")).json()["Contacts"]
        listed = (await client.get(f"{API}/Contacts", params={"IDs": ACME})).json()["Contacts"]
        answer = await put(client, "Invoices", invoice(LineItems=[line]), summarizeErrors="false")
    assert (
        contact["AccountsReceivableTaxType"] == listed[0]["AccountsReceivableTaxType"] == "TAX001"
    )
    (created,) = answer.json()["Invoices"]
    assert created["LineItems"][0]["TaxType"] == "NONE" and created["TotalTax"] == 0


async def test_inclusive_and_no_tax_amounts_are_computed_per_line() -> None:
    lines = [{"Description": "Seats", "Quantity": 1, "UnitAmount": 108.88, "AccountCode": "260"}]
    async with connected(xero_app()) as client:
        inclusive = (
            await put(
                client, "Invoices", invoice("INC-1", LineItems=lines, LineAmountTypes="Inclusive")
            )
        ).json()["Invoices"][0]
        untaxed = (
            await put(
                client, "Invoices", invoice("NOTAX-1", LineItems=lines, LineAmountTypes="NoTax")
            )
        ).json()["Invoices"][0]
    # The account's TAX001 (8.875%) applies: 108.88 x 8.875 / 108.875 = 8.88
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (
        100.0,
        8.88,
        108.88,
    )
    assert inclusive["LineItems"][0]["TaxType"] == "TAX001"
    assert (untaxed["TotalTax"], untaxed["Total"], untaxed["LineItems"][0]["TaxType"]) == (
        0.0,
        108.88,
        "NONE",
    )


LINE = {"Description": "Seats", "Quantity": 2, "UnitAmount": 10, "AccountCode": "200",
        "TaxType": "NONE"}  # fmt: skip
REFUSALS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown contact": ({"Contact": {"ContactID": TENANT}},
                        "The Contact with the specified ContactID could not be found"),
    "archived contact": ({"Contact": {"ContactID": ARCHIVED}},
                         "The contact with the specified contact details has been archived. The "
                         "contact must be un-archived before creating new invoices or credit "
                         "notes."),
    "no contact": ({"Contact": {}}, "The Contact must contain at least 1 of the following "
                   "elements to identify the contact: Name, ContactID, ContactNumber"),
    "negative quantity": ({"LineItems": [{**LINE, "Quantity": -2}, {**LINE, "Quantity": 5}]},
                          "The quantity value '-2.0000' is invalid. Quantity must not be less "
                          "than zero."),
    "negative total": ({"LineItems": [{**LINE, "UnitAmount": -10}]},
                       "The Total for this document must be greater than or equal to zero."),
    "unknown item": ({"LineItems": [{**LINE, "ItemCode": "NOPE"}]},
                     "Item code 'NOPE' is not valid."),
    "unknown account": ({"LineItems": [{**LINE, "AccountCode": "999"}]},
                        "Account code '999' is not a valid code for this document."),
    "system account": ({"LineItems": [{**LINE, "AccountCode": "610"}]},
                       "Account code '610' is not a valid code for this document."),
    "bank account": ({"LineItems": [{**LINE, "AccountCode": "090"}]},
                     "Account code '090' is not a valid code for this document."),
    "archived account": ({"LineItems": [{**LINE, "AccountCode": "299"}]},
                         "Account code '299' has been archived or has been deleted. Each line "
                         "item must reference a valid account."),
    "no account when approving": ({"LineItems": [{"Description": "x", "Quantity": 1,
                                                  "UnitAmount": 5}]},
                                  "Account code must be specified"),
    "tax type for expenses only": ({"LineItems": [{**LINE, "TaxType": "INPUT"}]},
                                   "The TaxType code 'INPUT' cannot be used with account code "
                                   "'200'."),
    "tax type for liabilities only": ({"LineItems": [{**LINE, "TaxType": "GSTONIMPORTS"}]},
                                      "The TaxType code 'GSTONIMPORTS' cannot be used with "
                                      "account code '200'."),
    "unknown tax type": ({"LineItems": [{**LINE, "TaxType": "TAX999"}]},
                         "The TaxType code TAX999 does not exist or cannot be used for this type "
                         "of transaction."),
    "deleted tax rate": ({"LineItems": [{**LINE, "TaxType": "TAX002"}]},
                         "The TaxType code TAX002 does not exist or cannot be used for this type "
                         "of transaction."),
    "currency not added": ({"CurrencyCode": "EUR"},
                           "Organisation is not subscribed to currency EUR"),
    "line total": ({"LineItems": [{**LINE, "LineAmount": 21}]},
                   "The line total 21.00 does not match the expected line total 20.00."),
    "no description": ({"LineItems": [{**LINE, "Description": " "}]},
                       "The description field is mandatory for each line item."),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_each_refusal_carries_xeros_message(case: str) -> None:
    fields, message = REFUSALS[case]
    async with connected(xero_app()) as client:
        messages = await refused(client, invoice("TU-R", **{"LineItems": [LINE], **fields}))
        listed = (await client.get(f"{API}/Invoices", params={"InvoiceNumbers": "TU-R"})).json()
    assert messages == [message]
    assert listed["Invoices"] == []


async def test_what_xero_allows_a_draft_an_expense_account_and_a_negative_unit_amount() -> None:
    async with connected(xero_app()) as client:
        draft = await put(
            client,
            "Invoices",
            invoice(
                "D-1", Status="DRAFT", LineItems=[{**LINE, "UnitAmount": -10, "AccountCode": None}]
            ),
        )
        expense = await put(
            client,
            "Invoices",
            invoice("E-1", LineItems=[{**LINE, "AccountCode": "400", "TaxType": "INPUT"}]),
        )
        credit_line = await put(client, "Invoices", invoice("N-1", LineItems=[
            LINE, {**LINE, "UnitAmount": -4, "Description": "Credit"}]))  # fmt: skip
        by_name = await put(client, "Invoices", invoice("C-1", Contact={"Name": "New Client LLC"}))
        contact = (await client.get(f"{API}/Contacts", params={
            "where": 'Name=="New Client LLC"'})).json()["Contacts"]  # fmt: skip
    assert draft.status_code == 200 and draft.json()["Invoices"][0]["Total"] == -20.0
    assert expense.status_code == 200
    assert credit_line.json()["Invoices"][0]["Total"] == 12.0
    assert by_name.json()["Invoices"][0]["Contact"]["ContactID"] == contact[0]["ContactID"]


async def test_invoice_numbers_are_unique_even_after_a_void() -> None:
    async with connected(xero_app()) as client:
        (first,) = (await put(client, "Invoices", invoice())).json()["Invoices"]
        await client.post(
            f"{API}/Invoices/{first['InvoiceID']}",
            json={"Invoices": [{"InvoiceID": first["InvoiceID"], "Status": "VOIDED"}]},
        )
        again = await refused(client, invoice())
        bills = [await put(client, "Invoices", invoice("B-7", Type="ACCPAY")) for _ in range(2)]
        numbered = (await put(client, "Invoices", invoice("", Status="DRAFT"))).json()
    assert again == ["Invoice # must be unique."]
    assert [b.status_code for b in bills] == [200, 200]  # bills' numbers may repeat
    assert numbered["Invoices"][0]["InvoiceNumber"] == "INV-0001"


async def test_summarized_errors_refuse_the_whole_request_and_save_nothing() -> None:
    bad = invoice("TU-BAD", CurrencyCode="EUR")
    async with connected(xero_app()) as client:
        summarized = await put(client, "Invoices", invoice("TU-OK"), bad)
        nothing = (await client.get(f"{API}/Invoices", params={"page": 1})).json()["Invoices"]
        mixed = await put(client, "Invoices", invoice("TU-OK"), bad, summarizeErrors="false")
        saved = (await client.get(f"{API}/Invoices", params={"page": 1})).json()["Invoices"]
    body = summarized.json()
    assert summarized.status_code == 400
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10,
        "ValidationException",
        "A validation exception occurred",
    )
    (element,) = body["Elements"]
    assert element["InvoiceNumber"] == "TU-BAD" and element["ValidationErrors"] == [
        {"Message": "Organisation is not subscribed to currency EUR"}
    ]
    assert nothing == []
    assert mixed.status_code == 200
    assert [e["StatusAttributeString"] for e in mixed.json()["Invoices"]] == ["OK", "ERROR"]
    assert mixed.json()["Invoices"][1]["InvoiceID"] == "00000000-0000-0000-0000-000000000000"
    assert [i["InvoiceNumber"] for i in saved] == ["TU-OK"]


async def status(
    client: httpx.AsyncClient, collection: str, record_id: str, new: str
) -> httpx.Response:
    id_field = "InvoiceID" if collection == "Invoices" else "CreditNoteID"
    return await client.post(
        f"{API}/{collection}/{record_id}",
        params={"summarizeErrors": "false"},
        json={collection: [{id_field: record_id, "Status": new}]},
    )


async def test_status_moves_xero_allows_and_refuses() -> None:
    async with connected(xero_app()) as client:
        (approved,) = (await put(client, "Invoices", invoice("A-1"))).json()["Invoices"]
        (draft,) = (await put(client, "Invoices", invoice("D-1", Status="DRAFT"))).json()[
            "Invoices"
        ]
        (other,) = (await put(client, "Invoices", invoice("D-2", Status="DRAFT"))).json()[
            "Invoices"
        ]
        not_deleted = await status(client, "Invoices", approved["InvoiceID"], "DELETED")
        voided = await status(client, "Invoices", approved["InvoiceID"], "VOIDED")
        revived = await status(client, "Invoices", approved["InvoiceID"], "AUTHORISED")
        not_voided = await status(client, "Invoices", draft["InvoiceID"], "VOIDED")
        deleted = await status(client, "Invoices", draft["InvoiceID"], "DELETED")
        approved_later = await status(client, "Invoices", other["InvoiceID"], "AUTHORISED")
        unknown = await status(client, "Invoices", ACME, "VOIDED")
        listed = (await client.get(f"{API}/Invoices", params={"page": 1})).json()["Invoices"]
        live = (await client.get(f"{API}/Invoices", params={
            "Statuses": "AUTHORISED,DRAFT"})).json()["Invoices"]  # fmt: skip
    message = "Invoice not of valid status for modification"
    for answer in (not_deleted, revived, not_voided):
        assert answer.json()["Invoices"][0]["ValidationErrors"] == [{"Message": message}]
    for answer in (voided, deleted, approved_later):
        assert answer.json()["Invoices"][0]["StatusAttributeString"] == "OK"
    assert voided.json()["Invoices"][0]["Status"] == "VOIDED"
    assert voided.json()["Invoices"][0]["AmountDue"] == 0.0
    assert voided.json()["Invoices"][0]["Total"] == approved["Total"]
    assert deleted.json()["Invoices"][0]["Status"] == "DELETED"
    assert approved_later.json()["Invoices"][0]["Status"] == "AUTHORISED"
    assert unknown.json()["Invoices"][0]["ValidationErrors"] == [
        {"Message": "An existing Invoice with the specified InvoiceID could not be found"}
    ]
    assert {i["InvoiceNumber"]: i["Status"] for i in listed} == {
        "A-1": "VOIDED",
        "D-1": "DELETED",
        "D-2": "AUTHORISED",
    }
    assert [i["InvoiceNumber"] for i in live] == ["D-2"]


async def test_post_updates_the_invoice_an_invoice_number_names() -> None:
    async with connected(xero_app()) as client:
        (draft,) = (await put(client, "Invoices", invoice("U-1", Status="DRAFT"))).json()[
            "Invoices"
        ]
        updated = await client.post(f"{API}/Invoices", json={"Invoices": [
            {"InvoiceNumber": "U-1", "Reference": "2026-11 revised",
             "LineItems": [LINE]}]})  # fmt: skip
        (read,) = (await client.get(f"{API}/Invoices/{draft['InvoiceID']}")).json()["Invoices"]
    assert updated.status_code == 200
    assert (read["Reference"], read["Total"], read["Status"]) == ("2026-11 revised", 20.0, "DRAFT")


async def test_if_modified_since_and_where_on_invoices() -> None:
    wall = Wall()
    async with connected(xero_app(now=wall)) as client:
        await put(client, "Invoices", invoice("OLD-1"))
        wall.moment += timedelta(hours=2)
        await put(client, "Invoices", invoice("NEW-1", Contact={"ContactID": BETA},
                                              CurrencyCode="CAD"))  # fmt: skip
        since = (await client.get(f"{API}/Invoices", headers={
            "If-Modified-Since": "2026-11-30T10:00:00"})).json()["Invoices"]  # fmt: skip
        where = (await client.get(f"{API}/Invoices", params={
            "where": f'Contact.ContactID==GUID("{BETA}") AND Total>100 AND '
                     'Date>=DateTime(2026, 11, 1)'})).json()["Invoices"]  # fmt: skip
        either = (await client.get(f"{API}/Invoices", params={
            "where": 'InvoiceNumber=="OLD-1" || InvoiceNumber=="NEW-1"',
            "order": "InvoiceNumber ASC"})).json()["Invoices"]  # fmt: skip
    assert [i["InvoiceNumber"] for i in since] == ["NEW-1"]
    assert [i["InvoiceNumber"] for i in where] == ["NEW-1"] and where[0]["CurrencyCode"] == "CAD"
    assert [i["InvoiceNumber"] for i in either] == ["NEW-1", "OLD-1"]


async def test_invoices_page_by_100() -> None:
    async with connected(xero_app()) as client:
        documents = [invoice(f"P-{n:03d}", LineItems=[LINE]) for n in range(130)]
        await put(client, "Invoices", *documents)
        first = (await client.get(f"{API}/Invoices", params={"page": 1})).json()
        second = (await client.get(f"{API}/Invoices", params={"page": 2})).json()
    assert len(first["Invoices"]) == 100 and len(second["Invoices"]) == 30
    assert first["pagination"]["pageCount"] == 2 and second["Invoices"][0]["LineItems"]


# -- credit notes -----------------------------------------------------------------------------


async def test_credit_notes_are_created_found_by_number_and_voided_or_deleted() -> None:
    async with connected(xero_app()) as client:
        made = await put(
            client,
            "CreditNotes",
            credit_note(),
            credit_note("TU2611-59-A1", Status="DRAFT", Contact={"ContactID": BETA}),
            summarizeErrors="false",
        )
        found = (await client.get(f"{API}/CreditNotes", params={
            "where": 'CreditNoteNumber=="TU2611-58-A1" OR CreditNoteNumber=="TU2611-59-A1"',
            "page": 1})).json()  # fmt: skip
        approved, draft = made.json()["CreditNotes"]
        one = (await client.get(f"{API}/CreditNotes/{approved['CreditNoteID']}")).json()
        voided = await status(client, "CreditNotes", approved["CreditNoteID"], "VOIDED")
        deleted = await status(client, "CreditNotes", draft["CreditNoteID"], "DELETED")
        again = await status(client, "CreditNotes", approved["CreditNoteID"], "VOIDED")
        bad = await refused(
            client, credit_note("X-1", LineItems=[{**LINE, "Quantity": -1}, LINE]), "CreditNotes"
        )
        numbered = (await put(client, "CreditNotes", credit_note(""))).json()["CreditNotes"][0]
    assert made.status_code == 200 and approved["Type"] == "ACCRECCREDIT"
    assert (approved["Total"], approved["RemainingCredit"]) == (722.52, 722.52)
    assert {c["CreditNoteNumber"] for c in found["CreditNotes"]} == {"TU2611-58-A1", "TU2611-59-A1"}
    assert found["pagination"]["itemCount"] == 2
    assert one["CreditNotes"][0]["CreditNoteNumber"] == "TU2611-58-A1"
    assert voided.json()["CreditNotes"][0]["StatusAttributeString"] == "OK"
    assert voided.json()["CreditNotes"][0]["Status"] == "VOIDED"
    assert voided.json()["CreditNotes"][0]["RemainingCredit"] == 0.0
    assert deleted.json()["CreditNotes"][0]["Status"] == "DELETED"
    assert again.json()["CreditNotes"][0]["ValidationErrors"] == [
        {"Message": "Credit Note not of valid status for modification"}
    ]
    assert bad == ["The quantity value '-1.0000' is invalid. Quantity must not be less than zero."]
    assert numbered["CreditNoteNumber"] == "CN-0001"


# -- idempotency ------------------------------------------------------------------------------


async def test_an_idempotency_key_replays_the_first_answer_for_six_minutes() -> None:
    clock = FakeClock()
    async with connected(xero_app(clock=clock)) as client:
        key = {"Idempotency-Key": "trueup-TU2611-58-send-1"}
        params = {"summarizeErrors": "false", "unitdp": "4"}
        body = {"Invoices": [invoice()]}
        first = await client.put(f"{API}/Invoices", params=params, json=body, headers=key)
        again = await client.put(f"{API}/Invoices", params=params, json=body, headers=key)
        changed = await client.put(
            f"{API}/Invoices", params=params, headers=key, json={"Invoices": [invoice("TU2611-60")]}
        )
        clock.now += 361
        expired = await client.put(f"{API}/Invoices", params=params, json=body, headers=key)
        stored = (await client.get(f"{API}/Invoices", params={"page": 1})).json()["Invoices"]
    assert again.status_code == 200 and again.content == first.content
    assert changed.status_code == 400
    assert "is used with a different request" in changed.json()["Detail"]
    # After 6 minutes the key is new: the request runs again, and the number is taken.
    assert expired.json()["Invoices"][0]["ValidationErrors"] == [
        {"Message": "Invoice # must be unique."}
    ]
    assert len(stored) == 1


async def test_a_repeat_while_the_first_runs_waits_for_its_answer() -> None:
    async with connected(xero_app(latency_seconds=0.05)) as client:
        send = lambda: put(client, "Invoices", invoice())  # noqa: E731
        client.headers["Idempotency-Key"] = "k-concurrent"
        answers = await asyncio.gather(send(), send())
        del client.headers["Idempotency-Key"]
        stored = (await client.get(f"{API}/Invoices", params={"page": 1})).json()["Invoices"]
    assert answers[0].content == answers[1].content and answers[0].status_code == 200
    assert len(stored) == 1


# -- limits and faults ------------------------------------------------------------------------


async def test_minute_and_day_limits_answer_429_naming_the_limit() -> None:
    clock = FakeClock()
    limit = XeroRateLimit(per_minute=3, per_day=5, concurrent=5, app_per_minute=100)
    async with connected(xero_app(clock=clock, rate_limit=limit)) as client:
        answers = [await client.get(f"{API}/Organisation") for _ in range(4)]
        token_calls = [await custom_connection_token(client) for _ in range(5)]
        connections = await client.get("/connections")
        clock.now += 61
        more = [await client.get(f"{API}/Organisation") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-MinLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert [a.headers["X-DayLimit-Remaining"] for a in answers[:3]] == ["4", "3", "2"]
    assert answers[0].headers["X-AppMinLimit-Remaining"] == "99"
    assert answers[3].headers["X-Rate-Limit-Problem"] == "minute"
    assert answers[3].headers["Retry-After"] == "60"
    assert len(token_calls) == 5 and connections.status_code == 200  # neither is counted
    assert [a.status_code for a in more] == [200, 200, 429]
    assert more[2].headers["X-Rate-Limit-Problem"] == "day"
    assert int(more[2].headers["Retry-After"]) > 80000


async def test_more_than_the_concurrent_limit_at_once_is_refused() -> None:
    limit = XeroRateLimit(concurrent=2)
    async with connected(xero_app(rate_limit=limit, latency_seconds=0.1)) as client:
        answers = await asyncio.gather(*(client.get(f"{API}/Organisation") for _ in range(3)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 429]
    refused_call = next(a for a in answers if a.status_code == 429)
    assert refused_call.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert "Retry-After" not in refused_call.headers


async def test_faults_are_injected_as_for_the_other_simulators() -> None:
    app = xero_app(faults=FaultSpec.parse("503=1.0"))
    async with plain(app) as client:
        answer = await client.get(f"{API}/Organisation")
    assert answer.status_code == 503


async def test_a_refresh_starts_from_the_token_another_process_stored() -> None:
    """Two processes (a scheduled sync beside the workbench) each held the token they read at
    start: once one had refreshed and stored the next, the other refreshed with the spent one,
    and after Xero's 30 minutes of grace the connection was lost. A refresh now starts from
    the token stored last."""
    clock = FakeClock()
    app = xero_app(clock=clock)
    stored = {"token": "RT-seed"}

    def client() -> XeroClient:
        return XeroClient(
            BASE, f"{BASE}/identity", "PKCE-client", refresh_token=stored["token"],
            on_refresh_token=lambda new: stored.update(token=new),
            reload_refresh_token=lambda: stored["token"], tenant_id=TENANT,
            transport=SandboxTransport(app=app), rate=None,
        )  # fmt: skip

    workbench, sync = client(), client()  # both read RT-seed
    async with sync:
        await sync.organisation()  # refreshes RT-seed; stores its successor
    clock.now += 31 * 60  # RT-seed's grace is over
    async with workbench:
        await workbench.organisation()
    assert stored["token"] not in ("RT-seed",)
