"""`trueup qbo map ...` and `trueup qbo unmapped`: JSON keys, exit codes, one-line messages."""

import json

import pytest
from sqlalchemy import delete, insert
from typer.testing import CliRunner

from trueup.cli import app, render
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from world import world


@pytest.fixture
def env(tmp_path, monkeypatch):
    """tests/world.py synced and its Pax8 mappings accepted (Acme Dental -> Halo 12, Bear Creek
    -> 14, M365 -> item 1000), with a small QuickBooks catalogue."""
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setattr(render.stdout, "_width", 200)  # table cells print unwrapped
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    assert invoke("sync", "--sandbox", str(scenario), "--json").exit_code == 0
    assert invoke("map", "accept").exit_code == 0
    db = open_database(tmp_path / "trueup.sqlite")
    with db.write() as conn:
        for qbo_id, name, active in (
            ("5", "Acme Dental", True),
            ("6", "Bear Creek Winery", True),
            ("7", "Old Co", False),
        ):
            conn.execute(
                insert(m.table_of(m.QboCustomer)).values(
                    id=qbo_id, name=name, active=active, raw=json.dumps({"DisplayName": name})
                )
            )
        conn.execute(
            insert(m.table_of(m.QboItem)).values(
                id="2", name="Microsoft 365 Business Standard", sku="MST-365-BUS-STD", raw="{}"
            )
        )
    db.dispose()
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def data(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result, code, *named):
    assert result.exit_code == code, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert all(n in result.stderr for n in named), result.stderr


def test_suggest_json_gives_both_sides_scores_and_reasons(env):
    result = data(invoke("qbo", "map", "suggest", "--json"))
    assert result["threshold"] == 90
    clients = {c["client_id"]: c for c in result["clients"]}
    assert set(clients) == {12, 14}  # the clients billing uses
    bear = clients[14]
    assert set(bear) == {
        "client_id",
        "client_name",
        "status",
        "customer_id",
        "customer_name",
        "score",
        "source",
        "reason",
        "candidates",
    }
    assert (bear["status"], bear["customer_id"], bear["score"]) == ("suggested", "6", 98)
    assert bear["reason"] == "same name without 'LLC'"
    assert bear["candidates"][0] == {
        "customer_id": "6",
        "customer_name": "Bear Creek Winery",
        "score": 98,
        "reason": "same name without 'LLC'",
    }
    [m365] = result["items"]
    assert (m365["item_id"], m365["qbo_item_id"], m365["score"]) == (1000, "2", 100)
    assert m365["reason"] == "Sku match (supplier part code)"
    assert set(m365["candidates"][0]) == {"qbo_item_id", "qbo_item_name", "score", "reason"}


def test_suggest_takes_the_configured_threshold(env):
    (env / "config.toml").write_text("[mapping]\nthreshold = 99\n")
    result = data(invoke("qbo", "map", "suggest", "--json"))
    bear = {c["client_id"]: c for c in result["clients"]}[14]
    assert result["threshold"] == 99 and bear["status"] == "unmapped"
    assert bear["reason"] == "below 99: same name without 'LLC'"


def test_suggest_prints_tables_without_json(env):
    result = invoke("qbo", "map", "suggest")
    assert result.exit_code == 0
    assert "Clients needing a QuickBooks customer" in result.stdout
    assert (
        "Bear Creek Winery LLC (14)" in result.stdout and "Bear Creek Winery (6)" in result.stdout
    )


def test_accept_maps_at_the_min_score_and_unmapped_lists_the_rest(env):
    result = invoke("qbo", "map", "accept", "--min-score", "99")
    assert result.exit_code == 0, result.output
    assert "accepted 1 client and 1 item" in result.stderr
    assert "Acme Dental (12)" in result.stdout
    left = data(invoke("qbo", "unmapped", "--json"))
    assert left == {
        "clients": [
            {"client_id": 14, "client_name": "Bear Creek Winery LLC", "reason": "not mapped"}
        ],
        "items": [],
    }
    accepted = data(invoke("qbo", "map", "accept", "--json"))
    assert [c["client_id"] for c in accepted["clients"]] == [14] and accepted["items"] == []
    assert data(invoke("qbo", "unmapped", "--json")) == {"clients": [], "items": []}
    assert "Every billed client and item" in invoke("qbo", "unmapped").stdout


def test_set_and_unset_by_hand(env):
    result = invoke("qbo", "map", "set", "--client", "14", "--customer", "5")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        "mapped Halo client 14 (Bear Creek Winery LLC) to QuickBooks customer 5 (Acme Dental)"
    )
    rows = {c["client_id"]: c for c in data(invoke("qbo", "map", "suggest", "--json"))["clients"]}
    assert 14 not in rows and rows[12]["status"] == "unmapped"  # customer 5 is taken now
    assert invoke("qbo", "map", "set", "--item", "1000", "--qbo-item", "2").exit_code == 0
    unset = invoke("qbo", "map", "unset", "--client", "14")
    assert unset.stderr.strip() == "Halo client 14 has no QuickBooks customer now"
    again = invoke("qbo", "map", "unset", "--client", "14")
    assert again.exit_code == 0 and "had no QuickBooks customer; nothing to do" in again.stderr
    human = invoke("qbo", "unmapped")
    assert "Bear Creek Winery LLC (14)" in human.stdout and "not mapped" in human.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("set", "--client", "999", "--customer", "6"), ("unknown Halo client 999",)),
        (("set", "--client", "14", "--customer", "77"), ("unknown QuickBooks customer 77",)),
        (("set", "--client", "14", "--customer", "7"), ("customer 7 (Old Co) is inactive",)),
        (("set", "--item", "4242", "--qbo-item", "2"), ("unknown Halo item 4242",)),
        (("set", "--item", "1000", "--qbo-item", "9"), ("unknown QuickBooks item 9",)),
        (("unset", "--item", "4242"), ("unknown Halo item 4242",)),
    ],
)
def test_unknown_or_inactive_ids_exit_1_naming_the_id(env, args, named):
    refused(invoke("qbo", "map", *args), 1, *named)


@pytest.mark.parametrize(
    "args",
    [
        ("set", "--client", "14"),
        ("set", "--client", "14", "--qbo-item", "2"),
        ("set", "--item", "1000", "--customer", "5"),
        ("unset",),
        ("unset", "--client", "14", "--item", "1000"),
    ],
)
def test_bad_usage_exits_2_with_one_line(env, args):
    refused(invoke("qbo", "map", *args), 2, "--help")


@pytest.mark.parametrize("command", ["set", "unset"])
def test_an_item_id_past_the_stores_integer_is_bad_usage(env, command):
    """From a boundary review: `unset` ended in "unexpected OverflowError" from SQLite."""
    more = ["--qbo-item", "2"] if command == "set" else []
    result = invoke("qbo", "map", command, "--item", "99999999999999999999", *more)
    assert result.exit_code == 2, result.output
    assert "9223372036854775807" in result.stderr and "unexpected" not in result.stderr


def test_help_teaches_where_to_start(env):
    result = invoke("qbo", "--help")
    assert result.exit_code == 0 and "trueup qbo map suggest" in result.stdout
    assert "unmapped" in result.stdout and "map" in result.stdout


def test_suggest_before_the_lists_are_read_says_to_read_them(env):
    """Nothing of Xero read yet (this store has QuickBooks' lists only): every row said 'no
    candidate', as if Xero held no contact or item like them."""
    result = data(invoke("xero", "map", "suggest", "--json"))
    reasons = {r["reason"] for r in (*result["clients"], *result["items"])}
    assert reasons == {
        "no Xero contacts in the store: `trueup xero refresh` reads them",
        "no Xero items in the store: `trueup xero refresh` reads them",
    }
    # With QuickBooks' lists read, a row nothing resembles is told as before.
    (env / "config.toml").write_text("[mapping]\nthreshold = 100\n")
    with_lists = data(invoke("qbo", "map", "suggest", "--json"))
    assert all("refresh" not in r["reason"] for r in with_lists["clients"])


def test_a_sub_customer_is_shown_under_its_parent(env):
    """A QuickBooks job named as a Halo client is offered by that name, and was shown by it
    alone ('Bear Creek Winery (9)'): that it belongs to Acme Holdings, which a job billed with
    its parent sends the invoice to, was nowhere to read."""
    db = open_database(env / "trueup.sqlite")
    with db.write() as conn:
        customers = m.table_of(m.QboCustomer)
        conn.execute(delete(customers).where(customers.c.id == "6"))
        job = {
            "DisplayName": "Bear Creek Winery",
            "Job": True,
            "BillWithParent": True,
            "ParentRef": {"value": "8"},
            "FullyQualifiedName": "Acme Holdings:Bear Creek Winery",
        }
        for qbo_id, raw in (("8", {"DisplayName": "Acme Holdings"}), ("9", job)):
            conn.execute(
                insert(customers).values(
                    id=qbo_id, name=raw["DisplayName"], active=True, raw=json.dumps(raw)
                )
            )
    db.dispose()
    bear = {c["client_id"]: c for c in data(invoke("qbo", "map", "suggest", "--json"))["clients"]}
    assert (bear[14]["customer_id"], bear[14]["customer_name"], bear[14]["reason"]) == (
        "9",
        "Acme Holdings:Bear Creek Winery",
        "same name without 'LLC' (DisplayName)",
    )
    said = invoke("qbo", "map", "set", "--client", "14", "--customer", "9").stderr.strip()
    assert said.endswith("to QuickBooks customer 9 (Acme Holdings:Bear Creek Winery)")
