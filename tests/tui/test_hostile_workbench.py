"""The workbench at 80x24 with hostile names: markup, wide characters and length, on the
screens and dialogs the other hostile tests do not reach."""

import pytest
from sqlalchemy import update

from tools.demo_workbench import wait_until_idle
from trueup.core.store import tables as m
from trueup.tui.screens.journal import JournalScreen

MARKUP = "refund [/] ref#12"  # Textual's markup refuses "[/]" with nothing to close
STYLED = "[bold red]Acme[/] [link=https://evil.example]pay here[/link]"


def rename(store, table, name):
    with store.write() as conn:
        conn.execute(update(m.table_of(table)).values(name=name))


def screen_text(app) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


@pytest.mark.parametrize("name", [MARKUP, STYLED])
async def test_the_journal_of_a_client_named_like_markup_opens_and_names_it_as_it_is(
    app, store, name
):
    """J on such a client closed the workbench with a MarkupError (its name went into the
    dialog's title as markup); a name like [bold red]…[/] would have styled the title."""
    rename(store, m.HaloClient, name)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "6", "J")
        assert isinstance(app.screen, JournalScreen)
        title = screen_text(app).splitlines()[2]
        assert f"▀ {name[:50]}" in title
        assert app.is_running
