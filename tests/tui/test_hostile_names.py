"""Names from outside at 80x24: whatever a client or product is called, the workbench shows it
as it is and keeps working (the store holds names with their control characters written out,
so what is left to survive is markup, width and length)."""

import json

from sqlalchemy import update

from tools.demo_workbench import demo_clients, wait_until_idle
from trueup.core.store import tables as m
from trueup.sandbox.generate import DEMO_PATH as BUNDLED_DEMO
from trueup.tui.app import make_app
from trueup.tui.screens.batch import BatchScreen
from trueup.tui.screens.picker import PickerScreen

MARKUP = "refund [/] ref#12"  # Textual's markup refuses "[/]" with nothing to close
RIVERBEND = "Riverbend Wealth Advisors"


def rename(store, table, name):
    with store.write() as conn:
        conn.execute(update(m.table_of(table)).values(name=name))


def screen_text(app) -> str:
    """What the terminal shows, line by line (the notifications too)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def toast_text(app) -> str:
    """The notices' words: what is right of their left edge (▌), rejoined."""
    lines = [line.split("▌", 1)[1] for line in screen_text(app).splitlines() if "▌" in line]
    return " ".join(" ".join(line.rstrip("│") for line in lines).split())


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


async def test_a_name_that_reads_as_markup_is_shown_as_it_is_in_titles_and_notices(app, store):
    """Enter on such a company (the picker's title names it) and v on such a client (a notice
    names it) closed the workbench with a MarkupError traceback."""
    rename(store, m.Pax8Company, MARKUP)
    rename(store, m.HaloClient, MARKUP)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await press(pilot, "2", "enter")
        assert isinstance(app.screen, PickerScreen)
        assert f"Halo client for {MARKUP}" in screen_text(app)
        await press(pilot, "escape", "6")
        assert isinstance(app.screen, BatchScreen) and app.screen.table.current is not None
        await press(pilot, "v")  # nothing is posted: the notice names the client
        assert f"{MARKUP} is not posted for the month." in toast_text(app)
        assert app.is_running


async def test_a_zero_width_space_in_a_synced_name_is_shown_written_out(workbench_with, tmp_path):
    """A company synced as "River\u200bbend Wealth Advisors" read as "Riverbend Wealth
    Advisors" on the Clients screen: it is shown with the escape where the space was."""
    scenario = json.loads(BUNDLED_DEMO.read_text())
    company = next(c for c in scenario["pax8"]["companies"] if c["name"] == RIVERBEND)
    company["name"] = "River\u200bbend Wealth Advisors"
    (tmp_path / "demo.json").write_text(json.dumps(scenario))
    workbench = workbench_with(demo_clients(tmp_path / "demo.json"))
    await workbench.syncing.run()
    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "2")
        shown = screen_text(app)
    assert "River\\u200bbend Wealth" in shown and "\u200b" not in shown
