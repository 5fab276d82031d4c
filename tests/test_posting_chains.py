"""Chains of documents for one client's month at each destination, against `trueup sandbox
serve`: post, adjust, void, crash and resume; judged by what the simulator holds afterwards
(read back through its API) and what the journal and `trueup month --json` say."""

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash

from ledger_fixtures import ledger_prepared, ledger_served  # noqa: F401 (fixtures)

UNSETTLED = ("--yes", "--unsettled")


def _rules_with(sandbox, db, tmp_path, text):
    """The rules as the store had them first, with `text` added."""
    original, path = tmp_path / "original.toml", tmp_path / "rules.toml"
    if not original.exists():
        assert sandbox.run(db, "rules", "export", str(original)).returncode == 0
    path.write_text(original.read_text() + text)
    assert sandbox.run(db, "rules", "import", str(path)).returncode == 0


def _remote(sandbox, destination, prefix):
    documents = asyncio.run(post_crash.remote_documents(sandbox.env, destination))
    return sorted((r, total) for r, _, total in documents if r.startswith(prefix))


def _mine(sandbox, db, cid):
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)
    return next(c for c in ledger["clients"] if c["client_id"] == cid)


@pytest.mark.parametrize("destination", ["qbo", "xero", "halo-invoice"])
def test_an_adjustment_cut_short_finishes_after_the_month_moved_on(served, tmp_path, destination):
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--to", destination, *UNSETTLED, "--json")
    assert posted.returncode == 0, posted.stderr
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n'
                'markup_percent = "10"\n')  # fmt: skip
    adjust = ("post", "2026-11", "--to", destination, "--adjust", *UNSETTLED)
    killed = sandbox.run(db, *adjust, crash="answered#1")
    assert killed.returncode == -signal.SIGKILL
    _rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n'
                'markup_percent = "20"\n')  # fmt: skip
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
    assert [(r, f"{t:.2f}") for r, t in _remote(sandbox, destination, reference)] == sorted(
        amounts.items()
    )
