"""The Halo simulator's writes: array POSTs, recurring-invoice lines, process, delete."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from halo_fixtures import HALO_WORLD, authed_client, halo_scenario, make_app


def line_ids(header: dict[str, Any]) -> list[int]:
    return [line["id"] for line in header["lines"]]


async def ri(client: httpx.AsyncClient, ri_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/RecurringInvoice/{ri_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


# --- create and partial update --------------------------------------------------------------


async def test_post_without_id_creates_with_a_new_id() -> None:
    async with authed_client(make_app()) as client:
        created = await client.post("/api/Client", json=[{"name": "Delta Ltd", "toplevel_id": 1}])
        zero = await client.post("/api/client", json=[{"id": 0, "name": "Epsilon plc"}])
        site = await client.post("/api/Site", json=[{"name": "Delta HQ", "client_id": 421}])
        fetched = await client.get("/api/Client/421")
    assert created.status_code == zero.status_code == 201
    assert created.json() == {"id": 421, "name": "Delta Ltd", "toplevel_id": 1}
    assert zero.json()["id"] == 422
    assert site.json()["client_name"] == "Delta Ltd"  # filled in from the client
    assert fetched.json()["name"] == "Delta Ltd"


async def test_post_with_an_id_changes_only_the_fields_sent() -> None:
    async with authed_client(make_app()) as client:
        before = (await client.get("/api/Client/12")).json()
        updated = await client.post("/api/Client", json=[{"id": 12, "name": "Acme Group Ltd"}])
        after = (await client.get("/api/Client/12")).json()
        listed = [row["id"] for row in (await client.get("/api/Client")).json()["clients"]]
    assert updated.status_code == 200
    assert after == {**before, "name": "Acme Group Ltd"}
    assert listed == [12, 14, 16, 420]  # an update does not move the row


async def test_post_null_removes_a_field_and_moving_client_reindexes() -> None:
    async with authed_client(make_app()) as client:
        await client.post("/api/SoftwareLicence", json=[{"id": 508, "client_id": 14,
                                                         "distributor": None}])  # fmt: skip
        moved = (await client.get("/api/SoftwareLicence/508")).json()
        acme = (await client.get("/api/SoftwareLicence?client_id=12")).json()["licences"]
        beta = (await client.get("/api/SoftwareLicence?client_id=14")).json()["licences"]
    assert "distributor" not in moved
    assert moved["client_name"] == "Beta LLC"
    assert acme == [] and [row["id"] for row in beta] == [508]


async def test_post_of_several_elements_returns_the_list() -> None:
    async with authed_client(make_app()) as client:
        response = await client.post(
            "/api/SoftwareLicence",
            json=[{"id": 508, "count": 26}, {"name": "Intune", "client_id": 12, "count": 4}],
        )
    assert response.status_code == 201  # one element was created
    assert [row["count"] for row in response.json()] == [26, 4]
    assert response.json()[1]["id"] == 511


@pytest.mark.parametrize(
    ("body", "error_key"),
    [
        ({"id": 12, "name": "not an array"}, "$"),
        ([], "$"),
        (["Acme"], "[0]"),
        ([{"id": "12"}], "[0].id"),
        ([{"name": "ok"}, {"id": 999}], "[1].id"),
        ([{"name": "x", "client_id": "12"}], "[0].client_id"),
    ],
)
async def test_malformed_posts_get_field_keyed_400(body: Any, error_key: str) -> None:
    async with authed_client(make_app()) as client:
        response = await client.post("/api/Site", json=body)
        unchanged = (await client.get("/api/Site?includeinactive=true")).json()["record_count"]
    assert response.status_code == 400
    assert list(response.json()) == [error_key]
    assert unchanged == 4  # all or nothing


async def test_invalid_json_is_a_400() -> None:
    async with authed_client(make_app()) as client:
        response = await client.post(
            "/api/Client", content=b"[{", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400 and "$" in response.json()


# --- recurring invoices ---------------------------------------------------------------------


async def test_new_recurring_invoices_get_negative_decreasing_ids() -> None:
    async with authed_client(make_app()) as client:
        first = await client.post("/api/RecurringInvoice", json=[{
            "client_id": 14, "reference": "Beta monthly",
            "lines": [{"_itemid": 1000, "qty_order": 3}, {"_itemid": 1402, "qty_order": 1,
                                                         "unit_price": 400.0}],
        }])  # fmt: skip
        second = await client.post("/api/RecurringInvoice", json=[{"client_id": 16}])
    header = first.json()
    assert first.status_code == 201
    assert header["id"] == -97 and second.json()["id"] == -98
    assert header["client_name"] == "Beta LLC"
    assert all(line["id"] > 26002 and line["ihid"] == -97 for line in header["lines"])
    m365 = header["lines"][0]  # unsent fields come from the item
    assert m365["unit_price"] == 10.32
    assert m365["item_shortdescription"] == "Microsoft 365 Apps for Business"
    assert m365["net_amount"] == 30.96
    assert header["revenue"] == header["total"] == 430.96


async def test_header_post_patches_adds_and_replaces_lines() -> None:
    async with authed_client(make_app()) as client:
        response = await client.post("/api/RecurringInvoice", json=[{"id": -94, "lines": [
            {"id": 24967, "ihid": -94, "qty_order": 15.0},
            {"_itemid": 1402, "qty_order": 2, "unit_price": 99.995},
        ]}])  # fmt: skip
        header = await ri(client, -94)
    assert response.status_code == 200
    assert response.json() == header
    assert line_ids(header)[0] == 24967 and 24963 not in line_ids(header)
    m365, added = header["lines"]
    assert m365["qty_order"] == 15.0 and m365["net_amount"] == 154.8
    assert m365["tax_amount"] == 30.96 and m365["item_shortdescription"]  # untouched fields stay
    assert added["net_amount"] == 199.99 and added["ihid"] == -94
    assert header["revenue"] == 354.79
    assert header["total"] == 385.75  # only the M365 line carries 20% tax


async def test_header_post_can_keep_omitted_lines() -> None:
    async with authed_client(make_app(omitted_lines="keep")) as client:
        await client.post("/api/RecurringInvoice", json=[{"id": -94, "lines": [
            {"id": 24967, "qty_order": 15.0}, {"_itemid": 1402, "qty_order": 1}]}])  # fmt: skip
        header = await ri(client, -94)
    assert line_ids(header)[:2] == [24963, 24967] and len(header["lines"]) == 3
    assert header["revenue"] == 825.0 + 154.8 + 825.0


async def test_header_post_without_lines_leaves_lines_alone() -> None:
    async with authed_client(make_app()) as client:
        await client.post("/api/RecurringInvoice", json=[{"id": -94, "reference": "Renamed"}])
        header = await ri(client, -94)
    assert header["reference"] == "Renamed" and line_ids(header) == [24963, 24967]
    assert header["revenue"] == 969.48 and header["total"] == 1163.38


async def test_header_post_refuses_lines_of_another_invoice() -> None:
    async with authed_client(make_app()) as client:
        response = await client.post(
            "/api/RecurringInvoice", json=[{"id": -94, "lines": [{"id": 25001, "qty_order": 1}]}]
        )
    assert response.status_code == 400
    assert list(response.json()) == ["[0].lines[0].id"]


async def test_updatelines_patches_lines_by_id() -> None:
    async with authed_client(make_app()) as client:
        response = await client.post(
            "/api/RecurringInvoice/updatelines", json=[{"id": 24967, "ihid": -94, "qty_order": 20}]
        )
        header = await ri(client, -94)
        wrong_owner = await client.post(
            "/api/RecurringInvoice/UpdateLines", json=[{"id": 24967, "ihid": -95, "qty_order": 1}]
        )
        unknown = await client.post("/api/RecurringInvoice/updatelines", json=[{"id": 5}])
    assert response.status_code == 200 and response.json()[0]["net_amount"] == 206.4
    assert header["lines"][1]["qty_order"] == 20 and header["revenue"] == 1031.4
    assert header["total"] == round(1031.4 * 1.2, 2)
    assert wrong_owner.status_code == 400 and list(wrong_owner.json()) == ["[0].ihid"]
    assert unknown.status_code == 400 and list(unknown.json()) == ["[0].id"]


async def test_lines_endpoint_appends_lines() -> None:
    async with authed_client(make_app()) as client:
        response = await client.post(
            "/api/RecurringInvoice/Lines", json=[{"ihid": -95, "_itemid": 1000, "qty_order": 2}]
        )
        header = await ri(client, -95)
        orphan = await client.post("/api/RecurringInvoice/lines", json=[{"ihid": -1}])
    assert response.status_code == 201
    assert line_ids(header) == [25001, response.json()[0]["id"]]
    assert header["revenue"] == 123.84
    assert orphan.status_code == 400 and list(orphan.json()) == ["[0].ihid"]


# --- references Halo does not have: a stale mapping fails as it would for real ----------------

STALE_WRITES = [
    ("/api/Invoice", [{"client_id": 424242, "reference": "TU-1"}], "[0].client_id",
     "No Client with id 424242."),
    ("/api/Invoice", [{"client_id": 12, "lines": [{"qty_order": 1}, {"_itemid": 999999}]}],
     "[0].lines[1]._itemid", "No Item with id 999999."),
    ("/api/RecurringInvoice", [{"client_id": 424242, "reference": "Monthly"}], "[0].client_id",
     "No Client with id 424242."),
    ("/api/RecurringInvoice", [{"id": -95, "client_id": 424242}], "[0].client_id",
     "No Client with id 424242."),
    ("/api/RecurringInvoice", [{"id": -95, "lines": [{"id": 25001, "ihid": -95},
                                                    {"_itemid": 999999, "qty_order": 2}]}],
     "[0].lines[1]._itemid", "No Item with id 999999."),
    ("/api/RecurringInvoice/updatelines", [{"id": 25001, "ihid": -95, "_itemid": 999999}],
     "[0]._itemid", "No Item with id 999999."),
    ("/api/RecurringInvoice/Lines", [{"ihid": -95, "_itemid": 999999, "qty_order": 1}],
     "[0]._itemid", "No Item with id 999999."),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "key", "message"), STALE_WRITES)
async def test_a_write_naming_a_client_or_item_halo_lacks_is_refused(
    path: str, body: list[dict[str, Any]], key: str, message: str
) -> None:
    async with authed_client(make_app()) as client:
        invoices = (await client.get("/api/Invoice")).json()
        response = await client.post(path, json=body)
        after = (await client.get("/api/Invoice")).json()
        acme = await ri(client, -95)
    assert response.status_code == 400 and response.json() == {key: message}
    assert after == invoices  # nothing written
    assert acme["client_id"] == 12 and line_ids(acme) == [25001]
    assert acme["lines"][0]["_itemid"] == 1000


async def test_free_text_lines_and_lines_echoed_with_their_item_are_accepted() -> None:
    async with authed_client(make_app()) as client:
        await client.delete("/api/Item/1000")  # the line on -95 keeps pointing at it
        echoed = await client.post("/api/RecurringInvoice", json=[
            {"id": -95, "client_id": 12, "lines": [{"id": 25001, "ihid": -95, "_itemid": 1000,
                                                    "qty_order": 11}]},
        ])  # fmt: skip
        free_text = await client.post("/api/Invoice", json=[{"client_id": 14, "lines": [
            {"item_shortdescription": "Onsite visit", "qty_order": 1, "unit_price": 90},
            {"_itemid": 0, "item_shortdescription": "Travel", "qty_order": 1, "unit_price": 10},
        ]}])  # fmt: skip
    assert echoed.status_code == 200 and echoed.json()["lines"][0]["qty_order"] == 11
    assert free_text.status_code == 201 and free_text.json()["total"] == 100


async def test_process_creates_invoices_from_recurring_invoices() -> None:
    async with authed_client(make_app()) as client:
        await client.post("/api/RecurringInvoice/updatelines",
                          json=[{"id": 24963, "ihid": -94, "isinactive": True}])  # fmt: skip
        response = await client.post("/api/RecurringInvoice/process", json=[-94, -95])
        invoices = (await client.get("/api/Invoice?client_id=420&includelines=true")).json()
        source = await ri(client, -94)
        bad = await client.post("/api/RecurringInvoice/process", json=[-1])
    created = response.json()
    assert response.status_code == 201
    assert [invoice["id"] for invoice in created] == [7003, 7004]
    first = created[0]
    assert first["recurring_invoice_id"] == -94 and first["invoice_date"] == "2026-11-21T00:00:00"
    assert "schedule" not in first and first["is_recurring_invoice"] is False
    assert [line["recurring_invoice_line_id"] for line in first["lines"]] == [24967]
    assert first["lines"][0]["ihid"] == 7003 and first["lines"][0]["id"] > 26002
    assert "quantity_licences" not in first["lines"][0]
    assert first["revenue"] == 144.48 and first["total"] == first["amountdue"] == 173.38
    assert invoices["invoices"] == [first]
    assert source["lastcreated"] == "2026-11-21T00:00:00"
    assert bad.status_code == 400


async def test_delete_removes_the_row() -> None:
    async with authed_client(make_app()) as client:
        deleted = await client.delete("/api/SoftwareLicence/508")
        gone = await client.get("/api/SoftwareLicence/508")
        listed = (await client.get("/api/SoftwareLicence?client_id=12")).json()["record_count"]
        again = await client.delete("/api/SoftwareLicence/508")
    assert deleted.status_code == 200
    assert gone.status_code == 404 and again.status_code == 404
    assert listed == 0


async def test_writes_never_touch_the_scenario() -> None:
    scenario = halo_scenario()
    async with authed_client(make_app(scenario)) as client:
        await client.post("/api/RecurringInvoice", json=[{"id": -94, "lines": [
            {"id": 24967, "qty_order": 99}]}])  # fmt: skip
        await client.post("/api/Client", json=[{"id": 12, "name": "Changed"}])
        await client.delete("/api/Site/30")
    assert scenario.halo["recurring_invoices"] == HALO_WORLD["recurring_invoices"]
    assert scenario.halo["clients"] == HALO_WORLD["clients"]
    assert scenario.halo["sites"] == HALO_WORLD["sites"]


# --- invoices: reference, client, void --------------------------------------------------------


async def test_a_new_invoice_is_numbered_and_found_by_reference_and_client() -> None:
    async with authed_client(make_app()) as client:
        created = await client.post("/api/Invoice", json=[{
            "client_id": 12, "invoice_date": "2026-11-30T00:00:00", "reference": "TU-2026-11-12",
            "lines": [{"_itemid": 1000, "qty_order": 3.0, "unit_price": 10.32}],
        }])  # fmt: skip

        async def found(**params: Any) -> list[int]:
            body = (await client.get("/api/Invoice", params=params)).json()
            return [row["id"] for row in body["invoices"]]

        by_reference = await found(search="tu-2026-11")
        acme_and_beta = await found(client_ids="12,14")
        beta = await found(client_id=14)
    invoice = created.json()
    assert created.status_code == 201
    assert invoice["id"] == 7003 and invoice["invoicenumber"] == "7003"
    assert invoice["client_name"] == "Acme Ltd" and invoice["revenue"] == 30.96
    assert by_reference == [7003]
    assert sorted(acme_and_beta) == [7001, 7002, 7003] and beta == [7002]


async def test_void_flags_the_invoice_which_keeps_its_reference() -> None:
    async with authed_client(make_app()) as client:
        await client.post("/api/Invoice", json=[{"client_id": 14, "reference": "TU-14"}])
        voided = await client.post("/api/Invoice/7003/Void")
        listed = (await client.get("/api/Invoice?search=TU-14&includelines=true")).json()
        again = await client.post("/api/invoice/7003/void")
        unknown = await client.post("/api/Invoice/9999/void")
        wrong_method = await client.get("/api/Invoice/7003/void")
        not_for_ri = await client.post("/api/RecurringInvoice/-94/void")
    assert voided.status_code == 200
    assert voided.json()["voided"] is True and voided.json()["reference"] == "TU-14"
    assert listed["invoices"] == [voided.json()]  # still listed: lookups must skip it
    assert again.status_code == 400 and "already void" in again.json()["Message"]
    assert unknown.status_code == 404
    assert wrong_method.status_code == 405 and not_for_ri.status_code == 404


async def test_several_recurring_invoices_in_one_post_come_back_saved() -> None:
    async with authed_client(make_app()) as client:
        response = await client.post("/api/RecurringInvoice", json=[
            {"id": -94, "lines": [{"id": 24963, "ihid": -94, "qty_order": 2.0},
                                  {"id": 24967, "ihid": -94, "qty_order": 14.0}]},
            {"id": -95, "lines": [{"id": 25001, "ihid": -95, "qty_order": 11.0}]},
        ])  # fmt: skip
        stored = [await ri(client, -94), await ri(client, -95)]
    assert response.status_code == 200
    assert response.json() == stored
    assert [line["qty_order"] for line in stored[0]["lines"]] == [2.0, 14.0]
    assert stored[1]["revenue"] == 113.52
