"""Regenerate the README's screenshots: every screen at 80x24 and 120x40, as SVG.

    python -m tools.screenshots [--out DIR]     # from the repository's root

The store is the bundled demo (`tools/demo_workbench.py`), synced in-process from the simulators
into a temporary file, with the surest suggestions accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from tools.demo_workbench import demo_store, wait_until_idle
from trueup.core.service.workbench import Workbench
from trueup.tui.app import make_app

SIZES = ((80, 24), (120, 40))
# (file name, keys pressed from the previous shot's state, keys that leave it afterwards)
SHOTS = (
    ("overview", (), ()),
    ("clients", ("2",), ()),
    ("clients-picker", ("down", "enter"), ("escape",)),
    ("clients-accept-all", ("A",), ("n",)),
    ("products", ("3",), ()),
    ("seat-diff", ("4",), ()),
    ("seat-diff-detail", ("slash", *"harrington", "enter", "enter"), ("escape", "slash", "escape")),
    ("help", ("f1",), ("escape",)),
    ("rules", ("5",), ()),
    ("rules-edit", ("down", "down", "enter"), ("escape",)),
    ("batch", ("6",), ()),
    ("batch-invoice", ("enter",), ("escape",)),
    ("usage", ("7",), ()),
    ("logs", ("8",), ()),
    ("logs-entry", ("enter",), ("escape",)),
    ("settings", ("9",), ()),
    ("settings-tested", ("t",), ()),
    ("books", ("0",), ()),
    ("batch-approve-all", ("6", "A"), ("y",)),
    ("post-summary", ("p",), ()),
    ("post-results", (*"2026-11", "enter", "y"), ("escape",)),  # y: post the unsettled too
)


async def capture(workbench: Workbench, size: tuple[int, int]) -> dict[str, str]:
    """Every shot at one size: file name -> SVG."""
    shots = {}
    app = make_app(workbench)
    async with app.run_test(size=size) as pilot:
        await wait_until_idle(pilot)
        for name, keys, leave in SHOTS:
            await pilot.press(*keys)
            await wait_until_idle(pilot)
            svg = app.export_screenshot(title=f"trueup · {name}")
            shots[f"{name}-{size[0]}x{size[1]}.svg"] = svg
            await pilot.press(*leave)
            await wait_until_idle(pilot)
    return shots


async def every_shot(folder: Path) -> dict[str, str]:
    shots = {}
    for width, height in SIZES:  # a store each: the shots post what they approve
        workbench = await demo_store(folder / f"demo-{width}x{height}.sqlite")
        try:
            shots.update(await capture(workbench, (width, height)))
        finally:
            workbench.db.dispose()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="the folder")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        shots = asyncio.run(every_shot(Path(folder)))
    for name, svg in shots.items():
        (out / name).write_text(svg, encoding="utf-8")
        print(out / name)


if __name__ == "__main__":
    main()
