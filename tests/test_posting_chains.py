"""Chains of documents for one client's month at each destination, against `trueup sandbox
serve`: post, adjust, void, crash and resume; judged by what the simulator holds afterwards
(read back through its API) and what the journal and `trueup month --json` say."""

import json
import signal
from decimal import Decimal

import pytest

from ledger_fixtures import (  # noqa: F401 (fixtures)
    ledger_prepared,
    ledger_served,
    remote,
    rules_with,
)

UNSETTLED = ("--yes", "--unsettled")


def _posted(sandbox, db, batch_id, *args):
    """The batch posted (`args`: where): its first document's client id and reference."""
    posted = sandbox.run(db, "post", batch_id, *args, *UNSETTLED, "--json")
    assert posted.returncode == 0, posted.stderr
    return (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))


def _marked_up(sandbox, db, tmp_path, client_id, percent):
    """The client billed at `percent` over cost from now on: its month bills otherwise."""
    rules_with(
        sandbox, db, tmp_path,
        f'\n[clients."{client_id}"]\nprice = "markup"\nmarkup_percent = "{percent}"\n',
    )  # fmt: skip


def _mine(sandbox, db, cid):
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)
    return next(c for c in ledger["clients"] if c["client_id"] == cid)


@pytest.mark.parametrize("destination", ["qbo", "xero", "halo-invoice"])
def test_an_adjustment_cut_short_finishes_after_the_month_moved_on(served, tmp_path, destination):
    sandbox, db, batch_id = served
    cid, reference = _posted(sandbox, db, batch_id, "--to", destination)
    _marked_up(sandbox, db, tmp_path, cid, "10")
    adjust = ("post", "2026-11", "--to", destination, "--adjust", *UNSETTLED)
    killed = sandbox.run(db, *adjust, crash="answered#1")
    assert killed.returncode == -signal.SIGKILL
    _marked_up(sandbox, db, tmp_path, cid, "20")
    again = sandbox.run(db, *adjust)
    said = " ".join(again.stderr.split())
    assert again.returncode == 1
    command = next(part for part in said.split("`") if part.startswith("trueup post 2026-11-"))
    finish = sandbox.run(db, *command.split()[1:], *UNSETTLED)
    assert finish.returncode == 0, finish.stderr
    mine = _mine(sandbox, db, cid)
    assert [(p["reference"], p["state"]) for p in mine["postings"]] == [
        (reference, "posted"), (f"{reference}-A1", "posted")
    ]  # fmt: skip
    first = sandbox.run(db, *adjust)  # the rest of the difference, from the newer batch
    assert first.returncode == 0, first.stderr
    mine = _mine(sandbox, db, cid)
    assert mine["state"] == "adjusted" and mine["difference"] == "0.00"
    amounts = {p["reference"]: p["amount"] for p in mine["postings"]}
    assert list(amounts) == [reference, f"{reference}-A1", f"{reference}-A2"]
    assert [(r, f"{t:.2f}") for r, t in remote(sandbox, destination, reference)] == sorted(
        amounts.items()
    )


@pytest.mark.parametrize("destination", ["qbo", "xero", "halo-invoice"])
# After the invoice's void is answered; mid-request on the adjustments' (past token, reads).
@pytest.mark.parametrize("crash", ["answered#1", "answer#3"])
def test_a_void_of_an_adjusted_month_killed_midway_voids_every_document_once(
    served, tmp_path, destination, crash
):
    sandbox, db, batch_id = served
    cid, reference = _posted(sandbox, db, batch_id, "--to", destination)
    _marked_up(sandbox, db, tmp_path, cid, "10")
    adjust = ("post", "2026-11", "--to", destination, "--adjust", *UNSETTLED)
    assert sandbox.run(db, *adjust).returncode == 0
    _marked_up(sandbox, db, tmp_path, cid, "40")
    assert sandbox.run(db, *adjust).returncode == 0
    assert [r for r, _ in remote(sandbox, destination, reference)] == [
        reference, f"{reference}-A1", f"{reference}-A2"
    ]  # fmt: skip
    void = ("void", "2026-11", "--to", destination, "--client", str(cid), "--yes")
    assert sandbox.run(db, *void, crash=crash).returncode == -signal.SIGKILL
    done = sandbox.run(db, *void)
    assert done.returncode == 0, done.stderr
    assert remote(sandbox, destination, reference) == []
    mine = _mine(sandbox, db, cid)
    assert mine["state"] == "voided" and mine["posted_total"] == "0.00"
    assert [p["state"] for p in mine["postings"]] == ["voided"] * 3
    journal = json.loads(sandbox.run(db, "journal", "2026-11", "--json").stdout)
    voids = [e["reference"] for e in journal if e["client_id"] == cid and e["action"] == "void"]
    assert sorted(voids) == [reference, f"{reference}-A1", f"{reference}-A2"]
    assert sandbox.run(db, "approve", "2026-11", "--client", str(cid)).returncode == 0
    again = sandbox.run(db, "post", "2026-11", "--to", destination, "--client", str(cid),
                        *UNSETTLED)  # fmt: skip
    assert again.returncode == 0, again.stderr
    mine = _mine(sandbox, db, cid)
    assert mine["state"] == "posted" and mine["difference"] == "0.00"
    assert remote(sandbox, destination, reference) == [(f"{reference}-2", Decimal(mine["total"]))]


@pytest.mark.parametrize("destination", ["halo-invoice", "xero"])
def test_no_adjustment_is_sent_for_a_month_whose_void_is_unfinished(served, tmp_path, destination):
    sandbox, db, batch_id = served
    cid, reference = _posted(sandbox, db, batch_id, "--to", destination)
    void = ("void", "2026-11", "--to", destination, "--client", str(cid), "--yes")
    # Voided at the destination, the journal not told yet.
    assert sandbox.run(db, *void, crash="answered#1").returncode == -signal.SIGKILL
    assert remote(sandbox, destination, reference) == []
    _marked_up(sandbox, db, tmp_path, cid, "10")
    adjust = ("post", "2026-11", "--to", destination, "--adjust", *UNSETTLED)
    refused = sandbox.run(db, *adjust, "--client", str(cid))
    said = " ".join(refused.stderr.split())
    assert remote(sandbox, destination, reference) == []
    assert refused.returncode == 1
    assert f"`trueup void 2026-11 --to {destination} --client {cid}`" in said
    assert sandbox.run(db, *void).returncode == 0
    mine = _mine(sandbox, db, cid)
    assert mine["state"] == "voided" and [p["state"] for p in mine["postings"]] == ["voided"]


def test_a_void_waits_for_an_adjustment_still_on_its_way(served, tmp_path):
    sandbox, db, batch_id = served
    destination = "xero"
    cid, reference = _posted(sandbox, db, batch_id, "--to", destination)
    _marked_up(sandbox, db, tmp_path, cid, "10")
    adjust = ("post", "2026-11", "--to", destination, "--adjust", *UNSETTLED)
    assert sandbox.run(db, *adjust, crash="answered#1").returncode == -signal.SIGKILL
    void = ("void", "2026-11", "--to", destination, "--client", str(cid), "--yes")
    refused = sandbox.run(db, *void)
    said = " ".join(refused.stderr.split())
    assert refused.returncode == 1
    assert f"{reference}-A1 of " in said and "nothing was voided" in said
    assert [r for r, _ in remote(sandbox, destination, reference)] == [
        reference, f"{reference}-A1"
    ]  # fmt: skip
    command = next(part for part in said.split("`") if part.startswith("trueup post "))
    assert sandbox.run(db, *command.split()[1:], *UNSETTLED).returncode == 0
    done = sandbox.run(db, *void)
    assert done.returncode == 0, done.stderr
    assert remote(sandbox, destination, reference) == []
    mine = _mine(sandbox, db, cid)
    assert mine["state"] == "voided" and mine["posted_total"] == "0.00"
    assert [p["state"] for p in mine["postings"]] == ["voided", "voided"]


def test_a_void_killed_between_the_invoice_and_its_adjustment_says_it_is_unfinished(
    served, tmp_path
):
    sandbox, db, batch_id = served
    cid, reference = _posted(sandbox, db, batch_id)
    rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n')
    assert sandbox.run(db, "post", "2026-11", "--adjust", *UNSETTLED).returncode == 0
    void = ("void", "2026-11", "--client", str(cid), "--yes")
    assert sandbox.run(db, *void, crash="posted#1").returncode == -signal.SIGKILL
    mine = _mine(sandbox, db, cid)
    assert [(p["reference"], p["state"], p["voiding"]) for p in mine["postings"]] == [
        (reference, "voided", None), (f"{reference}-A1", "posted", "pending")
    ]  # fmt: skip
    assert "A void is unfinished at halo-invoice" in " ".join(
        sandbox.run(db, "month").stdout.split()
    )
    assert sandbox.run(db, *void).returncode == 0
    assert remote(sandbox, "halo-invoice", reference) == []
    assert _mine(sandbox, db, cid)["state"] == "voided"
