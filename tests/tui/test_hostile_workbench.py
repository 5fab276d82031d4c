"""The workbench at 80x24 with hostile names: markup, wide characters and length, on the
screens and dialogs the other hostile tests do not reach."""

import pytest
from sqlalchemy import select, update

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


WIDE = "マイクロソフト三六五ビジネス向けクラウドサービス年間契約 Premium"  # 2 cells a letter


def table_lines(table) -> list[str]:
    return [
        "".join(segment.text for segment in table.render_line(y))
        for y in range(1, min(len(table.rows), table.size.height - 2) + 1)
    ]


async def test_a_name_of_wide_characters_keeps_its_end_in_a_cut_cell(app, store):
    """A product named in Japanese showed "マイクロソフト三六…年…" on the Products screen: its
    start was taken by characters, each two cells wide, so the cell overflowed, and the cut
    after took the end ("Premium", where tiers differ) and left two ellipses. The seat diff's
    client heading lost its end the same way."""
    rename(store, m.Pax8Product, WIDE)
    rename(store, m.HaloClient, f"東京本社システム管理部門グループ株式会社 {'大阪' * 10} Osaka")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "3")
        for shown in table_lines(app.screen.table):
            name = shown.split(" unmapped ")[0].split(" mapped ")[0].split(" suggested ")[0]
            assert name.rstrip().endswith("契約 Premium") and "……" not in shown, shown
        await press(pilot, "4")
        heading = table_lines(app.screen.table)[0]
        assert "…" in heading and "大阪 Osaka  6 mismatches" in heading and "……" not in heading


def bill_in_currencies(store, currencies):
    """Each company's subscriptions in one of `currencies`, in turn."""
    subscriptions = m.table_of(m.Pax8Subscription)
    with store.write() as conn:
        companies = conn.execute(select(subscriptions.c.company_id).distinct()).scalars()
        for index, company in enumerate(sorted(companies)):
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.company_id == company)
                .values(currency=currencies[index % len(currencies)])
            )


async def test_the_overview_shows_the_sync_panel_whole_and_scrolls_the_seat_diff(app, store):
    """At 80x24 the sync's panel went under the footer after a sync of the demo (HaloPSA's line
    and the panel's foot off screen, the Pax8 tile's time wrapped by a screen scrollbar), and a
    seat diff in six currencies lost its last over-billing figures: nothing scrolled to them
    but a mouse. The seat diff scrolls in the room the tiles leave now, by keys."""
    bill_in_currencies(store, ["USD", "EUR", "GBP", "AUD", "CAD", "NZD"])
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "1")
        shown = screen_text(app).splitlines()
        assert shown[-1].startswith(" s Sync") and "billed too much" in "".join(shown)
        assert shown[5].startswith("│ 2026-11-21 00:12 │")  # not wrapped
        await press(pilot, "end")
        bottom = screen_text(app).splitlines()
        over = next(i for i, line in enumerate(bottom) if "billed too much" in line)
        assert bottom[-2].startswith("╰────") and len(bottom) - 2 - over == 6  # a line each
        await press(pilot, "s")
        shown = screen_text(app).splitlines()
        assert shown[-5].startswith("╭─ Sync ─")
        assert shown[-4].startswith("│ Pax8     done") and shown[-3].startswith("│ HaloPSA  done")
        assert shown[-2].startswith("╰────")
