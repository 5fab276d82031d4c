"""The overview, the seat diff and its detail, help, the palette, the footer and the terminal."""

import importlib
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from conftest import NOW
from sqlalchemy import update
from typer.testing import CliRunner

from tools.demo_workbench import wait_until_idle
from trueup.cli import app as cli
from trueup.core.service.workbench import Workbench
from trueup.core.settings.clients import sandbox_clients
from trueup.core.settings.config import ConfigError
from trueup.core.store import tables as m
from trueup.core.values.months import Month
from trueup.sandbox.common import FaultSpec
from trueup.sandbox.generate import DEMO_PATH
from trueup.sandbox.scenario import load_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports
from trueup.tui.app import TrueupApp, make_app
from trueup.tui.commands import WorkbenchCommands, screen_actions
from trueup.tui.screens.diff_detail import DiffDetailScreen
from trueup.tui.screens.help import HelpScreen
from trueup.tui.screens.seat_diff import SeatDiffScreen


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


def text_of(app, selector):
    return str(app.screen.query_one(selector).content)


def line_text(table, y):
    return "".join(segment.text for segment in table.render_line(y))


async def test_overview_tiles_say_how_old_each_sync_is(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        assert text_of(app, "#tile-pax8").startswith("9h ago")
        assert text_of(app, "#tile-halo").startswith("3 days ago")
        assert "53 mapped" in text_of(app, "#tile-clients")
        assert "6 unmapped" in text_of(app, "#tile-products")
        summary = text_of(app, "#diff-summary")
        assert "Under-billing" in summary or app.screen.query_one("#diff-summary").border_title


async def test_the_overview_says_each_currencys_billing_gap_not_the_main_one_alone(app):
    """The demo's CAD and EUR clients are under- and over-billed too: the main currency's
    amount alone read as the month's whole gap, theirs nowhere on the screen."""
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        widget = app.screen.query_one("#diff-summary")
        lines = [line_text(widget, y) for y in range(widget.size.height)]
        under = next(i for i, line in enumerate(lines) if "Under-billing a month" in line)
        over = next(i for i, line in enumerate(lines) if "Over-billing a month" in line)
        assert "$10,060.65" in lines[under]
        assert "C$170.54" in lines[under + 1] and "€82.57" in lines[under + 2]
        assert over == under + 3
        assert "$1,412.01" in lines[over]
        assert "C$143.52" in lines[over + 1] and "€66.24" in lines[over + 2]


async def test_the_month_changes_with_brackets_within_what_the_store_holds(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        assert app.month == "2026-11"
        await press(pilot, "left_square_bracket")
        assert app.month == "2026-10"
        assert "October 2026" in app.screen.query_one("#diff-summary").border_title
        await press(pilot, "less_than_sign")  # nothing before last month: said, not silent
        assert app.month == "2026-10"
        said = [n.message for n in app._notifications]
        assert said == [
            "No month before October 2026: the store holds October 2026 and November 2026."
        ]
        await press(pilot, "4")
        assert "October 2026" in app.screen.table.border_title
        await press(pilot, "right_square_bracket")
        assert "November 2026" in app.screen.table.border_title


@pytest.mark.parametrize(("close_day", "month"), [(10, "2026-11"), (0, "2026-12")])
async def test_the_workbench_opens_on_the_month_being_closed(store, close_day, month):
    # 6 December: through the close day the month being closed is November, as in the CLI.
    bench = Workbench(store, today=date(2026, 12, 6), clock=lambda: NOW, close_day=close_day)
    app = make_app(bench)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        assert app.month == month
        assert Month(month).name in app.screen.query_one("#diff-summary").border_title


async def test_sync_now_shows_progress_and_refreshes(app, workbench):
    before = {tile.source: tile.last_sync for tile in workbench.syncing.tiles()}
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "s")
        assert not app.screen.syncing
        assert "done in" in str(app.screen.query_one("#what-pax8").content)
    after = {tile.source: tile for tile in workbench.syncing.tiles()}
    assert all(after[s].last_status == "ok" and after[s].last_sync != before[s] for s in before)


def hanging_clients():
    """Simulators that answer every request after 30 s: a sync that is surely mid-flight."""
    scenario = load_scenario(DEMO_PATH)
    faults = FaultSpec.parse("slow=1,slow_seconds=30")
    sims = build_simulators(scenario, faults=faults, rate_limits=False)
    credentials = {source: scenario.credentials_for(source) for source in ("pax8", "halo")}
    return lambda: sandbox_clients(in_process_transports(sims), credentials)


async def test_a_cancelled_sync_leaves_the_store_as_it_was(workbench_with):
    workbench = workbench_with(hanging_clients())
    before = {tile.source: tile.last_sync for tile in workbench.syncing.tiles()}
    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await pilot.press("s")
        while {t.last_status for t in workbench.syncing.tiles()} != {"running"}:
            await pilot.pause(0.02)
        await press(pilot, "escape")
        assert "cancelled" in str(app.screen.query_one("#what-pax8").content)
        assert not app.screen.syncing
    after = {tile.source: tile for tile in workbench.syncing.tiles()}
    assert {s: t.last_sync for s, t in after.items()} == before
    assert {t.last_status for t in after.values()} == {"interrupted"}


async def test_a_sync_that_cannot_start_says_why_and_changes_nothing(workbench_with):
    def unconfigured():
        raise ConfigError("Pax8 is not configured: run `trueup connect pax8`")

    workbench = workbench_with(unconfigured)
    before = workbench.syncing.tiles()
    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "s")
        assert "did not run" in str(app.screen.query_one("#what-pax8").content)
        assert any("trueup connect pax8" in n.message for n in app._notifications)
        assert not app.screen.syncing
    assert workbench.syncing.tiles() == before


async def test_seat_diff_shows_mismatches_until_m(app, workbench):
    rows = workbench.seats.rows("2026-11")
    mismatches = sum(r.status != "match" for r in rows)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "4")
        table = app.screen.table
        assert table.row_count == mismatches
        await press(pilot, "m")
        assert table.row_count == len(rows)
        await press(pilot, "m", "f")
        assert {r.status for r in table.rows if hasattr(r, "status")} == {"under"}


async def test_seat_diff_groups_by_client_costliest_first(app, workbench):
    at_stake = defaultdict(Decimal)
    for row in workbench.seats.rows("2026-11"):
        at_stake[row.client_name] += abs(row.monthly_impact)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "4")
        table = app.screen.table
        headings = [row.text().plain for row in table.rows if not hasattr(row, "status")]
        assert headings[0].startswith(max(at_stake, key=at_stake.__getitem__))
        first = table.current
        assert line_text(table, 2).lstrip().startswith(first.product_name)


async def test_enter_opens_the_rows_timeline_and_its_halo_lines_whole(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "4", "slash", *"harrington", "enter")
        row = app.screen.table.current
        assert row.client_name == "Harrington Wealth Advisors"
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, DiffDetailScreen) and detail.row == row
        timeline = detail.query_one("#detail-timeline")
        assert timeline.row_count >= 1
        assert detail.query_one("#detail-lines").rows == list(row.halo_lines)
        # Issue 22: "What changed" read "+3 seats (7) o…" beside the Halo lines at 120x40.
        shown = [line_text(timeline, y) for y in range(1, timeline.row_count + 1)]
        assert any("+3 seats (7) on 17 Nov" in line for line in shown), shown
        assert not any("…" in line for line in shown), shown
        await press(pilot, "escape")
        assert isinstance(app.screen, SeatDiffScreen)


async def test_f1_explains_the_screen_and_lists_every_key(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "2", "f1")
        assert isinstance(app.screen, HelpScreen)
        for words in ("Accept every suggestion", "Undo the latest mapping change", "Go to"):
            assert words in app.screen.text
        await press(pilot, "escape")
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("key", ["1", "2", "3", "4"])
async def test_every_action_is_in_the_palette_and_at_most_six_in_the_footer(app, key):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, key)
        screen = app.screen
        offered = {hit.text async for hit in WorkbenchCommands(screen).discover()}
        for node in (screen, app):
            for binding in node.BINDINGS:
                # Only while a sync runs.
                if binding.action != "cancel_sync":
                    assert any(binding.tooltip in text for text in offered), binding.id
        shown = {
            (id(active.node), active.binding.action)
            for active in screen.active_bindings.values()
            if active.binding.show
        }
        assert len(shown) <= 6


async def test_the_palette_runs_the_action(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "2", "i", "y")  # ignore the first row, Copper Kettle Bakery
        await press(pilot, "ctrl+p", *"undo the latest")
        await pilot.pause(0.3)
        await press(pilot, "enter")
    row = next(
        r for r in workbench.mappings.company_rows() if r.company_name == "Copper Kettle Bakery"
    )
    assert row.status == "unmapped"


async def test_data_that_looks_like_markup_shows_literally(store, workbench):
    companies = m.table_of(m.Pax8Company)
    with store.write() as conn:
        conn.execute(
            update(companies)
            .where(companies.c.name == "Copper Kettle Bakery")
            .values(name="Acme [bold]Corp[/]")
        )
    app = make_app(workbench)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "2")
        assert "Acme [bold]Corp[/]" in line_text(app.screen.table, 1)


def test_no_color_is_honoured(monkeypatch, workbench):
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_app(workbench).no_color


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    runs = []
    monkeypatch.setattr(TrueupApp, "run", lambda self, **options: runs.append(options))
    # CliRunner's output is no terminal: the app's run is stubbed, so it may "draw" anyway.
    monkeypatch.setattr(importlib.import_module("trueup.cli.tui"), "cannot_draw", lambda: None)
    return runs


def test_tui_no_mouse_leaves_the_mouse_to_the_terminal(cli_env):
    result = CliRunner().invoke(cli, ["tui", "--no-mouse"])
    assert result.exit_code == 0, result.output
    assert cli_env == [{"mouse": False}]


def test_bare_trueup_without_a_terminal_teaches_instead(cli_env):
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 0
    assert "demo" in result.stdout and cli_env == []


async def test_a_month_key_at_the_last_month_says_so_and_stays(app):
    # Silent keys read as broken ones (a new-user pass): both are offered, and the end says why.
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "6")
        assert app.month == "2026-11"  # the last month the store holds
        offered = {a.action for a in screen_actions(app.screen)}
        assert {"month(-1)", "month(1)"} <= offered
        await press(pilot, "right_square_bracket")
        assert app.month == "2026-11"
        said = [n.message for n in app._notifications]
        assert said == [
            "No month after November 2026: the store holds October 2026 and November 2026."
        ]
        await press(pilot, "left_square_bracket")
        assert app.month == "2026-10"


async def test_escape_on_the_table_clears_the_batch_search(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await press(pilot, "6")
        screen = app.screen
        every = screen.table.row_count
        await press(pilot, "slash", *"bear", "enter")  # enter: the table has the focus again
        assert screen.table.row_count < every and screen.table.has_focus
        await press(pilot, "escape")
        assert screen.table.row_count == every


def test_the_detail_help_orders_the_history_as_the_screen_does():
    from trueup.tui.screens.diff_detail import DiffDetailScreen
    from trueup.tui.screens.help import HELP_FILES

    text = (HELP_FILES / DiffDetailScreen.HELP).read_text(encoding="utf-8")
    assert "newest first" in text and "oldest first" not in text


def test_every_key_of_every_screen_says_what_it_does():
    # F1 lists a key by its tooltip: the picker's arrows read as a key with nothing beside it.
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.screen import Screen

    import trueup.tui.screens as screens

    silent = []
    for found in pkgutil.iter_modules(screens.__path__):
        module = importlib.import_module(f"{screens.__name__}.{found.name}")
        for cls in vars(module).values():
            if (
                isinstance(cls, type)
                and issubclass(cls, Screen)
                and cls.__module__ == module.__name__
            ):
                for binding in cls.__dict__.get("BINDINGS", []):
                    if isinstance(binding, Binding) and not binding.tooltip:
                        silent.append(f"{cls.__name__}: {binding.key}")
    assert silent == []


async def test_ctrl_c_says_how_to_quit_in_plain_words(app):
    """Textual's hint is markup, and the workbench shows every message literally: it read
    "Press [b]ctrl+q[/b] to quit the app"."""
    from test_hostile_names import toast_text

    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until_idle(pilot)
        await pilot.press("ctrl+c")
        await wait_until_idle(pilot)
        said = toast_text(app)
        assert "Press ctrl+q to quit." in said and "[b]" not in said
