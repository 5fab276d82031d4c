"""`trueup batch` on the hand-written world (tests/world.py) synced from the simulators: exit
codes, the JSON, byte-stable output, the readable summary, `batch show`."""

import json

import pytest

from test_cli_diff import env, invoke, map_world  # noqa: F401  (the fixture and its helpers)
from trueup.core.batch import build as batch_module
from world import ACME, SUB_BEAR


@pytest.fixture
def mapped(env):  # noqa: F811
    map_world(env / "trueup.sqlite")
    return env


def test_json_is_the_batch_and_the_same_bytes_twice(mapped):
    first = invoke("batch", "--month", "2026-11", "--json")
    assert first.exit_code == 0, first.output
    assert invoke("batch", "--month", "2026-11", "--json").stdout == first.stdout
    body = json.loads(first.stdout)
    assert body["month"] == "2026-11" and [i["client_id"] for i in body["invoices"]] == [12, 14]
    bear = next(i for i in body["invoices"] if i["client_id"] == 14)
    line = next(li for li in bear["lines"] if li["subscription_id"] == SUB_BEAR)
    # 17 seats 1-11 Nov, 19 on the 12th-13th, 18 from the 14th (Denver times, UTC dates)
    assert (line["quantity"], line["amount"]) == ("17.7000", "221.25")
    shown = invoke("batch", "show", body["batch_id"], "--json")
    assert shown.exit_code == 0 and shown.stdout == first.stdout


def test_a_stored_batch_is_printed_not_rebuilt(mapped, monkeypatch):
    first = invoke("batch", "--month", "2026-11", "--json")
    listing = invoke("batch", "--month", "2026-11")

    def rebuilt(*args, **kwargs):
        raise AssertionError("the stored batch was built again")

    monkeypatch.setattr(batch_module, "build_batch", rebuilt)
    assert invoke("batch", "--month", "2026-11", "--json").stdout == first.stdout
    assert invoke("batch", "--month", "2026-11").stdout == listing.stdout
    # new inputs (only one client asked for) make a new batch, so a build
    one_client = invoke("batch", "--month", "2026-11", "--client", "12")
    assert one_client.exit_code == 1 and "built again" in one_client.stderr


def test_usage_with_no_company_is_held_out(mapped):
    """December bills November's usage: the summaries synced in November (no invoice yet)."""
    result = invoke("batch", "--month", "2026-12", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    held = [a for a in body["anomalies"] if a["code"] == "UNASSIGNED_USAGE"]
    assert [(a["resource_group"], a["cost"], a["charge"]) for a in held] == [
        ("rg-unassigned-lab", "2.70", "3.10")
    ]
    acme = next(i for i in body["invoices"] if i["client_id"] == 12)
    usage = [li for li in acme["lines"] if li["kind"] == "usage"]
    assert [li["amount"] for li in usage] == ["28.15"]


def test_unmapped_company_with_subscriptions(env):  # noqa: F811
    map_world(env / "trueup.sqlite", companies=((ACME, 12),))
    body = json.loads(invoke("batch", "--month", "2026-11", "--json").stdout)
    assert [(a["code"], a["company_id"]) for a in body["anomalies"]] == [
        ("UNMAPPED_CLIENT", "c0000000-0000-4000-8000-00000000000b")
    ]


def test_readable_summary_and_errors(mapped):
    result = invoke("batch", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    assert "Bear Creek Winery LLC" in result.stdout and "2 invoices" in result.stdout
    bad = invoke("batch", "--month", "2026-13")
    assert bad.exit_code == 2
    unknown = invoke("batch", "--month", "2026-11", "--client", "999")
    assert unknown.exit_code == 1 and "no Halo client 999" in unknown.stderr
    missing = invoke("batch", "show", "nope")
    assert missing.exit_code == 1 and "no batch nope" in missing.stderr
    month = invoke("batch", "show", "2026-11")  # a month for an id: where its batches are
    said = " ".join(month.stderr.split())
    assert month.exit_code == 1 and "`trueup batch --month 2026-11` prints the month's" in said


def test_the_listing_says_when_last_months_batch_was_not_there_to_compare(mapped):
    said = " ".join(invoke("batch", "--month", "2026-11").stdout.split())
    assert "No batch of October 2026 was stored: prices and seats were not compared" in said
    assert "`trueup batch --month 2026-10` stores one" in said
    assert invoke("batch", "--month", "2026-10").exit_code == 0
    again = invoke("batch", "--month", "2026-11")  # built again, against October's
    assert again.exit_code == 0 and "No batch of" not in again.stdout


def test_an_invoice_is_held_and_released_from_the_command_line(mapped):
    """From a month-end pass: approve's refusal said to hold an invoice, and `summary` counts
    held ones, but only the workbench could hold one."""
    batch = json.loads(invoke("batch", "--month", "2026-11", "--json").stdout)["batch_id"]
    held = invoke("hold", "2026-11", "--client", "12", "--client", "999")
    assert held.exit_code == 1 and "held: " in held.stdout and "(12), batch " in held.stdout
    assert "client 999: no invoice in batch" in held.stderr
    approved = json.loads(invoke("approve", batch, "--client", "12", "--json").stdout)
    assert approved["approved"] == [] and "held" in approved["skipped"][0]["reason"]
    released = invoke("hold", batch, "--client", "12", "--release")
    assert released.exit_code == 0 and "released: " in released.stdout
    approved = json.loads(invoke("approve", batch, "--json").stdout)
    assert "held" not in approved["skipped"][0]["reason"]  # its errors, which hold would park
    assert "or hold it (`trueup hold`" in approved["skipped"][0]["reason"]
    (other,) = approved["approved"]
    after = invoke("hold", batch, "--client", str(other))
    assert after.exit_code == 1 and f"client {other}: " in after.stderr  # approved: withdrawn first
    assert "withdraw it first (a on the workbench's Batch screen)" in after.stderr


def test_approve_status_shows_the_clients_asked_for_and_records_no_override(mapped):
    """From a review: `approve --status --override CODE --reason TEXT` printed the approvals
    and dropped the override without a word; `--status --client` listed every client."""
    batch = json.loads(invoke("batch", "--month", "2026-11", "--json").stdout)["batch_id"]
    ignored = invoke("approve", batch, "--status", "--override", "NEGATIVE_MARGIN", "--reason", "x")
    assert ignored.exit_code == 2 and "--status only shows the approvals" in ignored.output
    listed = json.loads(invoke("approve", batch, "--status", "--client", "12", "--json").stdout)
    assert [s["client_id"] for s in listed] == [12]
    unknown = invoke("approve", batch, "--status", "--client", "999")
    assert unknown.exit_code == 1 and "has no invoice for client(s) 999" in unknown.stderr


@pytest.mark.parametrize(
    ("client", "said"),
    [
        (15, "Halo client 15 (Gone Ltd) is inactive in Halo"),
        # Overriding lets it post only outside Halo (posting refuses it there: b927d30).
        (99, "is no longer in Halo (deleted or merged), yet its mapped Pax8 companies"),
        (99, "override with a reason to bill it in QuickBooks or Xero"),
    ],
)
def test_a_client_halo_no_longer_bills_is_an_error_on_its_invoice(env, client, said):  # noqa: F811
    """From a review: a client offboarded in Halo (inactive) or deleted there, its Pax8
    company still mapped to it, was billed with no word; approval now waits for the operator."""
    map_world(env / "trueup.sqlite", companies=((ACME, client),))
    body = json.loads(invoke("batch", "--month", "2026-11", "--json").stdout)
    (invoice,) = [i for i in body["invoices"] if i["client_id"] == client]
    (gone,) = [a for a in invoice["anomalies"] if a["code"] == "CLIENT_INACTIVE"]
    assert gone["severity"] == "error" and said in gone["message"]
    approved = json.loads(invoke("approve", body["batch_id"], "--json").stdout)
    assert approved["approved"] == [] and "CLIENT_INACTIVE" in approved["skipped"][0]["reason"]
