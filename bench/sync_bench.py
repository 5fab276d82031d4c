"""Benchmark: sync a generated N-client scenario from the simulators over loopback HTTP.

Runs the simulators (`trueup sandbox serve`) and the sync (`trueup sync`) as separate processes,
so the sync's wall time and peak memory are its own. Reports requests against the floor (the
fewest the APIs allow at their maximum page sizes), wall time with and without the simulators'
real rate limits, peak memory and 429s received, and each sync's Pax8 requests per endpoint. The
file is synced twice with limits off: the second is the everyday re-sync, nothing changed. With
--baseline REV both are also run with the client code of commit REV (the simulators stay this
checkout's), and with the real limits the first sync too, so old and new are measured side by
side in one run. Usage:

    python bench/sync_bench.py --clients 2000 [--seed 1] [--skip-limited] [--baseline REV]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "app"  # the code measured: this checkout's, whatever the venv installed
PAX8_PAGE, HALO_PAGE = 200, 1000  # Pax8's documented maximum; Halo documents none (see README)
PAX8_LIMIT, PAX8_WINDOW = 1000, 60.0

# Put first on the sync's PYTHONPATH (as sitecustomize), this notes on the system-wide monotonic
# clock when each service's first request was sent and its last answer came, so the time spent
# on requests (the limiter's part) is told apart from the sync's start-up and what it does after
# the last answer (applying the staged rows), and counts Pax8's requests per endpoint (ids
# folded: /subscriptions/{id}/usage-summaries). It wraps ApiClient._send, which old and new code
# both have.
TRACER = """
import atexit, collections, json, os, re, time
from trueup.core.sources import http
import httpx
spans, endpoints, pax8_sent = {}, collections.Counter(), []
send = http.ApiClient._send
async def traced(self, call, token):
    sent = time.monotonic()
    if self.service == "Pax8":
        path = call.path.removeprefix("/v1")
        endpoints[re.sub(r"^/([\\w-]+)/[^/]+", r"/\\1/{id}", path)] += 1
    try:
        return await send(self, call, token)
    finally:
        first, last = spans.get(self.service, (sent, sent))
        spans[self.service] = (min(first, sent), max(last, time.monotonic()))
http.ApiClient._send = traced
wire = httpx.AsyncClient.send
async def on_the_wire(self, request, **kwargs):  # past the slots and the limiter
    if str(request.url).startswith(os.environ["TRUEUP_PAX8_URL"]):
        pax8_sent.append(time.monotonic())
    return await wire(self, request, **kwargs)
httpx.AsyncClient.send = on_the_wire
atexit.register(lambda: json.dump({"spans": spans, "endpoints": endpoints, "sent": pax8_sent},
                                  open(os.environ["TRUEUP_BENCH_TRACE"], "w")))
"""


def trueup(*args: str) -> list[str]:
    return [sys.executable, "-m", "trueup", *args]


def sandbox_env(urls: dict[str, str]) -> dict[str, str]:
    """What points trueup at the sandbox `trueup sandbox serve` printed `urls` for: its three
    services, with the sandbox's credentials."""
    creds = {f"TRUEUP_{s}_CLIENT_{k}": "sandbox" for s in ("PAX8", "HALO", "QBO")
             for k in ("ID", "SECRET")}  # fmt: skip
    return {
        **creds,
        "TRUEUP_PAX8_URL": urls["pax8"],
        "TRUEUP_HALO_URL": urls["halo"],
        "TRUEUP_HALO_AUTH_URL": urls["halo_auth"],
        "TRUEUP_QBO_URL": urls["qbo"],
        "TRUEUP_QBO_REALM": "sandbox",
        "TRUEUP_QBO_REFRESH_TOKEN": "sandbox",
    }


def floor_requests(scenario: dict[str, Any]) -> dict[str, int]:
    """The fewest requests a first sync of this scenario can make."""
    pax8, halo = scenario["pax8"], scenario["halo"]
    pages = lambda n, size: max(1, math.ceil(n / size))  # noqa: E731
    subs = pax8["subscriptions"]
    used = {s["productId"] for s in subs}
    window = _month_start(scenario["as_of"][:10], 1)
    history = sum(
        1
        for s in subs
        if max(_day(s.get("updatedDate")), _day(s.get("billingStart") or s.get("startDate")))
        >= window
    )
    since = _month_start(scenario["as_of"][:10], 2)
    invoices = [i for i in pax8.get("invoices", []) if i["invoiceDate"][:10] >= since]
    usage_subs = Counter(u.get("subscriptionId") for u in pax8.get("usage_summaries", []))
    p = {
        "token": 1,
        "companies": pages(len(pax8["companies"]), PAX8_PAGE),
        "subscriptions": pages(len(subs), PAX8_PAGE),
        "products": min(pages(len(pax8["products"]), PAX8_PAGE), len(used)),
        "history": history,
        "invoices": pages(len(invoices), PAX8_PAGE),
        "invoice items": sum(pages(len(i.get("items", [])), PAX8_PAGE) for i in invoices),
        "usage summaries": sum(pages(n, PAX8_PAGE) for n in usage_subs.values()),
    }
    h = {
        "token": 1,
        **{
            k: pages(len(halo.get(k, [])), HALO_PAGE)
            for k in ("clients", "sites", "items", "licences", "external_links")
        },
        "recurring_invoices": pages(len(halo.get("recurring_invoices", [])), HALO_PAGE),
    }
    # Synced again with nothing changed: the lists, and the usage of subscriptions not cancelled
    # before the reconciled months (history and invoice items are current in the store). By the
    # end's day, as the history above: the sync compares instants in UTC.
    ended = {
        s["id"]
        for s in subs
        if s.get("status") == "Cancelled" and (s.get("endDate") or "9999")[:10] < window
    }
    again = {
        **p,
        "history": 0,
        "invoice items": 0,
        "usage summaries": sum(
            pages(n, PAX8_PAGE) for sub_id, n in usage_subs.items() if sub_id not in ended
        ),
    }
    return {
        "pax8": sum(p.values()),
        "halo": sum(h.values()),
        **{f"pax8 {k}": v for k, v in p.items()},
        "pax8 again": sum(again.values()),
    }


def _day(value: str | None) -> str:
    return (value or "0000-00-00")[:10]


def _month_start(day: str, back: int) -> str:
    year, month = int(day[:4]), int(day[5:7])
    index = year * 12 + month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}-01"


def code_at(rev: str, into: Path) -> Path:
    """The `app` folder of commit `rev` of this checkout, unpacked into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", rev, "app"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "app"


def run_sync(
    scenario_path: Path, db: Path, as_of: str, rate_limits: bool, client_app: Path = APP
) -> dict[str, Any]:
    """Serve the scenario with this checkout's simulators and sync it with the client code in
    `client_app`, traced (TRACER)."""
    tracer = db.parent / f"{db.stem}-tracer"
    tracer.mkdir()
    (tracer / "sitecustomize.py").write_text(TRACER)
    serve = subprocess.Popen(
        trueup(
            "sandbox",
            "serve",
            "--scenario",
            str(scenario_path),
            *([] if rate_limits else ["--no-rate-limits"]),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(APP)},
    )
    try:
        assert serve.stdout is not None
        urls = json.loads(serve.stdout.readline())
        env = {
            **os.environ,
            "PYTHONPATH": f"{tracer}{os.pathsep}{client_app}",
            "TRUEUP_BENCH_TRACE": str(tracer / "spans.json"),
            "TRUEUP_PAX8_URL": urls["pax8"],
            "TRUEUP_HALO_URL": urls["halo"],
            "TRUEUP_HALO_AUTH_URL": urls["halo_auth"],
            "TRUEUP_PAX8_CLIENT_ID": "sandbox",
            "TRUEUP_PAX8_CLIENT_SECRET": "sandbox",
            "TRUEUP_HALO_CLIENT_ID": "sandbox",
            "TRUEUP_HALO_CLIENT_SECRET": "sandbox",
            "TRUEUP_TODAY": as_of,
            "TRUEUP_DB": str(db),
            "TRUEUP_CONFIG": str(db.with_suffix(".toml")),
            "TRUEUP_CLIENT_RATE_LIMITS": "on" if rate_limits else "off",
        }
        first = _timed_sync(env)
        # The everyday case: the same file synced again, nothing changed upstream.
        again = _timed_sync(env) if not rate_limits else None
    finally:
        serve.terminate()
        serve.wait(10)
    return {"first": first, **({"again": again} if again else {})}


def _timed_sync(env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        launched = time.monotonic()
        sync = subprocess.Popen(
            trueup("sync", "--json"), env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
        assert sync.stdout is not None
        out = sync.stdout.read()
        # wait4 gives this child's own peak memory, not the simulators' or the generator's
        _, status, usage = os.wait4(sync.pid, 0)
        wall = time.perf_counter() - started
        ended = time.monotonic()
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"sync failed: {err.read().strip()}")
    summary = json.loads(out)
    trace = json.loads(Path(env["TRUEUP_BENCH_TRACE"]).read_text())
    first, last = trace["spans"]["Pax8"]
    return {
        "wall_seconds": round(wall, 2),
        # Pax8's requests, first sent to last answered, between the sync's start-up and what
        # it does after the last answer; the limiter can shorten only the span.
        "pax8_span_seconds": {
            "start-up": round(first - launched, 2),
            "requests": round(last - first, 2),
            "after": round(ended - last, 2),
        },
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "requests": {s["source"]: s["requests"] for s in summary["sources"]},
        "pax8_endpoints": dict(sorted(trace["endpoints"].items())),
        # When the n-th Pax8 request went out (past the limiter), from the first: in a rolling
        # window each later window's request waits for its turn a window earlier, so the first
        # window's pace is repeated to the end (README, "The exact limiter").
        "pax8_sent_at": {
            str(n): round(sent[n - 1] - first, 2)
            for sent in [sorted(trace["sent"])]
            for n in (100, 250, 500, len(sent) % PAX8_LIMIT or PAX8_LIMIT, PAX8_LIMIT)
            if n <= len(sent)
        },
        "rate_limited": {s["source"]: s["rate_limited"] for s in summary["sources"]},
        "seconds": {s["source"]: s["seconds"] for s in summary["sources"]},
        "ok": summary["ok"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--skip-limited", action="store_true", help="only the run with rate limits off"
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also run the syncs with the client code of commit REV",
    )
    args = parser.parse_args()
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        scenario_path = Path(tmp) / "scenario.json"
        started = time.perf_counter()
        with scenario_path.open("w") as f:
            subprocess.run(
                trueup(
                    "sandbox", "generate", "--clients", str(args.clients), "--seed", str(args.seed)
                ),
                stdout=f,
                check=True,
            )
        generated = time.perf_counter() - started
        # The whole file is read only after the syncs, so this process is small when it forks
        # them (Linux keeps the forked parent's RSS in a child's ru_maxrss across exec).
        with scenario_path.open() as f:
            found = re.search(r'"as_of":\s*"(\d{4}-\d{2}-\d{2})', f.read(4096))
        if not found:
            raise SystemExit("the generated scenario has no as_of")
        as_of = found.group(1)
        report: dict[str, Any] = {"clients": args.clients, "seed": args.seed, "as_of": as_of}
        old = code_at(args.baseline, Path(tmp) / "baseline") if args.baseline else None
        if old:
            report["limits_off_baseline"] = {
                "rev": args.baseline,
                **run_sync(scenario_path, Path(tmp) / "old-off.sqlite", as_of, False, old),
            }
        report["limits_off"] = run_sync(scenario_path, Path(tmp) / "off.sqlite", as_of, False)
        if not args.skip_limited and old:
            report["limits_on_baseline"] = {
                "rev": args.baseline,
                **run_sync(scenario_path, Path(tmp) / "old.sqlite", as_of, True, old),
            }
        if not args.skip_limited:
            report["limits_on"] = run_sync(scenario_path, Path(tmp) / "on.sqlite", as_of, True)
        scenario = json.loads(scenario_path.read_text())
        floor = floor_requests(scenario)
        floor_seconds = math.floor((floor["pax8"] - 1) / PAX8_LIMIT) * PAX8_WINDOW
        report |= {
            "scenario_mb": round(scenario_path.stat().st_size / 1e6, 1),
            "generate_seconds": round(generated, 1),
            "subscriptions": len(scenario["pax8"]["subscriptions"]),
            "floor_requests": floor,
            "pax8_floor_seconds_with_limits": floor_seconds,
        }
        for key in ("limits_on_baseline", "limits_on"):
            if key in report and floor_seconds:  # wall time against the rate-limit floor
                first = report[key]["first"]
                first["over_floor"] = round(first["wall_seconds"] / floor_seconds, 3)
                span = first["pax8_span_seconds"]["requests"]
                first["requests_over_floor"] = round(span / floor_seconds, 3)
    (out_dir / f"sync-{args.clients}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
