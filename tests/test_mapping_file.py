"""Mappings as a versionable file: export, import all or nothing, round trips."""

import json
import tomllib

import pytest
from sqlalchemy import select

from test_mapping import Store
from trueup.core.mapping import engine as mp
from trueup.core.store import tables as m


@pytest.fixture
def store(tmp_path):
    built = Store(tmp_path / "trueup.sqlite")
    built.company("b", "Bear Creek Winery").company("a", 'Acme "Dental" [HQ]').company("z", "Zed")
    built.client(14, "Bear Creek Winery LLC").client(12, "Acme Dental").client(13, "Other")
    built.product("p", "M365 E3", sku="MST-365-E3").item(1000, "M365 E3").item(1001, "E3 NFP")
    mp.map_company(built.db, "b", 14)
    mp.map_company(built.db, "a", 12)
    mp.ignore_company(built.db, "z")
    mp.map_product(built.db, "p", 1000)
    mp.map_product(built.db, "p", 1001, client_id=14)
    yield built
    built.db.dispose()


def mappings(store):
    with store.db.read() as conn:
        companies = {
            (r.company_id, r.client_id, r.status)
            for r in conn.execute(select(m.table_of(m.CompanyMapping)))
        }
        products = {
            (r.product_id, r.client_id, r.item_id, r.status)
            for r in conn.execute(select(m.table_of(m.ProductMapping)))
        }
    return companies, products


def test_export_is_readable_sorted_toml_with_names(store, tmp_path):
    path = tmp_path / "mappings.toml"
    assert mp.export_mappings(store.db, path) == 5
    text = path.read_text()
    assert text.startswith("# trueup mappings")
    data = tomllib.loads(text)
    assert [c["company_id"] for c in data["companies"]] == ["a", "b", "z"]
    assert data["companies"][0]["company"] == 'Acme "Dental" [HQ]'
    assert data["companies"][1] == {
        "company_id": "b",
        "company": "Bear Creek Winery",
        "client_id": 14,
        "client": "Bear Creek Winery LLC",
    }
    assert data["companies"][2]["ignored"] is True
    assert [(p.get("client_id"), p["item_id"]) for p in data["products"]] == [
        (None, 1000),
        (14, 1001),
    ]
    # Stable: the same store writes the same bytes.
    again = tmp_path / "again.toml"
    mp.export_mappings(store.db, again)
    assert again.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("name", ["mappings.toml", "mappings.json"])
def test_export_then_import_round_trips(store, tmp_path, name):
    path = tmp_path / name
    mp.export_mappings(store.db, path)
    if name.endswith(".json"):
        assert json.loads(path.read_text())["version"] == 1
    before = mappings(store)
    mp.unmap_company(store.db, "b")
    mp.map_company(store.db, "a", 13)
    mp.unmap_product(store.db, "p", client_id=14)
    assert mp.import_mappings(store.db, path).changed == 3  # only what differs is written
    assert mappings(store) == before
    assert mp.import_mappings(store.db, path).changed == 0
    with store.db.read() as conn:
        sources = set(conn.execute(select(m.table_of(m.CompanyMapping).c.source)).scalars())
    assert "import" in sources


def test_an_import_with_unknown_ids_is_refused_whole_listing_them(store, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'version = 1\n[[companies]]\ncompany_id = "b"\nclient_id = 13\n'
        '[[companies]]\ncompany_id = "ghost"\nclient_id = 12\n'
        '[[companies]]\ncompany_id = "a"\nclient_id = 404\n'
        '[[products]]\nproduct_id = "p"\nitem_id = 77\nclient_id = 55\n'
    )
    before, changes = mappings(store), len(store.changes())
    with pytest.raises(mp.MappingImportError) as refused:
        mp.import_mappings(store.db, path)
    assert refused.value.problems == [
        "unknown Pax8 company ghost",
        "unknown Halo client 404",
        "unknown Halo client 55",
        "unknown Halo item 77",
    ]
    assert "nothing written" in str(refused.value)
    assert mappings(store) == before and len(store.changes()) == changes


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[companies]]\nclient_id = 1\n", "companies #1 has no company_id"),
        ('[[companies]]\ncompany_id = "b"\nclient_id = "14"\n', "client_id must be a whole number"),
        ('[[products]]\nproduct_id = "p"\nignored = true\nclient_id = 14\n', "ignored takes no"),
        (
            '[[companies]]\ncompany_id = "b"\nclient_id = 14\n'
            '[[companies]]\ncompany_id = "b"\nclient_id = 12\n',
            "company b is listed twice",
        ),
        ("version = 2\n", "version 2 is not 1"),
        ("companies = [", "not valid TOML"),
        # From a bad-input pass: a typo was skipped without a word ("0 mappings changed").
        (
            '[[company]]\ncompany_id = "b"\nclient_id = 12\n',
            "unknown key 'company' (did you mean companies?)",
        ),
        (
            '[[companies]]\ncompany_id = "b"\nclientt = 12\n',
            "companies #1: unknown key 'clientt' (did you mean client_id?)",
        ),
    ],
)
def test_a_malformed_file_is_refused_with_where(store, tmp_path, text, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(mp.MappingImportError, match="nothing written") as refused:
        mp.import_mappings(store.db, path)
    assert any(problem in p for p in refused.value.problems)


def test_one_undo_takes_back_an_import(store, tmp_path):
    path = tmp_path / "m.toml"
    mp.export_mappings(store.db, path)
    before = mappings(store)
    mp.unmap_company(store.db, "b")
    mp.unmap_company(store.db, "a")
    mp.import_mappings(store.db, path)
    assert mp.undo_last(store.db) == "undid import of 2 mappings"
    assert mappings(store) != before
    assert mp.undo_last(store.db) == 'mapped Acme "Dental" [HQ] to Acme Dental again'


def test_a_mapping_whose_company_is_gone_exports_marked_and_imports_skipped(store, tmp_path):
    with store.db.write() as conn:
        conn.execute(
            m.table_of(m.Pax8Company).delete().where(m.table_of(m.Pax8Company).c.id == "b")
        )
    path = tmp_path / "mappings.toml"
    mp.export_mappings(store.db, path)
    data = tomllib.loads(path.read_text())
    (bear,) = [c for c in data["companies"] if c["company_id"] == "b"]
    assert bear["stale"] == "Pax8 company b is gone"
    assert all("stale" not in c for c in data["companies"] if c["company_id"] != "b")
    result = mp.import_mappings(store.db, path)  # what a store exports, it imports
    assert result.changed == 0
    assert result.skipped == ["companies #2 (b) skipped: marked stale, Pax8 company b is gone"]


def test_map_export_dash_writes_the_file_to_stdout_not_a_file_named_dash(
    store, tmp_path, monkeypatch
):
    """From a boundary review: `trueup map export -` wrote a file named `-` where `rules export
    -` writes stdout; now it writes the TOML a file would hold, and nothing else."""
    from typer.testing import CliRunner

    from trueup.cli import app

    db = str(tmp_path / "trueup.sqlite")
    monkeypatch.chdir(tmp_path)
    written = CliRunner().invoke(app, ["--db", db, "map", "export", "mappings.toml"])
    assert written.exit_code == 0, written.output
    shown = CliRunner().invoke(app, ["--db", db, "map", "export", "-"])
    assert shown.exit_code == 0 and not (tmp_path / "-").exists()
    assert shown.stdout == (tmp_path / "mappings.toml").read_text(encoding="utf-8")
    assert "client_id = 12" in shown.stdout


def test_an_import_refuses_a_new_mapping_to_an_inactive_client_or_item(store, tmp_path):
    # `map set` refuses them; an import wrote them ('1 mapping changed'), and the company
    # then billed to the inactive client.
    store.client(15, "Acme (old)", inactive=True).item(1002, "E3 retired", inactive=True)
    path = tmp_path / "m.toml"
    path.write_text(
        'version = 1\n[[companies]]\ncompany_id = "b"\nclient_id = 15\n'
        '[[products]]\nproduct_id = "p"\nitem_id = 1002\n'
    )
    before = mappings(store)
    with pytest.raises(mp.MappingImportError) as refused:
        mp.import_mappings(store.db, path)
    assert refused.value.problems == [
        "company b: Halo client 15 is inactive",
        "product p: Halo item 1002 is inactive",
    ]
    assert mappings(store) == before


def test_a_mapping_whose_client_went_inactive_exports_marked_and_imports_skipped(store, tmp_path):
    with store.db.write() as conn:
        clients = m.table_of(m.HaloClient)
        conn.execute(clients.update().where(clients.c.id == 14).values(inactive=True))
    path = tmp_path / "m.toml"
    mp.export_mappings(store.db, path)
    data = tomllib.loads(path.read_text())
    (bear,) = [c for c in data["companies"] if c["company_id"] == "b"]
    assert bear["stale"] == "Halo client 14 is inactive"
    # The override for client 14 names an active item: `map set` takes it, so it is not stale.
    assert all("stale" not in p for p in data["products"])
    result = mp.import_mappings(store.db, path)  # what a store exports, it imports
    assert result.changed == 0 and len(result.skipped) == 1
    # A file of before, unmarked, repeats what the store holds: nothing to refuse.
    del bear["stale"]
    path.write_text(json.dumps(data))
    assert mp.import_mappings(store.db, path.rename(tmp_path / "m.json")).changed == 0
