"""Name normalisation: the same company or product, spelled the ways Pax8 and Halo spell it."""

import pytest

from trueup.core.mapping.names import (
    company_name,
    explain_same_company,
    explain_same_product,
    normalise,
    product_key,
)


@pytest.mark.parametrize(
    ("pax8", "halo"),
    [
        ("Bear Creek Winery", "Bear Creek Winery LLC"),
        ("Bear Creek Winery", "Bear Creek Winery, L.L.C."),
        ("Lakeside Accounting", "Lakeside Accounting, Inc."),
        ("Acme", "Acme Incorporated"),
        ("Acme", "ACME Corp."),
        ("Acme", "Acme Co."),
        ("Acme", "Acme Company"),
        ("Acme", "Acme Ltd"),
        ("Acme", "Acme Limited"),
        ("Acme", "Acme GmbH"),
        ("Acme", "Acme Pty Ltd"),
        ("Acme", "Acme PLC"),
        ("Acme", "Acme LLP"),
        ("Pinecrest Family Dental", "Pinecrest Family Dental, P.C."),
        ("Hollis & Crane Law", "Hollis and Crane Law, PLLC"),
        ("GRANITE PEAK ENGINEERING", "Granite Peak Engineering"),
        ("Morales Dermatology", "Morales Dermatology (HQ)"),
        ("The Acme Group", "Acme Group"),
        ("O'Brien  Plumbing", "OBrien Plumbing"),
        ("Smith-Jones Dental", "Smith Jones Dental"),
        ("Café Zürich GmbH", "Cafe Zurich"),
        ("Straße Bau", "STRASSE BAU"),
    ],
)
def test_names_of_the_same_company_share_a_key(pax8, halo):
    assert company_name(pax8).key == company_name(halo).key


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Harbor Point Wealth Advisors", "Harbor Point Brewing Company"),
        ("Aspen Grove Chiropractic", "Aspen Grove Dermatology"),
        ("Acme Dental", "Acme Dental Lab"),
    ],
)
def test_different_companies_keep_different_keys(left, right):
    assert company_name(left).key != company_name(right).key


def test_a_name_is_never_stripped_to_nothing():
    assert company_name("Company").key == "company"
    assert company_name("LLC Inc").key == "llc"
    assert company_name("The Co").key == "the"


def test_only_trailing_legal_words_are_dropped():
    # "Co" at the front is part of the name; "Limited" in the middle too.
    assert company_name("Co Op Market").key == "co op market"
    assert company_name("Limited Edition Prints LLC").key == "limited edition prints"


def test_normalise_folds_case_accents_ampersands_and_punctuation():
    assert normalise("  Rossi & Okafor, Wealth—Advisors ") == "rossi and okafor wealth advisors"
    assert normalise("Crème Brûlée Co.") == "creme brulee co"
    assert normalise("L.L.C.") == "llc"


@pytest.mark.parametrize(
    ("pax8", "halo", "reason"),
    [
        ("Bear Creek Winery", "Bear Creek Winery LLC", "same name without 'LLC'"),
        ("Lakeside Accounting", "Lakeside Accounting, Inc.", "same name without 'Inc.'"),
        ("Acme", "Acme Pty Ltd", "same name without 'Pty', 'Ltd'"),
        ("Morales Dermatology", "Morales Dermatology (HQ)", "same name without '(HQ)'"),
        ("Summit Ridge Eye Care", "SUMMIT RIDGE EYE CARE", "same name apart from case"),
        (
            "Hollis & Crane Law",
            "Hollis and Crane Law, PLLC",
            "same name without 'PLLC', apart from '&' for 'and'",
        ),
        ("Cafe Zurich", "Café Zürich", "same name apart from accents"),
        ("OBrien Plumbing", "O'Brien Plumbing", "same name apart from punctuation"),
        ("Ellison Eye Care", "Ellison Eye Care", "same name"),
    ],
)
def test_a_name_match_says_what_differs(pax8, halo, reason):
    assert explain_same_company(pax8, halo) == reason


def test_product_names_spell_out_catalogue_abbreviations():
    assert product_key("M365 Business Standard") == product_key("Microsoft 365 Business Standard")
    assert product_key("O365 E3") == product_key("Office 365 E3")
    assert product_key("Exchange Online (Plan 1)") == product_key("Exchange Online Plan 1")
    assert product_key("Microsoft 365 E3") != product_key("Office 365 E3")
    assert (
        explain_same_product("Microsoft 365 E3", "M365 E3")
        == "same name apart from 'M365' read as 'microsoft 365'"
    )
    assert (
        explain_same_product("Exchange Online (Plan 1)", "Exchange Online Plan 1")
        == "same name apart from punctuation"
    )
