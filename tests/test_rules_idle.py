"""Issue 22, "a rule that changes nothing gets no warning": `trueup rules import` names each key
with no effect and why, after importing all the same; the core says which keys depend on which
(billing-rules §4-§6) for the Rules screen to use too."""

import json

import pytest

from billing_builders import D, bill, client, only_line, rules, usage
from test_rules_cli import invoke, synced_world
from trueup.core.billing.rules import LineRule
from trueup.core.rules.current import DEFAULT_RULES, dump_rules
from trueup.core.rules.effect import idle_keys
from trueup.core.rules.text import parse_located
from trueup.core.service.rules import RuleBook
from trueup.core.store.database import open_database


@pytest.fixture
def env(tmp_path, monkeypatch):
    return synced_world(tmp_path, monkeypatch)


MARKUP_NEEDS = '(markup applies with price = "markup" or usage_price = "markup")'


def idle(text):
    return [str(key) for key in idle_keys(*parse_located(text))]


def test_rules_import_warns_of_a_markup_on_a_client_billed_at_pax8_price(env):
    text = '[clients."14"]\nmarkup_percent = "15"\n'
    result = invoke("rules", "import", "-", input=text)
    assert result.exit_code == 0 and result.stdout == ""
    imported, warning = result.stderr.strip().splitlines()
    assert imported.startswith("imported -: rules #1")
    assert warning == (
        'warning: line 2: [clients."14"] markup_percent: no effect while price = "pax8" and '
        f'usage_price = "pax8" {MARKUP_NEEDS}'
    )
    shown = json.loads(invoke("rules", "show", "--json").stdout)
    assert shown["clients"] == {"14": {"markup_percent": "15"}}  # imported all the same


def test_rules_import_says_nothing_more_when_every_key_counts(env):
    text = '[clients."14"]\nprice = "markup"\nmarkup_percent = "15"\n'
    result = invoke("rules", "import", "-", input=text)
    assert result.exit_code == 0 and len(result.stderr.strip().splitlines()) == 1


def test_the_rule_book_names_the_keys_of_the_rules_in_force(tmp_path):
    db = open_database(tmp_path / "trueup.sqlite")
    book = RuleBook(db)
    assert book.idle_keys() == []  # the built-in defaults
    book.set_default("fixed_price", "9.99")
    (key,) = book.idle_keys()
    assert (key.path, key.line) == (("defaults", "fixed_price"), 8)  # in the canonical text
    assert (
        key.reason == 'no effect while price = "pax8" (a fixed price applies with price = "fixed")'
    )
    book.set_default("price", "fixed")
    assert book.idle_keys() == []
    db.dispose()


def test_a_markup_counts_for_usage_or_for_a_client_inheriting_it():
    assert idle('[defaults]\nmarkup_percent = "10"\nusage_price = "markup"\n') == []
    on_markup = '[defaults]\nmarkup_percent = "10"\n[clients."7"]\nprice = "markup"\n'
    assert idle(on_markup) == []  # client 7 is priced by the default markup
    overridden = on_markup + 'markup_percent = "20"\n'
    assert idle(overridden) == [
        'line 2: [defaults] markup_percent: no effect while price = "pax8" and usage_price = '
        f'"pax8" {MARKUP_NEEDS}'
    ]


def test_a_fixed_price_counts_only_under_price_fixed():
    text = (
        '[clients."7"]\nfixed_price = "5.00"\n'
        '[clients."8"]\nfixed_price = "6.00"\n'
        '[[lines]]\nclient = "8"\nproduct = "SKU"\nprice = "fixed"\n'
    )
    assert idle(text) == [
        'line 2: [clients."7"] fixed_price: no effect while price = "pax8" (a fixed price '
        'applies with price = "fixed")'
    ]  # client 8's price is its line's


def test_proration_does_not_count_with_vendor_sync_off():
    line = '[[lines]]\nclient = "7"\nproduct = "SKU"\nsync = false\nproration = "end"\n'
    assert idle(line) == [
        "line 5: [[lines]] #1 proration: no effect while sync = false (with vendor sync off "
        "the line bills Halo's quantity, not prorated)"
    ]
    client_wide = '[clients."7"]\nproration = "end"\n' + line.replace('proration = "end"\n', "")
    assert idle(client_wide) == []  # the client's other lines are prorated


def test_a_line_cannot_choose_the_usage_month():
    text = '[[lines]]\nclient = "7"\nproduct = "AZURE"\nusage_month_offset = -2\n'
    assert idle(text) == [
        "line 4: [[lines]] #1 usage_month_offset: no effect on a line (usage is billed for the "
        "month the client's usage_month_offset chooses)"
    ]
    assert idle('[clients."7"]\nusage_month_offset = -2\n') == []


def test_an_exported_file_spells_out_the_defaults_without_warnings():
    assert idle(dump_rules(DEFAULT_RULES)) == []
    assert idle('[defaults]\nmarkup_percent = "0"\nproration = "daily"\n') == []


def test_a_usage_line_names_the_month_the_client_bills():
    """Usage is chosen by the client's offset (the batch reads it); a line's offset, which the
    import now calls idle, no longer misnames the month on the line."""
    line_rule = LineRule(14, "p-azure", {"usage_month_offset": -2})
    facts = client(usage_facts=(usage("10.00", "12.00"),))
    line = only_line(bill(facts, "2025-07", rules(lines=(line_rule,))))
    assert line.description == "Azure plan usage, June 2025"
    assert line.amount == D("12.00")


def test_rules_import_warns_that_a_client_taxed_above_0_posts_nowhere(env):
    """Every destination taxes by its own codes and is sent no tax, so posting refuses a client
    whose rules add some: the import says so, not the month-end's post."""
    text = '[defaults]\ntax_percent = "0"\n[clients."14"]\ntax_percent = "8.25"\n'
    result = invoke("rules", "import", "-", input=text)
    assert result.exit_code == 0
    _, warning = result.stderr.strip().splitlines()
    assert warning == (
        'warning: line 4: [clients."14"] tax_percent: trueup\'s own figure, sent to no '
        "destination: each taxes by its own codes, so a client taxed above 0 is refused at every "
        "one (set its tax in Halo or the books instead)"
    )
    untaxed = invoke("rules", "import", "-", input='[clients."14"]\ntax_percent = "0"\n')
    assert len(untaxed.stderr.strip().splitlines()) == 1  # imported, nothing to warn of
