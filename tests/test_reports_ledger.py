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
    assert entry["When"] == document["at"][:19] + "+00:00"  # the row's own time is the post's

    page = _evidence(sandbox, db, tmp_path, cid)
    voided = f"voided {document['voided_at'][:16].replace('T', ' ')} UTC by {document['voided_by']}"
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


def _rules_with(sandbox, db, tmp_path, text):
    """The store's rules with `text` added."""
    path = tmp_path / "rules.toml"
    assert sandbox.run(db, "rules", "export", str(path)).returncode == 0
    path.write_text(path.read_text() + text)
    assert sandbox.run(db, "rules", "import", str(path)).returncode == 0


def test_a_voided_month_posted_again_is_one_chain_and_an_adjustment_adds_up(served, tmp_path):
    """Voided, approved again and posted again: the reports name the chain and count it once
    (approved again before the post, its State no longer said voided: the summary's voided
    list dropped it and the Invoices sheet read 'approved' beside the voided number). Posted,
    then a rules change and `--adjust`: posted = invoice + adjustment, difference 0.00."""
    sandbox, db, batch_id = served
    first, second = _post(sandbox, db, batch_id, 2)
    voided, adjusted = first["client_id"], second["client_id"]
    reference = first["reference"]
    assert sandbox.run(db, "void", "2026-11", "--client", str(voided), "--yes").returncode == 0
    assert sandbox.run(db, "approve", "2026-11", "--client", str(voided)).returncode == 0
    summary = _json(sandbox, db, "summary")
    assert [(v["client_id"], v["references"]) for v in summary["voided"]] == [(voided, [reference])]
    (row,) = _mine(_export(sandbox, db, tmp_path / "approved")["invoices"], voided)
    assert (row["Posted"], row["Voided"]) == ("0.00", reference)

    again = _json(sandbox, db, "post", "2026-11", "--client", str(voided), "--yes", "--unsettled")
    (reissued,) = [e for e in again if e["this_run"]]
    assert reissued["reference"] == f"{reference}-2"
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{adjusted}"]\nprice = "markup"\n'
                'markup_percent = "20"\n')  # fmt: skip
    adjust = _json(sandbox, db, "post", "2026-11", "--adjust", "--yes", "--unsettled")
    (adjustment,) = [e for e in adjust if e["this_run"]]
    assert adjustment["reference"] == f"{second['reference']}-A1"
    live = _remote(sandbox, "TU2611-")
    assert live == sorted(
        (e["reference"], Decimal(e["total"])) for e in (reissued, second, adjustment)
    )

    sheets = _export(sandbox, db, tmp_path / "posted")
    (row,) = _mine(sheets["invoices"], voided)
    assert (row["State"], row["Posted"], row["Difference"]) == ("posted", row["Total"], "0.00")
    assert (row["Reference"], row["Number there"], row["Voided"]) == (
        reissued["reference"], reissued["remote_number"], reference
    )  # fmt: skip
    assert [(e["Reference"], e["State"]) for e in _mine(sheets["journal"], voided)] == [
        (reference, "voided"), (reissued["reference"], "posted")
    ]  # fmt: skip
    (row,) = _mine(sheets["invoices"], adjusted)
    invoice, credit = Decimal(second["total"]), Decimal(adjustment["total"])
    assert (row["State"], Decimal(row["Posted"]), row["Difference"]) == (
        "adjusted", invoice + credit, "0.00"
    )  # fmt: skip
    assert Decimal(row["Total"]) == invoice + credit
    assert row["Reference"] == f"{second['reference']}, {adjustment['reference']}"
    assert row["Number there"] == f"{second['remote_number']}, {adjustment['remote_number']}"
    (entry,) = [e for e in _mine(sheets["journal"], adjusted) if e["Kind"] == "adjustment"]
    assert (entry["Reference"], entry["Number there"], Decimal(entry["Amount"])) == (
        adjustment["reference"], adjustment["remote_number"], credit
    )  # fmt: skip

    page = _evidence(sandbox, db, tmp_path, voided)
    assert page.index(f"{reference} │") < page.index(f"{reissued['reference']} │ halo-invoice")
    page = _evidence(sandbox, db, tmp_path, adjusted)
    assert f"as posted with its adjustments ({adjustment['reference']})" in page
    summary = _json(sandbox, db, "summary")
    assert summary["voided"] == [] and summary["by_state"].get("voided") is None
    currency = first["currency"]
    assert currency == second["currency"]
    posted = Decimal(summary["by_currency"][currency]["posted"])
    assert posted == Decimal(reissued["total"]) + invoice + credit
    assert summary["by_currency"][currency]["to_adjust"] == "0.00"


def test_an_empty_store_has_nothing_to_summarise(tmp_path, monkeypatch):
    """`trueup summary` on a store with no client printed a by-currency table of nothing, which
    reads as a month that billed nothing: now said, as `trueup export` says it."""
    open_database(tmp_path / "store.sqlite").dispose()
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-12-06")
    for args in ([], ["--json"], ["--format", "md"], ["--format", "html"]):
        done = CliRunner().invoke(app, ["summary", *args])
        assert done.exit_code == 1, args
        said = " ".join(done.stderr.split())
        assert said.startswith("error: nothing to summarise for 2026-11: no client has an invoice")
        assert "`trueup map suggest`" in said and "Traceback" not in done.output
        assert done.stdout == ""


def test_a_recurring_true_up_reads_what_it_bills_the_month_in_the_journal_and_the_pack(
    served, tmp_path
):
    """Posted to halo-recurring, the one-off document holds only the month's difference and
    usage (12.08) and the trued-up recurring invoice the rest: the Journal sheet and the pack's
    'What was posted' said 12.08 and nothing else, against the ledger's posted 2,813.52, so the
    journal did not add up to the Invoices sheet and the client read 12.08 billed. Voided
    documents bill nothing in the new column."""
    sandbox, db, batch_id = served
    clients = _json(sandbox, db, "month")["clients"]
    (cid,) = [c["client_id"] for c in clients if c["client_name"] == "Bear Creek Winery LLC"]
    posted = _json(
        sandbox, db, "post", batch_id, "--client", str(cid), "--to", "halo-recurring", "--yes",
        "--unsettled",
    )  # fmt: skip
    (document,) = posted
    sheets = _export(sandbox, db, tmp_path)
    (row,) = _mine(sheets["invoices"], cid)
    (entry,) = _mine(sheets["journal"], cid)
    assert Decimal(entry["Amount"]) == Decimal(document["total"]) < Decimal(row["Posted"])
    assert entry["Bills the month"] == row["Posted"] == row["Total"]

    page = _evidence(sandbox, db, tmp_path, cid)
    billed = f"{Decimal(row['Posted']):,.2f}"
    one_off = f"{Decimal(document['total']):,.2f}"
    assert (
        f"{document['reference']} at halo-recurring holds the month's difference and usage "
        f"({one_off}); with the recurring invoice it trued up, it bills the month {billed}."
    ) in page
    assert f"Posted for the month, voided documents aside: {billed} USD" in page

    void = ("void", "2026-11", "--to", "halo-recurring", "--client", str(cid), "--yes")
    assert sandbox.run(db, *void).returncode == 0
    (entry,) = _mine(_export(sandbox, db, tmp_path / "voided")["journal"], cid)
    assert (entry["State"], entry["Bills the month"]) == ("voided", "0.00")
    assert "Posted for the month, voided documents aside: 0.00 USD" in _evidence(
        sandbox, db, tmp_path / "voided", cid
    )


def test_an_out_named_as_the_other_format_is_bad_usage(tmp_path, monkeypatch):
    """`trueup export --out march.csv` (the format left at xlsx) wrote a workbook named .csv,
    which a spreadsheet or an accounting import reads as garbage; `--format csv --out
    march.csv` made a folder named so. Each is bad usage, said before the store is opened."""
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "no-store.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.chdir(tmp_path)
    for args, said in (
        (["--out", "march.csv"], "names a CSV file, and --format xlsx writes a workbook"),
        (["--out", "March.CSV", "--format", "xlsx"], "give --format csv"),
        (["--format", "csv", "--out", "march.csv"], "name the folder (e.g. --out march)"),
        (["--format", "csv", "--out", "march.xlsx"], "writes a folder of CSV files"),
    ):
        done = CliRunner().invoke(app, ["export", *args])
        assert done.exit_code == 2, done.output
        assert said in " ".join(done.stderr.split()) and "Traceback" not in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []
