"""The rules in force in the store: import all or nothing, export, key-by-key changes, history."""

from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from trueup.core.rules.current import (
    DEFAULT_RULES,
    RulesError,
    current_rules,
    dump_rules,
    export_rules,
    import_rules,
    set_client_override,
    set_default,
    set_line_override,
)
from trueup.core.rules.rows import rule_rows
from trueup.core.store import tables as m
from trueup.core.store.database import open_database

GOOD = """# ours, with a comment kept on export
[defaults]
markup_percent = "10"

[clients."14"]
proration = "end"

[[lines]]
client = "14"
product = "MST-365-BUS-STD"
price = "fixed"
fixed_price = "12.50"
"""


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "rules.sqlite")
    with database.write() as conn:
        for client_id, name in ((12, "Acme Dental"), (14, "Bear Creek Winery LLC")):
            conn.execute(insert(m.table_of(m.HaloClient)).values(id=client_id, name=name, raw="{}"))
        conn.execute(
            insert(m.table_of(m.Pax8Product)).values(
                id="p-365", sku="MST-365-BUS-STD", name="Microsoft 365 Business Standard", raw="{}"
            )
        )
    yield database
    database.dispose()


def documents(db):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(m.table_of(m.RulesDocument))).scalar()


def test_no_rules_imported_means_the_defaults(db):
    assert current_rules(db) == (DEFAULT_RULES, None)
    assert export_rules(db) == dump_rules(DEFAULT_RULES)


def test_import_puts_the_file_in_force_and_export_gives_it_back(db):
    rules_id = import_rules(db, GOOD)
    rules, in_force = current_rules(db)
    assert in_force == rules_id
    assert rules.defaults.markup_percent == Decimal(10)
    assert rules.for_line(14, "p-365", "MST-365-BUS-STD").fixed_price == Decimal("12.50")
    assert export_rules(db) == GOOD  # as imported, comments and all
    with db.read() as conn:
        row = conn.execute(select(m.table_of(m.RulesDocument))).mappings().one()
    assert row["imported_by"] and row["imported_at"] is not None


def test_import_is_all_or_nothing_listing_every_unknown_id(db):
    import_rules(db, GOOD)
    bad = (
        GOOD
        + '\n[clients."99"]\nprice = "halo"\n'
        + '\n[[lines]]\nclient = "77"\nproduct = "NOPE-SKU"\nsync = false\n'
    )
    with pytest.raises(RulesError) as caught:
        import_rules(db, bad)
    assert caught.value.problems == [
        'line 14: [clients."99"]: unknown Halo client 99; sync, or check the id',
        "line 18: [[lines]] #2 client: unknown Halo client 77; sync, or check the id",
        "line 19: [[lines]] #2 product: no Pax8 product has the id or sku 'NOPE-SKU'; "
        "sync, or check it",
    ]
    assert documents(db) == 1
    assert export_rules(db) == GOOD


def test_an_invalid_file_changes_nothing(db):
    with pytest.raises(RulesError):
        import_rules(db, '[defaults]\nprice = "cheap"\n')
    assert documents(db) == 0


def test_a_text_bigger_than_a_rules_file_is_never_stored(db):
    """Whoever gives the text (the CLI refuses the file before reading it whole): 5 MB of
    comments was kept whole in the rules history."""
    text = "# padding\n" * 500_000 + GOOD
    with pytest.raises(RulesError) as refused:
        import_rules(db, text)
    assert refused.value.problems == [
        f"the file is {len(text):,} bytes, more than a rules file holds (4,194,304 bytes at "
        "most; 2,000 clients' rules take about 1.4 MB): is it the rules file?"
    ]
    assert documents(db) == 0


def test_each_change_is_a_new_document(db):
    set_default(db, "proration", "end")
    set_client_override(db, 14, "markup_percent", "20")
    set_client_override(db, 14, "currency", "eur")
    set_line_override(db, 12, "p-365", "sync", "false")
    rules, rules_id = current_rules(db)
    assert rules_id == documents(db) == 4
    assert rules.defaults.proration == "end"
    assert rules.clients == {14: {"markup_percent": Decimal(20), "currency": "EUR"}}
    assert rules.for_line(12, "p-365", None).sync is False


def test_removing_overrides_and_resetting_defaults(db):
    set_default(db, "markup_percent", "5")
    set_client_override(db, 14, "markup_percent", "20")
    set_client_override(db, 14, "markup_percent", None)
    set_default(db, "markup_percent", None)
    rules, _ = current_rules(db)
    assert rules == DEFAULT_RULES
    set_client_override(db, 14, "proration", None)  # nothing to remove: no new document
    assert documents(db) == 4


def test_a_line_override_found_by_sku_is_the_one_changed(db):
    import_rules(db, GOOD)
    set_line_override(db, 14, "p-365", "sync", "false")  # by id; the entry names the sku
    rules, _ = current_rules(db)
    assert len(rules.lines) == 1 and rules.lines[0].product == "MST-365-BUS-STD"
    assert rules.lines[0].overrides["sync"] is False
    for key in ("price", "fixed_price", "sync"):
        set_line_override(db, 14, "MST-365-BUS-STD", key, None)
    assert current_rules(db)[0].lines == ()


def test_changes_are_refused_like_an_import(db):
    with pytest.raises(RulesError, match="unknown Halo client 99"):
        set_client_override(db, 99, "proration", "end")
    with pytest.raises(RulesError, match="no Pax8 product has the id or sku 'NOPE'"):
        set_line_override(db, 14, "NOPE", "sync", "false")
    with pytest.raises(RulesError, match='"fixed" needs a fixed_price'):
        set_default(db, "price", "fixed")
    with pytest.raises(RulesError, match=r"^markup_percent: \"-1\" is negative"):
        set_client_override(db, 14, "markup_percent", "-1")
    with pytest.raises(RulesError, match="per client, not per line"):
        set_line_override(db, 14, "p-365", "tax_percent", "5")
    assert documents(db) == 0


def test_rows_name_where_each_value_comes_from(db):
    import_rules(db, GOOD)
    rows, rules_id = rule_rows(db)
    by_key = {(r.scope, r.client_id, r.key): r for r in rows}
    assert by_key[("defaults", None, "markup_percent")].source == f"rules #{rules_id}"
    assert by_key[("defaults", None, "proration")].source == "built-in"
    client = by_key[("client", 14, "proration")]
    assert (client.value, client.source) == ("end", "client override (else daily)")
    assert client.subject == "Bear Creek Winery LLC #14"
    line = by_key[("line", 14, "fixed_price")]
    assert line.subject == "Bear Creek Winery LLC #14 · Microsoft 365 Business Standard"


def test_a_stored_document_a_later_check_refuses_still_reads_and_takes_changes(db):
    """The checks added in a boundary review (rates in range, ISO 4217 codes) apply to rules
    coming in, not to those stored: rules in force before them still read, and a key changed
    on the Rules screen is saved over them."""
    with db.write() as conn:
        conn.execute(
            insert(m.table_of(m.RulesDocument)).values(
                text='[rates]\n"XXX/USD" = "1"\n', imported_by="old", imported_at=func.now()
            )
        )
    rules, _ = current_rules(db)
    assert rules.rates == {("XXX", "USD"): Decimal(1)}
    set_default(db, "markup_percent", "5")
    rules, _ = current_rules(db)
    assert rules.defaults.markup_percent == Decimal(5) and ("XXX", "USD") in rules.rates
    with pytest.raises(RulesError, match="ISO 4217"):
        set_client_override(db, 14, "currency", "XYZ")
