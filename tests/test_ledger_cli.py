"""The month ledger from the command line, against `trueup sandbox serve`: what the simulators
hold afterwards, read back through their own APIs, is the judge."""

import asyncio
import json
import signal
import sqlite3
import sys
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash

from ledger_fixtures import ledger_prepared, ledger_served  # noqa: F401 (fixtures)
from other_process import posting_elsewhere


def test_a_month_posted_to_halo_is_refused_for_quickbooks_and_nothing_is_created(served):
    sandbox, db, batch_id = served
    halo = sandbox.run(db, "post", batch_id, "--to", "halo-invoice", "--yes", "--unsettled")
    assert halo.returncode == 0, halo.stderr
    posted = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    assert posted
    qbo = sandbox.run(db, "post", batch_id, "--to", "qbo", "--yes", "--unsettled")
    assert qbo.returncode == 1
    assert "already posted to halo-invoice as TU2611-" in qbo.stderr
    assert "trueup void 2026-11 --to halo-invoice --client" in qbo.stderr
    assert "nothing to post: none of the" in qbo.stderr
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "qbo")) == []
    again = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    assert sorted(again) == sorted(posted)
    # A void at the wrong destination says where the month went, and voids nothing.
    wrong = sandbox.run(db, "void", "2026-11", "--to", "qbo", "--yes")
    assert wrong.returncode == 1
    said = " ".join(wrong.stderr.split())
    assert "it went to halo-invoice: `trueup void 2026-11 --to halo-invoice`" in said
    assert sorted(asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))) == sorted(
        posted
    )
    # Adjusting at QuickBooks passes over months that bill as posted at Halo (no advice to
    # void them); asked for one by name, it says where its adjustment goes.
    adjust = sandbox.run(db, "post", "2026-11", "--to", "qbo", "--adjust", "--yes", "--unsettled")
    assert "0 cannot adjust" in adjust.stderr and "void" not in adjust.stderr
    cid = json.loads(sandbox.run(db, "month", "--json").stdout)["clients"][0]["client_id"]
    named = ("post", "2026-11", "--to", "qbo", "--adjust", "--client", str(cid), "--yes")
    one = " ".join(sandbox.run(db, *named, "--unsettled").stderr.split())
    assert "its adjustment goes there (`trueup post 2026-11 --to halo-invoice --adjust`" in one


def test_the_month_ledger_and_the_batches_say_what_was_posted_where(served):
    sandbox, db, batch_id = served
    status = json.loads(sandbox.run(db, "status", "--json").stdout)
    assert [b["batch_id"] for b in status["open_batches"]] == [batch_id]  # approved, unposted
    assert f"Open batch {batch_id} (2026-11): " in sandbox.run(db, "status").stdout
    assert (
        sandbox.run(db, "post", batch_id, "--to", "halo-invoice", "--yes", "--unsettled").returncode
        == 0
    )
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)  # 21 Nov: November
    batches = json.loads(sandbox.run(db, "batches", "--json").stdout)["batches"]
    assert sandbox.run(db, "batches", "--month", "2026-11").stdout.startswith("Batches of 2026-11")
    none = sandbox.run(db, "batches", "--month", "2026-10").stdout
    assert none == "No stored batches for 2026-10: `trueup batch --month 2026-10` builds one.\n"
    status = json.loads(sandbox.run(db, "status", "--json").stdout)
    listing = sandbox.run(db, "month").stdout.splitlines()
    assert ledger["month"] == "2026-11" and ledger["batch_id"] == batch_id
    clients = {c["client_id"]: c for c in ledger["clients"]}
    posted = {cid: c for cid, c in clients.items() if c["state"] == "posted"}
    by_reference = {reference: (document_id, total) for reference, document_id, total in remote}
    assert len(posted) == len(remote) > 0
    for client in posted.values():
        (posting,) = client["postings"]
        assert posting["destination"] == "halo-invoice" and posting["state"] == "posted"
        document_id, total = by_reference[posting["reference"]]
        assert posting["document_id"] == document_id
        assert posting["amount"] == client["total"] == client["posted_total"] == f"{total:.2f}"
        assert client["difference"] == "0.00"
    assert {c["state"] for c in clients.values()} - {"posted"} <= {"draft", "held", "ready"}
    assert ledger["totals"]["by_state"]["posted"] == len(posted)
    (batch,) = [b for b in batches if b["batch_id"] == batch_id]
    assert batch["posted"] == batch["approved"] == len(posted) and batch["current"]
    assert status["open_batches"] == []  # every approved invoice is posted
    assert listing[0] == f"Month 2026-11 · batch {batch_id} · {len(clients)} clients"
    usd = ledger["totals"]["by_currency"]["USD"]
    footer = f"USD: bills {Decimal(usd['total']):,.2f}, posted {Decimal(usd['posted_total']):,.2f}"
    assert any(line.startswith(footer) for line in listing[-5:]), listing[-5:]
    # `trueup batch` lists each client as the ledger words it, not as "draft" once posted.
    shown = sandbox.run(db, "batch", "--month", "2026-11").stdout.splitlines()
    words = {}
    for client in clients.values():
        (line,) = [line for line in shown if line.startswith(client["client_name"][:15])]
        words[client["client_id"]] = line.split()[-1]
    assert words == {cid: c["state"] for cid, c in clients.items()}


def test_a_month_names_its_batch_and_a_void_by_month_shows_the_chain(served, tmp_path):
    import csv

    sandbox, db, _ = served
    posted = sandbox.run(
        db, "post", "2026-11", "--to", "halo-invoice", "--yes", "--unsettled", "--json"
    )
    assert posted.returncode == 0, posted.stderr
    client = json.loads(posted.stdout)[0]["client_id"]
    void = sandbox.run(db, "void", "2026-11", "--client", str(client), "--yes", "--json")
    assert void.returncode == 0, void.stderr
    assert void.stderr.startswith("Void of 2026-11 at halo-invoice")  # the month, first
    status = sandbox.run(db, "approve", "2026-11", "--status").stdout
    assert status.startswith("Approvals of batch 2026-11-")
    assert [(e["client_id"], e["action"], e["state"]) for e in json.loads(void.stdout)] == [
        (client, "void", "POSTED")  # the journal's word: the destination took the void
    ]
    text = sandbox.run(db, "journal", "2026-11", "--to", "halo-invoice").stdout.splitlines()
    assert text[0] == "Journal of 2026-11, every batch at halo-invoice"  # the month, first
    assert [line.split()[:2] for line in text if f"TU2611-{client} " in line] == [
        ["create", "VOIDED"],
        ["void", "VOIDED"],  # in words, not POSTED: nothing reads billed
    ]
    # trueup batches says it too: it read "20 approved on it, 19 posted from it" only.
    (batch,) = json.loads(sandbox.run(db, "batches", "--json").stdout)["batches"]
    assert batch["voided"] == 1
    assert ", 1 voided" in " ".join(sandbox.run(db, "batches").stdout.split())
    voided = json.loads(sandbox.run(db, "month", "--json").stdout)
    said = " ".join(sandbox.run(db, "month").stdout.split())
    assert f"halo-invoice TU2611-{client} voided" in said
    folder = tmp_path / "csv"  # the accountant's sheet names what was voided, not nothing
    assert sandbox.run(db, "export", "--format", "csv", "--out", str(folder)).returncode == 0
    with (folder / "invoices.csv").open(encoding="utf-8-sig", newline="") as file:
        row = next(r for r in csv.DictReader(file) if r["Client ID"] == str(client))
    assert (row["State"], row["Reference"]) == ("voided", f"TU2611-{client}")
    # The manager's summary names who was voided and not billed again, not only how many.
    summary = json.loads(sandbox.run(db, "summary", "--json").stdout)
    (named,) = summary["voided"]
    assert (named["client_id"], named["references"]) == (client, [f"TU2611-{client}"])
    assert summary["by_state"]["voided"] == 1
    for form in ((), ("--format", "md")):
        printed = sandbox.run(db, "summary", *form).stdout
        page = " ".join(printed.split())
        assert "Voided, not posted again" in page and f"TU2611-{client}" in page
        assert form or max(len(line) for line in printed.splitlines()) <= 80

    again = sandbox.run(
        db, "post", "2026-11", "--client", str(client), "--yes", "--unsettled", "--json"
    )
    assert again.returncode == 0, again.stderr
    # The post's own output and the month's journal say VOIDED of the voided one: no client
    # reads billed twice.
    mine_now = [
        (e["reference"], e["state"]) for e in json.loads(again.stdout) if e["client_id"] == client
    ]
    assert mine_now == [(f"TU2611-{client}", "VOIDED"), (f"TU2611-{client}-2", "POSTED")]
    journal = json.loads(sandbox.run(db, "journal", "2026-11", "--json").stdout)
    assert [
        (e["action"], e["reference"], e["state"], e["destination"])
        for e in journal
        if e["client_id"] == client
    ] == [
        ("create", f"TU2611-{client}", "VOIDED", "halo-invoice"),
        ("void", f"TU2611-{client}", "POSTED", "halo-invoice"),
        ("create", f"TU2611-{client}-2", "POSTED", "halo-invoice"),
    ]
    # When and by whom each was written and last changed: the void after its document.
    mine = [e for e in journal if e["client_id"] == client]
    times = [datetime.fromisoformat(e["updated_at"]) for e in mine]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert len({e["created_by"] for e in mine}) == 1 and mine[0]["created_by"]
    assert all(e["batch_id"].startswith("2026-11-") for e in mine)
    chain = json.loads(sandbox.run(db, "month", "--json").stdout)
    text = " ".join(sandbox.run(db, "month").stdout.split())
    assert f"halo-invoice TU2611-{client}-2 (1 voided)" in text  # the chain, in the listing
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    state = {c["client_id"]: c for c in voided["clients"]}[client]
    assert state["state"] == "voided" and state["posted_total"] == "0.00"
    mine = {c["client_id"]: c for c in chain["clients"]}[client]
    assert mine["state"] == "posted"
    assert json.loads(sandbox.run(db, "summary", "--json").stdout)["voided"] == []
    assert [(p["reference"], p["state"]) for p in mine["postings"]] == [
        (f"TU2611-{client}", "voided"),
        (f"TU2611-{client}-2", "posted"),
    ]
    # Who voided it, and when, beside who posted it.
    gone, live_one = mine["postings"]
    assert gone["voided_at"] >= gone["at"] and gone["voided_by"] == gone["by"]
    assert live_one["voided_at"] is None and live_one["voided_by"] is None
    live = {reference for reference, _, _ in remote}
    assert f"TU2611-{client}-2" in live and f"TU2611-{client}" not in live


def test_an_unknown_batch_or_client_is_named_not_passed_over(served):
    sandbox, db, batch_id = served
    # A batch id cut short or mistyped is named as no batch, not as no month (a review pass).
    for unknown in ("2026-11-0123456789abcdef", "2026-11-deadbeef"):
        for args in (
            ("journal", unknown), ("void", unknown, "--yes"), ("approve", unknown),
            ("post", unknown, "--yes"), ("hold", unknown, "--client", "1"),
        ):  # fmt: skip
            result = sandbox.run(db, *args)
            assert result.returncode == 1, args
            assert f"no batch {unknown}; `trueup batches` lists them" in result.stderr, args
    # Neither a batch id nor a month that can be billed: a usage error before anything runs,
    # as `--month` gives (a month after next month was approved and posted here before).
    unknown_code = sandbox.run(db, "approve", batch_id, "--override", "FOO", "--reason", "x")
    assert unknown_code.returncode == 2
    assert "'FOO' is not an error an override lets through" in " ".join(
        unknown_code.stderr.replace("│", " ").split()
    )
    stored = sandbox.run(db, "batches", "--json").stdout
    blank = sandbox.run(db, "approve", "2026-10", "--override", "NEGATIVE_MARGIN", "--reason", " ")
    assert blank.returncode == 2 and "needs a reason" in blank.stderr
    assert sandbox.run(db, "batches", "--json").stdout == stored  # no October built to refuse
    wrong_place = sandbox.run(db, "post", "2026-11", "--to", "quickbooks", "--yes")
    assert wrong_place.returncode == 2 and "Invalid value for '--to'" in wrong_place.stderr
    for command, batch in (("journal", "nope"), ("approve", "2027-05"), ("post", "2026-13")):
        result = sandbox.run(db, command, batch, "--yes" if command == "post" else "--json")
        assert result.returncode == 2, (command, batch)
        assert "Invalid value for 'BATCH'" in result.stderr, (command, batch)
    post = sandbox.run(db, "post", batch_id, "--client", "99999", "--yes", "--unsettled")
    assert post.returncode == 1
    assert f"batch {batch_id} has no invoice for client(s) 99999" in post.stderr
    level = sandbox.run(db, "log", "--level", "BOGUS")
    assert level.returncode == 2 and "'BOGUS' is not one of INFO, WARNING, ERROR" in level.stderr
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice")) == []


def test_a_second_post_is_refused_before_it_writes_to_the_journal(served):
    sandbox, db, batch_id = served
    with posting_elsewhere(db):
        result = sandbox.run(db, "post", batch_id, "--yes", "--unsettled")
    assert result.returncode == 1
    assert (
        "another `trueup post` (or void, or a new Halo item) is running on this store"
        in result.stderr
    )
    assert "Traceback" not in result.stderr and "UNIQUE" not in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM posting_entry").fetchone() == (0,)
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice")) == []


def _rules_with(sandbox, db, tmp_path, text):
    """The rules as the store had them first, with `text` added."""
    original, path = tmp_path / "original.toml", tmp_path / "rules.toml"
    if not original.exists():
        assert sandbox.run(db, "rules", "export", str(original)).returncode == 0
    path.write_text(original.read_text() + text)
    result = sandbox.run(db, "rules", "import", str(path))
    assert result.returncode == 0, result.stderr


def _entries(sandbox, db):
    return json.loads(sandbox.run(db, "month", "--json").stdout)


@pytest.mark.parametrize("destination", ["qbo", "halo-invoice", "xero"])
def test_a_month_billed_differently_after_posting_is_adjusted_by_one_document(
    served, tmp_path, destination
):
    sandbox, db, batch_id = served
    posted = sandbox.run(
        db, "post", batch_id, "--to", destination, "--yes", "--unsettled", "--json"
    )
    assert posted.returncode == 0, posted.stderr
    client = json.loads(posted.stdout)[0]
    cid, reference = client["client_id"], client["reference"]
    first = Decimal(client["total"])
    nothing = sandbox.run(
        db, "post", "2026-11", "--to", destination, "--adjust", "--yes", "--unsettled"
    )
    assert nothing.returncode == 0 and "0 adjustment(s) to post" in nothing.stderr

    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n'
                'markup_percent = "10"\n')  # fmt: skip
    hint = sandbox.run(db, "post", "2026-11", "--to", destination, "--yes", "--unsettled")
    assert "bill differently now" in hint.stderr and "--adjust" in hint.stderr
    ledger = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}
    difference = Decimal(ledger[cid]["difference"])
    assert ledger[cid]["state"] == "posted" and difference != 0
    # The month's and the summary's totals tell the difference to adjust from the drafts'.
    currency = ledger[cid]["currency"]
    sums = _entries(sandbox, db)["totals"]["by_currency"][currency]
    assert (Decimal(sums["to_adjust"]), sums["to_adjust_clients"]) == (difference, 1)
    parts = (Decimal(sums[key]) for key in ("posted_total", "not_posted", "to_adjust"))
    assert sum(parts) == Decimal(sums["total"])
    said = " ".join(sandbox.run(db, "month").stdout.split())
    assert f"{difference:,.2f} to adjust (1 posted client(s))" in said
    summary = json.loads(sandbox.run(db, "summary", "--json").stdout)["by_currency"][currency]
    assert Decimal(summary["to_adjust"]) == difference
    parts = (Decimal(summary[key]) for key in ("posted", "held", "outstanding", "to_adjust"))
    assert sum(parts) == Decimal(summary["total"])
    kinds = ("debit", "credit") if difference > 0 else ("credit", "debit")
    one = sandbox.run(
        db, "post", "2026-11", "--to", destination, "--adjust", "--yes", "--unsettled"
    )
    assert one.returncode == 0, one.stderr
    assert f"{kinds[0]} {reference}-A1" in one.stderr

    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "pax8"\n')
    two = sandbox.run(
        db, "post", "2026-11", "--to", destination, "--adjust", "--yes", "--unsettled"
    )
    assert two.returncode == 0, two.stderr
    assert f"{kinds[1]} {reference}-A2" in two.stderr
    again = sandbox.run(
        db, "post", "2026-11", "--to", destination, "--adjust", "--yes", "--unsettled"
    )
    assert "0 adjustment(s) to post" in again.stderr

    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[cid]
    assert mine["state"] == "adjusted" and mine["difference"] == "0.00"
    assert [(p["reference"], p["amount"], p["adjusts"]) for p in mine["postings"]] == [
        (reference, f"{first:.2f}", []),
        (f"{reference}-A1", f"{difference:.2f}", [reference]),
        (f"{reference}-A2", f"{-difference:.2f}", [reference, f"{reference}-A1"]),
    ]
    # Where the credit's id is to be looked up: QuickBooks and Xero hold it apart from invoices.
    credit = {"qbo": "credit memo", "xero": "credit note"}.get(destination, "invoice")
    documents = [credit if amount < 0 else "invoice" for amount in (first, difference, -difference)]
    assert [p["document"] for p in mine["postings"]] == documents
    journal = json.loads(sandbox.run(db, "journal", "2026-11", "--json").stdout)
    assert {e["reference"]: e["document"] for e in journal if e["client_id"] == cid} == {
        p["reference"]: p["document"] for p in mine["postings"]
    }
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, destination))
    mine_remote = sorted((r, t) for r, _, t in remote if r.startswith(reference))
    assert mine_remote == sorted(
        [(reference, first), (f"{reference}-A1", difference), (f"{reference}-A2", -difference)]
    )

    void = sandbox.run(db, "void", "2026-11", "--to", destination, "--client", str(cid), "--yes")
    assert void.returncode == 0, void.stderr
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, destination))
    assert [r for r, _, _ in remote if r.startswith(reference)] == []
    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[cid]
    assert mine["state"] == "voided" and mine["posted_total"] == "0.00"
    said = " ".join(sandbox.run(db, "month").stdout.split())  # its adjustments were voided too
    assert f"{destination} {reference} voided (+2)" in said


def test_a_void_by_batch_id_voids_the_clients_adjustments_too(served, tmp_path):
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    assert posted.returncode == 0, posted.stderr
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n')
    adjust = ("post", "2026-11", "--to", "halo-invoice", "--adjust", "--yes", "--unsettled")
    assert f"{reference}-A1" in sandbox.run(db, *adjust).stderr  # from the batch built again
    elsewhere = ("post", "2026-11", "--to", "qbo", "--client", str(cid), "--yes", "--unsettled")
    refused = sandbox.run(db, *elsewhere)
    assert refused.returncode == 1
    # The refusal names the void of the client's month, its adjustments with it.
    command = f"trueup void 2026-11 --to halo-invoice --client {cid}"
    assert f"to bill it elsewhere, `{command}` first" in " ".join(refused.stderr.split())
    # Approving it again is no refusal: it was approved when posted (it exited 1 before).
    again = sandbox.run(db, "approve", "2026-11", "--client", str(cid), "--json")
    assert again.returncode == 0, again.stderr
    assert [c["client_id"] for c in json.loads(again.stdout)["posted"]] == [cid]

    # By the batch id that posted it, as the refusal named it before: the adjustment goes too.
    void = sandbox.run(db, "void", batch_id, "--to", "halo-invoice", "--client", str(cid),
                       "--yes", "--json")  # fmt: skip
    assert void.returncode == 0, void.stderr
    assert sorted((e["reference"], e["action"], e["state"]) for e in json.loads(void.stdout)) == [
        (reference, "void", "POSTED"), (f"{reference}-A1", "void", "POSTED")
    ]  # fmt: skip
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    assert [r for r, _, _ in remote if r.startswith(reference)] == []
    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[cid]
    assert mine["state"] == "voided" and mine["posted_total"] == "0.00"
    assert [p["state"] for p in mine["postings"]] == ["voided", "voided"]
    planned = sandbox.run(db, *adjust)  # nothing of the month is live there to adjust
    assert planned.returncode == 0 and "A2" not in planned.stderr
    assert sandbox.run(db, "approve", "2026-11", "--client", str(cid)).returncode == 0
    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[cid]
    assert mine["state"] == "approved"  # approved after its void: it read voided before
    moved = sandbox.run(db, *elsewhere, "--json")  # the month is free to bill elsewhere
    assert moved.returncode == 0, moved.stderr
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "qbo")) != []
    # Again, nothing more is sent: each void was journaled once.
    journal = json.loads(sandbox.run(db, "journal", "2026-11", "--json").stdout)
    voids = Counter(e["reference"] for e in journal if e["action"] == "void")
    assert voids == Counter({reference: 1, f"{reference}-A1": 1})
    assert sandbox.run(db, "void", batch_id, "--to", "halo-invoice", "--client", str(cid),
                       "--yes").returncode == 0  # fmt: skip
    journal = json.loads(sandbox.run(db, "journal", "2026-11", "--json").stdout)
    assert Counter(e["reference"] for e in journal if e["action"] == "void") == voids


def test_an_adjust_run_exits_1_while_a_month_billing_differently_cannot_be_adjusted(
    served, tmp_path
):
    """From a review pass: `--adjust` exited 0 though a posted client billing differently
    could not be adjusted (an error standing), where `--client` and a first post exit 1."""
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    batch = json.loads(sandbox.run(db, "batch", "--month", "2026-11", "--json").stdout)
    lines = next(i for i in batch["invoices"] if i["client_id"] == cid)["lines"]
    sku = next(line["sku"] for line in lines if line["sku"] and Decimal(line["cost"]) > 0)
    _rules_with(sandbox, db, tmp_path, f'\n[[lines]]\nclient = "{cid}"\nproduct = "{sku}"\n'
                'price = "fixed"\nfixed_price = "0.01"\n')  # fmt: skip
    adjust = ("post", "2026-11", "--adjust", "--yes", "--unsettled")
    for args in (adjust, (*adjust, "--client", str(cid))):
        refused = sandbox.run(db, *args)
        said = " ".join(refused.stderr.split())
        assert refused.returncode == 1, said
        assert "0 adjustment(s) to post" in said and "1 cannot adjust" in said
        assert "NEGATIVE_MARGIN standing" in said
    assert [r for r, _, _ in asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
            if r.startswith(f"{reference}-")] == []  # fmt: skip
    override = ("--override", "NEGATIVE_MARGIN", "--reason", "agreed with the client")
    assert sandbox.run(db, "approve", "2026-11", "--client", str(cid), *override).returncode == 0
    done = sandbox.run(db, *adjust)
    assert done.returncode == 0, done.stderr
    assert "1 adjustment(s) to post" in done.stderr and "0 cannot adjust" in done.stderr
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    assert [r for r, _, _ in remote if r.startswith(f"{reference}-")] == [f"{reference}-A1"]


def test_post_counts_the_months_billing_differently_as_month_does(served, tmp_path):
    """From a review pass: post said '1 posted invoice(s) bill differently now' where month
    said '2 posted client(s)' to adjust: the one with an error standing went uncounted."""
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    usd = [e for e in json.loads(posted.stdout) if e["currency"] == "USD"]
    one, other = (e["client_id"] for e in usd[:2])
    other_name = usd[1]["client_name"]
    batch = json.loads(sandbox.run(db, "batch", "--month", "2026-11", "--json").stdout)
    lines = next(i for i in batch["invoices"] if i["client_id"] == other)["lines"]
    sku = next(line["sku"] for line in lines if line["sku"] and Decimal(line["cost"]) > 0)
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{one}"]\nprice = "markup"\n'
                f'\n[[lines]]\nclient = "{other}"\nproduct = "{sku}"\nprice = "fixed"\n'
                'fixed_price = "0.01"\n')  # fmt: skip
    totals = _entries(sandbox, db)["totals"]["by_currency"]
    assert sum(sums["to_adjust_clients"] for sums in totals.values()) == 2
    assert "to adjust (2 posted client(s))" in " ".join(sandbox.run(db, "month").stdout.split())
    hint = " ".join(sandbox.run(db, "post", "2026-11", "--yes", "--unsettled").stderr.split())
    assert (
        f"2 posted invoice(s) bill differently now; 1 cannot be adjusted ({other_name}: "
        "error(s) NEGATIVE_MARGIN standing): `trueup post "
    ) in hint
    assert "--adjust` shows why and posts the 1 other(s)" in hint
    adjusted = sandbox.run(db, "post", "2026-11", "--adjust", "--yes", "--unsettled", "--json")
    assert [e["client_id"] for e in json.loads(adjusted.stdout) if e["this_run"]] == [one]


def test_an_adjustment_and_a_void_killed_after_the_answer_finish_with_one_document(
    served, tmp_path
):
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--to", "qbo", "--yes", "--unsettled", "--json")
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n')
    adjust = ("post", "2026-11", "--to", "qbo", "--adjust", "--yes", "--unsettled")
    killed = sandbox.run(db, *adjust, crash="answered#1")
    assert killed.returncode == -signal.SIGKILL
    assert sandbox.run(db, *adjust).returncode == 0
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "qbo"))
    assert sorted(r for r, _, _ in remote if r.startswith(reference)) == [
        reference, f"{reference}-A1"
    ]  # fmt: skip
    void = ("void", "2026-11", "--to", "qbo", "--client", str(cid), "--yes")
    assert sandbox.run(db, *void, crash="answered#1").returncode == -signal.SIGKILL
    assert sandbox.run(db, *void).returncode == 0
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "qbo"))
    assert [r for r, _, _ in remote if r.startswith(reference)] == []
    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[cid]
    assert mine["state"] == "voided"
    assert [p["state"] for p in mine["postings"]] == ["voided", "voided"]


def test_ctrl_c_finishes_the_request_in_flight_sends_no_more_and_exits_130(prepared, tmp_path):
    """From a review pass: Ctrl-C during a run was taken for a hang (the words said nothing
    of what was in flight). It now says at once what it finishes and that nothing is sent
    twice, sends no new request, exits 130, and the same command again finishes the job."""
    import subprocess
    import threading
    import time

    _, template, batch_id = prepared
    db = tmp_path / "store.sqlite"
    db.write_bytes(template.read_bytes())
    sandbox = post_crash.Sandbox(tmp_path, "late=0.3,seed=8,slow_seconds=1")  # slow answers
    try:
        posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
        assert posted.returncode == 0, posted.stderr
        clients = [f"--client={e['client_id']}" for e in json.loads(posted.stdout)[:4]]
        void = ("void", "2026-11", "--to", "halo-invoice", *clients)  # a request per invoice
        process = subprocess.Popen(
            post_crash.trueup(*void, "--yes"), env={**sandbox.env, "TRUEUP_DB": str(db)},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        said: list[tuple[float, str]] = []
        reader = threading.Thread(
            target=lambda: said.extend((time.monotonic(), line) for line in process.stderr)
        )
        reader.start()
        deadline = time.monotonic() + 60
        while not _states(db, "void").get("SENDING") and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        assert process.wait(timeout=60) == 130
        reader.join()
        first = next((at, line) for at, line in said if line.startswith("interrupted:"))
        assert first[0] - interrupted < 2, said  # at once, not at the end
        words = " ".join(first[1].split())
        assert "finishing the request in flight (1 document(s) being sent)" in words
        assert "nothing will be sent twice" in words
        last = " ".join(said[-1][1].split())
        assert last.startswith("error: interrupted: void stopped with")
        command = " ".join(void).replace("=", " ")
        assert f"`trueup {command}` again finishes it" in last
        states = _states(db, "void")  # what was in flight settled; the rest never sent
        assert "SENDING" not in states and "UNKNOWN" not in states and states.get("PENDING")
        again = sandbox.run(db, *void, "--yes")
        assert again.returncode == 0, again.stderr
        assert _states(db, "void") == {"POSTED": 4}  # each voided once
        remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
        assert len(remote) == _states(db, "create")["POSTED"] - 4
    finally:
        sandbox.close()


def _states(db, action):
    """How many journal entries of `action` are in each state."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT state, count(*) FROM posting_entry WHERE action = ? GROUP BY state", (action,)
        ).fetchall()
    return dict(rows)


def test_a_runs_result_tells_what_it_sent_from_what_earlier_runs_had(served, tmp_path):
    """From a review pass: a re-run listed the documents earlier runs created as it listed its
    own (`create POSTED ...`), so a script could not tell created now from already there."""
    sandbox, db, batch_id = served
    ledger = _entries(sandbox, db)["clients"]
    cid = next(c["client_id"] for c in ledger if c["state"] == "approved" and c["settled"])
    one = sandbox.run(db, "post", batch_id, "--client", str(cid), "--yes", "--json")
    assert [(e["client_id"], e["this_run"]) for e in json.loads(one.stdout)] == [(cid, True)]
    rest = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    assert rest.returncode == 0, rest.stderr
    now = {e["client_id"]: e["this_run"] for e in json.loads(rest.stdout)}
    assert now.pop(cid) is False and now and all(now.values())
    again = sandbox.run(db, "post", batch_id, "--yes", "--unsettled")
    lines = again.stdout.splitlines()
    assert lines and all(line.endswith("(already posted before this run)") for line in lines)

    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n')
    adjust = ("post", "2026-11", "--adjust", "--yes", "--unsettled")
    made = json.loads(sandbox.run(db, *adjust, "--json").stdout)
    assert [(e["reference"], e["this_run"]) for e in made] == [(f"TU2611-{cid}-A1", True)]
    rerun = sandbox.run(db, *adjust)
    assert "0 adjustment(s) to post" in rerun.stderr
    said = rerun.stdout.splitlines()
    assert said and all(line.endswith("(already posted before this run)") for line in said)
    again_json = json.loads(sandbox.run(db, *adjust, "--json").stdout)
    assert [e["this_run"] for e in again_json] == [False]
    void = sandbox.run(db, "void", "2026-11", "--client", str(cid), "--yes", "--json")
    assert {(e["reference"], e["this_run"]) for e in json.loads(void.stdout)} == {
        (f"TU2611-{cid}", True), (f"TU2611-{cid}-A1", True)
    }  # fmt: skip
    journal = json.loads(sandbox.run(db, "journal", "2026-11", "--json").stdout)
    assert journal and all("this_run" not in e for e in journal)  # no run there to speak of


def test_a_lapsed_approval_names_the_command_that_approves_it_again(served, tmp_path):
    """From a review pass: the refusal listed some 40 price changes and never said how to
    approve the client again."""
    sandbox, db, _ = served
    ledger = _entries(sandbox, db)["clients"]
    cid = next(c["client_id"] for c in ledger if c["state"] == "approved" and c["settled"])
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n')
    status = json.loads(sandbox.run(db, "approve", "2026-11", "--status", "--json").stdout)
    changes = next(s["changes"] for s in status if s["client_id"] == cid)
    assert len(changes) > 4
    post = ("post", "2026-11", "--client", str(cid), "--yes")
    refused = sandbox.run(db, *post)
    assert refused.returncode == 1
    said = " ".join(refused.stderr.split())
    total = next(change for change in changes if change.startswith("total "))
    assert f"approval lapsed: {total}; " in said  # the total first, then a few lines
    assert f" and {len(changes) - 3} more; " in said
    assert sum(change in said for change in changes) == 3
    command = f"trueup approve 2026-11 --client {cid}"
    assert f"`{command}` approves it again" in said
    assert "`trueup approve 2026-11 --status` lists every change" in said
    assert sandbox.run(db, *command.split()[1:]).returncode == 0
    posted = sandbox.run(db, *post)
    assert posted.returncode == 0, posted.stderr
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    assert [r for r, _, _ in remote] == [f"TU2611-{cid}"]


def test_a_void_cut_short_is_said_in_the_month_with_what_finishes_it(served):
    """From a review pass: a void killed mid-way left the client reading plain posted (or
    adjusted) in `trueup month`, with nothing said of the void under way."""
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    void = ("void", "2026-11", "--to", "halo-invoice", "--client", str(cid), "--yes")
    assert sandbox.run(db, *void, crash="sending#1").returncode == -signal.SIGKILL
    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[cid]
    assert mine["state"] == "posted"  # the void may not have reached Halo: still posted
    assert [(p["reference"], p["voiding"]) for p in mine["postings"]] == [(reference, "sending")]
    said = " ".join(sandbox.run(db, "month").stdout.split())
    assert f"halo-invoice {reference} (void unfinished)" in said
    assert (
        f"A void is unfinished at halo-invoice for {mine['client_name']} ({cid}): "
        f"`trueup void 2026-11 --to halo-invoice --client {cid}` again finishes it."
    ) in said
    assert sandbox.run(db, *void).returncode == 0
    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[cid]
    assert mine["state"] == "voided" and [p["voiding"] for p in mine["postings"]] == [None]
    assert "unfinished" not in sandbox.run(db, "month").stdout
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    assert reference not in {r for r, _, _ in remote}


def test_a_month_not_settled_posts_only_on_the_operators_word(served):
    sandbox, db, batch_id = served
    ledger = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}
    waiting = sorted(cid for cid, c in ledger.items() if not c["settled"])
    settled = sorted(cid for cid, c in ledger.items() if c["settled"] and c["state"] == "approved")
    assert waiting and settled
    assert ledger[waiting[0]]["unsettled"] == [
        "cost estimated (no distributor invoice item for the month yet)"
    ]
    refused = sandbox.run(db, "post", batch_id, "--yes")
    assert refused.returncode == 1
    assert "are not settled: cost estimated" in refused.stderr
    assert "add --unsettled to post them as they are" in refused.stderr
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice")) == []
    one = sandbox.run(db, "post", batch_id, "--client", str(settled[0]), "--yes")
    assert one.returncode == 0, one.stderr
    word = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    assert word.returncode == 0, word.stderr
    sent = {e["client_id"] for e in json.loads(word.stdout)}
    approved_waiting = {cid for cid in waiting if ledger[cid]["state"] == "approved"}
    assert approved_waiting and approved_waiting <= sent
    remote = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))
    assert len(remote) == len(sent)


def test_the_month_exports_for_the_accountant_to_the_cent(served, tmp_path):
    import csv

    import openpyxl

    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    sent = {e["reference"]: e for e in json.loads(posted.stdout)}
    batch = json.loads(sandbox.run(db, "batch", "--month", "2026-11", "--json").stdout)
    invoices = {i["client_id"]: i for i in batch["invoices"]}
    workbook = tmp_path / "november.xlsx"
    done = sandbox.run(db, "export", "--month", "2026-11", "--out", str(workbook))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(workbook) and "Month 2026-11: wrote" in done.stderr
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["Invoices", "Lines", "Anomalies", "Usage", "Changes", "Journal"]
    sheet = book["Invoices"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    assert {r["Client ID"] for r in rows} == set(invoices)
    for row in rows:
        invoice = invoices[row["Client ID"]]
        assert f"{row['Total']:.2f}" == invoice["total"] and row["Currency"] == invoice["currency"]
        if row["State"] == "posted":
            assert sent[row["Reference"]]["client_id"] == row["Client ID"]
    total = sheet.cell(2, header.index("Total") + 1)
    assert isinstance(total.value, float) and '"$"' in total.number_format  # money, not text
    lines = list(book["Lines"].iter_rows(2, values_only=True))
    assert len(lines) == sum(len(i["lines"]) for i in invoices.values())
    journal = list(book["Journal"].iter_rows(values_only=True))
    head = journal[0]
    assert {row[head.index("Reference")]: row[head.index("Document")] for row in journal[1:]} == {
        reference: entry["document"] for reference, entry in sent.items()
    }
    # A path the workbook cannot go to is said before the month is read, never "unexpected".
    for bad in (tmp_path, tmp_path / "no such folder" / "x.xlsx"):
        refused = sandbox.run(db, "export", "--month", "2026-11", "--out", str(bad))
        assert refused.returncode == 1 and "unexpected" not in refused.stderr
        assert str(bad.parent if bad.suffix else bad) in " ".join(refused.stderr.split())

    folder = tmp_path / "csv"
    assert sandbox.run(db, "export", "--format", "csv", "--out", str(folder)).returncode == 0
    with (folder / "invoices.csv").open(encoding="utf-8-sig", newline="") as file:
        read = {int(r["Client ID"]): r for r in csv.DictReader(file)}
    assert {c: r["Total"] for c, r in read.items()} == {c: i["total"] for c, i in invoices.items()}
    refused = sandbox.run(db, "export", "--format", "pdf")
    assert refused.returncode == 2 and "'pdf' is not one of xlsx, csv" in refused.stderr


def test_the_month_summary_adds_up_in_json_text_markdown_and_html(served):
    sandbox, db, batch_id = served
    approved = sandbox.run(db, "approve", batch_id, "--status", "--json")
    held_or_not = json.loads(approved.stdout)
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    sent = json.loads(posted.stdout)
    batch = json.loads(sandbox.run(db, "batch", "--month", "2026-11", "--json").stdout)
    summary = json.loads(sandbox.run(db, "summary", "--month", "2026-11", "--json").stdout)
    assert summary["month"] == "2026-11" and summary["batch_id"] == batch["batch_id"]
    assert (
        summary["by_state"]["posted"]
        == len(sent)
        == len(held_or_not) - sum(1 for s in held_or_not if s["status"] != "approved")
    )
    for currency, figures in summary["by_currency"].items():
        expected = batch["totals"]["by_currency"][currency]
        assert figures["total"] == expected["total"]
        posted_here = sum(Decimal(e["total"]) for e in sent if e["currency"] == currency)
        assert Decimal(figures["posted"]) == posted_here
        parts = ("posted", "held", "outstanding", "to_adjust")
        assert sum(Decimal(figures[key]) for key in parts) == Decimal(figures["total"])
    text = sandbox.run(db, "summary", "--month", "2026-11")  # not a terminal: 80 columns
    assert text.returncode == 0 and max(len(line) for line in text.stdout.splitlines()) <= 80
    assert "Under-billed seats, now billed" in text.stdout
    markdown = sandbox.run(db, "summary", "--month", "2026-11", "--format", "md").stdout
    assert markdown.startswith("# Month 2026-11") and "| Total |" in markdown
    html = sandbox.run(db, "summary", "--month", "2026-11", "--format", "html").stdout
    assert "<html" in html and "Under-billed seats, now billed" in html


def test_an_evidence_pack_shows_the_hire_the_leaver_and_the_arithmetic(served, tmp_path):
    import html
    import re

    sandbox, db, batch_id = served
    month = json.loads(sandbox.run(db, "month", "--json").stdout)
    (bear,) = [c for c in month["clients"] if c["client_name"] == "Bear Creek Winery LLC"]
    cid = bear["client_id"]
    assert (
        sandbox.run(db, "post", batch_id, "--client", str(cid), "--yes", "--unsettled").returncode
        == 0
    )
    batch = json.loads(sandbox.run(db, "batch", "--month", "2026-11", "--json").stdout)
    (invoice,) = [i for i in batch["invoices"] if i["client_id"] == cid]
    folder = tmp_path / "pack"
    done = sandbox.run(
        db, "evidence", "--month", "2026-11", "--client", str(cid), "--out", str(folder)
    )
    assert done.returncode == 0, done.stderr
    written = [str(folder / name) for name in ("evidence.html", "evidence.pdf", "records.json")]
    assert done.stdout.split() == written
    page = html.unescape(re.sub(r"<[^>]+>", "", (folder / "evidence.html").read_text()))
    text = " ".join(page.split())
    assert f"batch {batch_id}, as posted" in text
    assert "+1 seat (19) on 12 Nov" in text and "−1 seat (18) on 15 Nov" in text  # hire, leaver
    for line in invoice["lines"]:
        assert " ".join(line["explanation"].split())[:40] in text  # every line's arithmetic
    assert f"TU2611-{cid}" in text  # where it was posted
    records = json.loads((folder / "records.json").read_text())
    assert records["pax8_subscriptions"] and records["halo_recurring_invoice_lines"]

    # Adjusted: the pack tells the month as it now stands billed, the invoice and the
    # adjustment adding up to the batch it was adjusted from (as `trueup month` says).
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n'
                'markup_percent = "10"\n')  # fmt: skip
    adjust = ("post", "2026-11", "--adjust", "--client", str(cid), "--yes", "--unsettled")
    assert sandbox.run(db, *adjust).returncode == 0
    now = {c["client_id"]: c for c in json.loads(sandbox.run(db, "month", "--json").stdout)[
        "clients"]}[cid]  # fmt: skip
    assert now["state"] == "adjusted" and now["difference"] == "0.00"
    again = tmp_path / "adjusted"
    assert sandbox.run(db, "evidence", "--client", str(cid), "--out", str(again)).returncode == 0
    page = html.unescape(re.sub(r"<[^>]+>", "", (again / "evidence.html").read_text()))
    text = " ".join(page.split())
    assert f"as posted with its adjustments (TU2611-{cid}-A1)" in text
    assert f"= {Decimal(now['posted_total']):,.2f} {now['currency']}" in text
    unknown = sandbox.run(db, "evidence", "--month", "2026-11", "--client", "99999")
    assert unknown.returncode == 1 and "client 99999 has no invoice in 2026-11" in unknown.stderr


@pytest.mark.parametrize(("destination", "name"), [("qbo", "QuickBooks"), ("halo-invoice", "Halo")])
def test_a_month_whose_tax_alone_moved_is_named_not_adjusted_nor_passed_over(
    served, tmp_path, destination, name
):
    """Issue 16: the destination computes tax itself, so a month whose lines bill as posted
    and whose tax does not has no line to adjust: the plan says so and where the tax is set, and
    sends nothing (before, it counted the client as billing as posted). Halo is sent no tax
    either, and the plan said nothing of tax_percent there."""
    sandbox, db, batch_id = served
    posted = sandbox.run(
        db, "post", batch_id, "--to", destination, "--yes", "--unsettled", "--json"
    )
    assert posted.returncode == 0, posted.stderr
    cid = json.loads(posted.stdout)[0]["client_id"]
    sent = asyncio.run(post_crash.remote_documents(sandbox.env, destination))
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\ntax_percent = "8"\n')
    ledger = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}
    assert ledger[cid]["state"] == "posted" and Decimal(ledger[cid]["difference"]) > 0
    adjust = sandbox.run(
        db, "post", "2026-11", "--to", destination, "--adjust", "--yes", "--unsettled"
    )
    assert "0 adjustment(s) to post" in adjust.stderr
    said = " ".join(adjust.stderr.split())
    assert "only the tax differs" in said and "if its tax is wrong, set it there" in said
    assert f"and tax_percent to 0 for this client ({name} is sent none)" in said
    # Never "void and post again": the destination would tax the same lines the same way.
    assert "void" not in said
    assert asyncio.run(post_crash.remote_documents(sandbox.env, destination)) == sent


@pytest.mark.parametrize(
    ("destination", "name"),
    [("qbo", "QuickBooks"), ("xero", "Xero"), ("halo-invoice", "Halo"), ("halo-recurring", "Halo")],
)
def test_tax_of_trueups_rules_is_refused_where_the_destination_taxes_by_itself(
    served, tmp_path, destination, name
):
    """From a month-end pass: Xero and QuickBooks work out a document's tax themselves and are
    sent no tax figure, so a client with a tax_percent was recorded as posted at trueup's taxed
    total while the destination held the untaxed one. The plan now refuses it, saying what to
    set, and sends nothing for it; the others post. Halo taxes by its own tax codes too (README,
    Decisions where the APIs are not documented) and was let through: the ledger recorded 20%
    more than the invoices Halo held (a one-off, or a recurring true-up at its batch's total)."""
    sandbox, db, _ = served
    ledger = _entries(sandbox, db)
    cid = next(c["client_id"] for c in ledger["clients"] if c["state"] == "approved")
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\ntax_percent = "20"\n')
    approved = sandbox.run(db, "approve", "2026-11", "--client", str(cid))
    assert approved.returncode == 0, approved.stderr
    posted = sandbox.run(db, "post", "2026-11", "--to", destination, "--yes", "--unsettled")
    said = " ".join(posted.stderr.split())
    assert f"of tax (tax_percent), and {name} works out a document's tax itself" in said
    assert "Set tax_percent to 0 for this client" in said and f"its tax in {name}" in said
    sent = asyncio.run(post_crash.remote_documents(sandbox.env, destination))
    assert sent and not [r for r, _, _ in sent if r.split("-")[1] == str(cid)]
    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[cid]
    assert mine["state"] == "approved" and mine["postings"] == []


def test_a_month_trued_up_in_halos_recurring_invoice_reads_posted_in_full(served):
    """A halo-recurring post sets the recurring invoice to the month's seats and sends a one-off
    invoice of the difference beside it: the month is billed the invoice's total, so the
    ledger's posted total is that, not the one-off's, and nothing reads as left to bill."""
    sandbox, db, _ = served
    posted = sandbox.run(
        db, "post", "2026-11", "--to", "halo-recurring", "--yes", "--unsettled", "--json"
    )
    assert posted.returncode == 0, posted.stderr
    sent = {e["client_id"]: Decimal(e["total"]) for e in json.loads(posted.stdout)}
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)
    mine = [c for c in ledger["clients"] if c["client_id"] in sent]
    assert mine and all(c["state"] == "posted" for c in mine)
    assert all(c["posted_total"] == c["total"] and c["difference"] == "0.00" for c in mine)
    # The one-off documents are still listed at their own amounts; what each bills the month
    # is beside it (`billed`, from a review: no key reconciled the two), and adds up.
    assert {c["client_id"]: Decimal(c["postings"][0]["amount"]) for c in mine} == sent
    assert all(
        sum(Decimal(p["billed"]) for p in c["postings"] if p["state"] == "posted")
        == Decimal(c["posted_total"])
        for c in mine
    )
    # A true-up with no one-off invoice is its recurring invoice, by Halo's (negative) id: it
    # read "RI -154", an invoice (from a review).
    alone = [p for c in mine for p in c["postings"] if p["document"] == "recurring invoice"]
    assert alone and all(int(p["document_id"]) < 0 for p in alone)
    assert any(Decimal(c["total"]) != sent[c["client_id"]] for c in mine)
    # What Halo bills each client for November, read back from it (the invoices its recurring
    # invoices made on the 1st, and the one-off), is the batch's total the ledger records.
    billed: Counter[int] = Counter()
    for row in asyncio.run(post_crash.halo_invoices(sandbox.env)):
        if str(row.get("invoice_date", "")).startswith("2026-11") and not row.get("voided"):
            billed[int(row["client_id"])] += Decimal(str(row["total"]))
    assert {c["client_id"]: billed[c["client_id"]] for c in mine} == {
        c["client_id"]: Decimal(c["total"]) for c in mine
    }
    summary = json.loads(sandbox.run(db, "summary", "--json").stdout)
    usd = summary["by_currency"]["USD"]
    assert Decimal(usd["posted"]) + Decimal(usd["held"]) + Decimal(usd["outstanding"]) == Decimal(
        usd["total"]
    )


@pytest.mark.parametrize("command", [("month",), ("journal", "2026-11"), ("summary",)])
def test_a_reader_that_leaves_ends_the_command_quietly_as_sigpipe_would(served, command):
    import subprocess

    sandbox, db, batch_id = served
    sandbox.run(db, "post", batch_id, "--yes", "--unsettled")  # something in the journal
    env = {**sandbox.env, "TRUEUP_DB": str(db)}
    reader = subprocess.Popen(
        post_crash.trueup(*command), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # gone before the first line is written (`| head` after its lines)
    assert reader.wait(timeout=60) == 141  # 128 + SIGPIPE, as a shell reports one killed by it
    assert reader.stderr.read() == b""


def test_a_post_for_named_clients_answers_for_them_alone(served):
    sandbox, db, batch_id = served
    month = json.loads(sandbox.run(db, "month", "--json").stdout)["clients"]
    first, second = [c["client_id"] for c in month if c["state"] == "approved"][:2]
    name = next(c["client_name"] for c in month if c["client_id"] == first)
    to_xero = ("post", batch_id, "--to", "xero", "--client", str(first), "--yes", "--unsettled")
    assert sandbox.run(db, *to_xero).returncode == 0
    # The rest waits: the advice names where the month went (a bare post would go to Halo).
    (open_batch,) = json.loads(sandbox.run(db, "status", "--json").stdout)["open_batches"]
    assert open_batch["posted_to"] == ["xero"]
    advice = " ".join(sandbox.run(db, "status").stdout.split())
    assert f"`trueup post {batch_id} --to xero` sends them" in advice
    # Without --to, a month partly at Xero is not split onto Halo unawares: refused, and said.
    bare = sandbox.run(db, "post", "2026-11", "--client", str(second), "--yes", "--unsettled")
    assert bare.returncode == 1
    assert (
        "2026-11 is posted, or on its way, to xero: say where this post goes, `--to xero`"
        in bare.stderr
    )
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice")) == []
    both = sandbox.run(
        db, "post", batch_id, "--to", "halo-invoice", "--client", str(first), "--client",
        str(second), "--yes", "--unsettled", "--json",
    )  # fmt: skip
    # The second posts to Halo; the first is refused (its month went to Xero): exit 1, and
    # the result lists the documents of the clients asked for, no other.
    assert both.returncode == 1
    assert "already posted to xero" in both.stderr
    assert [(e["client_id"], e["state"]) for e in json.loads(both.stdout)] == [(second, "POSTED")]
    # Both named again: one posted, one refused, nothing to send: still exit 1.
    again = sandbox.run(
        db, "post", batch_id, "--to", "halo-invoice", "--client", str(first), "--client",
        str(second), "--yes",
    )  # fmt: skip
    assert again.returncode == 1 and "already posted to xero" in again.stderr
    said = " ".join(again.stderr.split())
    assert "nothing to send; to bill it elsewhere, `trueup void" in said
    assert f"--client {first}` first (or v on the workbench's Batch screen)" in said
    # Voided at Xero and posted to Halo instead: a re-issue, under the next reference (one
    # reference is never two documents of the month, whatever the destinations), and said.
    void = sandbox.run(db, "void", "2026-11", "--to", "xero", "--client", str(first), "--yes")
    assert void.returncode == 0, void.stderr
    moved = sandbox.run(
        db, "post", batch_id, "--to", "halo-invoice", "--client", str(first), "--yes",
        "--unsettled", "--json",
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert (
        f"re-issue: {name} as TU2611-{first}-2, after TU2611-{first} voided at xero "
        "(`trueup journal 2026-11` shows the chain)\n" in moved.stderr  # on one line, whole
    )
    assert [e["reference"] for e in json.loads(moved.stdout)] == [f"TU2611-{first}-2"]


def test_an_error_let_through_on_several_lines_is_one_row_of_the_summary(served):
    sandbox, db, _ = served
    batch = json.loads(sandbox.run(db, "batch", "--month", "2026-11", "--json").stdout)
    twice = [
        (invoice["client_id"], code)
        for invoice in batch["invoices"]
        for code, n in Counter(
            a["code"]
            for line in invoice["lines"]
            for a in line["anomalies"]
            if a["severity"] == "error"
        ).items()
        if n > 1
    ]
    assert twice, "the demo has a client with one error on two lines"
    client, code = twice[0]
    let = ("approve", "2026-11", "--client", str(client), "--override", code)
    assert sandbox.run(db, *let, "--reason", "checked by hand").returncode in (0, 1)
    rows = json.loads(sandbox.run(db, "summary", "--json").stdout)["overrides"]
    assert [(r["client_id"], r["reason"]) for r in rows if r["code"] == code] == [
        (client, "checked by hand")
    ]


def test_a_xero_draft_reads_as_one_in_the_month(served):
    # Posted as Xero holds it: a DRAFT is at the destination, not yet issued to the client.
    sandbox, db, batch_id = served
    config = Path(sandbox.env["TRUEUP_CONFIG"])
    config.write_text(config.read_text() + '[xero]\ninvoice_status = "draft"\n')
    month = json.loads(sandbox.run(db, "month", "--json").stdout)["clients"]
    client = next(c["client_id"] for c in month if c["state"] == "approved")
    post = ("post", batch_id, "--to", "xero", "--client", str(client), "--yes", "--unsettled")
    assert sandbox.run(db, *post).returncode == 0
    mine = {c["client_id"]: c for c in _entries(sandbox, db)["clients"]}[client]
    (posting,) = mine["postings"]
    assert (mine["state"], posting["state"], posting["draft"]) == ("posted", "posted", True)
    statuses = asyncio.run(_xero_statuses(sandbox.env))
    assert statuses[posting["reference"]] == "DRAFT"
    said = " ".join(sandbox.run(db, "month").stdout.split())
    assert f"xero {posting['reference']} (draft)" in said


async def _xero_statuses(env):
    from trueup.core.settings.clients import xero_from_settings
    from trueup.core.settings.config import load_settings

    with post_crash.environment(env):
        async with xero_from_settings(load_settings(Path(env["TRUEUP_CONFIG"]))) as xero:
            return {r["InvoiceNumber"]: r["Status"] for r in await xero.pages("Invoices", {})}
