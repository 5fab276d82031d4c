"""Benchmark: the month's invoice batch on a generated N-client MSP.

Measures, on a store synced from the scenario with every suggestion accepted (as tui_bench):
- building the batch (goal <= 3 s, one process): reading the facts, billing every client, the
  JSON, storing (the month's stored batches are deleted before each build, so each one bills
  every client and writes its 26 MB as the month's first build does); as `trueup batch` builds
  it (a new process for each build) and in one long-running process (as the workbench does);
- a one-client change (a rule on one client) built again and shown (goal <= 150 ms): the build
  bills that client only; the batch is checked against one billing every client;
- opening the Batch screen on it, headless at 80x24 in a new process (goal < 0.5 s): from
  pressing `6` to the first paint of the table with its rows, the batch already stored (as on
  any visit after the first build);
- a key on the Batch screen (sort, page down).

With --month-end, last month's batch is stored first (and kept in the store), so each build
compares with it, as every month-end after trueup's first does.

The body's sha256 is reported (and checked with --expect-sha256): a faster build must give the
same bytes.

    python bench/batch_bench.py --clients 2000 [--seed 1] [--store PATH] [--expect-sha256 HEX]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sync_bench import HERE, trueup
from tui_bench import prepare


def time_build(store: Path, as_of: str, runs: int) -> dict[str, Any]:
    """Each run builds the month's batch from scratch twice, in turn: as `trueup batch` does (a
    new process) and in this long-running process (as the workbench does), whose phases are
    timed; then times a one-client change (a rule on one client's invoice) built again and
    shown, and checks that batch against one billing every client (the same bytes)."""
    from trueup.core.batch import build as batch_module

    phases: dict[str, list[float]] = {"assemble": [], "bill": []}
    assemble, bill = batch_module.assemble, batch_module.bill_client

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name][-1] += time.perf_counter() - started

        return wrapper

    batch_module.assemble = timed("assemble", assemble)  # type: ignore[assignment]
    batch_module.bill_client = timed("bill", bill)  # type: ignore[assignment]
    command_s, single_s, changed_s, shown_s, hashes = [], [], [], [], set()
    for _ in range(runs):
        command = json.loads(_in_new_process("--build-once", store, as_of))
        command_s.append(command["seconds"])
        for values in phases.values():
            values.append(0.0)
        single = build_once(store, as_of)
        single_s.append(single["seconds"])
        hashes |= {command["sha256"], single["sha256"]}
    if len(hashes) != 1:
        raise SystemExit("the two ways of building gave different bytes")
    full = phases["assemble"][:], phases["bill"][:]
    rest = [total - a - b for total, a, b in zip(single_s, *full, strict=True)]
    for run in range(runs):  # last: each changes the rules, and so the batch's bytes
        phases["assemble"].append(0.0)  # (what one_client_change's builds read: untold)
        phases["bill"].append(0.0)
        built, shown = one_client_change(store, as_of, f"{10 + run}")
        changed_s.append(built)
        shown_s.append(shown)
    del single["seconds"]  # the last build's: the lists below hold every run's
    return single | {
        "command_process_s": [round(s, 2) for s in command_s],
        "one_process_s": [round(s, 2) for s in single_s],
        "assemble_s": [round(s, 2) for s in full[0]],
        "bill_s": [round(s, 2) for s in full[1]],
        "json_and_store_s": [round(s, 2) for s in rest],
        "one_client_change_s": [round(s, 3) for s in changed_s],
        "one_client_change_shown_s": [round(s, 3) for s in shown_s],
        "command_process_median_s": round(statistics.median(command_s), 2),
        "one_process_median_s": round(statistics.median(single_s), 2),
        "one_client_change_median_s": round(statistics.median(changed_s), 3),
        "one_client_change_shown_median_s": round(statistics.median(shown_s), 3),
    }


def one_client_change(store: Path, as_of: str, markup: str) -> tuple[float, float]:
    """A rule set on one client (as `p` on an invoice line does), the month's batch built again
    (it bills that client only) and its listing read, as the Batch screen shows it: the seconds
    to build and to build and show. The batch is then checked against one billing every
    client, untimed: the same bytes, or the run fails."""
    from trueup.core.batch import build as batch_module
    from trueup.core.batch.reading import batch_overview
    from trueup.core.rules.current import set_client_override
    from trueup.core.store.database import open_database
    from trueup.core.values.months import Month

    db = open_database(store)
    today = date.fromisoformat(as_of)
    month = Month.of(today)
    with db.read() as conn:
        client = conn.exec_driver_sql(
            "SELECT client_id FROM company_mapping WHERE client_id IS NOT NULL "
            "ORDER BY client_id LIMIT 1"
        ).scalar()
    set_client_override(db, client, "markup_percent", markup)
    started = time.perf_counter()
    batch = batch_module.build_batch(db, month, today=today, by="bench")
    built = time.perf_counter() - started
    batch_overview(db, batch.batch_id)
    shown = time.perf_counter() - started
    data = batch.data
    with db.write() as conn:
        conn.exec_driver_sql("DELETE FROM invoice_batch WHERE id = ?", (batch.batch_id,))
    whole = batch_module.build_batch(db, month, today=today, by="bench", reuse=False)
    if whole.data != data:
        raise SystemExit("the batch built again after a one-client change is not the whole one")
    db.dispose()
    return built, shown


def _in_new_process(mode: str, store: Path, as_of: str) -> str:
    """This script run again with `mode`: what it prints."""
    command = [sys.executable, __file__, mode, "--store", str(store), "--as-of", as_of]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def forget_batch(store: Path, as_of: str) -> tuple[str, str]:
    """Delete the month's stored batches and the invoices no other batch lists (a bench store's
    own: no approval or posting names them), so that the next build bills every client and
    writes its 26 MB, as the month's first build does: (month, the batch's id)."""
    from trueup.core.batch.stored import batch_inputs
    from trueup.core.rules.in_force import rules_id_in_force
    from trueup.core.store.database import open_database
    from trueup.core.values.months import Month

    db = open_database(store)
    today = date.fromisoformat(as_of)
    month = Month.of(today)
    with db.read() as conn:
        batch_id = batch_inputs(conn, month, None, today, rules_id_in_force(conn)).batch_id
    with db.write() as conn:
        conn.exec_driver_sql("DELETE FROM invoice_batch WHERE month = ?", (month,))
        conn.exec_driver_sql(
            "DELETE FROM batch_invoice_text WHERE sha256 NOT IN (SELECT sha256 FROM batch_invoice)"
        )
    db.dispose()
    return month, batch_id


def store_last_month(store: Path, as_of: str) -> str:
    """The month before's batch built and stored (untimed, kept): the month's builds then read
    its lines and totals to compare with. Its id."""
    from trueup.core.batch.stored import current_batch
    from trueup.core.store.database import open_database
    from trueup.core.values.months import Month

    db = open_database(store)
    today = date.fromisoformat(as_of)
    batch_id = current_batch(db, Month.of(today).shifted(-1), today=today)
    db.dispose()
    return batch_id


def time_command(store: Path, as_of: str, runs: int) -> dict[str, Any]:
    """`trueup batch` as the operator runs it, start-up and listing included: building the
    month's batch, then again with the batch stored (shown, not built again)."""
    env = os.environ | {"TRUEUP_DB": str(store), "TRUEUP_TODAY": as_of}
    built_s, stored_s = [], []
    for _ in range(runs):
        month, _ = forget_batch(store, as_of)
        outputs = []
        for times in (built_s, stored_s):
            started = time.perf_counter()
            done = subprocess.run(
                trueup("batch", "--month", month), env=env, check=True, capture_output=True
            )
            times.append(round(time.perf_counter() - started, 2))
            outputs.append(done.stdout)
        if outputs[0] != outputs[1]:
            raise SystemExit("`trueup batch` printed another listing for the stored batch")
    return {
        "command_built_s": built_s,
        "command_stored_s": stored_s,
        "command_built_median_s": round(statistics.median(built_s), 2),
        "command_stored_median_s": round(statistics.median(stored_s), 2),
    }


def build_once(store: Path, as_of: str) -> dict[str, Any]:
    """The month's batch built and stored, timed: the month's stored batches are deleted
    first, so each build bills every client and writes its 26 MB as the month's first does."""
    from trueup.core.batch import build as batch_module
    from trueup.core.batch.body import parsed_body
    from trueup.core.store.database import open_database

    month, batch_id = forget_batch(store, as_of)
    today = date.fromisoformat(as_of)
    db = open_database(store)
    started = time.perf_counter()
    batch = batch_module.build_batch(db, month, today=today, by="bench")
    seconds = time.perf_counter() - started
    data = batch.data
    db.dispose()
    totals = parsed_body(data)["totals"]
    return {
        "seconds": round(seconds, 3),
        "month": month,
        "batch_id": batch_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "invoices": totals["invoices"],
        "lines": totals["lines"],
        "anomalies": totals["anomalies"],
        "body_mb": round(len(data) / 1e6, 1),
    }


async def time_screen(store: Path, as_of: str) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent))  # the repository's root: tools/
    from tools.demo_workbench import wait_until_idle
    from trueup.core.service.workbench import Workbench
    from trueup.core.store.database import open_database
    from trueup.tui.app import make_app
    from trueup.tui.widgets.row_table import RowTable

    paints: list[tuple[str, bool, float]] = []
    draw = RowTable.render_line

    def recording(table: RowTable[Any], y: int) -> Any:
        strip = draw(table, y)
        if y == 1:
            paints.append((table.id or "", bool(table.rows), time.perf_counter()))
        return strip

    RowTable.render_line = recording  # type: ignore[method-assign]
    db = open_database(store)
    app = make_app(Workbench(db, today=date.fromisoformat(as_of)))

    async def next_paint(pilot: Any, key: str) -> float:
        count, start = len(paints), time.perf_counter()
        await pilot.press(key)
        while not [w for t, full, w in paints[count:] if t == "batch-table" and full]:
            await asyncio.sleep(0.001)
            if time.perf_counter() - start > 60:
                raise SystemExit(f"no paint of the batch after {key}")
        return next(w for t, full, w in paints[count:] if t == "batch-table" and full) - start

    result: dict[str, Any] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        result["open_batch_screen_s"] = round(await next_paint(pilot, "6"), 3)
        await wait_until_idle(pilot)
        keys = [await next_paint(pilot, key) for key in ("o", "o", "o", *["pagedown"] * 5)]
        result["key_median_ms"] = round(statistics.median(keys) * 1000, 1)
        result["key_max_ms"] = round(max(keys) * 1000, 1)
    db.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", type=Path, help="keep (and reuse) the synced store here")
    parser.add_argument("--expect-sha256", help="fail unless the body's bytes have this sha256")
    parser.add_argument("--skip-screen", action="store_true", help="time the build only")
    parser.add_argument(
        "--month-end",
        action="store_true",
        help="store last month's batch first (kept), so each build compares with it, as every "
        "month-end after trueup's first does",
    )
    parser.add_argument("--build-once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--screen-once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_once:  # one build in a new process, as `trueup batch` runs
        json.dump(build_once(args.store, args.as_of), sys.stdout)
        return
    if args.screen_once:
        json.dump(asyncio.run(time_screen(args.store, args.as_of)), sys.stdout)
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "bench.sqlite"
        as_of = prepare(store, args.clients, args.seed)
        report: dict[str, Any] = {"clients": args.clients, "seed": args.seed, "as_of": as_of}
        if args.month_end:
            report["last_month"] = store_last_month(store, as_of)
        report |= time_build(store, as_of, args.runs)
        if args.expect_sha256 and report["sha256"] != args.expect_sha256:
            raise SystemExit(f"batch body sha256 {report['sha256']}, expected {args.expect_sha256}")
        report |= time_command(store, as_of, args.runs)
        if not args.skip_screen:  # in a new process, as the operator opens the workbench
            report |= json.loads(_in_new_process("--screen-once", store, as_of))
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"batch-{args.clients}.json").write_text(json.dumps(report, indent=2) + "\n")
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
