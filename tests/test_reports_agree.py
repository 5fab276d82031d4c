"""A month taken to its end (posted to Halo and QuickBooks, one client voided, one adjusted
after a rules change) told by every view: `trueup month`, `batches`, `summary`, `export` and
what the simulators hold, read back over their APIs, tell the same story to the cent."""

import csv
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

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


def test_an_approval_lapsed_by_a_rules_change_leaves_no_batch_open(served, tmp_path):
    """From a review: one approved client billing otherwise after a rules change, the rest
    posted, `trueup status` said 'Open batch B: 1 approved invoice(s) not posted; `trueup post
    B --to halo-invoice` sends them', where the month read the client lapsed and that post sent
    nothing and exited 1 (approval lapsed): the batch stayed open until the client was billed."""
    sandbox, db, batch_id = served
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)
    lapsing = next(c["client_id"] for c in ledger["clients"] if c["state"] == "approved")
    rules_with(sandbox, db, tmp_path, f'\n[clients."{lapsing}"]\nprice = "markup"\n')
    post = ("post", "2026-11", "--to", "halo-invoice", "--yes", "--unsettled")
    assert sandbox.run(db, *post).returncode == 1  # the lapsed one refused, the rest posted
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)
    assert ledger["totals"]["by_state"]["lapsed"] == 1
    assert json.loads(sandbox.run(db, "status", "--json").stdout)["open_batches"] == []
    assert "No open batch: no approved invoice waits" in sandbox.run(db, "status").stdout
    batches = json.loads(sandbox.run(db, "batches", "--json").stdout)["batches"]
    assert [(b["waiting"], b["open"]) for b in batches if b["batch_id"] == batch_id] == [(0, False)]
    again = sandbox.run(db, "post", batch_id, "--to", "halo-invoice", "--yes", "--unsettled")
    assert "0 invoice(s) to post" in again.stderr  # what status said would send it, sends nothing
    # Approved again on the month's batch, it waits there, and is posted from it.
    assert sandbox.run(db, "approve", "2026-11", "--client", str(lapsing)).returncode == 0
    (open_batch,) = json.loads(sandbox.run(db, "status", "--json").stdout)["open_batches"]
    assert open_batch["batch_id"] != batch_id and open_batch["waiting"] == 1
    assert sandbox.run(db, *post).returncode == 0
    assert json.loads(sandbox.run(db, "status", "--json").stdout)["open_batches"] == []


def test_a_xero_draft_reads_as_one_in_the_export_and_the_evidence_as_in_the_month(served, tmp_path):
    """From a review: a month posted to Xero as drafts read '(draft)' in `trueup month`, and
    nothing said so in the export's Journal sheet or the evidence pack: the accountant and the
    client read an invoice issued where Xero holds one nobody has been sent."""
    sandbox, db, _ = served
    config = Path(sandbox.env["TRUEUP_CONFIG"])
    config.write_text(config.read_text() + '[xero]\ninvoice_status = "draft"\n')
    month = json.loads(sandbox.run(db, "month", "--json").stdout)["clients"]
    drafted, issued = [c["client_id"] for c in month if c["state"] == "approved"][:2]
    for client, to in ((drafted, "xero"), (issued, "halo-invoice")):
        post = ("post", "2026-11", "--to", to, "--client", str(client), "--yes", "--unsettled")
        assert sandbox.run(db, *post).returncode == 0
    said = " ".join(sandbox.run(db, "month").stdout.split())
    assert f"xero TU2611-{drafted} (draft)" in said
    folder = tmp_path / "csv"
    assert sandbox.run(db, "export", "--format", "csv", "--out", str(folder)).returncode == 0
    with (folder / "journal.csv").open(encoding="utf-8-sig", newline="") as file:
        rows = {r["Reference"]: r["Draft"] for r in csv.DictReader(file)}
    assert rows == {f"TU2611-{drafted}": "yes", f"TU2611-{issued}": "no"}
    for client, drafts in ((drafted, 1), (issued, 0)):
        out = tmp_path / f"evidence-{client}"
        pack = ("evidence", "--client", str(client), "--out", str(out))
        assert sandbox.run(db, *pack).returncode == 0
        assert (out / "evidence.html").read_text().count("posted (draft)") == drafts
