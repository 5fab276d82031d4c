"""Benchmark: post a 2,000-client batch to each destination over loopback HTTP.

Generates (or reuses) the N-client scenario, serves it with `trueup sandbox serve`, syncs it,
accepts every suggestion (Pax8 -> Halo, Halo -> QuickBooks and Xero), builds the month's batch,
approves every invoice (errors overridden "for the bench"), then posts it to halo-invoice, qbo,
xero and halo-recurring in turn, each on a fresh copy of the approved store and a fresh simulator.
Reports requests made against the floor the APIs allow, wall time with both sides' rate limits
off, and the floor the real rate limits impose on wall time. Usage:

    python bench/post_bench.py --clients 2000 [--seed 1] [--to halo-invoice ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from post_crash import xero_env
from sync_bench import sandbox_env, trueup

HERE = Path(__file__).resolve().parent
MONTH, TODAY = "2026-11", "2026-11-21"
# requests per window in seconds; Xero also allows 5,000 a day per organisation
LIMITS = {"halo": (300, 300.0), "qbo": (500, 60.0), "xero": (60, 60.0)}
QBO_BATCHES = (40, 60.0)  # QuickBooks' batch endpoint: requests per window, per company


@contextmanager
def served(scenario: Path, *, real_limits: bool = False) -> Iterator[dict[str, str]]:
    """The simulators, without rate limits unless `real_limits` (then the clients pace too)."""
    limits = () if real_limits else ("--no-rate-limits",)
    process = subprocess.Popen(
        trueup("sandbox", "serve", "--scenario", str(scenario), *limits),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    urls = json.loads(process.stdout.readline())
    env = {
        **sandbox_env(urls),
        **xero_env(urls),
        "TRUEUP_TODAY": TODAY,
        "TRUEUP_CLIENT_RATE_LIMITS": "on" if real_limits else "off",
    }
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)
        process.terminate()
        process.wait(timeout=30)


def prepare(scenario: Path, folder: Path) -> tuple[Path, str, int]:
    """The approved store: synced, mapped, batch built, every invoice approved."""
    from trueup.core.batch.approval import approve
    from trueup.core.batch.build import build_batch
    from trueup.core.store.database import open_database

    db_path = folder / "approved.sqlite"
    with served(scenario) as env:
        run_env = {**os.environ, **env, "TRUEUP_DB": str(db_path),
                   "TRUEUP_CONFIG": str(folder / "config.toml")}  # fmt: skip
        # Every suggestion, however weak: the bench posts every client, not a careful mapping.
        for args in (("sync",), ("map", "accept", "--min-score", "0")):
            subprocess.run(trueup(*args), env=run_env, check=True, capture_output=True)
        db = open_database(db_path)
        asyncio.run(_catalogs(db))
    from trueup.core.mapping.books.engine import (
        QBO,
        XERO,
        accept_book_suggestions,
        map_item,
        missing_book_targets,
    )

    # The generated books have fewer items than Halo: the rest go to one item.
    fallbacks = {
        QBO: "SELECT min(id) FROM qbo_item "
        "WHERE coalesce(active, 1) AND coalesce(type, '') != 'Category'",
        XERO: "SELECT min(id) FROM xero_item WHERE coalesce(sold, 1)",
    }
    for books, query in fallbacks.items():
        accept_book_suggestions(db, books, min_score=0)
        with db.read() as conn:
            fallback = conn.exec_driver_sql(query).scalar()
        for missing in missing_book_targets(db, books).items:
            map_item(db, books, missing.halo_id, fallback)
    batch = build_batch(db, MONTH, today=date.fromisoformat(TODAY))
    codes = sorted(
        {
            a["code"]
            for invoice in batch.body["invoices"]
            for a in [*invoice["anomalies"], *(x for line in invoice["lines"]
                                                for x in line["anomalies"])]
            if a["severity"] == "error"
        }
    )  # fmt: skip
    result = approve(db, batch.batch_id, overrides=[(c, "bench") for c in codes], by="bench")
    db.dispose()
    return db_path, batch.batch_id, len(result.approved)


async def _catalogs(db: Any) -> None:
    from trueup.core.sources.qbo import QboClient, token_url_for
    from trueup.core.sync.books_catalog import refresh_qbo_catalog, refresh_xero_catalog

    url = os.environ["TRUEUP_QBO_URL"]
    async with QboClient(url, "sandbox", "sandbox", "sandbox", "sandbox", lambda _: None,
                         token_url=token_url_for(url), rate=None) as client:  # fmt: skip
        await refresh_qbo_catalog(db, client)
    async with _xero_client() as xero:
        await refresh_xero_catalog(db, xero)


def _xero_client() -> Any:
    from trueup.core.sources.xero import XeroClient

    return XeroClient(os.environ["TRUEUP_XERO_URL"], os.environ["TRUEUP_XERO_IDENTITY_URL"],
                      "sandbox", client_secret="sandbox", rate=None)  # fmt: skip


async def _post(db: Any, batch_id: str, destination: str, *, real_limits: bool) -> dict[str, Any]:
    from trueup.core.posting.halo_invoice import HaloInvoiceSink
    from trueup.core.posting.halo_recurring import HaloRecurringSink
    from trueup.core.posting.plan import plan_posting, queue_posting
    from trueup.core.posting.qbo import QboSink
    from trueup.core.posting.run import run_posting
    from trueup.core.posting.xero import XeroSink
    from trueup.core.sources.halo import HALO_RATE_LIMIT, HaloClient
    from trueup.core.sources.qbo import QBO_RATE_LIMIT, QboClient, token_url_for

    plan = plan_posting(db, batch_id, destination, today=date.fromisoformat(TODAY))
    queue_posting(db, plan, by="bench")
    client: Any
    if destination == "qbo":
        url = os.environ["TRUEUP_QBO_URL"]
        client = QboClient(url, "sandbox", "sandbox", "sandbox", "sandbox", lambda _: None,
                           token_url=token_url_for(url),
                           rate=QBO_RATE_LIMIT if real_limits else None)  # fmt: skip
        sink: Any = QboSink(client)
    elif destination == "xero":
        client = _xero_client()
        sink = XeroSink(client)
    else:
        client = HaloClient(os.environ["TRUEUP_HALO_URL"], os.environ["TRUEUP_HALO_AUTH_URL"],
                            "sandbox", "sandbox",
                            rate=HALO_RATE_LIMIT if real_limits else None)  # fmt: skip
        sink = (HaloInvoiceSink if destination == "halo-invoice" else HaloRecurringSink)(client)
    started = time.perf_counter()
    async with client:
        report = await run_posting(db, sink, batch_id, backup=False)
    seconds = time.perf_counter() - started
    documents = [p.document for p in plan.ready if p.document is not None]
    batches = (
        {"batch_requests": client.batch_requests, "rate_limited": client.stats.rate_limited}
        if destination == "qbo"
        else {}
    )
    return {
        "invoices": len(documents),
        "posted": report.posted,
        "blocked": len(plan.blocked),
        "blocked_because": dict(Counter(_reason(p.problem) for p in plan.blocked).most_common(5)),
        "found": report.found,
        "complete": report.complete,
        "requests": client.stats.requests,
        "token_requests": client.stats.token_requests,
        **batches,
        "floor": floor(destination, documents, sink),
        "seconds_real_limits" if real_limits else "seconds_limits_off": round(seconds, 1),
    }


def ledger_timings(db_path: Path) -> dict[str, Any]:
    """The month ledger once the month is posted: `trueup month --json` as the operator runs it
    (a new process, start-up included), and planning the adjustments after a rules change that
    moves every invoice (each client's posted documents read back and differenced)."""
    from trueup.core.posting.adjustment_plan import plan_adjustments
    from trueup.core.rules.current import import_rules
    from trueup.core.store.database import open_database

    env = {**os.environ, "TRUEUP_DB": str(db_path), "TRUEUP_TODAY": TODAY}
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(trueup("month", "--json"), env=env, capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    clients = json.loads(done.stdout)["clients"]
    db = open_database(db_path)
    import_rules(db, '[defaults]\nprice = "markup"\nmarkup_percent = "12"\n')
    from trueup.core.batch.stored import current_batch

    rebuilt = current_batch(db, MONTH, today=date.fromisoformat(TODAY))
    started = time.perf_counter()
    plan = plan_adjustments(db, rebuilt, "halo-invoice")
    planned = time.perf_counter() - started
    db.dispose()
    return {
        "clients": len(clients),
        "posted": sum(1 for c in clients if c["state"] == "posted"),
        "month_json_seconds": [round(r, 2) for r in runs],
        "adjustments": len(plan.ready),
        "plan_adjustments_seconds": round(planned, 2),
    }


def _reason(problem: str | None) -> str:
    return (problem or "").split(":")[0].split(" for ")[0]


def floor(destination: str, documents: list[Any], sink: Any) -> int:
    """The fewest requests the API allows: a token, the lookup, then the sink's arrays for Halo
    invoices (a POST takes an array) and Xero (one PUT takes many) and QuickBooks' batches (30
    creates each; the lookup's queries in batches too, whose answer holds at most 1,000
    objects); recurring invoices in arrays of the sink's size, plus one create per adjustment
    invoice."""
    if destination == "halo-recurring":
        changed = {c.recurring_invoice_id for d in documents for c in d.recurring}
        adjustments = sum(1 for d in documents if d.lines)
        return 1 + 2 + math.ceil(len(changed) / sink.batch_size) + adjustments
    if destination == "xero":  # the first lookup also resolves the tenant (/connections)
        lookups = math.ceil(len(documents) / 40)
        return 1 + 1 + lookups + math.ceil(len(documents) / sink.batch_size)
    if destination == "halo-invoice":  # the lookup by 200 clients, the sink's arrays
        return 1 + math.ceil(len(documents) / 200) + math.ceil(len(documents) / sink.batch_size)
    # qbo: a token, the lookup (1,000 objects a batch answer), 30 creates a batch
    return 1 + math.ceil(len(documents) / 1000) + math.ceil(len(documents) / sink.batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--to", nargs="*", default=["halo-invoice", "qbo", "xero", "halo-recurring"]
    )
    parser.add_argument("--scenario", type=Path, help="reuse this scenario file")
    parser.add_argument(
        "--real-limits",
        action="store_true",
        help="post with the simulators' real rate limits and the client's limiters (Halo and "
        "QuickBooks)",
    )
    options = parser.parse_args()
    from trueup.core.store.database import open_database

    with tempfile.TemporaryDirectory(prefix="trueup-post-bench-") as tmp:
        folder = Path(tmp)
        scenario = options.scenario or folder / "scenario.json"
        if options.scenario is None:
            with scenario.open("w") as out:
                subprocess.run(
                    trueup(
                        "sandbox",
                        "generate",
                        "--clients",
                        str(options.clients),
                        "--seed",
                        str(options.seed),
                        "--month",
                        MONTH,
                    ),
                    stdout=out,
                    check=True,
                )
        started = time.perf_counter()
        approved, batch_id, count = prepare(scenario, folder)
        report: dict[str, Any] = {
            "clients": options.clients,
            "approved": count,
            "prepare_seconds": round(time.perf_counter() - started, 1),
        }
        for destination in options.to:
            copy = folder / f"{destination}.sqlite"
            shutil.copy(approved, copy)
            with served(scenario, real_limits=options.real_limits):
                db = open_database(copy)
                result = asyncio.run(
                    _post(db, batch_id, destination, real_limits=options.real_limits)
                )
                db.dispose()
            if destination == "halo-invoice":
                result["ledger"] = ledger_timings(copy)
            limit, window = LIMITS[destination if destination in LIMITS else "halo"]
            # Requests past the first window's worth each wait for a window to roll on.
            result["floor_seconds_real_limits"] = (
                math.ceil(result["requests"] / limit) - 1
            ) * window
            if destination == "qbo":  # the batch endpoint's own 40 a minute, if it binds
                most, minute = QBO_BATCHES
                batch_floor = (math.ceil(result["batch_requests"] / most) - 1) * minute
                result["floor_seconds_real_limits"] = max(
                    result["floor_seconds_real_limits"], batch_floor
                )
            report[destination] = result
            print(destination, json.dumps(result), file=sys.stderr)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
