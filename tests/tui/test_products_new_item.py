"""`n` on the Products grid: the Halo item a product lacks, shown, confirmed, created in the
sandbox's Halo, and the row mapped to it."""

import pytest
from textual.widgets import Static

from tools.demo_workbench import demo_clients, wait_until_idle
from trueup.tui.screens.confirm import ConfirmScreen
from trueup.tui.screens.help import HelpScreen


@pytest.fixture
def clients():
    """The sandbox's simulators, held here to read Halo's items back through its API."""
    return demo_clients()


@pytest.fixture
def workbench(workbench_with, clients):
    return workbench_with(clients)


def product(workbench, name):
    return next(r for r in workbench.mappings.product_rows() if r.name == name)


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


async def halo_items(clients, sku):
    _, halo = clients()
    async with halo:
        return [
            row
            async for page in halo.items()
            for row in page
            if row.get("supplier_part_code") == sku
        ]


async def test_n_shows_the_new_item_then_creates_and_maps_it(app, workbench, clients):
    assert product(workbench, "Power BI Pro").status == "unmapped"
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "3")
        screen = app.screen
        assert screen.table.current.name == "Power BI Pro"  # unmapped, the most money first
        hint = str(screen.query_one("#grid-detail", Static).content)
        assert "n creates one from the Pax8 product" in hint
        await press(pilot, "n")
        assert isinstance(app.screen, ConfirmScreen)
        assert [(str(a), str(b)) for a, b in app.screen.rows] == [
            ("Name", "Power BI Pro"),
            ("Supplier part code", "MST-PBI-PRO-C100"),
            ("Cost a month", "$11.90"),
            ("Price a month", "$14.00"),
        ]
        question = str(app.screen.query_one("#confirm-question", Static).content)
        assert "the cost is the pax8 partner cost; the price the pax8 price" in question.lower()
        await press(pilot, "y")
        assert app.screen is screen
        row = next(r for r in screen.rows if r.name == "Power BI Pro")
        assert (row.status, row.item_name, row.source) == ("mapped", "Power BI Pro", "created")
        assert screen.table.current.name == "Google Workspace Business Starter"  # the next
        await press(pilot, "slash", *"power bi", "enter")
        assert screen.table.current.status == "mapped"
        assert not screen.check_action("create_item", ())  # mapped: no longer offered
    (item,) = await halo_items(clients, "MST-PBI-PRO-C100")
    assert item["id"] == product(workbench, "Power BI Pro").item_id


async def test_n_then_n_in_the_dialog_creates_nothing(app, workbench, clients):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "3", "n", "n")
        assert not isinstance(app.screen, ConfirmScreen)
    assert product(workbench, "Power BI Pro").status == "unmapped"
    assert await halo_items(clients, "MST-PBI-PRO-C100") == []


async def test_f1_lists_n_on_a_product_without_an_item(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "3", "f1")
        assert isinstance(app.screen, HelpScreen)
        assert "Create the Halo item a product without one lacks" in app.screen.text
