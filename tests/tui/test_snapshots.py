"""One snapshot per screen at 80x24 (the least a terminal gives) and at 120x40.

Regenerate after a deliberate change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the report before committing the SVGs.
"""

import pytest
from test_logs import seed_logs

from tools.demo_workbench import wait_until_idle


def pressing(keys):
    """`run_before` for snap_compare: each key pressed once the screen has settled."""

    async def reach(pilot):
        await wait_until_idle(pilot)
        for key in keys:
            await pilot.press(key)
            await wait_until_idle(pilot)

    return reach


SCREENS = {
    "overview": (),
    "clients": ("2",),
    "clients-picker": ("2", "down", "enter"),
    "clients-accept-all": ("2", "A"),
    "products": ("3",),
    "seat-diff": ("4",),
    "seat-diff-detail": ("4", "slash", *"harrington", "enter", "enter"),
    "help": ("4", "f1"),
    "rules": ("5",),
    "rules-edit": ("5", "down", "down", "enter"),
    "batch": ("6",),
    "batch-invoice": ("6", "enter"),
    "usage": ("7",),
    "books": ("0",),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, app, screen, size):
    assert snap_compare(app, terminal_size=size, run_before=pressing(SCREENS[screen]))


LOGS = {"logs": ("8",), "logs-warning-entry": ("8", "l", "l", "enter")}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("shot", list(LOGS))
def test_logs_screen(snap_compare, app, store, monkeypatch, shot, size):
    """On a log of known entries, shown in a zone an hour from UTC."""
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    seed_logs(store)

    assert snap_compare(app, terminal_size=size, run_before=pressing(LOGS[shot]))


SETTINGS = {"settings": ("9",), "settings-tested": ("9", "t"), "settings-quickbooks": ("9", "end")}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("shot", list(SETTINGS))
def test_settings_screen(snap_compare, store, shot, size):
    """The sandbox's connections as the screenshots show them."""
    from conftest import NOW, TODAY

    from tools.demo_workbench import demo_connections
    from trueup.core.service.workbench import Workbench
    from trueup.tui.app import make_app

    workbench = Workbench(store, today=TODAY, clock=lambda: NOW, connections=demo_connections())

    assert snap_compare(
        make_app(workbench), terminal_size=size, run_before=pressing(SETTINGS[shot])
    )


POST = {"post-summary": ("6", "p"), "post-results": ("6", "p", *"2026-11", "enter", "y")}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("shot", list(POST))
def test_post_screen(snap_compare, store, shot, size):
    """The clean invoices approved; the destination refuses the second one."""
    from test_post import FakeDestination, approve_clean, posting_workbench

    from trueup.tui.app import make_app

    _, clean = approve_clean(posting_workbench(store, None))
    workbench = posting_workbench(store, FakeDestination(refuse={clean[1].client_id}))

    assert snap_compare(make_app(workbench), terminal_size=size, run_before=pressing(POST[shot]))


HISTORY = {"invoice-months": ("6", "enter"), "summary-months": ("6", "S", "end")}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("shot", list(HISTORY))
def test_history_screen(snap_compare, app, workbench, shot, size):
    """Issue 18: the charts of the last 12 months, August's and October's batches stored too."""
    for month in ("2026-08", "2026-10"):
        workbench.batches.current_id(month)

    assert snap_compare(app, terminal_size=size, run_before=pressing(HISTORY[shot]))
