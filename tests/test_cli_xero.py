"""The month to Xero from the CLI alone, on the demo served over loopback: read Xero's lists, map
contacts and items, post, find every invoice in Xero through its API, void one client, and see
the ledger say so. The Xero side is read back through the API, never trusted from our output."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from trueup.cli import app, render
from trueup.core.settings.clients import xero_from_settings
from trueup.core.settings.config import load_settings
from trueup.sandbox.scenario import load_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"


@pytest.fixture(scope="module")
def served():
    sims = build_simulators(load_scenario(DEMO), rate_limits=False)
    with serve_in_background(sims) as urls:
        yield urls


@pytest.fixture
def env(served, tmp_path, monkeypatch):
    return _environment(served, tmp_path, monkeypatch)


@pytest.fixture
def env_alone(tmp_path, monkeypatch):
    """As `env`, on simulators of its own: a Xero that holds no other test's documents."""
    sims = build_simulators(load_scenario(DEMO), rate_limits=False)
    with serve_in_background(sims) as urls:
        yield _environment(urls, tmp_path, monkeypatch)


def _environment(served, tmp_path, monkeypatch):
    values = {
        "TRUEUP_DB": str(tmp_path / "trueup.sqlite"),
        "TRUEUP_CONFIG": str(tmp_path / "config.toml"),
        "TRUEUP_TODAY": "2026-11-21",
        "TRUEUP_PAX8_URL": served.pax8,
        "TRUEUP_HALO_URL": served.halo,
        "TRUEUP_HALO_AUTH_URL": served.halo_auth,
        "TRUEUP_XERO_URL": served.xero,
        "TRUEUP_XERO_IDENTITY_URL": served.xero_identity,
        "TRUEUP_CLIENT_RATE_LIMITS": "off",
    }
    for service in ("PAX8", "HALO", "XERO"):
        values[f"TRUEUP_{service}_CLIENT_ID"] = "sandbox"
        values[f"TRUEUP_{service}_CLIENT_SECRET"] = "sandbox"
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(render.stdout, "_width", 200)
    for args in (("sync",), ("map", "accept", "--min-score", "95")):
        assert invoke(*args).exit_code == 0
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def data(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def xero_invoices(tmp_path: Path) -> dict[str, dict]:
    async def read() -> list[dict]:
        async with xero_from_settings(load_settings(tmp_path / "config.toml")) as xero:
            return await xero.pages("Invoices", {})

    return {r["InvoiceNumber"]: r for r in asyncio.run(read())}


def test_the_month_posts_to_xero_and_reads_back_there(env) -> None:
    refreshed = invoke("xero", "refresh")
    assert refreshed.exit_code == 0 and "62 contacts" in refreshed.stderr, refreshed.output
    unmapped = data(invoke("xero", "unmapped", "--json"))
    assert unmapped["clients"] and all(c["reason"] == "not mapped" for c in unmapped["clients"])
    accepted = data(invoke("xero", "map", "accept", "--min-score", "80", "--json"))
    assert accepted["clients"] and accepted["items"]
    assert {"contact_id", "contact_name"} <= set(accepted["clients"][0])
    batch = data(invoke("batch", "--month", "2026-11", "--json"))
    assert invoke("approve", batch["batch_id"]).exit_code == 0

    posted = invoke("post", "2026-11", "--to", "xero", "--yes", "--unsettled")
    assert posted.exit_code in (0, 1), posted.output
    # Amounts as a person reads them: thousands separated (never so in JSON).
    assert re.search(r"to post, [\d,.]+ CAD, \d{1,3}(,\d{3})+\.\d\d USD", posted.stderr)
    ledger = data(invoke("month", "--month", "2026-11", "--json"))
    sent = {
        p["reference"]: (c["client_id"], Decimal(p["amount"]))
        for c in ledger["clients"]
        for p in c["postings"]
        if p["destination"] == "xero" and p["state"] == "posted"
    }
    # Every approved client posts (the rest wait on errors the demo leaves for the operator).
    assert len(sent) >= 15 and "no Xero" not in posted.output, posted.output
    found = xero_invoices(env)
    assert set(sent) <= set(found)
    for reference, (_, total) in sent.items():
        invoice = found[reference]
        assert (invoice["Status"], invoice["Type"], invoice["Reference"]) == (
            "AUTHORISED",
            "ACCREC",
            "2026-11",
        )
        assert Decimal(str(invoice["Total"])) == total

    again = invoke("post", "2026-11", "--to", "xero", "--yes", "--unsettled")
    assert len(xero_invoices(env)) == len(found), again.output  # nothing sent twice

    reference, (client_id, _) = sorted(sent.items())[0]
    voided = invoke("void", "2026-11", "--client", str(client_id), "--to", "xero", "--yes")
    assert voided.exit_code == 0, voided.output
    assert xero_invoices(env)[reference]["Status"] == "VOIDED"
    ledger = data(invoke("month", "--month", "2026-11", "--json"))
    state = next(c["state"] for c in ledger["clients"] if c["client_id"] == client_id)
    assert state == "voided"


def test_xero_unmapped_names_the_products_with_no_halo_item(env) -> None:
    """`xero unmapped` said every billed client and item had its Xero twin while the post
    refused the invoices billing a product with no Halo item (its UNMAPPED_SKU let through)."""
    assert invoke("xero", "refresh").exit_code == 0
    assert invoke("xero", "map", "accept", "--min-score", "80").exit_code == 0
    bare = data(invoke("unmapped", "--json"))["products"]
    assert bare  # the demo leaves a few products with no Halo item
    assert data(invoke("xero", "unmapped", "--json")) == {"clients": [], "items": []}
    said = invoke("xero", "unmapped")
    assert said.exit_code == 0
    assert f"{len(bare)} billed products with no Halo item, so no Xero item" in said.stdout
    assert bare[0]["name"] in said.stdout


def test_posting_unmapped_clients_to_xero_says_what_to_do(env) -> None:
    batch = data(invoke("batch", "--month", "2026-11", "--json"))
    assert invoke("approve", batch["batch_id"]).exit_code == 0
    before = xero_invoices(env)  # the served simulator outlives a test
    refused = invoke("post", "2026-11", "--to", "xero", "--yes", "--unsettled")
    assert "no Xero contact: run `trueup xero map suggest`" in refused.output
    assert xero_invoices(env) == before


def test_approved_invoices_left_unposted_exit_1_and_the_unapproved_are_one_line(
    env_alone,
) -> None:
    """From a month-end pass: approved invoices that could not post (a line with no Xero item)
    left `post` at exit 0, so a script read the month as done; and each unapproved client had
    a line of its own (about 50 on the demo)."""
    assert invoke("xero", "refresh").exit_code == 0
    assert invoke("xero", "map", "accept", "--min-score", "80").exit_code == 0
    batch = data(invoke("batch", "--month", "2026-11", "--json"))
    assert invoke("approve", batch["batch_id"]).exit_code == 0
    with sqlite3.connect(env_alone / "trueup.sqlite") as conn:  # the most used item: no Xero one
        conn.execute(
            "DELETE FROM xero_item_mapping WHERE item_id = (SELECT l.item_id FROM "
            "halo_recurring_invoice_line l JOIN xero_item_mapping x ON x.item_id = l.item_id "
            "GROUP BY l.item_id ORDER BY count(*) DESC LIMIT 1)"
        )
    posted = invoke("post", "2026-11", "--to", "xero", "--yes", "--unsettled")
    said = " ".join(posted.stderr.split())
    assert posted.exit_code == 1 and "no Xero item for" in said, posted.output
    assert re.search(r"\d+ invoice\(s\) to post", said) and "0 invoice(s) to post" not in said
    assert said.count("not approved") == 1 and "(`trueup approve` approves them)" in said
    again = invoke("post", "2026-11", "--to", "xero", "--yes", "--unsettled")
    assert again.exit_code == 1 and "0 invoice(s) to post" in " ".join(again.stderr.split())


def test_the_month_at_80_columns_shows_whole_references_and_marks_every_cut(
    env_alone, monkeypatch
) -> None:
    """From a month-end pass: at 80 columns client names were cut without a mark and the where
    column cropped to "xero TU2611-", a reference cut short (TU2611-4 reads as another one).
    The destination is said once below, so each reference fits whole; a cut name ends "…"."""
    assert invoke("xero", "refresh").exit_code == 0
    assert invoke("xero", "map", "accept", "--min-score", "80").exit_code == 0
    assert invoke("approve", data(invoke("batch", "--month", "2026-11", "--json"))["batch_id"])
    assert invoke("post", "2026-11", "--to", "xero", "--yes", "--unsettled").exit_code == 0
    ledger = data(invoke("month", "--json"))["clients"]
    posted = [(c["client_name"][:12], p["reference"]) for c in ledger for p in c["postings"]]
    starts = [c["client_name"][:12] for c in ledger]
    references = {name: ref for name, ref in posted if starts.count(name) == 1}
    monkeypatch.setattr(render.stdout, "_width", 80)
    monkeypatch.setattr(render.stdout, "_force_terminal", True)
    shown = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in invoke("month").stdout.splitlines()]
    assert references and all(len(line) <= 80 for line in shown)
    for name, reference in references.items():
        (row,) = [line for line in shown if line.startswith(name)]
        assert row.split()[-1] == reference, row
    assert "where: at xero" in shown
    (cut,) = [line for line in shown if line.startswith("Bluebird Derm")]
    assert "…" in cut[:20] and not cut.endswith("…")
    # Below the table, what finishes a void cut short is wrapped whole, never cut (a review
    # read "A void is unfinished at halo-invoice for Beaumont & Okafor CPA Group (110): `tr…").
    client = ledger[0]["client_id"]
    voided = invoke("void", "2026-11", "--to", "xero", "--client", str(client), "--yes")
    assert voided.exit_code == 0, voided.output
    with sqlite3.connect(env_alone / "trueup.sqlite") as conn:
        conn.execute("UPDATE posting_entry SET state = 'SENDING' WHERE action = 'void'")
    shown = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in invoke("month").stdout.splitlines()]
    assert all(len(line) <= 80 for line in shown)
    said = " ".join(" ".join(shown).split())
    assert f"`trueup void 2026-11 --to xero --client {client}` again finishes it." in said


def test_a_void_names_each_invoice_before_the_month_is_typed(env_alone, monkeypatch) -> None:
    """From a month-end pass: the confirmation read only "void 2 posted invoice(s) of 2026-11
    at xero", naming no reference, client or amount."""
    assert invoke("xero", "refresh").exit_code == 0
    assert invoke("xero", "map", "accept", "--min-score", "80").exit_code == 0
    assert invoke("approve", data(invoke("batch", "--month", "2026-11", "--json"))["batch_id"])
    assert invoke("post", "2026-11", "--to", "xero", "--yes", "--unsettled").exit_code == 0
    client = next(c for c in data(invoke("month", "--json"))["clients"] if c["postings"])
    (posting,) = client["postings"]
    asked: list[str] = []

    def declined(expected: str, what: str) -> None:
        asked.append(what)
        raise typer.Exit(1)

    monkeypatch.setattr("trueup.cli.posting._confirm", declined)
    voided = invoke("void", "2026-11", "--to", "xero", "--client", str(client["client_id"]))
    said = " ".join(voided.stderr.split())
    assert asked == ["void 1 invoice(s)"] and voided.exit_code == 1
    amount = f"{Decimal(posting['amount']):,.2f} {client['currency']}"
    assert f"{posting['reference']} {client['client_name']}: {amount} (invoice" in said
    assert xero_invoices(env_alone)[posting["reference"]]["Status"] == "AUTHORISED"
