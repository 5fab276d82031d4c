"""One snapshot per screen at 80x24 (the least a terminal gives) and at 120x40.

Regenerate after a deliberate change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the report before committing the SVGs.
"""

import pytest

from trueup.tui.screenshots import wait_until_idle

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
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, app, screen, size):
    async def reach(pilot):
        await wait_until_idle(pilot)
        for key in SCREENS[screen]:
            await pilot.press(key)
            await wait_until_idle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=reach)
