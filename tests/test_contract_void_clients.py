"""`trueup void BATCH --client ID ...` (contract.md §2) voids those clients, or says which it
cannot: a client named with nothing posted at the destination is never passed over unsaid."""

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash

from ledger_fixtures import ledger_prepared, ledger_served  # noqa: F401 (fixtures)


def test_a_void_naming_a_client_with_nothing_there_voids_nothing_and_says_where_it_went(served):
    # `void 2026-11 --client A --client B`, B a typo or posted to Xero, voided A and exited 0:
    # a script read both voided, and B's invoice stood.
    sandbox, db, _ = served
    month = ("2026-11", "--yes", "--unsettled")
    approved = json.loads(sandbox.run(db, "month", "--json").stdout)["clients"]
    first, second = [c["client_id"] for c in approved if c["state"] == "approved"][:2]
    xero = sandbox.run(db, "post", *month, "--to", "xero", "--client", str(second))
    assert xero.returncode == 0, xero.stderr
    halo = sandbox.run(db, "post", *month, "--to", "halo-invoice")
    assert halo.returncode == 0, halo.stderr
    before = asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice"))

    def void(*clients: int):
        named = [arg for c in clients for arg in ("--client", str(c))]
        done = sandbox.run(db, "void", "2026-11", *named, "--yes", "--json")
        return done.returncode, done.stdout, " ".join(done.stderr.split())

    code, out, said = void(first, second)
    assert (code, out) == (1, "")
    assert f"nothing of 2026-11 is posted to halo-invoice for client(s) {second} to void" in said
    assert f"it went to xero: `trueup void 2026-11 --to xero --client {second}`" in said
    code, out, said = void(first, 999_999)
    assert (code, out) == (1, "") and "for client(s) 999999 to void" in said
    assert asyncio.run(post_crash.remote_documents(sandbox.env, "halo-invoice")) == before
    code, out, _ = void(first)
    assert code == 0 and [e["client_id"] for e in json.loads(out)] == [first]
