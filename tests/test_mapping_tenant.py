"""Issue 20 (mapping): a Microsoft tenant is a strong key. A Partner Center customer's tenant id
(CustomerId) that Halo ties to a client (the client's Azure tenants, a licence's tenant) maps it
as a link; its tenant domain (CustomerDomainName) equal to the client's domain is as strong as the
same name. Halo's fields are the swagger's Area.azure_tenants[].azure_tenant_id, Area.domain and
Licence_List.tenant_id."""

import json

import pytest
from sqlalchemy import insert

from test_import_partner_center import HANDWRITTEN
from trueup.core.mapping.engine import accept_company_suggestions, company_rows
from trueup.core.service.imports import Imports
from trueup.core.store import tables as m
from trueup.core.store.database import open_database

FABRIKAM = "d1c7c0a4-2b8e-4a55-9d7c-3f1d6e0b9a21"
JOHNNY = "196e2273-9651-43a3-ba7e-7cbcd918fc40"


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def clients(store, *rows: tuple[int, str, dict]) -> None:
    with store.write() as conn:
        conn.execute(
            insert(m.table_of(m.HaloClient)),
            [
                {"id": i, "name": name, "inactive": False, "raw": json.dumps({"id": i, **raw})}
                for i, name, raw in rows
            ],
        )


def rows_by_name(store) -> dict:
    return {row.company_name: row for row in company_rows(store)}


def test_a_tenant_halo_keeps_for_a_client_maps_the_customer_whatever_its_name(store):
    clients(
        store,
        (7, "FBK Holdings", {"azure_tenants": [{"azure_tenant_id": FABRIKAM.upper()}]}),
        (8, "Fabrikam Incorporated", {}),
        (9, "Modern Customers GmbH", {"domain": "TestCustomerDomain.onmicrosoft.com"}),
    )
    Imports(store).run(HANDWRITTEN, "partner-center")
    rows = rows_by_name(store)
    fabrikam = rows["Fabrikam, Inc."]
    assert (fabrikam.client_id, fabrikam.score) == (7, 100)
    assert fabrikam.reason.startswith(f"Halo names its Microsoft tenant {FABRIKAM}")
    johnny = rows["Johnny Modern Cust DE2"]
    assert (johnny.client_id, johnny.score, johnny.status) == (9, 99, "suggested")
    assert "domain testcustomerdomain.onmicrosoft.com" in johnny.reason
    accept_company_suggestions(store)
    mapped = rows_by_name(store)["Fabrikam, Inc."]
    assert (mapped.status, mapped.client_id, mapped.source) == ("mapped", 7, "exact")


def test_a_licence_naming_the_tenant_is_a_link_too_and_an_inactive_one_is_not(store):
    clients(store, (7, "FBK Holdings", {}), (8, "Old FBK", {}))
    with store.write() as conn:
        conn.execute(
            insert(m.table_of(m.HaloLicence)),
            [
                {
                    "id": 1,
                    "client_id": 8,
                    "active": False,
                    "raw": json.dumps({"tenant_id": FABRIKAM}),
                },
                {
                    "id": 2,
                    "client_id": 7,
                    "active": True,
                    "raw": json.dumps({"tenant_id": FABRIKAM}),
                },
            ],
        )
    Imports(store).run(HANDWRITTEN, "partner-center")
    fabrikam = rows_by_name(store)["Fabrikam, Inc."]
    assert (fabrikam.client_id, fabrikam.score) == (7, 100)
    assert [c.client_id for c in fabrikam.candidates] == [7]


def test_a_tenant_halo_gives_to_two_clients_links_neither(store):
    tenant = {"azure_tenants": [{"azure_tenant_id": FABRIKAM}]}
    clients(store, (7, "FBK Holdings", tenant), (8, "FBK Holdings - Denver", tenant))
    Imports(store).run(HANDWRITTEN, "partner-center")
    fabrikam = rows_by_name(store)["Fabrikam, Inc."]
    assert fabrikam.status == "unmapped" and fabrikam.source is None
    assert [(c.client_id, c.score) for c in fabrikam.candidates] == [(7, 95), (8, 95)]
    assert fabrikam.candidates[0].reason.endswith(f"{FABRIKAM} on 2 clients")
    accept_company_suggestions(store)
    assert rows_by_name(store)["Fabrikam, Inc."].status == "unmapped"
