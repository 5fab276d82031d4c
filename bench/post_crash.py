"""Crash sweep: kill -9 `trueup post` at many points, resume, and count duplicates and losses.

For each kill point a fresh `trueup sandbox serve` and a copy of one approved store are used:
`trueup post BATCH --yes` runs with TRUEUP_CRASH_AT=<point>#<n> (SIGKILL on the n-th time the
process reaches the point: a journal commit, or mid-request on the wire), then `trueup post`
runs again to the end, and the destination is read back over its API. The invariant: every
approved invoice exists there exactly once, with the batch's total, and the journal says
POSTED with the destination's id. Usage:

    python bench/post_crash.py [--to halo-invoice] [--points 120] [--faults lost=0.1,seed=3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sync_bench import sandbox_env, trueup

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "app" / "trueup" / "sandbox" / "scenarios" / "demo.json"
JOURNAL_POINTS = ("queued", "settled", "sending", "answered", "posted", "unknown")
WIRE_POINTS = ("send", "answer")


@dataclass
class Outcome:
    point: str
    killed: bool
    duplicates: int
    lost: int
    journal_disagrees: int
    detail: str = ""


class Sandbox:
    """`trueup sandbox serve` in a child process, and the environment pointing at it."""

    def __init__(self, workdir: Path, faults: str | None) -> None:
        args = trueup("sandbox", "serve", "--scenario", str(SCENARIO))
        if faults:
            args += ["--faults", faults]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.process.stdout is not None
        urls = json.loads(self.process.stdout.readline())
        self.env = {
            **os.environ,
            **sandbox_env(urls),
            **xero_env(urls),
            "TRUEUP_TODAY": "2026-11-21",
            "TRUEUP_CONFIG": str(workdir / "config.toml"),
            # No OS keyring here: QuickBooks' rotated refresh tokens go to the encrypted file.
            "TRUEUP_SECRETS_FILE": str(workdir / "secrets.enc"),
            "TRUEUP_SECRETS_PASSPHRASE": "crash-test",
        }
        (workdir / "config.toml").write_text('[secrets]\nbackend = "encrypted-file"\n')

    def run(
        self, db: Path, *args: str, crash: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "TRUEUP_DB": str(db)}
        env.pop("TRUEUP_CRASH_AT", None)
        if crash:
            env["TRUEUP_CRASH_AT"] = crash
        return subprocess.run(trueup(*args), env=env, capture_output=True, text=True, timeout=300)

    def close(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def xero_env(urls: dict[str, str]) -> dict[str, str]:
    """The sandbox's Xero, as a Custom Connection (its one organisation)."""
    return {
        "TRUEUP_XERO_URL": urls["xero"],
        "TRUEUP_XERO_IDENTITY_URL": urls["xero_identity"],
        "TRUEUP_XERO_CLIENT_ID": "sandbox",
        "TRUEUP_XERO_CLIENT_SECRET": "sandbox",
    }


def prepare(workdir: Path, *destinations: str) -> tuple[Path, str]:
    """A store synced from the demo, mappings accepted (the books' too for qbo and xero among
    `destinations`), the month's batch built and approved."""
    db = workdir / "template.sqlite"
    sandbox = Sandbox(workdir, None)
    try:
        for args in (("sync",), ("map", "accept", "--min-score", "95")):
            done = sandbox.run(db, *args)
            assert done.returncode == 0, done.stderr
        for books in sorted({"qbo", "xero"} & set(destinations)):
            for args in ((books, "refresh"), (books, "map", "accept", "--min-score", "80")):
                done = sandbox.run(db, *args)
                assert done.returncode == 0, done.stderr
        built = sandbox.run(db, "batch", "--month", "2026-11", "--json")
        batch_id = json.loads(built.stdout)["batch_id"]
        sandbox.run(db, "approve", batch_id)
    finally:
        sandbox.close()
    return db, batch_id


def kill_points(count: int, invoices: int) -> list[str]:
    """Every journal point for the first invoices, then the wire, up to `count` points."""
    points = [f"{p}#1" for p in ("queued", "settled")]
    for n in range(1, invoices + 1):
        points += [f"{p}#{n}" for p in ("sending", "answered", "posted")]
        points += [f"{p}#{n + 2}" for p in WIRE_POINTS]  # past the token and lookup requests
    points += ["unknown#1", "send#1", "send#2", "answer#1", "answer#2"]
    return points[:count]


def approved_totals(db: Path) -> dict[int, Decimal]:
    with sqlite3.connect(db) as conn:
        clients = {r[0] for r in conn.execute("SELECT client_id FROM approval")}
        invoices = [
            json.loads(text)
            for (text,) in conn.execute(
                "SELECT t.text FROM batch_invoice r JOIN batch_invoice_text t USING (sha256)"
            )
        ]
    return {
        int(i["client_id"]): Decimal(i["total"]) for i in invoices if int(i["client_id"]) in clients
    }


def journal(db: Path, destination: str) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT reference, state, remote_id FROM posting_entry "
            "WHERE destination = ? AND action = 'create'",
            (destination,),
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


async def remote_documents(env: dict[str, str], destination: str) -> list[tuple[str, str, Decimal]]:
    """(reference, id, total) of every live document our references name at the destination.
    The clients read their settings from os.environ: one reader at a time, or a sweep running
    points in parallel would read another point's simulator."""
    return await _remote_documents(env, destination)


def recurring_only(db: Path) -> list[str]:
    """The journal's halo-recurring documents that carry no one-off invoice (payloads)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT payload FROM posting_entry WHERE destination = 'halo-recurring' "
            "AND action = 'create'"
        ).fetchall()
    return [payload for (payload,) in rows if not json.loads(payload)["lines"]]


async def recurring_in_effect(env: dict[str, str], payloads: list[str]) -> set[str]:
    """The references of those documents whose recurring lines Halo holds at their targets, as
    the sink's lookup reads them (a true-up with no one-off invoice leaves no invoice to find)."""
    from trueup.core.posting.halo_recurring import HaloRecurringSink
    from trueup.core.posting.sink import Document
    from trueup.core.settings.clients import halo_from_settings
    from trueup.core.settings.config import load_settings

    documents = [Document.from_json(payload) for payload in payloads]
    with environment(env):
        async with halo_from_settings(load_settings(Path(env["TRUEUP_CONFIG"]))) as halo:
            return set(await HaloRecurringSink(halo).lookup(documents)) if documents else set()


async def halo_invoices(env: dict[str, str]) -> list[dict[str, Any]]:
    """Every invoice the Halo simulator holds, as its API lists them (those its recurring
    invoices made included), read as `remote_documents` reads."""
    from trueup.core.settings.clients import halo_from_settings
    from trueup.core.settings.config import load_settings

    with environment(env):
        async with halo_from_settings(load_settings(Path(env["TRUEUP_CONFIG"]))) as halo:
            return [row async for page in halo.invoices() for row in page]


_ENVIRON = threading.Lock()


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """The clients read their settings from os.environ: `env` there, one reader at a time."""
    with _ENVIRON:
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


async def _remote_documents(
    env: dict[str, str], destination: str
) -> list[tuple[str, str, Decimal]]:
    from trueup.core.posting.qbo import is_voided
    from trueup.core.settings.clients import (
        halo_from_settings,
        qbo_from_settings,
        xero_from_settings,
    )
    from trueup.core.settings.config import load_settings

    with environment(env):
        settings = load_settings(Path(env["TRUEUP_CONFIG"]))
        if destination == "qbo":
            async with qbo_from_settings(settings) as qbo:
                rows = await qbo.query("Invoice")
                memos = await qbo.query("CreditMemo")  # a credit: its total taken back
            return [
                (r["DocNumber"], r["Id"], sign * Decimal(str(r["TotalAmt"])))
                for sign, found in ((1, rows), (-1, memos))
                for r in found
                if str(r.get("DocNumber", "")).startswith("TU") and not is_voided(r)
            ]
        if destination == "xero":
            async with xero_from_settings(settings) as xero:
                return await _xero_documents(xero)
        async with halo_from_settings(settings) as halo:
            found = []
            async for page in halo.invoices():
                found += [
                    (r.get("reference") or "", str(r["id"]), Decimal(str(r.get("total", 0))))
                    for r in page
                    if str(r.get("reference", "")).startswith(("TU", "TR")) and not r.get("voided")
                ]
            return found


async def _xero_documents(xero: Any) -> list[tuple[str, str, Decimal]]:
    """Every live invoice and credit note (a credit: its total taken back)."""
    invoices = await xero.pages("Invoices", {})
    notes = await xero.pages("CreditNotes", {})
    return [
        (r[number], r[key], sign * Decimal(str(r["Total"])))
        for sign, found, number, key in (
            (1, invoices, "InvoiceNumber", "InvoiceID"),
            (-1, notes, "CreditNoteNumber", "CreditNoteID"),
        )
        for r in found
        if str(r.get(number, "")).startswith("TU") and r.get("Status") not in ("VOIDED", "DELETED")
    ]


def sweep_one(
    template: Path, batch_id: str, destination: str, point: str, faults: str | None
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="trueup-crash-") as folder:
        workdir = Path(folder)
        db = workdir / "store.sqlite"
        shutil.copy(template, db)
        sandbox = Sandbox(workdir, faults)
        try:
            post = ("post", batch_id, "--to", destination, "--yes", "--unsettled")
            first = sandbox.run(db, *post, crash=point)
            killed = first.returncode == -signal.SIGKILL
            for _ in range(5):  # faults may leave some for another run, as an operator would
                final = sandbox.run(db, *post)
                if final.returncode == 0:
                    break
            remote = asyncio.run(remote_documents(sandbox.env, destination))
            in_effect: set[str] = set()
            if destination == "halo-recurring":
                in_effect = asyncio.run(recurring_in_effect(sandbox.env, recurring_only(db)))
        finally:
            sandbox.close()
        expected = approved_totals(db)
        entries = journal(db, destination)
        seen = Counter(reference for reference, _, _ in remote)
        duplicates = sum(n - 1 for n in seen.values() if n > 1)
        references = {ref: int(ref.split("-")[1]) for ref in entries}
        posted_clients = {references[ref] for ref in {*seen, *in_effect} if ref in references}
        lost = len(set(expected) - posted_clients)
        remote_ids = {ref: rid for ref, rid, _ in remote}
        disagree = sum(
            1
            for ref, (state, rid) in entries.items()
            if state != "POSTED" or (destination != "halo-recurring" and remote_ids.get(ref) != rid)
        )
        detail = "" if final.returncode == 0 else final.stderr.strip()[-200:]
        return Outcome(point, killed, duplicates, lost, disagree, detail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--to", default="halo-invoice")
    parser.add_argument("--points", type=int, default=110)
    parser.add_argument("--faults", default=None)
    parser.add_argument("--workers", type=int, default=4)
    options = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="trueup-crash-base-") as folder:
        template, batch_id = prepare(Path(folder), options.to)
        invoices = len(approved_totals(template))
        points = kill_points(options.points, invoices)
        with ThreadPoolExecutor(options.workers) as pool:
            outcomes = list(
                pool.map(
                    lambda p: sweep_one(template, batch_id, options.to, p, options.faults),
                    points,
                )
            )
    bad = [o for o in outcomes if o.duplicates or o.lost or o.journal_disagrees]
    print(
        json.dumps(
            {
                "destination": options.to,
                "faults": options.faults,
                "approved_invoices": invoices,
                "crash_points_tried": len(outcomes),
                "killed": sum(o.killed for o in outcomes),
                "duplicates": sum(o.duplicates for o in outcomes),
                "lost": sum(o.lost for o in outcomes),
                "journal_disagrees": sum(o.journal_disagrees for o in outcomes),
                "failures": [o.__dict__ for o in bad][:10],
                "seconds": round(time.monotonic() - started, 1),
            },
            indent=2,
        )
    )
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
