"""Names from outside at 80x24: whatever a client or product is called, the workbench shows it
as it is and keeps working (the store holds names with their control characters written out,
so what is left to survive is markup, width and length)."""

from sqlalchemy import update

from tools.demo_workbench import wait_until_idle
from trueup.core.store import tables as m
from trueup.tui.screens.batch import BatchScreen
from trueup.tui.screens.picker import PickerScreen

MARKUP = "refund [/] ref#12"  # Textual's markup refuses "[/]" with nothing to close


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
