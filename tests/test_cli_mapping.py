"""`trueup map ...` and `trueup unmapped`: exit codes, JSON keys, one-line errors."""

import json

import pytest
from typer.testing import CliRunner

from trueup.cli import app, render
from world import ACME, AZURE, BEAR, M365, ORPHAN, world


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("TRUEUP_TODAY", raising=False)
    monkeypatch.setattr(render.stdout, "_width", 200)  # table cells print unwrapped
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    assert invoke("sync", "--sandbox", str(scenario), "--json").exit_code == 0
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def data(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_suggest_json_gives_scores_and_reasons(env):
    result = data(invoke("map", "suggest", "--json"))
    assert result["threshold"] == 90
    companies = {c["company_id"]: c for c in result["companies"]}
    bear = companies[BEAR]
    assert {"company_id", "company_name", "status", "client_id", "score", "reason"} <= set(bear)
    assert (bear["status"], bear["client_id"], bear["score"]) == ("suggested", 14, 98)
    assert bear["candidates"][0]["reason"] == "same name without 'LLC'"
    products = {p["product_id"]: p for p in result["products"]}
    assert products[M365]["item_id"] == 1000 and products[M365]["monthly_value"] == "287.50"
    strict = data(invoke("map", "suggest", "--json", "--threshold", "99"))
    assert {c["company_id"]: c["status"] for c in strict["companies"]}[BEAR] == "unmapped"


def test_suggest_prints_a_table_without_json(env):
    result = invoke("map", "suggest")
    assert result.exit_code == 0
    assert "Bear Creek Winery LLC" in result.stdout and "Products needing an item" in result.stdout


def test_set_unset_and_undo_a_company(env):
    result = invoke("map", "set", "--company", BEAR, "--client", "14")
    assert result.exit_code == 0, result.output
    assert "mapped company" in result.stderr
    assert BEAR not in {c["company_id"] for c in data(invoke("unmapped", "--json"))["companies"]}
    assert invoke("map", "unset", "--company", BEAR).exit_code == 0
    assert BEAR in {c["company_id"] for c in data(invoke("unmapped", "--json"))["companies"]}
    undone = invoke("map", "undo")
    assert undone.exit_code == 0 and "Bear Creek Winery LLC again" in undone.stderr


def test_unknown_ids_exit_1_naming_the_id(env):
    for args, named in (
        (("--company", "nope", "--client", "14"), "nope"),
        (("--company", BEAR, "--client", "999"), "999"),
        (("--product", M365, "--item", "4242"), "4242"),
        (("--product", "p-x", "--item", "1000"), "p-x"),
        (("--product", M365, "--item", "1000", "--client", "777"), "777"),
    ):
        result = invoke("map", "set", *args)
        assert result.exit_code == 1, args
        assert named in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert invoke("map", "ignore", "--company", "nope").exit_code == 1


@pytest.mark.parametrize(
    "args",
    [
        ("map", "set", "--client", "14"),
        ("map", "set", "--company", BEAR, "--product", M365, "--client", "14"),
        ("map", "set", "--company", BEAR, "--item", "1000"),
        ("map", "set", "--product", M365),
        ("map", "unset"),
        ("map", "unset", "--company", BEAR, "--client", "14"),
        ("map", "set", "--company", BEAR, "--client", "fourteen"),
        ("map", "accept", "--min-score", "101"),
    ],
)
def test_bad_usage_exits_2(env, args):
    assert invoke(*args).exit_code == 2


def test_product_override_and_ignore(env):
    invoke("map", "set", "--company", ACME, "--client", "12")
    assert (
        invoke("map", "set", "--product", M365, "--item", "1000", "--client", "12").exit_code == 0
    )
    products = {p["product_id"]: p for p in data(invoke("unmapped", "--json"))["products"]}
    assert products[M365]["subscriptions"] == 1  # Bear Creek's; Acme's has its override
    assert invoke("map", "ignore", "--product", AZURE).exit_code == 0
    products = {p["product_id"] for p in data(invoke("unmapped", "--json"))["products"]}
    assert AZURE not in products
    assert invoke("map", "unset", "--product", M365, "--client", "12").exit_code == 0


def test_accept_prints_what_it_mapped_and_one_undo_reverts_it(env):
    result = data(invoke("map", "accept", "--json"))
    assert {c["company_id"] for c in result["companies"]} == {ACME, BEAR}
    assert [p["product_id"] for p in result["products"]] == [M365]
    assert data(invoke("unmapped", "--json"))["companies"] == []
    assert "undid accept of 3 suggestions" in invoke("map", "undo").stderr
    assert invoke("map", "accept", "--min-score", "99").stdout.count("Bear Creek") == 0
    printed = invoke("map", "accept")
    assert printed.exit_code == 0 and "Bear Creek Winery LLC" in printed.stdout


def test_unmapped_json_has_the_contract_keys(env):
    result = data(invoke("unmapped", "--json"))
    assert set(result) >= {"companies", "products"}
    for company in result["companies"]:
        assert {"company_id", "name", "suggestions"} <= set(company)
        for s in company["suggestions"]:
            assert {"client_id", "client_name", "score"} <= set(s)
    for product in result["products"]:
        assert {"product_id", "sku", "name", "subscriptions", "suggestions"} <= set(product)
    assert ORPHAN not in {c["company_id"] for c in result["companies"]}  # nothing billable


def test_export_import_and_a_refused_import(env):
    invoke("map", "accept")
    path = env / "mappings.toml"
    assert invoke("map", "export", str(path)).exit_code == 0
    invoke("map", "unset", "--company", BEAR)
    imported = invoke("map", "import", str(path))
    assert imported.exit_code == 0 and "1 mapping changed" in imported.stderr
    bad = env / "bad.json"
    bad.write_text(json.dumps({"companies": [{"company_id": "ghost", "client_id": 404}]}))
    refused = invoke("map", "import", str(bad))
    assert refused.exit_code == 1
    assert "unknown Pax8 company ghost" in refused.stderr and "404" in refused.stderr
    assert invoke("map", "import", str(env / "missing.toml")).exit_code == 1


def test_help_teaches(env):
    result = invoke("map", "--help")
    assert result.exit_code == 0 and "map suggest" in result.stdout
    assert "override" in invoke("map", "set", "--help").stdout
    assert invoke("unmapped", "--help").exit_code == 0


def test_the_configured_threshold_is_the_default(env):
    (env / "config.toml").write_text("[mapping]\nthreshold = 99\n")
    strict = data(invoke("map", "suggest", "--json"))
    assert strict["threshold"] == 99
    assert {c["company_id"]: c["status"] for c in strict["companies"]}[BEAR] == "unmapped"
    accepted = data(invoke("map", "accept", "--json"))
    assert BEAR not in {c["company_id"] for c in accepted["companies"]}


def test_unset_of_an_override_says_the_client_falls_back_or_that_there_was_none(env):
    # It said 'product ... is unmapped for Halo client 12' both times: the client still billed
    # the product as every client does, and the second time nothing had been there to remove.
    invoke("map", "set", "--product", M365, "--item", "1000")
    invoke("map", "set", "--product", M365, "--item", "1000", "--client", "12")
    removed = invoke("map", "unset", "--product", M365, "--client", "12")
    assert removed.exit_code == 0, removed.output
    assert "override for Halo client 12: that client bills it as every client does" in (
        removed.stderr
    )
    again = invoke("map", "unset", "--product", M365, "--client", "12")
    assert again.exit_code == 0
    assert "no override for Halo client 12: nothing changed" in again.stderr
    invoke("map", "set", "--product", M365, "--item", "1000", "--client", "14")
    everyone = invoke("map", "unset", "--product", M365)
    assert "unmapped for every client; 1 client keeps its override" in everyone.stderr


def test_an_import_lists_20_stale_entries_then_how_many_more(env):
    stale = [
        {"company_id": f"gone-{n}", "client_id": 12, "stale": "Pax8 company gone"}
        for n in range(25)
    ]
    path = env / "stale.json"
    path.write_text(json.dumps({"version": 1, "companies": stale}))
    result = invoke("map", "import", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 22 and lines[20] == "... and 5 more"
    assert lines[-1].endswith("0 mappings changed, 25 skipped (marked stale)")
