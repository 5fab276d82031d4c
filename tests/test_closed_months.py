"""A closed month (before the month being closed) read by `trueup month`, `export` and `summary`
against the sandbox: told from the last batch stored for it, "as known on <date>, batch <id>",
never rebuilt from today's data, as the evidence pack is; the store read back is the judge."""

import csv
import html
import json
import re
import sqlite3
from decimal import Decimal

from ledger_fixtures import ledger_prepared, ledger_served  # noqa: F401 (fixtures)

CLOSED = "2026-12-20"  # past December's close day (10): November is a closed month


def _json(sandbox, db, *args):
    done = sandbox.run(db, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _batches(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, created_at FROM invoice_batch ORDER BY id").fetchall()


def _evidence(sandbox, db, tmp_path, client_id):
    out = tmp_path / f"evidence-{client_id}-{len(list(tmp_path.iterdir()))}"
    args = ("evidence", "--month", "2026-11", "--client", str(client_id), "--out", str(out))
    done = sandbox.run(db, *args)
    assert done.returncode == 0, done.stderr
    page = html.unescape(re.sub(r"<[^>]+>", "", (out / "evidence.html").read_text()))
    return " ".join(page.split())


def _closed_month_reports(sandbox, db, tmp_path):
    """month (JSON and text), export (CSV: its sheets' rows by name, and its stderr) and summary
    (JSON and text) of November, a closed month."""
    month = _json(sandbox, db, "month", "--month", "2026-11")
    listing = sandbox.run(db, "month", "--month", "2026-11")
    assert listing.returncode == 0, listing.stderr
    out = tmp_path / "export"
    exported = sandbox.run(db, "export", "--month", "2026-11", "--format", "csv", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    sheets = {p.stem: list(csv.DictReader(p.open(encoding="utf-8-sig"))) for p in out.iterdir()}
    summary = _json(sandbox, db, "summary", "--month", "2026-11")
    text = sandbox.run(db, "summary", "--month", "2026-11")
    assert text.returncode == 0, text.stderr
    return month, listing.stdout, sheets, exported.stderr, summary, text.stdout


def test_a_closed_month_is_read_from_its_last_stored_batch_never_rebuilt(served, tmp_path):
    """After a rules change, `trueup month`, `export` and `summary` of a closed month built and
    stored a batch from today's data: a posted client's Lines then summed to what it would bill
    now, not what was posted, and a voided client's evidence pack (told from the last batch
    stored) was told from that rebuilt batch from then on."""
    sandbox, db, batch_id = served
    posted = _json(sandbox, db, "post", batch_id, "--yes", "--unsettled")
    kept, voided = posted[0], posted[1]
    void = sandbox.run(db, "void", "2026-11", "--client", str(voided["client_id"]), "--yes")
    assert void.returncode == 0, void.stderr
    rules = tmp_path / "rules.toml"
    assert sandbox.run(db, "rules", "export", str(rules)).returncode == 0
    rules.write_text(
        rules.read_text() + f'\n[clients."{kept["client_id"]}"]\nprice = "markup"\n'
        'markup_percent = "20"\n'
    )  # today's data bills the posted client otherwise
    assert sandbox.run(db, "rules", "import", str(rules)).returncode == 0

    sandbox.env["TRUEUP_TODAY"] = CLOSED
    stored = _batches(db)
    assert [b for b, _ in stored] == [batch_id]
    known = stored[0][1][:16]  # "2026-..-.. ..:..", as the reports write it
    told = f"as known on {known} UTC, batch {batch_id}"
    page_before = _evidence(sandbox, db, tmp_path, voided["client_id"])
    assert told in page_before

    month, listing, sheets, said, summary, text = _closed_month_reports(sandbox, db, tmp_path)
    assert _batches(db) == stored  # nothing built, nothing stored

    assert month["batch_id"] == batch_id and month["as_known_on"][:16] == known.replace(" ", "T")
    lines = listing.splitlines()
    assert lines[0] == f"Month 2026-11 · {told} · {len(month['clients'])} clients"
    assert "not rebuilt from today's data" in lines[1]
    clients = {c["client_id"]: c for c in month["clients"]}
    mine = clients[kept["client_id"]]
    assert (mine["state"], mine["total"], mine["posted_total"], mine["difference"]) == (
        "posted", kept["total"], kept["total"], "0.00"
    )  # fmt: skip
    assert clients[voided["client_id"]]["state"] == "voided"
    assert month["totals"]["by_currency"][kept["currency"]]["to_adjust_clients"] == 0

    assert said.startswith(f"Month 2026-11, {told}: wrote ")
    (row,) = [r for r in sheets["invoices"] if r["Client ID"] == str(kept["client_id"])]
    posted_row = (row["Total"], row["Posted"], row["Difference"])
    assert posted_row == (kept["total"], kept["total"], "0.00")
    assert {r["Told from"] for r in sheets["invoices"]} == {told}
    billed = [r for r in sheets["lines"] if r["Client ID"] == str(kept["client_id"])]
    assert sum(Decimal(r["Amount"]) for r in billed) + Decimal(row["Tax"] or 0) == Decimal(
        kept["total"]
    )  # the lines add up to what was posted

    assert summary["batch_id"] == batch_id and summary["as_known_on"] == month["as_known_on"]
    assert summary["by_currency"][kept["currency"]]["to_adjust"] == "0.00"
    assert " ".join(text.split()).startswith(f"Month 2026-11 · {told} · ")  # wrapped at 80

    # The voided client's pack is told from the same batch as before the reports were run.
    assert _evidence(sandbox, db, tmp_path, voided["client_id"]) == page_before
    assert _batches(db) == stored

    # Asked for, `trueup batch` bills the closed month from today's data (and stores it): the
    # month is then told from that batch, and the posted client has its adjustment to post.
    rebuilt = _json(sandbox, db, "batch", "--month", "2026-11")["batch_id"]
    assert rebuilt != batch_id and len(_batches(db)) == 2
    again = _json(sandbox, db, "month", "--month", "2026-11")
    assert again["batch_id"] == rebuilt
    mine = {c["client_id"]: c for c in again["clients"]}[kept["client_id"]]
    assert mine["posted_total"] == kept["total"] and Decimal(mine["difference"]) != 0


def test_a_closed_month_with_no_batch_stored_says_so_and_builds_none(served):
    sandbox, db, _ = served
    sandbox.env["TRUEUP_TODAY"] = CLOSED
    stored = _batches(db)
    for args in (("month",), ("month", "--json"), ("export",), ("summary",), ("summary", "--json")):
        done = sandbox.run(db, *args, "--month", "2026-10")
        assert done.returncode == 1, (args, done.stderr)
        (said,) = done.stderr.strip().splitlines()
        assert said.startswith("error: no batch was ever stored for 2026-10"), said
        assert "`trueup batch --month 2026-10` builds one from today's data" in said
        assert done.stdout == ""
    assert _batches(db) == stored


def _leakage(summary):
    return {c: f["leakage"] for c, f in summary["by_currency"].items()}


def test_a_closed_months_leakage_is_what_its_invoices_corrected_not_todays_halo_seats(served):
    """A closed month's summary took its leakage from today's seat diff: Pax8's seats at the
    month's end against Halo's lines now. Once the MSP set Halo's seats right (what the
    leakage asks for) and synced, the month that had leaked read 0.00 under-billed. It is the
    seat mismatches its invoices corrected, as known on the day its batch was built."""
    sandbox, db, batch_id = served
    sandbox.env["TRUEUP_TODAY"] = CLOSED
    before = _json(sandbox, db, "summary", "--month", "2026-11")
    history = {m["month"]: m["by_currency"] for m in before["by_month"]}["2026-11"]
    corrected = {c: f["leakage_recovered"] for c, f in history.items()}
    assert _leakage(before) == corrected  # the month's own invoices, at the prices billed
    assert any(Decimal(f["under_billed_now_billed"]) > 0 for f in corrected.values())

    with sqlite3.connect(db) as conn:  # Halo's lines changed since, as a sync would store them
        conn.execute("UPDATE halo_recurring_invoice_line SET quantity = '0'")
    after = _json(sandbox, db, "summary", "--month", "2026-11")
    assert _leakage(after) == corrected and after["batch_id"] == batch_id
    text = sandbox.run(db, "summary", "--month", "2026-11")
    assert "as its invoices corrected them" in " ".join(text.stdout.split())
