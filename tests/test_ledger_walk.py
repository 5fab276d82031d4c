"""The month ledger walked as a new billing person would, from the command line against
`trueup sandbox serve`: each finding of that walk, judged by what the simulators hold
afterwards (read back through their own APIs) and by what trueup says."""

import json

from ledger_fixtures import (  # noqa: F401 (fixtures)
    ledger_prepared,
    ledger_served,
    remote,
    rules_with,
)


def _said(result) -> str:
    return " ".join(result.stderr.split())


def test_an_adjustment_from_a_batch_the_month_has_moved_on_from_is_refused(served, tmp_path):
    """The walk: after a second rules change, `--adjust` with the batch id an earlier hint had
    printed sent a credit taking the client's month back to what that batch billed."""
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    assert posted.returncode == 0, posted.stderr
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n')
    hint = _said(sandbox.run(db, "post", batch_id, "--yes", "--unsettled"))
    assert "`trueup post 2026-11 --to halo-invoice --adjust` shows and posts" in hint
    adjust = ("--to", "halo-invoice", "--adjust", "--yes", "--unsettled")
    stale = sandbox.run(db, "post", batch_id, *adjust)
    assert stale.returncode == 1
    assert f"batch {batch_id} is not what 2026-11 bills now" in _said(stale)
    assert "`trueup post 2026-11 --to halo-invoice --adjust` adjusts them" in _said(stale)
    assert remote(sandbox, "halo-invoice", f"{reference}-") == []
    done = sandbox.run(db, "post", "2026-11", *adjust)
    assert done.returncode == 0, done.stderr
    assert [r for r, _ in remote(sandbox, "halo-invoice", f"{reference}-")] == [f"{reference}-A1"]


def test_an_adjustment_after_a_move_to_another_destination_takes_a_reference_of_its_own(
    served, tmp_path
):
    """The walk: adjusted at Halo (A1), voided, posted to QuickBooks and adjusted there, the
    adjustment was TU2611-N-A1 too, so the month listed two documents of one reference."""
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "markup"\n'
                'markup_percent = "20"\n')  # fmt: skip
    adjust = ("post", "2026-11", "--adjust", "--yes", "--unsettled")
    assert sandbox.run(db, *adjust, "--to", "halo-invoice").returncode == 0
    void = sandbox.run(db, "void", "2026-11", "--client", str(cid), "--yes")
    assert void.returncode == 0, void.stderr
    assert sandbox.run(db, "approve", "2026-11", "--client", str(cid)).returncode == 0
    moved = sandbox.run(db, "post", "2026-11", "--to", "qbo", "--client", str(cid), "--yes",
                        "--unsettled")  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    rules_with(sandbox, db, tmp_path, f'\n[clients."{cid}"]\nprice = "pax8"\n')
    again = sandbox.run(db, *adjust, "--to", "qbo")
    assert again.returncode == 0, again.stderr
    assert f" {reference}-A2 " in _said(again)
    assert [r for r, _ in remote(sandbox, "qbo", reference)] == [
        f"{reference}-2", f"{reference}-A2"
    ]  # fmt: skip
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)
    (mine,) = [c for c in ledger["clients"] if c["client_id"] == cid]
    references = [p["reference"] for p in mine["postings"]]
    assert references == [reference, f"{reference}-A1", f"{reference}-2", f"{reference}-A2"]
    assert mine["state"] == "adjusted" and mine["difference"] == "0.00"


def test_a_void_run_again_says_the_month_is_already_voided_and_sends_nothing(served):
    """The walk: a second `trueup void 2026-11 --client N` exited 1 saying nothing of the month
    was posted anywhere (as for a client never billed), and by batch id it printed nothing."""
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    void = ("void", "2026-11", "--client", str(cid), "--yes", "--json")
    assert sandbox.run(db, *void).returncode == 0
    for again in (void, ("void", batch_id, "--client", str(cid), "--yes", "--json")):
        done = sandbox.run(db, *again)
        assert done.returncode == 0, done.stderr
        assert "2026-11 is already voided at halo-invoice for " in _said(done)
        assert f"({cid}) ({reference}): nothing to send" in _said(done)
        assert [(e["reference"], e["action"], e["this_run"]) for e in json.loads(done.stdout)] == [
            (reference, "void", False)
        ]
    journal = json.loads(sandbox.run(db, "journal", "2026-11", "--json").stdout)
    assert [e["reference"] for e in journal if e["action"] == "void"] == [reference]
    assert remote(sandbox, "halo-invoice", reference) == []
    # Voided at Halo and posted to QuickBooks since: voided there, and said where it went.
    assert sandbox.run(db, "approve", "2026-11", "--client", str(cid)).returncode == 0
    moved = ("post", "2026-11", "--to", "qbo", "--client", str(cid), "--yes", "--unsettled")
    assert sandbox.run(db, *moved).returncode == 0
    elsewhere = sandbox.run(db, *void)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert (
        "nothing to send; posted again since: it went to qbo: `trueup void 2026-11 --to qbo "
        in _said(elsewhere)
    )


def test_an_adjustment_asked_for_a_voided_month_says_it_was_voided_and_how_to_post_it(served):
    """The walk: `--adjust --client N` after a void said 'not posted yet' and ended 'nothing to
    post: none of the 1 invoice(s) can post', as if the client had never been billed."""
    sandbox, db, batch_id = served
    posted = sandbox.run(db, "post", batch_id, "--yes", "--unsettled", "--json")
    cid, reference = (json.loads(posted.stdout)[0][k] for k in ("client_id", "reference"))
    assert sandbox.run(db, "void", "2026-11", "--client", str(cid), "--yes").returncode == 0
    adjust = ("post", "2026-11", "--adjust", "--client", str(cid), "--yes", "--unsettled")
    refused = sandbox.run(db, *adjust)
    assert refused.returncode == 1
    command = f"trueup post 2026-11 --to halo-invoice --client {cid}"
    assert (
        f"voided ({reference} at halo-invoice): nothing stands to adjust; `{command}` posts the "
        "month again"
    ) in _said(refused)
    assert "nothing to adjust: none of the 1 client(s) can be" in _said(refused)
    again = sandbox.run(db, *command.split()[1:], "--yes", "--unsettled")
    assert again.returncode == 0, again.stderr
    assert [r for r, _ in remote(sandbox, "halo-invoice", reference)] == [f"{reference}-2"]


def test_the_month_names_the_command_that_adjusts_each_destination(served, tmp_path):
    """The walk: `trueup month` said `trueup post 2026-11 --to DEST --adjust`, leaving the
    billing person to find where each posted client's month went."""
    sandbox, db, _ = served
    ledger = json.loads(sandbox.run(db, "month", "--json").stdout)["clients"]
    one, other = [c["client_id"] for c in ledger if c["state"] == "approved"][:2]
    for cid, destination in ((one, "halo-invoice"), (other, "qbo")):
        post = ("post", "2026-11", "--to", destination, "--client", str(cid), "--yes")
        assert sandbox.run(db, *post, "--unsettled").returncode == 0
    rules_with(sandbox, db, tmp_path, f'\n[clients."{one}"]\nprice = "markup"\n'
                f'\n[clients."{other}"]\nprice = "markup"\n')  # fmt: skip
    said = " ".join(sandbox.run(db, "month").stdout.split())
    commands = [f"trueup post 2026-11 --to {d} --adjust" for d in ("halo-invoice", "qbo")]
    assert f"`{commands[0]}` and `{commands[1]}` post the adjustments." in said
    # The first exits 1 while the other destination's adjustment is still to do (as said).
    first, last = (sandbox.run(db, *c.split()[1:], "--yes", "--unsettled") for c in commands)
    assert first.returncode == 1 and f"its adjustment goes there (`{commands[1]}`" in _said(first)
    assert last.returncode == 0, last.stderr
    assert [r for r, _ in remote(sandbox, "halo-invoice", f"TU2611-{one}")] == [
        f"TU2611-{one}", f"TU2611-{one}-A1"
    ]  # fmt: skip
    assert [r for r, _ in remote(sandbox, "qbo", f"TU2611-{other}")] == [
        f"TU2611-{other}", f"TU2611-{other}-A1"
    ]  # fmt: skip
    assert "--adjust" not in sandbox.run(db, "month").stdout
