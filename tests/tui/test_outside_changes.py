"""The workbench notices a change another `trueup` made to the store and shows it (issue 23's
stale-screen defect: `trueup map accept` from the CLI never appeared on an open Clients screen)."""

from tools.demo_workbench import wait_until_idle
from trueup.core.service.mappings import Mappings
from trueup.tui.app import STORE_CHECK_SECONDS
from trueup.tui.screens.confirm import ConfirmScreen


async def test_a_mapping_made_outside_shows_on_the_open_screen(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await pilot.press("2")
        await wait_until_idle(pilot)
        screen = app.screen
        waiting = [r for r in screen.rows if r.status == "suggested"]
        assert waiting
        accepted = Mappings(store).accept_company_suggestions()  # as `trueup map accept` does
        assert accepted
        await pilot.pause(STORE_CHECK_SECONDS + 0.5)
        await wait_until_idle(pilot)
        assert [r for r in screen.rows if r.status == "suggested"] == []


async def test_undo_asks_before_reverting_a_change_made_outside(app, store):
    outside = Mappings(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await pilot.press("2")
        await wait_until_idle(pilot)
        accepted = outside.accept_company_suggestions()
        await pilot.press("z")
        await wait_until_idle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await wait_until_idle(pilot)
        still = {r.company_id for r in outside.company_rows() if r.status == "mapped"}
        assert {r.company_id for r in accepted} <= still
        await pilot.press("z", "y")
        await wait_until_idle(pilot)
    back = {r.company_id: r.status for r in outside.company_rows()}
    assert all(back[r.company_id] == "suggested" for r in accepted)
