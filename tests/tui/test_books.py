"""The Books screen (0): each billed Halo client's Xero contact (QuickBooks customer) and each
item's twin there, mapped from the keyboard; then the month posted to Xero from the workbench
and found in the Xero simulator through its API."""

from conftest import NOW, TODAY
from test_post import MONTH, approve_clean, open_batch, press

from tools.demo_workbench import demo_sinks, wait_until_idle
from trueup.core.service.workbench import Workbench
from trueup.tui.app import make_app
from trueup.tui.commands import screen_actions
from trueup.tui.screens.books import BooksScreen
from trueup.tui.screens.post_progress import PostProgressScreen


async def open_books(pilot):
    await wait_until_idle(pilot)
    await press(pilot, "0")
    screen = pilot.app.screen
    assert isinstance(screen, BooksScreen)
    return screen


def statuses(workbench, books="xero"):
    clients, items = workbench.books[books].rows()
    return [r.status for r in (*clients, *items)]


async def test_xero_first_and_b_switches_to_quickbooks(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_books(pilot)
        assert screen.sub_title == "Books · Xero"
        xero_rows = len(screen.rows)
        assert xero_rows == len(statuses(workbench))
        await press(pilot, "b")
        assert screen.sub_title == "Books · QuickBooks"
        assert {r.target_name for r in screen.rows} != set()
        assert len(screen.rows) == len(statuses(workbench, "qbo"))


async def test_accept_all_asks_first_then_maps_every_suggestion(app, workbench):
    suggested = statuses(workbench).count("suggested")
    assert suggested > 40
    async with app.run_test(size=(80, 24)) as pilot:
        await open_books(pilot)
        await press(pilot, "A")
        assert "Map these" in str(app.screen.query_one("#confirm-question").content)
        assert "undoes" not in str(app.screen.query_one("#confirm-question").content)
        await press(pilot, "y")
    assert statuses(workbench).count("suggested") == 0
    assert statuses(workbench).count("mapped") >= suggested


async def test_enter_picks_a_contact_by_name_and_u_unmaps_it(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_books(pilot)
        row = screen.table.current
        assert row is not None and row.kind == "client"
        await press(pilot, "enter", *row.halo_name.split()[0].lower(), "enter")
        mapped = next(r for r in workbench.books["xero"].rows()[0] if r.halo_id == row.halo_id)
        assert (mapped.status, mapped.source) == ("mapped", "manual")
        screen.table.cursor = next(
            i for i, r in enumerate(screen.table.rows) if r.halo_id == row.halo_id
        )
        await press(pilot, "u")
    after = next(r for r in workbench.books["xero"].rows()[0] if r.halo_id == row.halo_id)
    assert after.status != "mapped"


async def test_ignore_and_undo_are_not_offered_here(app, workbench):
    before = statuses(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_books(pilot)
        offered = {a.action for a in screen_actions(screen)}
        assert "ignore" not in offered and "undo" not in offered and "accept_all" in offered
        await press(pilot, "i", "z")
    assert statuses(workbench) == before


async def test_reading_the_lists_needs_a_connection(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_books(pilot)
        await press(pilot, "r")
        said = [n.message for n in app._notifications]
        assert any("no connections" in m for m in said), said


async def test_the_month_posts_to_xero_from_the_workbench(store):
    sinks = demo_sinks()
    workbench = Workbench(store, today=TODAY, clock=lambda: NOW, sinks=sinks)
    workbench.books["xero"].accept_suggestions()
    batch, clean = approve_clean(workbench)
    documents = [p.document for p in workbench.posting.plan(batch.batch_id, "xero").ready]
    assert len(documents) == len(clean)
    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_batch(pilot)
        await press(pilot, "p", "down", "down", "down")
        assert app.screen.plan.destination == "xero"
        await press(pilot, *MONTH, "enter", "y")
        results = app.screen
        assert isinstance(results, PostProgressScreen)
        assert [e.state for e in results.entries.values()] == ["POSTED"] * len(clean)
    entries = workbench.posting.entries(batch.batch_id, "xero", "create")
    async with sinks("xero") as sink:
        found = await sink.lookup(documents)
    assert {ref: p.remote_id for ref, p in found.items()} == {
        e.reference: e.remote_id for e in entries
    }
