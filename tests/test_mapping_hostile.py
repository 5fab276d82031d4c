"""The mapping engine and its file on what a messy store or a hostile hand gives it: names of
punctuation alone, odd digits typed into a picker, a file saved with a byte-order mark."""

import codecs

import pytest

from test_mapping import Store
from trueup.core.mapping import engine as mp


@pytest.fixture
def store(tmp_path):
    built = Store(tmp_path / "trueup.sqlite")
    yield built
    built.db.dispose()


def test_names_of_punctuation_alone_are_not_the_same_name(store):
    # Both normalise to nothing: they were offered as 'same name apart from punctuation' at 98,
    # and `trueup map accept` billed the company to that client.
    store.company("a", "-").client(7, "???")
    store.product("p", "—").item(70, "***")
    companies = {r.company_id: r for r in mp.company_rows(store.db)}
    products = {r.product_id: r for r in mp.product_rows(store.db)}
    assert (companies["a"].status, companies["a"].candidates) == ("unmapped", ())
    assert (products["p"].status, products["p"].candidates) == ("unmapped", ())
    assert mp.accept_suggestions(store.db) == ([], [])


@pytest.mark.parametrize("typed", ["²", "1" * 5000], ids=["superscript", "5000 digits"])
def test_a_picker_query_of_digits_int_cannot_read_finds_no_id(store, typed):
    # str.isdigit() holds for both and int() refused them: the picker showed ValueError's text.
    store.client(2, "Acme Dental").item(2, "Thing")
    assert all(c.reason != "id" for c in mp.client_choices(store.db, typed))
    assert all(i.reason != "id" for i in mp.item_choices(store.db, typed))
    assert mp.client_choices(store.db, " 2 ")[0].client_id == 2  # an id typed still comes first


@pytest.mark.parametrize("name", ["m.toml", "m.json"])
def test_a_mapping_file_saved_with_a_byte_order_mark_imports(store, tmp_path, name):
    # Notepad's "UTF-8 with BOM": refused as 'Invalid statement (at line 1, column 1)'.
    store.company("a", "Acme").client(7, "Acme Dental")
    mp.map_company(store.db, "a", 7)
    path = tmp_path / name
    mp.export_mappings(store.db, path)
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    mp.unmap_company(store.db, "a")
    assert mp.import_mappings(store.db, path).changed == 1
    assert {r.company_id: r.client_id for r in mp.company_rows(store.db)} == {"a": 7}
