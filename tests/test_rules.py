"""The rules file as text: parsing, validation of the whole file, canonical dump, precedence."""

from decimal import Decimal

import pytest

from trueup.core.rules.current import (
    DEFAULT_RULES,
    LineRule,
    Policy,
    Rules,
    RulesError,
    dump_rules,
    parse_rules,
    value_from_text,
)

CONTRACT_EXAMPLE = """
[defaults]
proration = "daily"          # start | end | max | daily
price = "pax8"               # pax8 | markup | fixed | halo
markup_percent = "0"
min_margin_percent = "0"
qty_swing_percent = "25"
usage_month_offset = -1
usage_price = "pax8"         # pax8 | markup | absorb

[clients."14"]  # any key of [defaults], for one client
proration = "end"
markup_percent = "20"

[[lines]]                     # one subscription line, by client and Pax8 product id (or sku)
client = "14"
product = "MST-365-BUS-STD"
price = "fixed"
fixed_price = "12.50"
sync = false                  # per-line opt-out of vendor sync: the line keeps its Halo quantity
"""

FULL = """
[defaults]
proration = "max"
price = "markup"
markup_percent = "15"
min_margin_percent = "8.5"
tax_percent = "0"
currency = "USD"

[rates]
"EUR/USD" = "1.0850"
"GBP/USD" = "1.27"

[clients."14"]
proration = "end"
currency = "EUR"
tax_percent = "19"

[clients."7"]
price = "halo"
usage_price = "absorb"
sync = false

[[lines]]
client = "14"
product = "p-365"
price = "fixed"
fixed_price = "12.50"

[[lines]]
client = "14"
product = "AZ-PLAN"
usage_price = "markup"
markup_percent = "30"
usage_month_offset = 0
"""


def problems(text):
    with pytest.raises(RulesError) as caught:
        parse_rules(text)
    return caught.value.problems


def test_the_contract_example_parses():
    rules = parse_rules(CONTRACT_EXAMPLE)
    assert rules.defaults == Policy()
    assert rules.clients == {14: {"proration": "end", "markup_percent": Decimal(20)}}
    assert rules.lines == (
        LineRule(
            14,
            "MST-365-BUS-STD",
            {"price": "fixed", "fixed_price": Decimal("12.50"), "sync": False},
        ),
    )


@pytest.mark.parametrize("text", ["", CONTRACT_EXAMPLE, FULL])
def test_dump_then_parse_gives_the_same_rules(text):
    rules = parse_rules(text)
    dumped = dump_rules(rules)
    assert parse_rules(dumped) == rules
    assert dump_rules(parse_rules(dumped)) == dumped  # canonical: a fixed point


def test_dump_writes_money_as_quoted_decimals_and_keeps_their_digits():
    dumped = dump_rules(parse_rules(FULL))
    assert 'fixed_price = "12.50"' in dumped
    assert '"EUR/USD" = "1.0850"' in dumped
    assert '[clients."7"]' in dumped.split('[clients."14"]')[0]  # clients by id
    assert dump_rules(DEFAULT_RULES).count(" = ") == 9  # every default but fixed_price, currency


def test_toml_numbers_are_read_exactly_never_through_a_float():
    rules = parse_rules("[defaults]\nmarkup_percent = 12.1\nqty_swing_percent = 30\n")
    assert rules.defaults.markup_percent == Decimal("12.1")  # not 12.0999999999999996...
    assert rules.defaults.qty_swing_percent == Decimal(30)


def test_every_problem_is_listed_with_its_line_and_key():
    found = problems(
        """[defaults]
proration = "weekly"
markup_percent = "12,50"
sync = "no"

[clients."14"]
markup_percent = "-5"
tax_percent = "120"
currency = "EURO"
colour = "red"

[clients.acme]
price = "pax8"

[[lines]]
client = "14"
product = "p-1"
price = "fixed"
tax_percent = "5"

[[lines]]
product = "p-2"

[rates]
"EUR-USD" = "1.1"

[extras]
"""
    )
    assert found == [
        'line 2: [defaults] proration: "weekly" is not one of start, end, max, daily',
        'line 3: [defaults] markup_percent: "12,50" is not a decimal; write it quoted, '
        'like "12.50"',
        'line 4: [defaults] sync: "no" is not true or false (unquoted)',
        'line 7: [clients."14"] markup_percent: "-5" is negative; it must be 0 or more',
        'line 8: [clients."14"] tax_percent: "120" is over 100',
        'line 9: [clients."14"] currency: "EURO" is not a 3-letter currency code, like "USD"',
        'line 10: [clients."14"] colour: unknown key',
        'line 12: [clients."acme"]: "acme" is not a Halo client id (a whole number)',
        'line 18: [[lines]] #1 price: "fixed" needs a fixed_price on the line; '
        'add fixed_price = "12.50"',
        "line 19: [[lines]] #1 tax_percent: set it per client: tax and currency apply to the "
        "whole invoice",
        'line 21: [[lines]] #2: has no client (add client = "<halo client id>")',
        'line 25: [rates] "EUR-USD": is not a currency pair like "EUR/USD" (1 EUR = rate USD)',
        "line 27: [extras]: unknown table; a rules file has [defaults], "
        '[clients."ID"], [[lines]] and [rates]',
    ]


@pytest.mark.parametrize(
    "layer", ["[defaults]", '[clients."14"]', '[[lines]]\nclient = "14"\nproduct = "p"']
)
def test_a_refused_fixed_price_is_said_as_that_not_as_missing(layer):
    """From a bad-input pass: fixed_price = "-1" also read as '"fixed" needs a fixed_price'."""
    found = problems(f'{layer}\nprice = "fixed"\nfixed_price = "-1"\n')
    assert len(found) == 1 and 'fixed_price: "-1" is negative' in found[0], found


def test_the_error_message_is_one_line_listing_them_all():
    with pytest.raises(RulesError) as caught:
        parse_rules('[defaults]\nprice = "cheap"\nproraton = "end"\n')
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        'line 2: [defaults] price: "cheap" is not one of pax8, markup, fixed, halo; '
        "line 3: [defaults] proraton: unknown key (did you mean proration?)"
    )
    assert isinstance(caught.value, ValueError)


def test_a_toml_syntax_error_names_its_line():
    assert problems('[defaults]\nprice = "pax8\n') == [
        "line 2: not valid TOML: Illegal character '\\n' (column 14)"
    ]


def test_fixed_price_policy_needs_a_fixed_price_in_effect():
    assert problems('[defaults]\nprice = "fixed"\n') == [
        'line 2: [defaults] price: "fixed" needs a fixed_price; add fixed_price = "12.50"'
    ]
    rules = parse_rules('[clients."3"]\nprice = "fixed"\nfixed_price = "9"\n')
    assert rules.for_client(3).fixed_price == Decimal(9)
    # A line may rely on its client's fixed price.
    parse_rules(
        '[clients."3"]\nfixed_price = "9"\n[[lines]]\nclient = "3"\nproduct = "x"\n'
        'price = "fixed"\n'
    )


def test_duplicates_are_refused():
    assert problems(
        '[[lines]]\nclient = "1"\nproduct = "x"\nsync = false\n'
        '[[lines]]\nclient = 1\nproduct = "x"\nsync = true\n'
    ) == ["line 5: [[lines]] #2: client 1 product x is given twice"]
    assert problems('[rates]\n"EUR/USD" = "1.1"\n"USD/EUR" = "0.9"\n') == [
        'line 3: [rates] "USD/EUR": EUR/USD is given too; give one direction, the other is its '
        "inverse"
    ]


def test_out_of_range_month_offset_and_zero_rate():
    assert problems('[defaults]\nusage_month_offset = 2\n[rates]\n"EUR/USD" = "0"\n') == [
        "line 2: [defaults] usage_month_offset: 2 is out of range: usage is billed 0 to 12 "
        "months after",
        'line 4: [rates] "EUR/USD": must be more than 0',
    ]


def test_for_line_precedence_line_over_client_over_defaults():
    rules = parse_rules(FULL)
    plain = rules.for_line(99, "p-365", "MST-365")
    assert (plain.proration, plain.price, plain.source) == ("max", "markup", "defaults")
    client = rules.for_line(14, "p-other", "OTHER")
    assert (client.proration, client.price, client.currency) == ("end", "markup", "EUR")
    assert client.source == "client 14"
    line = rules.for_line(14, "p-365", "MST-365")  # by product id
    assert (line.proration, line.price, line.fixed_price) == ("end", "fixed", Decimal("12.50"))
    assert line.source == "line 14/p-365"
    assert line.origin("price") == "line 14/p-365"
    assert line.origin("proration") == "client 14"
    assert line.origin("markup_percent") == "defaults"
    by_sku = rules.for_line(14, "p-azure", "AZ-PLAN")  # by sku
    assert (by_sku.usage_price, by_sku.markup_percent) == ("markup", Decimal(30))
    assert by_sku.usage_month_offset == 0 and by_sku.source == "line 14/AZ-PLAN"
    # The line entry is for client 14 only.
    assert rules.for_line(7, "p-365", "AZ-PLAN").price == "halo"


def test_a_product_id_entry_wins_over_a_sku_entry():
    rules = parse_rules(
        '[[lines]]\nclient = "1"\nproduct = "SKU-1"\nusage_price = "absorb"\n'
        '[[lines]]\nclient = "1"\nproduct = "p-1"\nusage_price = "markup"\n'
    )
    assert rules.for_line(1, "p-1", "SKU-1").usage_price == "markup"
    assert rules.for_line(1, None, "SKU-1").usage_price == "absorb"
    assert rules.for_line(1, "p-2", None).usage_price == "pax8"


def test_rates_and_their_inverse():
    rules = parse_rules(FULL)
    assert rules.rate("EUR", "USD") == Decimal("1.0850")
    assert rules.rate("USD", "EUR") == Decimal(1) / Decimal("1.0850")
    assert rules.rate("USD", "EUR") * Decimal("1.0850") == pytest.approx(Decimal(1))
    assert rules.rate("USD", "USD") == Decimal(1)
    assert rules.rate("EUR", "GBP") is None  # no chaining through USD: say which rate to use
    assert Rules().rate("EUR", "USD") is None


def test_values_typed_by_a_person():
    assert value_from_text("markup_percent", " 12.50 ") == Decimal("12.50")
    assert value_from_text("sync", "off") is False
    assert value_from_text("usage_month_offset", "-2") == -2
    assert value_from_text("currency", "eur") == "EUR"
    with pytest.raises(RulesError, match=r"^fixed_price: \"1e3\" is not a decimal"):
        value_from_text("fixed_price", "1e3")
    with pytest.raises(RulesError, match="unknown key"):
        value_from_text("markup", "1")


def test_a_rate_past_any_two_currencies_is_refused():
    """From a boundary review: "EUR/USD" = 1e400 (a TOML float, read exactly) was imported,
    and every batch of a client billed in EUR then stopped with "unexpected InvalidOperation";
    1e-400 would have billed it nothing."""
    assert problems(
        '[rates]\n"USD/EUR" = 1e400\n"GBP/USD" = 1e-400\n"CHF/USD" = "1000001"\n'
        '"JPY/USD" = "0.0000001"\n'
    ) == [
        'line 2: [rates] "USD/EUR": 1.000E+400 is out of range: a rate is between 0.000001 and '
        "1,000,000",
        'line 3: [rates] "GBP/USD": 1.000E-400 is out of range: a rate is between 0.000001 and '
        "1,000,000",
        'line 4: [rates] "CHF/USD": 1000001 is out of range: a rate is between 0.000001 and '
        "1,000,000",
        'line 5: [rates] "JPY/USD": 0.0000001 is out of range: a rate is between 0.000001 and '
        "1,000,000",
    ]
    wide = parse_rules('[rates]\n"KWD/LBP" = "291000"\n"JPY/USD" = "0.0067"\n')
    assert wide.rate("USD", "JPY") == 1 / Decimal("0.0067")


def test_a_currency_outside_iso_4217_is_refused():
    """From a boundary review: "ABC/USD" and "XXX/USD" (ISO's "no currency") were imported as
    rates no price is ever in, and a client's currency = "ABC" as one it could never be billed
    in; "usd/eur" was refused without saying the fix."""
    assert problems(
        '[rates]\n"ABC/USD" = "1"\n"XXX/USD" = "1"\n"usd/eur" = "0.9"\n"US$/EUR" = "1"\n'
        '[clients."14"]\ncurrency = "ABC"\n'
    ) == [
        'line 2: [rates] "ABC/USD": ABC is not an ISO 4217 currency code, like USD',
        'line 3: [rates] "XXX/USD": XXX is not an ISO 4217 currency code, like USD',
        'line 4: [rates] "usd/eur": is not a currency pair like "EUR/USD" (1 EUR = rate USD): '
        'write it "USD/EUR"',
        'line 5: [rates] "US$/EUR": is not a currency pair like "EUR/USD" (1 EUR = rate USD)',
        'line 7: [clients."14"] currency: "ABC" is not an ISO 4217 currency code, like "USD"',
    ]
    with pytest.raises(RulesError, match="ISO 4217"):
        value_from_text("currency", "eue")
    assert value_from_text("currency", "sek") == "SEK"


def test_a_stored_document_reads_under_the_checks_it_was_accepted_with():
    """Rules a batch was built with before a check was added still read (not strictly): the
    batch, its month and its posting must still open."""
    text = '[rates]\n"ABC/USD" = "2000000"\n[clients."14"]\ncurrency = "abc"\n'
    rules = parse_rules(text, strict=False)
    assert rules.rate("ABC", "USD") == Decimal(2000000) and rules.for_client(14).currency == "ABC"
    with pytest.raises(RulesError):
        parse_rules(text)
