"""The seat diff (billing-rules §9) on tiny hand-filled stores and on the synced demo scenario."""

import asyncio
import json
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from trueup.core.billing.timeline import quantity_on
from trueup.core.diff.seats import DiffRow, diff_detail, diff_json, seat_diff, summarise
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.sync.run import sync_sources
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports

NOV = "2026-11"
TODAY = date(2026, 11, 21)
DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


class Fill:
    """Rows straight into the store's tables, with the few columns the diff reads."""

    def __init__(self, conn):
        self.conn = conn
        self.line_ids = iter(range(1, 1000))

    def add(self, model, **values):
        self.conn.execute(insert(m.table_of(model)).values(raw="{}", **values))

    def client(self, client_id, name):
        self.add(m.HaloClient, id=client_id, name=name)

    def company(self, company_id, client_id):
        self.conn.execute(
            insert(m.table_of(m.CompanyMapping)).values(
                company_id=company_id, client_id=client_id, created_at=NOW, created_by="test"
            )
        )

    def product(self, product_id, item_id, *, client_id=None, sku=None):
        self.add(m.Pax8Product, id=product_id, sku=sku or product_id.upper(), name=product_id)
        self.conn.execute(
            insert(m.table_of(m.ProductMapping)).values(
                product_id=product_id,
                item_id=item_id,
                client_id=client_id,
                created_at=NOW,
                created_by="test",
            )
        )

    def subscription(self, sub_id, company, product, quantity, **more):
        values = {
            "status": "Active",
            "price": Decimal("12.50"),
            "currency": "USD",
            "billing_start": date(2025, 3, 15),
            "updated_at": datetime(2025, 3, 15, 10, tzinfo=UTC),
            **more,
        }
        self.add(
            m.Pax8Subscription,
            id=sub_id,
            company_id=company,
            product_id=product,
            product_name=f"{product} name",
            quantity=Decimal(quantity),
            **values,
        )

    def recurring(self, invoice_id, client_id, *lines, disabled=False):
        self.add(m.HaloRecurringInvoice, id=invoice_id, client_id=client_id, disabled=disabled)
        for item_id, quantity, *rest in lines:
            self.add(
                m.HaloRecurringInvoiceLine,
                id=next(self.line_ids),
                invoice_id=invoice_id,
                item_id=item_id,
                quantity=Decimal(quantity),
                unit_price=Decimal(rest[0]) if rest else Decimal("12.50"),
                inactive=len(rest) > 1 and rest[1] == "inactive",
            )


def diff(store, month=NOV, today=TODAY):
    return seat_diff(store, month, today=today)


def by_subscription(rows):
    return {row.subscription_id: row for row in rows}


def test_every_status_on_a_tiny_store(store):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme Dental")
        f.company("acme", 1)
        for product, item in (("m365", 10), ("exo", 11), ("defender", 12), ("keeper", 13)):
            f.product(product, item)
        f.product("teams", 14)
        f.product("old", 15)
        f.subscription("s-match", "acme", "m365", 5)
        f.subscription("s-under", "acme", "exo", 6, price=Decimal("4.00"))
        f.subscription("s-over", "acme", "defender", 3, price=Decimal("3.00"))
        f.subscription("s-missing", "acme", "keeper", 2, price=Decimal("3.75"))
        f.subscription("s-unmapped-product", "acme", "azure", 1, price=Decimal("0"))
        f.subscription(
            "s-cancelled",
            "acme",
            "old",
            4,
            status="Cancelled",
            end_at=datetime(2026, 9, 30, tzinfo=UTC),
            updated_at=datetime(2026, 9, 30, 9, tzinfo=UTC),
        )
        f.subscription("s-not-mapped", "orphan", "m365", 9)  # the unmapped screen's business
        f.recurring(
            -1,
            1,
            (10, 5),
            (11, 4, "4.00"),
            (12, 5, "3.00"),
            (14, 3, "10.00"),
            (15, 4, "20.00"),
            (999, 7, "125.00"),  # managed services: an item no Pax8 product maps to
        )
    rows = diff(store)
    statuses = {(r.subscription_id, r.product_id): r.status for r in rows}
    assert statuses == {
        ("s-match", "m365"): "match",
        ("s-under", "exo"): "under",
        ("s-over", "defender"): "over",
        ("s-missing", "keeper"): "missing_in_halo",
        ("s-unmapped-product", "azure"): "missing_in_halo",  # no item, so no line can bill it
        (None, "teams"): "missing_in_pax8",
        ("s-cancelled", "old"): "missing_in_pax8",  # names the cancelled subscription
    }
    row = by_subscription(rows)
    assert (row["s-under"].pax8_qty, row["s-under"].halo_qty, row["s-under"].delta) == (6, 4, -2)
    assert row["s-under"].monthly_impact == Decimal("-8.00")
    assert row["s-over"].monthly_impact == Decimal("6.00")
    assert row["s-missing"].monthly_impact == Decimal("-7.50")
    teams = next(r for r in rows if r.product_id == "teams")
    assert (teams.pax8_qty, teams.halo_qty, teams.unit_price) == (0, 3, Decimal("10.00"))
    assert teams.monthly_impact == Decimal("30.00") and teams.company_id == "acme"
    assert row["s-cancelled"].monthly_impact == Decimal("80.00")
    assert [len(r.halo_lines) for r in rows if r.subscription_id == "s-match"] == [1]
    # one client, the largest impact first
    assert [abs(r.monthly_impact) for r in rows] == sorted(
        (abs(r.monthly_impact) for r in rows), reverse=True
    )
    summary = summarise(rows)
    assert summary.counts == {
        "under": 1,
        "missing_in_halo": 2,
        "over": 1,
        "missing_in_pax8": 2,
        "match": 1,
    }
    assert (summary.under_billing, summary.over_billing, summary.currency) == (
        Decimal("15.50"),
        Decimal("116.00"),
        "USD",
    )


def test_a_client_override_beats_the_global_mapping(store):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme")
        f.client(2, "Birch")
        f.company("acme", 1)
        f.company("birch", 2)
        f.product("m365", 10)
        conn.execute(
            insert(m.table_of(m.ProductMapping)).values(
                product_id="m365", client_id=2, item_id=20, created_at=NOW, created_by="t"
            )
        )
        f.subscription("s-acme", "acme", "m365", 4)
        f.subscription("s-birch", "birch", "m365", 4)
        f.recurring(-1, 1, (10, 4), (20, 9))
        f.recurring(-2, 2, (10, 9), (20, 4))
    rows = diff(store)
    # Birch's item-10 line stands for no product of Birch's (the override moved m365 to 20)
    assert [(r.client_name, r.status, r.halo_qty) for r in rows] == [
        ("Acme", "match", 4),
        ("Birch", "match", 4),
    ]
    assert by_subscription(rows)["s-birch"].halo_lines[0].item_id == 20


def test_disabled_headers_and_inactive_lines_do_not_bill(store):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme")
        f.company("acme", 1)
        f.product("m365", 10)
        f.product("exo", 11)
        f.subscription("s-m365", "acme", "m365", 5)
        f.subscription("s-exo", "acme", "exo", 2)
        f.recurring(-1, 1, (10, 3), (10, 2, "12.50", "inactive"))
        f.recurring(-2, 1, (11, 2), (10, 2), disabled=True)
    row = by_subscription(diff(store))
    assert (row["s-m365"].status, row["s-m365"].halo_qty) == ("under", 3)
    assert [line.quantity for line in row["s-m365"].halo_lines] == [3]
    assert row["s-exo"].status == "missing_in_halo"


@pytest.mark.parametrize(
    ("halo", "expected"),
    [
        (5, [("s-first", 5, "match"), ("s-second", 0, "under")]),
        (10, [("s-first", 5, "match"), ("s-second", 5, "match")]),
        (12, [("s-first", 5, "match"), ("s-second", 7, "over")]),
        (3, [("s-first", 3, "under"), ("s-second", 0, "under")]),
    ],
)
def test_two_subscriptions_of_one_product_share_the_item_in_start_order(store, halo, expected):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme")
        f.company("acme", 1)
        f.product("m365", 10)
        f.subscription("s-second", "acme", "m365", 5, billing_start=date(2026, 6, 4))
        f.subscription("s-first", "acme", "m365", 5, billing_start=date(2026, 6, 2))
        f.recurring(-1, 1, (10, halo))
    rows = diff(store)
    found = sorted((r.subscription_id, r.halo_qty, r.status) for r in rows)
    assert found == expected
    assert sum(r.delta for r in rows) == halo - 10
    assert all(len(r.halo_lines) == 1 for r in rows)


def test_currency_is_carried_and_never_added_across(store):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme")
        f.client(2, "Berlin GmbH")
        f.company("acme", 1)
        f.company("berlin", 2)
        f.product("m365", 10)
        f.product("exo", 11)
        f.subscription("s-acme", "acme", "m365", 3)
        f.subscription("s-acme-2", "acme", "exo", 1, price=Decimal("4"))
        f.subscription("s-acme-3", "acme", "exo", 1, price=Decimal("4"))
        f.subscription("s-berlin", "berlin", "m365", 4, currency="EUR", price=Decimal("11.30"))
        f.client(3, "Cork Ltd")
        f.company("cork", 3)  # mapped, with no subscription at all
        f.recurring(-1, 1, (10, 2), (11, 1))
        f.recurring(-2, 2, (10, 3), (11, 1, "3.90"))
        f.recurring(-3, 3, (10, 1))
    rows = diff(store)
    assert {(r.client_name, r.product_id): r.currency for r in rows} == {
        ("Acme", "m365"): "USD",
        ("Acme", "exo"): "USD",
        ("Berlin GmbH", "m365"): "EUR",
        ("Berlin GmbH", "exo"): "EUR",  # missing in Pax8: the client's own currency
        ("Cork Ltd", "m365"): "USD",  # no subscription to say: the store's main currency
    }
    cork = next(r for r in rows if r.client_id == 3)
    assert (cork.status, cork.company_id, cork.subscription_id) == ("missing_in_pax8", "cork", None)
    summary = summarise(rows)
    assert summary.currency == "USD"
    assert summary.under_billing == Decimal("16.50")  # 12.50 + 4.00, no euros in it
    assert summary.by_currency["EUR"] == (Decimal("11.30"), Decimal("3.90"))
    assert summary.over_billing == Decimal("12.50")  # Cork's line


def test_json_strings_are_formatted_exactly():
    def row(**values):
        base = {
            "client_id": 14,
            "client_name": "Bear Creek Winery LLC",
            "company_id": "c",
            "subscription_id": "s",
            "product_id": "p",
            "sku": "MST-365-BUS-STD",
            "product_name": "M365",
            "pax8_qty": Decimal(18),
            "halo_qty": Decimal("17.0"),
            "delta": Decimal("-1.0"),
            "status": "under",
            "unit_price": Decimal("12.5"),
            "monthly_impact": Decimal("-12.50"),
            "currency": "USD",
            "halo_lines": (),
        }
        return DiffRow(**{**base, **values})

    rows = [
        row(),
        row(pax8_qty=Decimal("18.63333"), monthly_impact=Decimal("232.915")),
        row(delta=Decimal("-0.00001"), monthly_impact=Decimal("-0.001")),
    ]
    shape = diff_json(rows, NOV)
    assert shape["month"] == NOV
    assert shape["rows"][0] == {
        "client_id": 14,
        "client_name": "Bear Creek Winery LLC",
        "company_id": "c",
        "subscription_id": "s",
        "product_id": "p",
        "sku": "MST-365-BUS-STD",
        "pax8_qty": "18.0000",
        "halo_qty": "17.0000",
        "delta": "-1.0000",
        "status": "under",
        "unit_price": "12.50",
        "monthly_impact": "-12.50",
        "currency": "USD",
    }
    assert (shape["rows"][1]["pax8_qty"], shape["rows"][1]["monthly_impact"]) == (
        "18.6333",
        "232.92",
    )
    assert (shape["rows"][2]["delta"], shape["rows"][2]["monthly_impact"]) == ("0.0000", "0.00")
    json.dumps(shape)  # plain JSON: strings and ints only


def test_seats_are_counted_on_today_in_the_current_month_else_on_the_last_day(store):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme")
        f.company("acme", 1)
        f.product("m365", 10)
        f.subscription("s1", "acme", "m365", 12, updated_at=datetime(2026, 11, 25, 9, tzinfo=UTC))
        for position, (quantity, changed) in enumerate(
            (
                (12, datetime(2026, 11, 25, 9, tzinfo=UTC)),
                (10, datetime(2025, 3, 15, 10, tzinfo=UTC)),
            )
        ):
            f.add(
                m.Pax8SubscriptionSnapshot,
                subscription_id="s1",
                position=position,
                quantity=Decimal(quantity),
                status="Active",
                price=Decimal("12.50"),
                updated_at=changed,
            )
        f.recurring(-1, 1, (10, 10))
    assert diff(store, today=date(2026, 11, 21))[0].pax8_qty == 10
    assert diff(store, today=date(2026, 12, 3))[0].pax8_qty == 12
    assert diff(store, month="2026-10", today=date(2026, 12, 3))[0].pax8_qty == 10


def test_ignored_products_make_no_rows(store):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme")
        f.company("acme", 1)
        conn.execute(
            insert(m.table_of(m.ProductMapping)).values(
                product_id="azure", status="ignored", created_at=NOW, created_by="t"
            )
        )
        f.subscription("s-azure", "acme", "azure", 1, price=Decimal("40"))
    assert diff(store) == []


def test_detail_without_a_subscription_is_empty(store):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme")
        f.company("acme", 1)
        f.product("teams", 14)
        f.subscription("s-other", "acme", "other", 0)
        f.recurring(-1, 1, (14, 3))
    (row,) = [r for r in diff(store) if r.status == "missing_in_pax8"]
    detail = diff_detail(store, row, NOV)
    assert (detail.timeline, detail.history) == ([], [])


# --- the demo scenario, synced through the in-process simulators ------------------------------


@pytest.fixture(scope="module")
def synced_demo(tmp_path_factory):
    """The demo scenario synced once; each test works on its own copy of the file."""
    path = tmp_path_factory.mktemp("demo") / "synced.sqlite"
    database = open_database(path)
    transports = in_process_transports(
        build_simulators(parse_scenario(json.loads(DEMO.read_text())))
    )
    asyncio.run(_sync(database, transports))
    database.dispose()
    return path


async def _sync(database, transports):
    pax8 = Pax8Client("http://pax8.test/v1", "sandbox", "sandbox", transport=transports["pax8"])
    halo = HaloClient(
        "http://halo.test",
        "http://halo.test/auth",
        "sandbox",
        "sandbox",
        transport=transports["halo"],
    )
    async with pax8, halo:
        results = await sync_sources(database, pax8=pax8, halo=halo, today=TODAY)
    assert all(r.status == "ok" for r in results)


@pytest.fixture
def demo(synced_demo, tmp_path):
    copy = tmp_path / "demo.sqlite"
    with closing(sqlite3.connect(synced_demo)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    database = open_database(copy)
    yield database
    database.dispose()


def map_bear_creek(database):
    """Bear Creek's company to its Halo client, its products to the items coded with their sku."""
    with database.write() as conn:
        company = conn.execute(
            select(m.table_of(m.Pax8Company).c.id).where(
                m.table_of(m.Pax8Company).c.name == "Bear Creek Winery"
            )
        ).scalar_one()
        client = conn.execute(
            select(m.table_of(m.HaloClient).c.id).where(
                m.table_of(m.HaloClient).c.name == "Bear Creek Winery LLC"
            )
        ).scalar_one()
        f = Fill(conn)
        f.company(company, client)
        items = dict(
            conn.execute(
                select(m.table_of(m.HaloItem).c.supplier_part_code, m.table_of(m.HaloItem).c.id)
            ).all()
        )
        for product_id, sku in conn.execute(
            select(m.table_of(m.Pax8Product).c.id, m.table_of(m.Pax8Product).c.sku)
        ):
            if sku in items:
                conn.execute(
                    insert(m.table_of(m.ProductMapping)).values(
                        product_id=product_id, item_id=items[sku], created_at=NOW, created_by="t"
                    )
                )
    return client


def test_bear_creek_is_under_billed_by_one_seat(demo):
    client = map_bear_creek(demo)
    rows = diff(demo)
    assert {r.client_id for r in rows} == {client}
    (bear,) = [r for r in rows if r.product_name == "Microsoft 365 Business Standard"]
    assert (bear.status, bear.pax8_qty, bear.halo_qty, bear.delta) == ("under", 18, 17, -1)
    assert bear.monthly_impact == Decimal("-12.50") and bear.currency == "USD"
    assert diff_json([bear], NOV)["rows"][0]["monthly_impact"] == "-12.50"
    assert [line.quantity for line in bear.halo_lines] == [17]
    detail = diff_detail(demo, bear, NOV)
    assert [(e.start.day, e.end.day, e.quantity) for e in detail.timeline] == [
        (1, 4, 17),
        (5, 11, 18),
        (12, 14, 19),
        (15, 30, 18),
    ]
    assert len(detail.history) == 6


def test_stored_columns_and_raw_history_tell_the_same_story(demo):
    """Every company billed to one client: the diff (from columns) agrees with the detail
    (from the raw JSON) on every subscription's quantity."""
    with demo.write() as conn:
        f = Fill(conn)
        for (company,) in conn.execute(select(m.table_of(m.Pax8Company).c.id)):
            f.company(company, 1)
    rows = [r for r in diff(demo) if r.subscription_id and r.status != "missing_in_pax8"]
    assert len(rows) > 900
    for row in rows:
        assert quantity_on(diff_detail(demo, row, NOV).history, TODAY) == row.pax8_qty


def test_annual_terms_count_their_monthly_share(store):
    with store.write() as conn:
        f = Fill(conn)
        f.client(1, "Acme Dental")
        f.company("acme", 1)
        f.product("entra", 20)
        f.product("backup", 21)
        f.subscription(
            "s-annual", "acme", "entra", 10, price=Decimal("72.00"), billing_term="Annual"
        )
        f.subscription("s-3y", "acme", "backup", 2, price=Decimal("360.00"), billing_term="3-Year")
        f.recurring(-1, 1, (20, 8, "6.00"), (21, 1, "10.00"))
    rows = by_subscription(diff(store))
    assert (rows["s-annual"].unit_price, rows["s-annual"].monthly_impact) == (6, -12)
    assert (rows["s-3y"].unit_price, rows["s-3y"].monthly_impact) == (10, -10)
