"""The Logs & Monitoring screen on a log of known entries: tiles, the level filter, paging,
the page size and an entry's details."""

from datetime import timedelta

import pytest
from conftest import NOW
from sqlalchemy import delete, func, select, update

from tools.demo_workbench import wait_until_idle
from trueup.core.store import tables as m
from trueup.core.store.logbook import log_event
from trueup.tui.commands import WorkbenchCommands
from trueup.tui.screens.help import HelpScreen
from trueup.tui.screens.logs import LogEntryScreen, LogsScreen

LOG = m.table_of(m.LogEvent)


def add_entry(conn, at, level, event, **details):
    log_event(conn, level, event, **details)
    newest = conn.execute(select(func.max(LOG.c.id))).scalar_one()
    conn.execute(update(LOG).where(LOG.c.id == newest).values(at=at))


def seed_logs(db):
    """Only these: 45 entries an hour apart before NOW (35 info, 5 warnings, 5 errors) and
    one 40 days old, outside the tiles' window."""
    with db.write() as conn:
        conn.execute(delete(LOG))
        add_entry(conn, NOW - timedelta(days=40), "INFO", "pax8 sync started", run_id=1)
        for hour in range(45, 0, -1):
            at, run = NOW - timedelta(hours=hour, minutes=12), 100 - hour
            match hour % 9:
                case 4:
                    add_entry(
                        conn,
                        at,
                        "WARNING",
                        "Subscriptions: record skipped",
                        reason="[bold]quantity[/] is zero",
                        record='{"id": "sub-1", "quantity": 0}',
                    )
                case 5:
                    add_entry(
                        conn,
                        at,
                        "ERROR",
                        "halo sync failed",
                        source="halo",
                        run_id=run,
                        error="HTTP 401 from HaloPSA: the client secret was refused",
                    )
                case 0 | 2 | 6:
                    add_entry(
                        conn,
                        at,
                        "INFO",
                        "pax8 sync completed",
                        source="pax8",
                        run_id=run,
                        created=3,
                        updated=1234 + hour,
                        unchanged=40,
                        deleted=0,
                        failed=0,
                        duration_ms=12_300,
                    )
                case _:
                    add_entry(conn, at, "INFO", "pax8 sync started", source="pax8", run_id=run)


@pytest.fixture
def logs_app(app, store):
    seed_logs(store)
    return app


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


def line_text(table, y):
    return "".join(segment.text for segment in table.render_line(y))


def text_of(screen, selector):
    return str(screen.query_one(selector).content)


async def open_logs(pilot):
    await wait_until_idle(pilot)
    await press(pilot, "8")
    screen = pilot.app.screen
    assert isinstance(screen, LogsScreen)
    return screen


async def test_tiles_count_the_last_30_days(logs_app, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    async with logs_app.run_test(size=(80, 24)) as pilot:
        screen = await open_logs(pilot)
        assert text_of(screen, "#tile-total").startswith("45")
        assert text_of(screen, "#tile-errors").startswith("5")
        assert text_of(screen, "#tile-warnings").startswith("5")
        assert text_of(screen, "#tile-updated") == "1h ago\nUTC+01:00 Europe/Warsaw"
        errors = screen.query_one("#tile-errors").content
        assert "red" in str(errors.spans[0].style)
        newest = screen.table.current
        assert newest.summary.startswith("Pax8 sync started")
        # Local time: NOW less 1h12 is 08:18 UTC, 09:18 in Warsaw in November.
        assert screen._cells(newest)[1].plain == "2026-11-21 09:18"


async def test_the_level_filter_cycles_and_shows_only_that_level(logs_app):
    async with logs_app.run_test(size=(80, 24)) as pilot:
        screen = await open_logs(pilot)
        assert screen.table.row_count == 20 and screen.shown.total == 46
        for expected, total, title in (
            ("info", 36, "Log · info only"),
            ("warning", 5, "Log · warnings only"),
            ("error", 5, "Log · errors only"),
            (None, 46, "Log · all levels"),
        ):
            await press(pilot, "l")
            assert screen.level == expected and screen.shown.total == total
            assert screen.table.border_title == title
            if expected:
                assert {row.level for row in screen.table.rows} == {expected}
                selected = screen.query_one("#log-filter").content
                chosen = [s for s in selected.spans if "reverse" in str(s.style)]
                assert selected.plain[chosen[0].start : chosen[0].end].strip().lower() == expected


async def test_paging_moves_through_the_pages_and_the_bar_says_where(logs_app):
    async with logs_app.run_test(size=(80, 24)) as pilot:
        screen = await open_logs(pilot)
        assert "Page 1 of 3" in text_of(screen, "#log-pages")
        first_page = list(screen.table.rows)
        await press(pilot, "right_square_bracket")
        bar = text_of(screen, "#log-pages")
        assert "Page 2 of 3" in bar and "21–40 of 46" in bar
        assert not set(screen.table.rows) & set(first_page)
        assert screen.table.rows[0].at < first_page[-1].at  # newest first, page after page
        await press(pilot, "right", "right_square_bracket")  # the arrow too; no page 4
        assert "Page 3 of 3" in text_of(screen, "#log-pages")
        assert screen.table.row_count == 6
        await press(pilot, "left_square_bracket", "left")
        assert "Page 1 of 3" in text_of(screen, "#log-pages")
        assert list(screen.table.rows) == first_page


async def test_page_size_cycles_and_keeps_the_first_entry_in_view(logs_app):
    async with logs_app.run_test(size=(80, 24)) as pilot:
        screen = await open_logs(pilot)
        await press(pilot, "right_square_bracket")  # entries 21–40
        entry_21 = screen.table.rows[0]
        await press(pilot, "p")  # 50 a page: entry 21 is on page 1
        assert screen.page_size == 50 and screen.table.row_count == 46
        assert "Page 1 of 1" in text_of(screen, "#log-pages")
        assert entry_21 in screen.table.rows
        await press(pilot, "p", "p")  # 100, then 10
        assert screen.page_size == 10 and screen.table.row_count == 10
        assert "Page 1 of 5" in text_of(screen, "#log-pages")
        await press(pilot, "l", "l", "l")  # errors: 5, one page
        assert "Page 1 of 1" in text_of(screen, "#log-pages")


async def test_enter_shows_the_whole_entry(logs_app):
    async with logs_app.run_test(size=(80, 24)) as pilot:
        screen = await open_logs(pilot)
        await press(pilot, "l", "l")  # warnings
        await press(pilot, "enter")
        entry = pilot.app.screen
        assert isinstance(entry, LogEntryScreen)
        details = entry.row.details
        assert "reason: [bold]quantity[/] is zero" in details  # literal, never markup
        assert 'record: {"id": "sub-1", "quantity": 0}' in details
        assert entry.query_one("#log-entry").border_title.startswith("WARNING · 2026-11-")
        await press(pilot, "escape")
        assert pilot.app.screen is screen


async def test_refresh_reads_new_entries(logs_app, store):
    async with logs_app.run_test(size=(80, 24)) as pilot:
        screen = await open_logs(pilot)
        with store.write() as conn:
            add_entry(conn, NOW, "ERROR", "posting failed", invoice="INV-7")
        await press(pilot, "r")
        assert screen.shown.total == 47
        assert screen.table.rows[0].summary == "Posting failed: invoice INV-7"
        assert text_of(screen, "#tile-errors").startswith("6")


async def test_levels_read_as_words_not_only_as_colours(logs_app):
    async with logs_app.run_test(size=(80, 24)) as pilot:
        screen = await open_logs(pilot)
        words = [line_text(screen.table, y).split()[0] for y in range(6)]
        assert words == ["Level", "INFO", "INFO", "INFO", "WARNING", "ERROR"]


async def test_every_action_is_in_the_palette_and_at_most_six_in_the_footer(logs_app):
    async with logs_app.run_test(size=(80, 24)) as pilot:
        screen = await open_logs(pilot)
        await press(pilot, "right_square_bracket")  # both page keys usable
        offered = {hit.text async for hit in WorkbenchCommands(screen).discover()}
        for binding in screen.BINDINGS:
            assert any(binding.tooltip in text for text in offered), binding.id
        shown = {
            (id(active.node), active.binding.action)
            for active in screen.active_bindings.values()
            if active.binding.show
        }
        assert len(shown) <= 6
        assert any("Go to Logs & Monitoring" in text for text in offered)


async def test_f1_explains_the_screen_and_its_keys(logs_app):
    async with logs_app.run_test(size=(80, 24)) as pilot:
        await open_logs(pilot)
        await press(pilot, "f1")
        assert isinstance(pilot.app.screen, HelpScreen)
        for words in ("# Logs & Monitoring", "Show the next page", "Show 10, 20, 50 or 100"):
            assert words in pilot.app.screen.text
