"""The Halo simulator's POST /api/Item: an array of the swagger's Item, saved, answered with ids
and served back; a bad element refused the way other bad writes are."""

from __future__ import annotations

from typing import Any

import pytest

from halo_fixtures import authed_client, make_app

POWER_BI = {
    "name": "Power BI Pro",
    "supplier_part_code": "MST-PBI-PRO-C100",
    "isrecurringitem": True,
    "costprice": 11.9,
    "recurringcost": 11.9,
    "baseprice": 14.0,
    "recurringprice": 14.0,
}


async def test_a_new_item_is_saved_with_an_id_and_listed() -> None:
    async with authed_client(make_app()) as client:
        response = await client.post("/api/Item", json=[POWER_BI])
        listed = (await client.get("/api/Item", params={"includeinactive": True})).json()
        fetched = (await client.get(f"/api/Item/{response.json()['id']}")).json()
    assert response.status_code == 201
    assert response.json() == {"id": 1501, **POWER_BI}  # after the world's highest, 1500
    assert fetched == response.json()
    assert listed["record_count"] == 4 and listed["items"][-1] == response.json()


async def test_several_items_in_one_post_each_get_an_id() -> None:
    other = {**POWER_BI, "name": "Power BI Premium", "supplier_part_code": "MST-PBI-PREM"}
    async with authed_client(make_app()) as client:
        response = await client.post("/api/Item", json=[POWER_BI, other])
    assert [item["id"] for item in response.json()] == [1501, 1502]


@pytest.mark.parametrize(
    ("element", "error_key"),
    [
        ({**POWER_BI, "name": None}, "[0].name"),
        ({**POWER_BI, "name": "  "}, "[0].name"),
        ({key: value for key, value in POWER_BI.items() if key != "name"}, "[0].name"),
        ({**POWER_BI, "supplier_part_code": 100}, "[0].supplier_part_code"),
        ({**POWER_BI, "recurringprice": "14.00"}, "[0].recurringprice"),
        ({**POWER_BI, "costprice": True}, "[0].costprice"),
    ],
)
async def test_a_bad_item_is_refused_and_nothing_saved(element: Any, error_key: str) -> None:
    async with authed_client(make_app()) as client:
        response = await client.post("/api/Item", json=[element])
        count = (await client.get("/api/Item?includeinactive=true")).json()["record_count"]
    assert response.status_code == 400
    assert list(response.json()) == [error_key]
    assert count == 3


async def test_an_update_need_not_repeat_the_name_but_cannot_blank_it() -> None:
    async with authed_client(make_app()) as client:
        priced = await client.post("/api/Item", json=[{"id": 1000, "recurringprice": 11.0}])
        blanked = await client.post("/api/Item", json=[{"id": 1000, "name": ""}])
        item = (await client.get("/api/Item/1000")).json()
    assert priced.status_code == 200 and blanked.status_code == 400
    assert (item["name"], item["recurringprice"]) == ("Microsoft 365 Apps for Business", 11.0)
