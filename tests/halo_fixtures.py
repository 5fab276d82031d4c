"""A small, realistic Halo world for the simulator tests (field names as in halo-api.md §5/§7).

Clients from ``authed_client`` check every successful POST body against the request schema of its
path in Halo's swagger, so no test can lean on a body the real API would refuse.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from trueup.sandbox.halo import create_halo_app
from trueup.sandbox.scenario import Scenario, parse_scenario
from trueup.sandbox.transport import SandboxTransport

BASE_URL = "http://halo.test"
SWAGGER_PATH = Path(__file__).parent / "specs" / "halopsa-swagger.json"
SWAGGER_URI = "urn:halopsa-swagger"

Check = Callable[[Any, str], None]


@functools.cache
def swagger() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SWAGGER_PATH.read_text(encoding="utf-8"))
    return spec


@functools.cache
def swagger_check() -> Check:
    """check(instance, pointer) validates against the schema at a JSON pointer into the swagger.

    Formats are not asserted: Halo's date-times carry no zone, which RFC 3339 would reject.
    """
    resource = Resource.from_contents(swagger(), default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource(SWAGGER_URI, resource)

    @functools.cache
    def validator(pointer: str) -> Any:
        return OAS30Validator({"$ref": f"{SWAGGER_URI}#{pointer}"}, registry=registry)

    def check(instance: Any, pointer: str) -> None:
        validator(pointer).validate(instance)

    return check


def request_body_pointer(api_path: str) -> str | None:
    """The swagger's JSON request schema for POST /api{api_path}, matched case-insensitively."""
    paths = {path.lower(): path for path in swagger()["paths"]}
    path = paths.get(api_path.lower())
    if path is None or "requestBody" not in swagger()["paths"][path].get("post", {}):
        return None
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/post/requestBody/content/application~1json/schema"


async def _check_posted_body(response: httpx.Response) -> None:
    request = response.request
    if request.method != "POST" or not response.is_success:
        return
    if request.url.path.lower().startswith("/api/"):
        pointer = request_body_pointer(request.url.path[len("/api") :])
        if pointer:
            swagger_check()(json.loads(request.content), pointer)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _line(line_id: int, ihid: int, item: int, name: str, qty: float, price: float, **extra: Any):
    return {
        "id": line_id, "ihid": ihid, "_itemid": item, "sequenceid": extra.pop("sequenceid", 1),
        "item_code": "", "item_shortdescription": name, "nominal_code": name.replace(" ", "-"),
        "qty_order": qty, "unit_price": price, "baseprice": price, "unit_cost": 0.0,
        "net_amount": round(qty * price, 2), "isinactive": False,
        "recurring_invoice_quantity_type": 0, "quantity_licences": [],
        "quantity_subscriptions": [], **extra,
    }  # fmt: skip


HALO_WORLD: dict[str, Any] = {
    "clients": [
        {"id": 12, "name": "Acme Ltd", "toplevel_id": 1, "toplevel_name": "Customers",
         "inactive": False, "ref": "ACME", "accountsid": "CUST-0012", "customertype": 1},
        {"id": 14, "name": "Beta LLC", "toplevel_id": 1, "toplevel_name": "Customers",
         "inactive": False, "ref": "BETA", "accountsid": ""},
        {"id": 16, "name": "Gamma Dental", "toplevel_id": 2, "toplevel_name": "Prospects",
         "inactive": False, "website": None},
        {"id": 18, "name": "Closed Acme Branch", "toplevel_id": 1, "inactive": True},
        {"id": 420, "name": "Timothy Taylor Limited", "toplevel_id": 1, "inactive": False,
         "main_site_id": 33, "main_site_name": "Keighley"},
    ],
    "sites": [
        {"id": 30, "name": "Acme HQ", "client_id": 12, "client_name": "Acme Ltd",
         "inactive": False, "isinvoicesite": True},
        {"id": 31, "name": "Acme Old Depot", "client_id": 12, "client_name": "Acme Ltd",
         "inactive": True},
        {"id": 32, "name": "Beta Main", "client_id": 14, "client_name": "Beta LLC"},
        {"id": 33, "name": "Keighley", "client_id": 420, "client_name": "Timothy Taylor Limited"},
    ],
    "items": [
        {"id": 1000, "name": "Microsoft 365 Apps for Business", "status": 0,
         "isrecurringitem": True, "baseprice": 12.0, "costprice": 9.5, "recurringprice": 10.32,
         "recurringcost": 8.25, "supplier_id": 7, "supplier_name": "Pax8",
         "supplier_part_code": "MST-365-APPS-B", "internalreference": "M365-APPS",
         "accountsid": "4000", "nominalcode": "Microsoft-365-Apps-Business", "taxcode": 5,
         "update_recurring_invoice_price": False, "update_recurring_invoice_cost": False,
         "external_links": []},
        {"id": 1402, "name": "Managed Services - Gold", "status": 0, "isrecurringitem": True,
         "recurringprice": 825.0, "nominalcode": "MS-Gold"},
        {"id": 1500, "name": "Legacy Tape Backup", "status": 1, "recurringprice": 5.0},
    ],
    "recurring_invoices": [
        {"id": -94, "disabled": False, "client_id": 420, "client_name": "Timothy Taylor Limited",
         "sitenumber": 0, "contract_id": 0, "reference": "Monthly Billing", "currency": "£",
         "is_recurring_invoice": True, "schedule_id": 150, "period": 2,
         "lastcreated": "2024-03-31T23:00:00", "nextcreationdate": "2024-04-30T23:00:00",
         "requires_approval": True, "approval_status": 0, "revenue": 969.48, "total": 1163.38,
         "schedule": {"id": 150, "startdate": "2024-03-01T12:00:00",
                      "end_date": "2099-12-31T00:00:00", "period": 2, "disabled": False},
         "lines": [
             _line(24963, -94, 1402, "Managed Services - Gold", 1.0, 825.0, tax_rate=20.0),
             _line(24967, -94, 1000, "Microsoft 365 Apps for Business", 14.0, 10.32,
                   sequenceid=5, tax_code="5", tax_rate=20.0, recurring_invoice_quantity_type=1,
                   quantity_licences=[{"id": 288, "invoice_line_id": 24967, "kind": 1,
                                       "licence_id": 507, "site_id": 0, "qty_free": 0,
                                       "minimum_qty": 0, "pro_rata": 0, "criteria": [],
                                       "licence_name": "Microsoft-365-Apps-Business"}],
                   prorata_data=[]),
         ]},
        {"id": -95, "disabled": False, "client_id": 12, "client_name": "Acme Ltd",
         "reference": "Acme monthly", "period": 2, "revenue": 103.2, "total": 103.2,
         "lines": [_line(25001, -95, 1000, "Microsoft 365 Apps for Business", 10.0, 10.32)]},
        {"id": -96, "disabled": True, "client_id": 14, "client_name": "Beta LLC",
         "reference": "Beta (paused)", "revenue": 0.0, "total": 0.0, "lines": []},
    ],
    "invoices": [
        {"id": 7001, "invoicenumber": "7001", "client_id": 12, "client_name": "Acme Ltd",
         "invoice_date": "2026-10-31T00:00:00", "posted": True, "recurring_invoice_id": -95,
         "revenue": 103.2, "total": 103.2, "amountdue": 0.0, "amountpaid": 103.2,
         "lines": [_line(26001, 7001, 1000, "Microsoft 365 Apps for Business", 10.0, 10.32,
                         recurring_invoice_id=-95, recurring_invoice_line_id=25001)]},
        {"id": 7002, "invoicenumber": "7002", "client_id": 14, "client_name": "Beta LLC",
         "invoice_date": "2026-10-31T00:00:00", "posted": False, "revenue": 50.0, "total": 50.0,
         "lines": [_line(26002, 7002, 1402, "Managed Services - Gold", 1.0, 50.0)]},
    ],
    "licences": [
        {"id": 507, "type": 1, "name": "Microsoft-365-Apps-Business", "client_id": 420,
         "site_id": -1, "count": 14, "price": 10.32, "purchase_price": 8.25,
         "billing_cycle": "Monthly", "status": "Active", "is_active": True, "distributor": "Pax8",
         "third_party_product": "5d5a9a1e-7a4c-4a7e-9d5b-1f0e2c3b4a59",
         "thirdparty_client_id": "0b8f5d2c-3e1a-4c6b-8d7e-9f0a1b2c3d4e"},
        {"id": 508, "type": 1, "name": "Microsoft 365 Business Premium", "client_id": 12,
         "site_id": -1, "count": 25, "price": 22.0, "is_active": True, "distributor": "Pax8"},
        {"id": 509, "type": 1, "name": "Exchange Online Plan 1", "client_id": 12, "site_id": 30,
         "count": 3, "is_active": False, "status": "Cancelled"},
        {"id": 510, "type": 1, "name": "Defender for Business", "client_id": 14, "site_id": -1,
         "count": 5, "is_active": True, "deleted": True},
    ],
    "external_links": [
        {"id": 9001, "table_id": 1, "module_id": 0, "halo_id": 420,
         "halo_desc": "Timothy Taylor Limited", "third_party_id": "0b8f5d2c-3e1a-4c6b-8d7e",
         "third_party_desc": "Timothy Taylor Ltd", "third_party_type": "Pax8", "details_id": 1,
         "primary": True},
        {"id": 9002, "table_id": 1, "module_id": 0, "halo_id": 12, "halo_desc": "Acme Ltd",
         "third_party_id": "7c1e2d3f-acme", "third_party_desc": "ACME LIMITED",
         "third_party_type": "Pax8", "details_id": 1, "primary": True},
        {"id": 9003, "table_id": 1, "module_id": 2, "halo_id": 12, "halo_desc": "Acme Ltd",
         "third_party_id": "1234", "third_party_desc": "Acme (RMM)",
         "third_party_type": "NinjaOne", "details_id": 3},
    ],
}  # fmt: skip


def halo_scenario(credentials: dict[str, Any] | None = None, **halo: Any) -> Scenario:
    """The test world, with lists replaced or added by keyword."""
    data: dict[str, Any] = {
        "as_of": "2026-11-21T00:00:00Z",
        "halo": {**copy.deepcopy(HALO_WORLD), **halo},
    }
    if credentials:
        data["credentials"] = credentials
    return parse_scenario(data)


def client_for(app: Any) -> httpx.AsyncClient:
    hooks = {"response": [_check_posted_body]} if SWAGGER_PATH.exists() else {}
    return httpx.AsyncClient(
        transport=SandboxTransport(app=app), base_url=BASE_URL, event_hooks=hooks
    )


async def fetch_token(client: httpx.AsyncClient, **form: str) -> str:
    fields = {"grant_type": "client_credentials", "client_id": "sandbox",
              "client_secret": "sandbox", "scope": "all", **form}  # fmt: skip
    response = await client.post("/auth/token", data=fields)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@asynccontextmanager
async def authed_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client already holding a bearer token."""
    async with client_for(app) as client:
        client.headers["Authorization"] = f"Bearer {await fetch_token(client)}"
        yield client


def make_app(scenario: Scenario | None = None, **options: Any) -> Any:
    options.setdefault("rate_limit", None)
    return create_halo_app(scenario or halo_scenario(), **options)
