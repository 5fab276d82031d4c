"""The evidence pack (issue 18) on the synced demo: the PDF beside the HTML page, read back with
pypdf, and a closed month re-audited from the batch stored for it, not from today's data."""

import asyncio
import errno
import html
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from test_posting import FakeSink, post
from trueup.cli import app
from trueup.core.batch.approval import approve
from trueup.core.batch.build import build_batch
from trueup.core.batch.review import override_anomaly
from trueup.core.batch.stored import current_batch, list_batches, load_batch
from trueup.core.ledger.month import month_ledger
from trueup.core.mapping.engine import map_company
from trueup.core.posting.plan import queue_void
from trueup.core.posting.run import run_posting
from trueup.core.reports.evidence_doc import Grid, blocks
from trueup.core.rules.current import import_rules
from trueup.core.service.reports import Reports
from trueup.core.values.months import Month

TODAY = date(2026, 11, 21)  # the demo's: November is the month being closed
LATER = "2026-12-20"  # December is being closed: November is a closed month
NOVEMBER = Month("2026-11")


@pytest.fixture
def bear_creek(db):
    """Bear Creek Winery (a hire on the 12th, a leaver on the 15th), mapped by the operator."""
    with db.read() as conn:
        company = conn.exec_driver_sql(
            "SELECT id FROM pax8_company WHERE name = 'Bear Creek Winery'"
        ).scalar()
        client = conn.exec_driver_sql(
            "SELECT id FROM halo_client WHERE name = 'Bear Creek Winery LLC'"
        ).scalar()
    map_company(db, company, client)
    return client


@pytest.fixture
def later(tmp_path, monkeypatch):
    """The CLI on the demo store, with today past November's close."""
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "demo.sqlite"))  # the `db` fixture's file
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", LATER)

    def evidence(month, client):
        folder = tmp_path / f"pack-{month}"
        args = ["evidence", "--month", month, "--client", str(client), "--out", str(folder)]
        return CliRunner().invoke(app, args), folder

    return evidence


def squeezed(text):
    """Without whitespace: the PDF breaks a cell's text into lines where the page needs."""
    return "".join(text.split())


def pdf_text(path):
    return squeezed(" ".join(page.extract_text() for page in PdfReader(path).pages))


def page_text(path):
    return squeezed(html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))))


def test_the_pdf_holds_the_hire_the_leaver_and_every_lines_arithmetic(db, bear_creek, tmp_path):
    pack, written = Reports(db, today=TODAY).write_evidence(NOVEMBER, bear_creek, tmp_path / "p")
    assert [p.name for p in written] == ["evidence.html", "evidence.pdf", "records.json"]
    text = pdf_text(written[1])
    assert squeezed(f"Bear Creek Winery LLC · 2026-11 · batch {pack.batch_id}") in text
    assert squeezed("+1 seat (19) on 12 Nov") in text  # the hire
    assert squeezed("−1 seat (18) on 15 Nov") in text  # the leaver
    standard = next(li for li in pack.invoice.lines if "Business Standard" in li.description)
    assert "17 seats × 12.50 for 4 days + 18 × 12.50 for 7 days" in standard.explanation
    for line in pack.invoice.lines:
        assert squeezed(line.explanation) in text  # every line's arithmetic, whole
    # the same content as the page: every cell of every table, each whole where it stands
    grids = [b for b in blocks(pack) if isinstance(b, Grid)]
    assert {g.title for g in grids} >= {
        "Seats through the month (Pax8 history)",
        "Pax8 invoice items behind the cost",
        "Halo lines compared (seat diff: under)",
    }
    for grid in grids:
        for cell in (grid.title, *grid.headers, *(c for row in grid.rows for c in row)):
            assert squeezed(cell) in text, cell
    assert squeezed("Nothing was posted for this month.") in text


def test_a_closed_month_is_told_from_the_batch_stored_then_not_todays_data(db, bear_creek, later):
    then = Reports(db, today=TODAY).evidence(NOVEMBER, bear_creek)  # builds and stores it
    assert then.basis == "current"
    import_rules(db, '[defaults]\nproration = "end"\n')  # today's data bills November otherwise
    stored = list_batches(db, NOVEMBER)

    result, folder = later("2026-11", bear_creek)
    assert result.exit_code == 0, result.output
    known = then.built_at.strftime("%Y-%m-%d %H:%M UTC")
    said = squeezed(f"as known on {known}, batch {then.batch_id}")
    old_total = squeezed(f"= {then.invoice.total:,.2f} USD")
    for text in (page_text(folder / "evidence.html"), pdf_text(folder / "evidence.pdf")):
        assert said in text and old_total in text
        assert squeezed("read from the store as it is now") in text  # the timelines, said so
    assert list_batches(db, NOVEMBER) == stored  # nothing was rebuilt from today's data

    # Today's data does bill it otherwise: built again for the month being closed, that batch
    # is then the last one stored, and a re-audit tells it.
    now = Reports(db, today=TODAY).evidence(NOVEMBER, bear_creek)
    assert now.invoice.total != then.invoice.total
    again = Reports(db, today=date.fromisoformat(LATER)).evidence(NOVEMBER, bear_creek)
    assert (again.basis, again.batch_id, again.invoice.total) == (
        "stored",
        now.batch_id,
        now.invoice.total,
    )


def test_a_closed_month_with_no_batch_stored_says_so_and_invents_none(db, bear_creek, later):
    result, folder = later("2026-10", bear_creek)
    assert result.exit_code == 1
    assert "no batch was ever stored for 2026-10" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not folder.exists() and list_batches(db, "2026-10") == []


def test_a_closed_months_pack_is_told_from_the_batch_its_month_and_export_are(db, bear_creek):
    """A batch of chosen clients (`trueup batch --client`) stored after the month's last whole
    batch: `trueup month`, export and summary tell the closed month from the whole batch, and
    the pack of a client not posted was told from the chosen one instead, another total under
    "the last batch stored for this closed month"."""
    whole = current_batch(db, NOVEMBER, today=TODAY)
    import_rules(db, '[defaults]\nproration = "end"\n')  # the chosen batch bills it otherwise
    chosen = current_batch(db, NOVEMBER, clients=[bear_creek], today=TODAY)
    later = date.fromisoformat(LATER)
    ledger = month_ledger(db, NOVEMBER, today=later)
    (client,) = [c for c in ledger.clients if c.client_id == bear_creek]
    assert ledger.batch_id == whole != chosen

    pack = Reports(db, today=later).evidence(NOVEMBER, bear_creek)
    assert (pack.basis, pack.batch_id, pack.invoice.total) == ("stored", whole, client.total)


HOSTILE = "\x1b[31m\x07\u202e"  # an escape (recolours a terminal), a bell, a right-to-left override


def test_no_control_character_of_a_name_reaches_the_page_or_the_pdf(db, bear_creek, tmp_path):
    """A name from an API (client, product, Halo line) went into the HTML and the PDF with its
    escapes, bells and bidi overrides (U+202E shows the rest of the name backwards); each is
    written as U+FFFD, as the export's sheets write it (tables.plain_text)."""
    with db.write() as conn:
        conn.exec_driver_sql(
            "UPDATE halo_client SET name = name || ? WHERE id = ?", (HOSTILE, bear_creek)
        )
        conn.exec_driver_sql("UPDATE pax8_product SET name = ? || name", (HOSTILE,))
        conn.exec_driver_sql(
            "UPDATE halo_recurring_invoice_line SET description = description || ?", (HOSTILE,)
        )
    pack, written = Reports(db, today=TODAY).write_evidence(NOVEMBER, bear_creek, tmp_path / "p")
    assert HOSTILE in pack.invoice.client_name  # as the API sent it, in the store and the pack
    page = written[0].read_text(encoding="utf-8")
    pdf = " ".join(p.extract_text() for p in PdfReader(written[1]).pages)
    for text in (page, pdf, "".join(str(cell) for b in blocks(pack) for cell in _cells(b))):
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)
        assert "\ufffd\ufffd" in text  # where they were
    assert squeezed("Bear Creek Winery LLC\ufffd[31m\ufffd\ufffd") in squeezed(pdf)


def _cells(block):
    if isinstance(block, Grid):
        return (block.title, *block.headers, *(c for row in block.rows for c in row))
    return (block.text,)


def test_an_error_let_through_says_why_who_and_when(db):
    """The pack gave an override's reason alone; the export's Anomalies sheet says who gave it.
    Both read the batch's overrides (tables.overriders), the pack with when, in UTC."""
    batch_id = current_batch(db, NOVEMBER, today=TODAY)
    client, anomaly = next(
        (invoice.client_id, a)
        for invoice in load_batch(db, batch_id).invoices
        for a in invoice.anomalies
        if a.severity == "error" and a.subscription_id
    )
    override_anomaly(
        db, batch_id, client, anomaly.code, "agreed by phone", anomaly.subscription_id, by="alice"
    )
    with db.read() as conn:
        at = conn.exec_driver_sql("SELECT at FROM batch_override").scalar()
    pack = Reports(db, today=TODAY).evidence(NOVEMBER, client)
    (flagged,) = [b for b in blocks(pack) if isinstance(b, Grid) and b.title == "What was flagged"]
    let_through = {row[-1] for row in flagged.rows if row[0] == anomaly.code}
    when = f"{str(at)[:16].replace('T', ' ')} UTC"
    assert f"agreed by phone (by alice, {when})" in let_through


def test_what_was_posted_and_voided_says_its_times_are_utc(db):
    """'When, who' and 'voided …' gave a bare 2026-11-21 09:12, where the rest of the product
    says UTC (the pack's own "as known on … UTC")."""
    batch = build_batch(db, NOVEMBER, today=TODAY)
    client = approve(db, batch.batch_id, by="alice").approved[0]
    sink = FakeSink()
    post(db, batch, sink)
    assert queue_void(db, batch.batch_id, sink.destination, [client], by="bob") == 1
    assert asyncio.run(run_posting(db, sink, batch.batch_id, action="void")).complete
    with db.read() as conn:
        created, voided = (
            f"{str(at)[:16].replace('T', ' ')} UTC"
            for (at,) in conn.exec_driver_sql(
                "SELECT updated_at FROM posting_entry WHERE client_id = ? ORDER BY id", (client,)
            )
        )
    pack = Reports(db, today=TODAY).evidence(NOVEMBER, client)
    (posted,) = [b for b in blocks(pack) if isinstance(b, Grid) and b.title == "What was posted"]
    (row,) = posted.rows
    assert row[3] == f"voided {voided} by bob"
    assert row[5] == f"{created}, alice"


def test_a_pack_that_fails_midway_keeps_the_last_one_whole(db, bear_creek, tmp_path, monkeypatch):
    """The pack's three files were each renamed into place once written: a full disk at the PDF
    left this month's page beside the last pack's PDF and records. None is renamed until all
    three are whole. A file where the folder should be is said so before the pack is made."""
    folder = tmp_path / "pack"
    Reports(db, today=TODAY).write_evidence(NOVEMBER, bear_creek, folder)
    for path in folder.iterdir():
        path.write_text(f"last month's {path.name}")
    last = {p.name: p.read_text() for p in folder.iterdir()}
    writes = []

    def full_at_the_second(path, data):
        writes.append(path)
        if len(writes) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return Path.write_text(path, "written")

    monkeypatch.setattr(Path, "write_bytes", full_at_the_second)
    with pytest.raises(OSError) as refused:
        Reports(db, today=TODAY).write_evidence(NOVEMBER, bear_creek, folder)
    assert refused.value.filename == str(folder / "evidence.pdf")
    assert {p.name: p.read_text() for p in folder.iterdir()} == last
    monkeypatch.undo()

    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(OSError, match="a-file is a file: name a folder for the evidence pack"):
        Reports(db, today=TODAY).write_evidence(NOVEMBER, bear_creek, tmp_path / "a-file")
