"""Refreshing the local copy of QuickBooks customers and items: all or nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from qbo_fixtures import CUSTOMERS, ITEMS, REALM, qbo_app, qbo_client
from test_sink_qbo import document
from trueup.core.posting.documents import load_catalog, missing_targets
from trueup.core.sources.http import ApiError
from trueup.core.store import tables as m
from trueup.core.store.books_company import keep_realm, stored_realm
from trueup.core.store.database import open_database
from trueup.core.sync.books_catalog import OtherCompanyError, refresh_qbo_catalog
from trueup.sandbox.transport import SandboxTransport


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def stored(store: Any, model: Any) -> dict[str, Any]:
    with Session(store.engine) as session:
        return {row.id: row for row in session.exec(select(model))}


class ItemsFail(httpx.AsyncBaseTransport):
    """The simulator, except that every Item query fails with a 400 Fault."""

    def __init__(self, app: Any) -> None:
        self.inner = SandboxTransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "FROM Item" in request.url.params.get("query", ""):
            fault = {"Error": [{"Message": "boom", "Detail": "boom", "code": "4000"}]}
            return httpx.Response(400, json={"Fault": fault})
        return await self.inner.handle_async_request(request)


async def test_refresh_stores_every_customer_and_item_with_its_raw_json(store) -> None:
    async with qbo_client(qbo_app()) as client:
        counts = await refresh_qbo_catalog(store, client)
    customers, items = stored(store, m.QboCustomer), stored(store, m.QboItem)
    assert counts == {"customers": 5, "items": 3, "tax_codes": 0}
    assert sorted(customers) == ["58", "59", "60", "61", "62"]
    acme = customers["58"]
    assert (acme.name, acme.active, acme.currency) == ("Acme Dental LLC", True, "USD")
    assert customers["60"].active is False and customers["59"].currency is None
    served = json.loads(acme.raw)  # as QuickBooks answers: its SyncToken and MetaData too
    assert served == {**CUSTOMERS[0], "SyncToken": "0", "MetaData": served["MetaData"]}
    seat = items["21"]
    assert (seat.name, seat.sku, seat.type, seat.active) == ("Managed Seat", "MS-SEAT", "Service",
                                                             True)  # fmt: skip
    labour = json.loads(items["4"].raw)
    assert items["5"].active is False and labour == {**ITEMS[1], "SyncToken": "0",
                                                     "MetaData": labour["MetaData"]}  # fmt: skip


async def test_refresh_replaces_what_was_there(store) -> None:
    with store.write() as conn:
        conn.execute(m.table_of(m.QboCustomer).insert(), [{"id": "999", "raw": "{}"}])
    async with qbo_client(qbo_app()) as client:
        await refresh_qbo_catalog(store, client)
        await refresh_qbo_catalog(store, client)
    assert "999" not in stored(store, m.QboCustomer) and len(stored(store, m.QboCustomer)) == 5


async def test_a_failed_fetch_leaves_the_last_good_copy(store) -> None:
    async with qbo_client(qbo_app()) as client:
        await refresh_qbo_catalog(store, client)
    smaller = qbo_app(customers=CUSTOMERS[:1])
    async with qbo_client(None, transport=ItemsFail(smaller)) as client:
        with pytest.raises(ApiError, match="QuickBooks error 4000"):
            await refresh_qbo_catalog(store, client)
    assert len(stored(store, m.QboCustomer)) == 5 and len(stored(store, m.QboItem)) == 3


async def test_another_companys_lists_are_refused_while_its_mappings_stand(store) -> None:
    """QuickBooks numbers customers 1, 2, 3 in every company: mappings made from the sandbox
    company's lists named the real company's customers of the same ids, silently."""
    now = datetime.now(UTC)
    with store.write() as conn:
        keep_realm(conn, "123145")
        conn.execute(
            m.table_of(m.QboCustomerMapping).insert(),
            [{"client_id": 12, "customer_id": "58", "created_at": now, "created_by": "t"}],
        )
    async with qbo_client(qbo_app()) as client:
        with pytest.raises(OtherCompanyError, match="made from company 123145's lists") as error:
            await refresh_qbo_catalog(store, client)
        assert "`trueup qbo refresh --new-company` reads 9341453050071234's lists" in str(
            error.value
        )
        assert stored(store, m.QboCustomer) == {}  # nothing read, nothing replaced
        assert [c for c in stored_rows(store, m.QboCustomerMapping)] == [12]
        with store.read() as conn:
            catalog = load_catalog(conn, qbo_realm=REALM)
        [problem] = missing_targets(document(), "qbo", catalog)  # a post is refused too
        assert problem.startswith("the QuickBooks mappings in the store were made from company")
        await refresh_qbo_catalog(store, client, new_company=True)
    assert len(stored(store, m.QboCustomer)) == 5
    assert stored_rows(store, m.QboCustomerMapping) == []  # forgotten: map again
    with store.read() as conn:
        assert stored_realm(conn) == REALM
        catalog = load_catalog(conn, qbo_realm=REALM)
    assert not any("made from company" in p for p in missing_targets(document(), "qbo", catalog))


def stored_rows(store: Any, model: Any) -> list[int]:
    with Session(store.engine) as session:
        return [row.client_id for row in session.exec(select(model))]


async def test_lists_read_without_the_company_leave_exactly_once_unknown_and_refuse(store):
    """A CompanyInfo answered without its Id stores no company: the custom transaction numbers
    check, which keeps a lost answer from making a second invoice, was skipped."""
    async with qbo_client(qbo_app()) as client:
        await refresh_qbo_catalog(store, client)
    with store.write() as conn:
        conn.execute(m.table_of(m.QboCompany).delete())
        catalog = load_catalog(conn, qbo_realm=REALM)
    problems = missing_targets(document(), "qbo", catalog)
    assert any("company's settings were not read with its lists" in p for p in problems)
