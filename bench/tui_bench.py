"""Benchmark: the workbench on a generated N-client MSP, headless at 80x24.

Measures, on a store synced from the scenario with every suggestion accepted:
- how long the seat diff and the mapping rows take to read (the data, in a worker thread);
- time to first paint of the seat-diff screen once its data is loaded (goal < 0.5 s);
- time from a key to the next paint of the table for filters, paging and search (goal < 100 ms);
- the peak memory of the process running the workbench.

    python bench/tui_bench.py --clients 2000 [--seed 1] [--store PATH]

`--store` keeps the synced store at PATH and reuses it on the next run. The workbench runs in a
child process of its own, so its peak memory is not the generator's or the sync's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sync_bench import HERE, run_sync, trueup

# (what, key): each key is timed to the next paint of the table
SEAT_DIFF_KEYS = [
    ("m: all rows", "m"),
    *[("page down", "pagedown")] * 10,
    ("end", "end"),
    ("home", "home"),
    ("m: mismatches", "m"),
    *[("f: next status", "f")] * 5,
    *[("page down", "pagedown")] * 3,
    ("/: open search", "slash"),
    ("type m", "m"),
    ("type i", "i"),
    ("escape: clear", "escape"),
]
CLIENTS_KEYS = [
    *[("page down", "pagedown")] * 5,
    ("f: unmapped", "f"),
    ("f: suggested", "f"),
    ("o: by name", "o"),
    ("o: by score", "o"),
]


def prepare(store: Path, clients: int, seed: int) -> str:
    """Generate, sync (limits off) and accept every suggestion; returns the scenario's as_of."""
    as_of_file = store.with_suffix(".as_of")
    if store.exists() and as_of_file.exists():
        return as_of_file.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "scenario.json"
        with scenario.open("w") as out:
            subprocess.run(
                trueup("sandbox", "generate", "--clients", str(clients), "--seed", str(seed)),
                stdout=out,
                check=True,
            )
        with scenario.open() as f:
            found = re.search(r'"as_of":\s*"(\d{4}-\d{2}-\d{2})', f.read(4096))
        if not found:
            raise SystemExit("the generated scenario has no as_of")
        as_of = found.group(1)
        sync = run_sync(scenario, store, as_of, rate_limits=False)["first"]
        print(f"synced in {sync['wall_seconds']} s", file=sys.stderr)
    subprocess.run([sys.executable, __file__, "--accept", str(store), as_of], check=True)
    as_of_file.write_text(as_of)
    return as_of


def accept(store: Path, as_of: str) -> None:
    from trueup.core.service.workbench import Workbench
    from trueup.core.store.database import open_database

    db = open_database(store)
    workbench = Workbench(db, today=date.fromisoformat(as_of))
    companies = workbench.mappings.accept_company_suggestions()
    products = workbench.mappings.accept_product_suggestions()
    print(f"accepted {len(companies)} companies, {len(products)} products", file=sys.stderr)
    db.dispose()


def measure_in_child(store: Path, as_of: str) -> dict[str, Any]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--measure", str(store), as_of],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TEXTUAL_ANIMATIONS": "none"},
    )
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the measuring process failed")
    return {**json.loads(out), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


async def measure(store: Path, as_of: str) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent))  # the repository's root: tools/
    from tools.demo_workbench import wait_until_idle
    from trueup.core.service.workbench import Workbench
    from trueup.core.store.database import open_database
    from trueup.core.values.months import Month
    from trueup.tui.app import make_app
    from trueup.tui.widgets.row_table import RowTable

    paints: list[tuple[str, bool, float]] = []  # (table id, has rows, when its body was drawn)
    draw = RowTable.render_line

    def recording(table: RowTable[Any], y: int) -> Any:
        strip = draw(table, y)
        if y == 1:
            paints.append((table.id or "", bool(table.rows), time.perf_counter()))
        return strip

    RowTable.render_line = recording  # type: ignore[method-assign]

    db = open_database(store)
    today = date.fromisoformat(as_of)
    workbench = Workbench(db, today=today)
    month = Month.of(today)
    result: dict[str, Any] = {}
    started = time.perf_counter()
    diff = workbench.seats.rows(month)
    result["seat_diff_read_s"] = round(time.perf_counter() - started, 3)
    result["seat_diff_rows"] = len(diff)
    result["seat_diff_mismatches"] = sum(r.status != "match" for r in diff)
    started = time.perf_counter()
    result["companies"] = len(workbench.mappings.company_rows())
    result["company_rows_read_s"] = round(time.perf_counter() - started, 3)

    async def next_paint(table: str, pilot: Any, key: str, *, with_rows: bool = False) -> float:
        """From pressing `key` to the next time `table` is drawn (with rows in it)."""
        count, start = len(paints), time.perf_counter()

        def painted() -> list[float]:
            return [w for t, full, w in paints[count:] if t == table and (full or not with_rows)]

        await pilot.press(key)
        while not painted():
            await asyncio.sleep(0.001)
            if time.perf_counter() - start > 30:
                raise SystemExit(f"no paint of {table} after {key}")
        return painted()[0] - start

    async def key_timings(table: str, pilot: Any, keys: list[tuple[str, str]]) -> dict[str, Any]:
        timings = [(label, await next_paint(table, pilot, key)) for label, key in keys]
        seconds = [s for _, s in timings]
        return {
            "keys": len(seconds),
            "median_ms": round(statistics.median(seconds) * 1000, 1),
            "max_ms": round(max(seconds) * 1000, 1),
            "slowest": max(timings, key=lambda t: t[1])[0],
        }

    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)  # the overview has read everything, seat diff included
        result["seat_diff_first_paint_s"] = round(
            await next_paint("diff-table", pilot, "4", with_rows=True), 3
        )
        await wait_until_idle(pilot)
        result["seat_diff_keys"] = await key_timings("diff-table", pilot, SEAT_DIFF_KEYS)
        await pilot.press("2")
        await wait_until_idle(pilot)
        result["clients_keys"] = await key_timings("grid", pilot, CLIENTS_KEYS)
    db.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", type=Path, help="keep (and reuse) the synced store here")
    parser.add_argument("--accept", nargs=2, metavar=("STORE", "AS_OF"), help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=2, metavar=("STORE", "AS_OF"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.accept:
        accept(Path(args.accept[0]), args.accept[1])
        return
    if args.measure:
        print(json.dumps(asyncio.run(measure(Path(args.measure[0]), args.measure[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "bench.sqlite"
        as_of = prepare(store, args.clients, args.seed)
        report = {"clients": args.clients, "seed": args.seed, "as_of": as_of}
        report |= measure_in_child(store, as_of)
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"tui-{args.clients}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
