"""The HaloPSA simulator judged by code nobody here wrote: the `halopsa` package on PyPI (2.0.2,
import name `HaloPSA`), driving it over loopback HTTP through every call trueup's Halo client and
sinks make that the package can make (the client-credentials token; Client, Site, Item,
RecurringInvoice and SoftwareLicence lists, page by page, and single reads; Invoice lists, reads,
a create and a void by the `voided` field; a recurring invoice's lines saved), with each POST body
checked against Halo's swagger and what the package wrote read back by trueup's own client.

The package is maintained (releases from October 2024 to February 2026, classified Pre-Alpha).
It speaks requests: `_MethodsHelper.__init__` makes a `requests.Session()`, then builds
`https://{tenant}.halo{tenant_type}.com/auth/token` and `.../api` and fetches the token at once,
with no setting for another host. Pointing it at loopback, then, is done by monkeypatching the
module global `requests` of `HaloPSA.Halo` (reached through importlib: the package's
`from .Halo import *` shadows the submodule with the class) with a namespace whose `Session`
makes requests.Sessions carrying a transport adapter that maps `https://trueup.halopsa.com` onto
the simulator (tests/conformance_serving.py) and refuses any other address.

What the package does wrong, by Halo's swagger (tests/specs/halopsa-swagger.json, the same file
as /work/shared/specs/), not imitated:
- `SoftwareLicences.search` sends only its `**others`: its named parameters (client_id,
  includeinactive, licence_type, count, paging, order) are dropped, though the swagger's
  `GET /SoftwareLicence` takes them all (line 29291). The licences trueup lists (inactive ones
  included) are fetched below through the package's own `_mh._search`, which sends them.
- `RecurringInvoices.update_lines` sends `GET /RecurringInvoice/UpdateLines`; the swagger has
  `POST /RecurringInvoice/updatelines` (line 42099), which the simulator serves; the GET is a 405.
- A 404 is raised as "The specified URL is invalid" even for a record that is gone.
Not in the package, so not covered here: `GET /api/authinfo` (trueup's auth-server discovery),
the token's `?tenant=`, `GET /api/ExternalLink`, and `POST /api/Invoice/{id}/void`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from HaloPSA import Halo

from conformance_serving import LoopbackAdapter
from halo_fixtures import halo_scenario, request_body_pointer, swagger, swagger_check
from trueup.core.posting.halo_invoice import find_invoices
from trueup.core.posting.sink import Document, Posted
from trueup.core.sources.halo import HaloClient
from trueup.sandbox.serve import SandboxUrls, build_simulators, serve_in_background

TENANT = "trueup"  # the package builds https://trueup.halopsa.com from it
halo_module = importlib.import_module("HaloPSA.Halo")


@pytest.fixture(scope="module")
def served() -> Iterator[SandboxUrls]:
    with serve_in_background(build_simulators(halo_scenario())) as urls:
        yield urls


@pytest.fixture
def wire(served: SandboxUrls, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackAdapter]:
    """Halo's tenant host, served by the simulator; every POST the package sent is checked
    against the swagger's request schema for its path afterwards."""
    adapter = LoopbackAdapter({f"https://{TENANT}.halopsa.com": served.halo})
    monkeypatch.setattr(halo_module, "requests", SimpleNamespace(Session=adapter.session))
    yield adapter
    for sent in adapter.sent:
        path = urlsplit(str(sent.url)).path
        pointer = request_body_pointer(path.removeprefix("/api"))
        if sent.method == "POST" and path.startswith("/api/") and pointer:
            swagger_check()(json.loads(sent.body or b"null"), pointer)


@pytest.fixture
def halo(wire: LoopbackAdapter) -> Halo:
    return Halo(TENANT, "sandbox", "sandbox")


def query(sent: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(sent.url)).query)


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [row["id"] for row in rows]


def test_the_package_gets_a_token_and_a_wrong_secret_is_refused(
    halo: Halo, wire: LoopbackAdapter
) -> None:
    (grant,) = wire.requests_to("POST", "/auth/token")
    assert grant.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(str(grant.body)) == {"grant_type": ["client_credentials"],
        "client_id": ["sandbox"], "client_secret": ["sandbox"], "scope": ["all"]}  # fmt: skip
    assert halo.Clients.get(12)["name"] == "Acme Ltd"  # the bearer is taken
    assert str(wire.sent[-1].headers["Authorization"]).startswith("Bearer ")
    with pytest.raises(ValueError, match=r"Unknown client or wrong secret\. Make sure your client"):
        Halo(TENANT, "sandbox", "wrong")


def test_clients_sites_and_items_page_by_page_as_trueup_lists_them(
    halo: Halo, wire: LoopbackAdapter
) -> None:
    pages = [halo.Clients.search(pageinate=True, page_size=2, page_no=n, includeinactive=True)
             for n in (1, 2, 3)]  # fmt: skip
    assert [ids(p["clients"]) for p in pages] == [[12, 14], [16, 18], [420]]
    assert {p["record_count"] for p in pages} == {5}
    assert query(wire.sent[-1])["page_no"] == ["3"] and query(wire.sent[-1])["pageinate"]
    assert ids(halo.Clients.search()["clients"]) == [12, 14, 16, 420]  # active only by default
    assert 18 in ids(halo.Clients.get_all(includeinactive=True))
    acme = halo.Clients.get(12)
    assert (acme["accountsid"], acme["toplevel_name"]) == ("CUST-0012", "Customers")
    sites = halo.Sites.search(includeinactive=True)
    assert ids(sites["sites"]) == [30, 31, 32, 33] and sites["record_count"] == 4
    assert ids(halo.Sites.search(client_id=12)["sites"]) == [30]  # 31 is inactive
    assert halo.Sites.get(33)["client_name"] == "Timothy Taylor Limited"
    items = halo.Items.search(pageinate=True, page_size=2, page_no=2, includeinactive=True)
    assert (ids(items["items"]), items["record_count"]) == ([1500], 3)
    assert ids(halo.Items.search()["items"]) == [1000, 1402]  # 1500's status is inactive
    m365 = halo.Items.get(1000)
    assert (m365["recurringprice"], m365["nominalcode"]) == (10.32, "Microsoft-365-Apps-Business")


def test_recurring_invoices_with_lines_and_the_licences_they_count(
    halo: Halo, wire: LoopbackAdapter
) -> None:
    listed = halo.RecurringInvoices.search(includelines=True, client_ids="420,12")
    by_id = {row["id"]: row for row in listed["invoices"]}
    assert sorted(by_id) == [-95, -94] and listed["record_count"] == 2
    seats = by_id[-94]["lines"][1]
    assert (seats["_itemid"], seats["qty_order"], seats["unit_price"]) == (1000, 14.0, 10.32)
    assert seats["quantity_licences"][0]["licence_id"] == 507
    assert all("lines" not in row for row in halo.RecurringInvoices.search()["invoices"])
    assert ids(halo.RecurringInvoices.get_all()) == [-94, -95]  # -96 is disabled
    everything = halo.RecurringInvoices.search(includeinactive=True)
    assert ids(everything["invoices"]) == [-94, -95, -96]
    single = halo.RecurringInvoices.get(-94)
    assert (single["revenue"], single["total"], len(single["lines"])) == (969.48, 1163.38, 2)
    # The package drops SoftwareLicences.search's named filters (see above): client 420's
    # licence comes back for client 12, and the inactive ones are left out.
    assert ids(halo.SoftwareLicences.search(client_id=12, includeinactive=True)["licences"]) == [
        507, 508]  # fmt: skip
    assert "client_id" not in query(wire.sent[-1])
    parameters = _swagger_parameters("/SoftwareLicence")
    assert {"client_id", "includeinactive", "page_no", "page_size"} <= parameters
    url = halo.SoftwareLicences.url
    licences = halo._mh._search(url=url, includeinactive=True, pageinate=True, page_size=50)
    assert ids(licences["licences"]) == [507, 508, 509, 510]
    assert ids(halo._mh._search(url=url, client_id=12, includeinactive=True)["licences"]) == [
        508, 509]  # fmt: skip
    licence = halo.SoftwareLicences.get(507)
    assert (licence["count"], licence["price"], licence["distributor"]) == (14, 10.32, "Pax8")


def test_an_invoice_created_and_voided_by_the_package_as_trueup_finds_it(
    halo: Halo, served: SandboxUrls
) -> None:
    listed = halo.Invoices.search(client_ids="12,14")
    assert ids(listed["invoices"]) == [7001, 7002]
    assert all("lines" not in row for row in listed["invoices"])
    with_lines = halo.Invoices.search(client_id=12, includelines=True)["invoices"]
    assert with_lines[0]["lines"][0]["recurring_invoice_line_id"] == 25001
    assert halo.Invoices.get(7002)["lines"][0]["net_amount"] == 50.0
    # The body trueup's sink sends (invoice_body), posted by the package as its one-element array.
    reference = "TU-2026-11-C12-B7"
    saved = halo.Invoices.update(client_id=12, invoice_date="2026-11-30T00:00:00",
                                 reference=reference, notes_1="trueup batch 7, November 2026",
                                 lines=[{"_itemid": 1000, "item_shortdescription": "M365 Apps",
                                         "qty_order": 3, "unit_price": 10.32,
                                         "nominal_code": "Microsoft-365-Apps-Business"},
                                        {"item_shortdescription": "Onboarding", "qty_order": 1,
                                         "unit_price": 150}])  # fmt: skip
    invoice_id = saved["id"]
    assert (saved["invoicenumber"], saved["client_name"]) == (str(invoice_id), "Acme Ltd")
    assert (saved["revenue"], [line["net_amount"] for line in saved["lines"]]) == (
        180.96, [30.96, 150.0])  # fmt: skip
    assert halo.Invoices.get(invoice_id)["reference"] == reference
    found = asyncio.run(_trueup_finds(served, reference))
    assert found == {reference: Posted(str(invoice_id), str(invoice_id))}
    voided = halo.Invoices.update(id=invoice_id, voided=True)  # the swagger's writable field
    assert voided["voided"] is True and halo.Invoices.get(invoice_id)["voided"] is True
    assert asyncio.run(_trueup_finds(served, reference)) == {}  # void: not posted any more
    with pytest.raises(Exception, match=r"^404 "):
        halo.Invoices.get(999_999)


def test_recurring_lines_saved_by_the_package_as_trueup_reads_them(
    halo: Halo, served: SandboxUrls, wire: LoopbackAdapter
) -> None:
    (line,) = halo.RecurringInvoices.get(-95)["lines"]
    echoed = {key: value for key, value in line.items() if key not in ("net_amount", "total_price")}
    saved = halo.RecurringInvoices.update(id=-95, lines=[echoed | {"qty_order": 12}])
    assert (saved["revenue"], saved["lines"][0]["id"]) == (123.84, 25001)
    trueup_sees = asyncio.run(_trueup_recurring(served, -95))
    assert (trueup_sees["revenue"], trueup_sees["lines"][0]["qty_order"]) == (Decimal("123.84"), 12)
    # The package's update_lines is a GET to a route the swagger has only as POST.
    with pytest.raises(Exception, match=r"^405 "):
        halo.RecurringInvoices.update_lines(id=25001, ihid=-95, qty_order=13)
    assert wire.sent[-1].method == "GET" and "/UpdateLines" in str(wire.sent[-1].url)
    assert set(_swagger_path("/RecurringInvoice/updatelines")) == {"post"}
    # The swagger's own call, through the package's requester: the line is patched in place.
    url = f"{halo.RecurringInvoices.url}/updatelines"
    (patched,) = halo._mh._requester("post", url, {"id": 25001, "ihid": -95, "qty_order": 13})
    assert (patched["qty_order"], patched["net_amount"]) == (13, 134.16)
    assert asyncio.run(_trueup_recurring(served, -95))["revenue"] == Decimal("134.16")


def _swagger_path(path: str) -> dict[str, Any]:
    paths: dict[str, Any] = swagger()["paths"]
    return paths[path]


def _swagger_parameters(path: str) -> set[str]:
    return {parameter["name"] for parameter in _swagger_path(path)["get"]["parameters"]}


def _client(served: SandboxUrls) -> HaloClient:
    return HaloClient(served.halo, served.halo_auth, "sandbox", "sandbox", rate=None)


async def _trueup_finds(served: SandboxUrls, reference: str) -> dict[str, Posted]:
    """What trueup's Halo sink finds for `reference` (client 12's invoices, exact match)."""
    document = Document(
        reference=reference, client_id=12, client_name="Acme Ltd", month="2026-11",
        invoice_date=date(2026, 11, 30), currency="GBP", subtotal=Decimal("180.96"),
        tax=Decimal(0), total=Decimal("180.96"), note="", lines=(),
    )  # fmt: skip
    async with _client(served) as client:
        return await find_invoices(client, [document])


async def _trueup_recurring(served: SandboxUrls, recurring_id: int) -> dict[str, Any]:
    async with _client(served) as client:
        return await client.recurring_invoice(recurring_id)
