"""Creating the Halo item a Pax8 product lacks (issue 22): drafted from the store, created in Halo
once even when Halo's answer is lost, stored as a sync stores it, the product mapped to it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from halo_fixtures import request_body_pointer, swagger_check
from other_process import posting_elsewhere
from trueup.core.errors import SyncUnavailableError
from trueup.core.mapping.engine import MappingError, map_product, product_rows
from trueup.core.posting.run import PostingBusyError
from trueup.core.rules.current import set_default
from trueup.core.service.mappings import Mappings
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiError, RetryPolicy
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from trueup.core.sync.run import sync_sources
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports
from world import ACME, BEAR, M365, _sub, world

TODAY = date(2026, 11, 21)
FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_cap=0.01, max_retry_after=0.01)
PBI, SKU = "p0000000-0000-4000-8000-0000000000b1", "MST-PBI-PRO-C100"


def pbi_world() -> dict:
    """The test world with Power BI Pro sold and no Halo item for it: most subscriptions at
    14.00 (cost 11.90) a month, a newer one at 16.80, and an annual one at 168.00 a year; and
    Keeper Business, whose one subscription is cancelled."""
    data = world()
    pax8 = data["pax8"]
    pax8["products"].append(
        {"id": PBI, "name": "Power BI Pro", "vendorName": "Microsoft", "sku": SKU}
    )
    for number, (company, price, cost, updated, term) in enumerate(
        [
            (BEAR, 14.0, 11.9, "2026-10-12T10:00:00.000-0600", "Monthly"),
            (ACME, 14.0, 11.9, "2026-09-01T10:00:00.000-0600", "Monthly"),
            (ACME, 16.8, 14.28, "2026-11-01T10:00:00.000-0600", "Monthly"),
            (BEAR, 168.0, 142.8, "2026-11-02T10:00:00.000-0600", "Annual"),
        ]
    ):
        pax8["subscriptions"].append(
            _sub(
                f"s-pbi-{number}",
                company,
                PBI,
                "Power BI Pro",
                4,
                updated,
                price=price,
                partnerCost=cost,
                billingTerm=term,
            )
        )
    pax8["subscriptions"].append(
        _sub(
            "s-keeper",
            ACME,
            "p-unused",
            "Keeper Business",
            3,
            "2026-09-30T09:12:00.000-0600",
            status="Cancelled",
            endDate="2026-09-30T00:00:00Z",
        )
    )
    return data


class Halo:
    """The world's simulators, in-process; `client()` opens Halo through `wrap` if given."""

    def __init__(self) -> None:
        sims = build_simulators(parse_scenario(pbi_world()), rate_limits=False)
        self.transports = in_process_transports(sims)
        self.wrap: AnswerLost | None = None

    def client(self) -> HaloClient:
        transport = self.wrap or self.transports["halo"]
        return HaloClient(
            "http://halo.test",
            "http://halo.test/auth",
            "sandbox",
            "sandbox",
            transport=transport,
            retry=FAST,
        )

    async def items_with_sku(self) -> list[dict]:
        async with HaloClient(
            "http://halo.test",
            "http://halo.test/auth",
            "sandbox",
            "sandbox",
            transport=self.transports["halo"],
        ) as halo:
            return [
                row
                async for page in halo.items()
                for row in page
                if row.get("supplier_part_code") == SKU
            ]


class AnswerLost(httpx.AsyncBaseTransport):
    """Halo as it is, except that the answer to the first POST /api/Item never comes back:
    after the write (`applied`), or before Halo sees it; or comes back as `garbled` instead.
    `then_down` fails every later request."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        applied: bool = True,
        then_down: bool = False,
        garbled: bytes | None = None,
    ) -> None:
        self.inner, self.applied, self.then_down = inner, applied, then_down
        self.garbled = garbled
        self.posts: list[dict] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.then_down and self.posts:
            raise httpx.ConnectError("Halo is down", request=request)
        if request.method != "POST" or request.url.path.lower() != "/api/item":
            return await self.inner.handle_async_request(request)
        self.posts.append(json.loads(request.content))
        if len(self.posts) > 1:
            return await self.inner.handle_async_request(request)
        if self.applied:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        if self.garbled is not None:
            return httpx.Response(200, content=self.garbled, request=request)
        raise httpx.ReadTimeout("the answer was lost", request=request)


@pytest.fixture
async def halo() -> Halo:
    return Halo()


@pytest.fixture
async def db(tmp_path, halo):
    database = open_database(tmp_path / "trueup.sqlite")
    await sync(database, halo)
    map_product(database, M365, 1000)
    yield database
    database.dispose()


async def sync(database, halo: Halo) -> None:
    pax8 = Pax8Client(
        "http://pax8.test/v1", "sandbox", "sandbox", transport=halo.transports["pax8"]
    )
    async with pax8, halo.client() as client:
        results = await sync_sources(database, pax8=pax8, halo=client, today=TODAY)
    assert all(r.status == "ok" for r in results)


def mapping_of(database, product_id: str):
    table = m.table_of(m.ProductMapping)
    with database.read() as conn:
        return conn.execute(select(table).where(table.c.product_id == product_id)).first()


def journal(database) -> list[str]:
    table = m.table_of(m.MappingChange)
    with database.read() as conn:
        return list(conn.execute(select(table.c.action).order_by(table.c.id)).scalars())


# --- the draft ---------------------------------------------------------------------------------


def test_the_draft_takes_the_price_most_monthly_subscriptions_are_on(db) -> None:
    draft = Mappings(db).item_draft(PBI)
    assert (draft.name, draft.sku, draft.currency) == ("Power BI Pro", SKU, "USD")
    assert (draft.cost, draft.price) == (Decimal("11.90"), Decimal("14.00"))
    assert (draft.cost_from, draft.price_from) == ("Pax8 partner cost", "Pax8 price")


def test_the_draft_prices_as_the_rules_defaults_bill(db) -> None:
    set_default(db, "price", "markup")
    set_default(db, "markup_percent", "20")
    draft = Mappings(db).item_draft(PBI)
    assert draft.price == Decimal("14.28")  # 11.90 + 20%
    assert draft.price_from == "Pax8 cost + 20% markup (rules: defaults)"


def test_a_price_given_is_the_items_price(db) -> None:
    draft = Mappings(db).item_draft(PBI, "19.5")
    assert (draft.cost, draft.price, draft.price_from) == (
        Decimal("11.90"),
        Decimal("19.50"),
        "price given",
    )


@pytest.mark.parametrize(
    ("price", "said"),
    [
        ("twelve", "not an amount"),
        ("-1", "negative"),
        ("1e400", "not an amount"),
        ("2000000000", "out of range"),
    ],
)
def test_a_price_given_that_is_no_price_is_refused(db, price, said) -> None:
    with pytest.raises(MappingError, match=f"^price .*{said}"):
        Mappings(db).item_draft(PBI, price)


async def test_while_another_trueup_sends_nothing_is_created(db, halo) -> None:
    """Two trueups creating one item would both find none in Halo, then both create it."""
    halo.wrap = AnswerLost(halo.transports["halo"])
    with posting_elsewhere(db.path), pytest.raises(PostingBusyError, match="new Halo item"):
        await Mappings(db, halo=halo.client).create_item(PBI)
    assert halo.wrap.posts == [] and await halo.items_with_sku() == []
    assert mapping_of(db, PBI) is None


@pytest.mark.parametrize(
    ("product", "said"),
    [
        ("p-nope", "unknown Pax8 product p-nope"),
        (M365, "already billed as Halo item 1000"),
        ("p-unused", "Keeper Business has no billable subscription"),
    ],
)
def test_a_product_that_cannot_have_an_item_made_says_why(db, product, said) -> None:
    with pytest.raises(MappingError, match=said):
        Mappings(db).item_draft(product)


async def test_without_a_halo_connection_nothing_is_tried(db) -> None:
    with pytest.raises(SyncUnavailableError):
        await Mappings(db).create_item(PBI)


# --- creating it once ----------------------------------------------------------------------------


async def test_created_once_when_the_answer_is_lost_and_mapped_as_created(db, halo) -> None:
    halo.wrap = AnswerLost(halo.transports["halo"])
    made = await Mappings(db, halo=halo.client).create_item(PBI)
    assert len(halo.wrap.posts) == 1
    created = await halo.items_with_sku()
    assert len(created) == 1 and made.created and made.item_id == created[0]["id"]
    mapping = mapping_of(db, PBI)
    assert (mapping.item_id, mapping.status, mapping.source) == (made.item_id, "mapped", "created")
    assert journal(db)[-1] == "create-item"
    entry = read_log(db, limit=1)[0]
    assert entry["event"] == "Halo item created"
    assert entry["details"] | {"by": "x"} == {
        "item_id": made.item_id,
        "name": "Power BI Pro",
        "supplier_part_code": SKU,
        "cost": "11.90",
        "price": "14.00",
        "product_id": PBI,
        "by": "x",
    }
    swagger_check()(halo.wrap.posts[0], request_body_pointer("/Item"))
    assert halo.wrap.posts[0] == [
        {
            "name": "Power BI Pro",
            "supplier_part_code": SKU,
            "isrecurringitem": True,
            "costprice": 11.9,
            "recurringcost": 11.9,
            "baseprice": 14.0,
            "recurringprice": 14.0,
        }
    ]


async def test_an_answer_without_the_saved_item_is_settled_by_reading_back(db, halo) -> None:
    halo.wrap = AnswerLost(halo.transports["halo"], garbled=b"[]")
    made = await Mappings(db, halo=halo.client).create_item(PBI)
    assert len(halo.wrap.posts) == 1 and made.created
    assert [row["id"] for row in await halo.items_with_sku()] == [made.item_id]


async def test_a_run_again_after_a_failure_finds_the_item_and_creates_none(db, halo) -> None:
    halo.wrap = AnswerLost(halo.transports["halo"], then_down=True)
    with pytest.raises(ApiError):
        await Mappings(db, halo=halo.client).create_item(PBI)
    assert mapping_of(db, PBI) is None  # nothing is mapped to what cannot be seen
    halo.wrap.then_down = False
    made = await Mappings(db, halo=halo.client).create_item(PBI)
    assert len(halo.wrap.posts) == 1 and not made.created
    assert [row["id"] for row in await halo.items_with_sku()] == [made.item_id]
    assert mapping_of(db, PBI).source == "created"
    assert read_log(db, limit=1)[0]["event"] == "Halo item found, not created again"


async def test_a_write_halo_never_saw_is_unsettled_until_run_again(db, halo) -> None:
    halo.wrap = AnswerLost(halo.transports["halo"], applied=False)
    with pytest.raises(ApiError, match="run it again") as failed:
        await Mappings(db, halo=halo.client).create_item(PBI)
    assert failed.value.ambiguous and await halo.items_with_sku() == []
    made = await Mappings(db, halo=halo.client).create_item(PBI)
    assert made.created and len(await halo.items_with_sku()) == 1


async def test_the_next_sync_agrees_and_undo_takes_back_only_the_mapping(db, halo) -> None:
    mappings = Mappings(db, halo=halo.client)
    made = await mappings.create_item(PBI)
    await sync(db, halo)
    row = next(r for r in product_rows(db) if r.product_id == PBI)
    assert (row.status, row.item_id, row.item_name) == ("mapped", made.item_id, "Power BI Pro")
    assert mappings.undo_note() is None  # this service's own change: undone without asking
    assert mappings.undo_last() == "unmapped Power BI Pro"
    assert len(await halo.items_with_sku()) == 1
