"""The reports told against the month ledger in each of its states: what `trueup export`,
`trueup evidence` and `trueup summary` say of a month with nothing in it, posted, voided,
posted again and adjusted."""

import asyncio
import csv
import html
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from ledger_fixtures import ledger_prepared, ledger_served  # noqa: F401 (fixtures)
from trueup.cli import app
from trueup.core.store.database import open_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash


def test_an_empty_store_has_nothing_to_export_and_no_file_is_written(tmp_path, monkeypatch):
    """`trueup export` (and `E`, through the same service) on a store with no client wrote a
    workbook of empty sheets, which reads as a month that billed nothing."""
    open_database(tmp_path / "store.sqlite").dispose()
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-12-06")
    monkeypatch.chdir(tmp_path)
    for fmt in ("xlsx", "csv"):
        done = CliRunner().invoke(app, ["export", "--format", fmt])
        assert done.exit_code == 1
        said = " ".join(done.stderr.split())
        assert said.startswith("error: nothing to export for 2026-11: no client has an invoice")
        assert "`trueup map suggest`" in said and "Traceback" not in done.output
        assert done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]


def _export(sandbox, db, tmp_path):
    """`trueup export --format csv`: each sheet's rows as dicts, by sheet name."""
    out = tmp_path / "export"
    done = sandbox.run(db, "export", "--month", "2026-11", "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return {p.stem: list(csv.DictReader(p.open(encoding="utf-8-sig"))) for p in out.iterdir()}


def _evidence(sandbox, db, tmp_path, client_id):
    """The evidence page's text, whitespace squeezed to single spaces."""
    out = tmp_path / f"evidence-{client_id}"
    done = sandbox.run(db, "evidence", "--client", str(client_id), "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = html.unescape(re.sub(r"<[^>]+>", "", (out / "evidence.html").read_text()))
    return " ".join(page.split())


def _json(sandbox, db, *args):
    done = sandbox.run(db, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _post(sandbox, db, batch_id, count):
    """The first `count` approved invoices of the batch posted to Halo (a few are as good as
    the 20, and quicker): the journal's entries as `trueup post --json` prints them."""
    approved = [c for c in _json(sandbox, db, "month")["clients"] if c["state"] == "approved"]
    chosen = [a for c in approved[:count] for a in ("--client", str(c["client_id"]))]
    return _json(sandbox, db, "post", batch_id, *chosen, "--yes", "--unsettled")


def _remote(sandbox, prefix, destination="halo-invoice"):
    """(reference, total) of the live documents at the destination, read over its API."""
    documents = asyncio.run(post_crash.remote_documents(sandbox.env, destination))
    return sorted((r, total) for r, _, total in documents if r.startswith(prefix))


def _mine(rows, client_id):
    return [r for r in rows if r["Client ID"] == str(client_id)]


def test_a_voided_month_is_reported_voided_billed_nothing_with_when_and_who(served, tmp_path):
    """Posted, then voided: every report says voided and counts nothing billed; the Journal
    sheet and the evidence pack gave the void no time or author (the row's time is the post's)."""
    sandbox, db, batch_id = served
    posted = _post(sandbox, db, batch_id, 2)
    cid, reference = posted[0]["client_id"], posted[0]["reference"]
    void = sandbox.run(db, "void", "2026-11", "--client", str(cid), "--yes")
    assert void.returncode == 0, void.stderr
    assert _remote(sandbox, reference) == []  # nothing of the month stands at Halo
    ledger = _json(sandbox, db, "month")
    (client,) = [c for c in ledger["clients"] if c["client_id"] == cid]
    (document,) = client["postings"]
    assert document["voided_at"] and document["voided_by"]

    sheets = _export(sandbox, db, tmp_path)
    (row,) = _mine(sheets["invoices"], cid)
    assert (row["State"], row["Posted"], row["Difference"]) == ("voided", "0.00", row["Total"])
    assert (row["Destination"], row["Reference"], row["Number there"]) == (
        "halo-invoice", reference, document["document_number"]
    )  # fmt: skip
    (entry,) = _mine(sheets["journal"], cid)
    assert (entry["Reference"], entry["State"], entry["Voided by"]) == (
        reference, "voided", document["voided_by"]
    )  # fmt: skip
    assert entry["Voided at"] == document["voided_at"][:19] + "+00:00"
    assert entry["When"] < entry["Voided at"]  # the row's own time is the post's

    page = _evidence(sandbox, db, tmp_path, cid)
    voided = f"voided {document['voided_at'][:16].replace('T', ' ')} by {document['voided_by']}"
    assert voided in page and f"{reference} │ halo-invoice │" in page

    summary = _json(sandbox, db, "summary")
    assert summary["by_state"]["voided"] == 1
    assert [(v["client_id"], v["references"]) for v in summary["voided"]] == [(cid, [reference])]
    currency = client["currency"]
    posted_now = sum(
        Decimal(c["posted_total"]) for c in ledger["clients"] if c["currency"] == currency
    )
    assert Decimal(summary["by_currency"][currency]["posted"]) == posted_now
    assert posted_now == sum(
        Decimal(p["total"]) for p in posted if p["currency"] == currency and p["client_id"] != cid
    )
