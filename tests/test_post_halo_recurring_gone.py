"""`trueup post --to halo-recurring` on the hand-written world (tests/world.py) served over
loopback, when Halo deletes the recurring invoice a true-up changes after the batch was built;
Halo is read back through its API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from test_cli_diff import map_world
from test_post_halo_client_gone import halo_invoices, invoke, served  # noqa: F401 (fixture)
from trueup.core.settings.clients import halo_from_settings
from trueup.core.settings.config import load_settings


def delete_recurring_invoice(tmp_path, recurring_id: int) -> None:
    async def delete() -> None:
        async with halo_from_settings(load_settings(tmp_path / "config.toml")) as halo:
            await halo.request("DELETE", f"/api/RecurringInvoice/{recurring_id}")

    asyncio.run(delete())


def recurring_ids(tmp_path) -> list[int]:
    async def read() -> list[int]:
        async with halo_from_settings(load_settings(tmp_path / "config.toml")) as halo:
            return [row["id"] async for page in halo.recurring_invoices() for row in page]

    return asyncio.run(read())


def post(batch_id: str) -> Any:
    return invoke(
        "post", batch_id, "--to", "halo-recurring", "--client", "14", "--yes", "--unsettled"
    )


def test_a_true_up_of_a_recurring_invoice_deleted_in_halo_is_rejected_saying_to_sync(
    served,  # noqa: F811 (fixture)
):
    """From a review: Bear's recurring invoice (-94) deleted in Halo after the batch was built
    answered 404 to the true-up's read, which stopped the run and left the entry PENDING, sent
    again on every run. Now the entry is REJECTED, saying the recurring invoice is gone and to
    sync, build, approve and post again; nothing is written to Halo, and a second run sends
    nothing."""
    tmp_path, halo = served
    map_world(tmp_path / "trueup.sqlite")
    body = json.loads(invoke("batch", "--month", "2026-11", "--json").stdout)
    batch_id = body["batch_id"]
    approved = invoke("approve", batch_id, "--client", "14", "--json")
    assert json.loads(approved.stdout)["approved"] == [14], approved.output
    delete_recurring_invoice(tmp_path, -94)
    halo.seen.clear()
    first = post(batch_id)
    writes = [seen for seen in halo.seen if seen[0] != "GET" and seen[1] != "/auth/token"]
    second = post(batch_id)
    journal = json.loads(invoke("journal", batch_id, "--json").stdout)
    assert first.exit_code == 1, first.output
    said = " ".join((first.stdout + first.stderr).split())
    assert "recurring invoice -94 of Bear Creek Winery LLC (Halo client 14) is gone" in said
    assert "Run `trueup sync`, then build the batch again, approve and post it" in said
    (entry,) = [e for e in journal if e["client_id"] == 14]
    assert entry["state"] == "REJECTED"
    assert "recurring invoice -94" in entry["error"] and "`trueup sync`" in entry["error"]
    assert writes == []  # no recurring invoice saved (made again), no adjustment invoice
    assert -94 not in recurring_ids(tmp_path)
    assert [row for row in halo_invoices(tmp_path) if row.get("client_id") == 14] == []
    assert second.exit_code == 1 and "Traceback" not in second.output
    again = json.loads(invoke("journal", batch_id, "--json").stdout)
    assert [e["state"] for e in again if e["client_id"] == 14] == ["REJECTED"]
