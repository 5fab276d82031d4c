"""A month taken to its end (posted to Halo and QuickBooks, one client voided, one adjusted
after a rules change) told by every view: `trueup month`, `batches`, `summary`, `export` and
what the simulators hold, read back over their APIs, tell the same story to the cent."""

import csv
import json
from collections import defaultdict
from decimal import Decimal

from ledger_fixtures import (  # noqa: F401 (fixtures)
    ledger_prepared,
    ledger_served,
    remote,
    rules_with,
)


def test_every_view_of_a_posted_voided_and_adjusted_month_agrees(served, tmp_path):
    """From a review: `trueup batches` counted an adjustment as an invoice posted from the
    batch it came from: after one adjustment the month's batches read '19 posted from it' and
    '1 posted from it', 20 invoices for the 19 clients posted."""
    sandbox, db, batch_id = served
    approved = [
        c["client_id"]
        for c in json.loads(sandbox.run(db, "month", "--json").stdout)["clients"]
        if c["state"] == "approved"
    ]
    moved, adjusted, voided = approved[:3]
    post = ("--yes", "--unsettled")
    to_qbo = ("post", "2026-11", "--to", "qbo", "--client", str(moved), *post)
    assert sandbox.run(db, *to_qbo).returncode == 0
    assert sandbox.run(db, "post", batch_id, "--to", "halo-invoice", *post).returncode == 0
    assert sandbox.run(db, "void", "2026-11", "--client", str(voided), "--yes").returncode == 0
    rules_with(sandbox, db, tmp_path, f'\n[clients."{adjusted}"]\nprice = "markup"\n')
    adjust = sandbox.run(db, "post", "2026-11", "--to", "halo-invoice", "--adjust", *post)
    assert adjust.returncode == 0, adjust.stderr

    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)
    states = {c["client_id"]: c["state"] for c in ledger["clients"]}
    assert (states[moved], states[adjusted], states[voided]) == ("posted", "adjusted", "voided")
    live = [c for c in ledger["clients"] if c["state"] in ("posted", "adjusted")]

    # trueup batches: each client's invoice once, its adjustment apart.
    batches = json.loads(sandbox.run(db, "batches", "--json").stdout)["batches"]
    assert sum(b["posted"] for b in batches) == len(live)
    (newer,) = [b for b in batches if b["batch_id"] != batch_id]
    (first,) = [b for b in batches if b["batch_id"] == batch_id]
    assert (newer["posted"], newer["adjusted"]) == (0, 1)
    assert (first["posted"], first["adjusted"], first["voided"]) == (len(live), 0, 1)
    listing = " ".join(sandbox.run(db, "batches").stdout.split())
    assert "57 invoices, 0 approved on it, 0 posted from it, 1 adjustment(s) posted" in listing

    # The money: the month, the summary, the export and the destinations, per currency.
    posted = {k: Decimal(v["posted_total"]) for k, v in ledger["totals"]["by_currency"].items()}
    summary = json.loads(sandbox.run(db, "summary", "--json").stdout)
    assert {k: Decimal(v["posted"]) for k, v in summary["by_currency"].items()} == posted
    assert summary["by_state"] == ledger["totals"]["by_state"]
    assert [v["client_id"] for v in summary["voided"]] == [voided]
    folder = tmp_path / "csv"
    assert sandbox.run(db, "export", "--format", "csv", "--out", str(folder)).returncode == 0
    exported: dict[str, Decimal] = defaultdict(Decimal)
    with (folder / "invoices.csv").open(encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file):
            exported[row["Currency"]] += Decimal(row["Posted"])
            assert row["State"] == states[int(row["Client ID"])]
    assert exported == posted
    # What stands at each destination is what the month lists as posted, in its currency.
    there = {r: Decimal(str(t)) for d in ("halo-invoice", "qbo") for r, t in remote(sandbox, d, "")}
    listed: dict[str, Decimal] = defaultdict(Decimal)
    for client in live:
        for p in client["postings"]:
            if p["state"] == "posted":
                assert there.pop(p["reference"]) == Decimal(p["amount"])
                listed[client["currency"]] += Decimal(p["amount"])
    assert there == {} and listed == {k: v for k, v in posted.items() if v}
