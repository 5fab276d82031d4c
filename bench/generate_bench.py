"""Benchmark: generate an N-client scenario and write it as JSON text, in this process.

Times `generate_scenario` and `dump_scenario` as `tests/test_scenario_generate.py` calls them
(2,000 clients, seed 11, November 2026: goal < 60 s for both), `--runs` times in a row, and
reports the subscriptions, the text's size and the process's peak memory. Usage:

    python bench/generate_bench.py --clients 2000 [--seed 11] [--month 2026-11] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from typing import Any

from sync_bench import HERE

from trueup.sandbox.generate import dump_scenario, generate_scenario


def run_once(clients: int, seed: int, month: str) -> dict[str, Any]:
    started = time.perf_counter()
    data = generate_scenario(clients, seed=seed, month=month)
    generated = time.perf_counter()
    text = dump_scenario(data)
    dumped = time.perf_counter()
    return {
        "seconds": round(dumped - started, 2),
        "generate_seconds": round(generated - started, 2),
        "dump_seconds": round(dumped - generated, 2),
        "subscriptions": len(data["pax8"]["subscriptions"]),
        "text_mb": round(len(text.encode()) / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    runs = [run_once(args.clients, args.seed, args.month) for _ in range(args.runs)]
    report: dict[str, Any] = {"clients": args.clients, "seed": args.seed, "month": args.month}
    report |= {
        "median_seconds": statistics.median(r["seconds"] for r in runs),
        "runs": runs,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"generate-{args.clients}.json").write_text(json.dumps(report, indent=2) + "\n")
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
