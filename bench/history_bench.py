"""Benchmark: the last 12 months read from the stored batches and the journal
(core/reports/history.py), as the invoice screen reads one client's and `trueup summary` (and
the workbench's `S`) every client's.

    python bench/history_bench.py STORE [--month 2026-11] [--runs 3] [--clients 20]

STORE is only read (work on a copy all the same): the month's newest batch stands for the month,
as the summary's current batch does; one client's read is timed for the first `--clients`
clients of that batch, every client's `--runs` times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from trueup.core.reports.history import month_history
from trueup.core.store.database import open_database
from trueup.core.values.months import Month


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    db = open_database(args.store)
    month = Month(args.month)
    with db.read() as conn:
        batch_id, invoices = conn.exec_driver_sql(
            "SELECT id, json_array_length(body, '$.summary') FROM invoice_batch WHERE month = ? "
            "ORDER BY created_at DESC LIMIT 1",
            (month,),
        ).one()
        clients = [
            client
            for (client,) in conn.exec_driver_sql(
                "SELECT client_id FROM batch_invoice WHERE batch_id = ? ORDER BY position LIMIT ?",
                (batch_id, args.clients),
            )
        ]

    def timed(client: int | None) -> float:
        started = time.perf_counter()
        month_history(db, month, batch_id=batch_id, client_id=client)
        return time.perf_counter() - started

    one = [timed(client) for client in clients]
    every = [timed(None) for _ in range(args.runs)]
    print(
        json.dumps(
            {
                "month": month,
                "batch_id": batch_id,
                "invoices": invoices,
                "one_client_ms": {
                    "median": round(statistics.median(one) * 1000, 1),
                    "max": round(max(one) * 1000, 1),
                },
                "every_client_s": [round(seconds, 2) for seconds in every],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
