"""Issue 22: `p` on an invoice line lists what each price policy would bill for that line.

Bear Creek's Business Standard line (17.9667 seats, prorated, 12.50 from Pax8) under each price
policy, the client's own included; markup at 0% and a fixed price not yet given say so.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from test_batch import (
    TODAY,
    bear_creek,  # noqa: F401 (fixture)
    invoice_of,
)
from trueup.core.batch.build import build_batch
from trueup.core.batch.price_options import price_options
from trueup.core.errors import TrueupError
from trueup.core.rules.current import set_line_override


def standard_line(db, client):
    batch = build_batch(db, "2026-11", clients=[client], today=TODAY, by="test")
    line = next(
        li
        for li in invoice_of(batch, client)["lines"]
        if li["description"] == "Microsoft 365 Business Standard"
    )
    return line


def test_each_policy_says_what_the_line_would_bill(db, bear_creek):  # noqa: F811
    line = standard_line(db, bear_creek)
    options = {o.price: o for o in price_options(db, "2026-11", bear_creek, line["subscription_id"],
                                                 today=TODAY)}  # fmt: skip
    assert list(options) == ["pax8", "markup", "fixed", "halo", None]
    assert options[None].current and not options["pax8"].current
    assert options[None].label == "the client's policy (pax8)"
    assert options["pax8"].amount == Decimal(line["amount"]) == Decimal("224.58")
    markup = options["markup"]
    assert (markup.label, markup.note) == ("markup 0%", "0% markup: bills at cost")
    assert options["markup"].amount < options["pax8"].amount
    assert (options["fixed"].amount, options["fixed"].note) == (None, "asks for a price")
    assert options["halo"].amount is not None


def test_the_lines_own_policy_is_the_current_one_and_its_other_keys_stay(db, bear_creek):  # noqa: F811
    line = standard_line(db, bear_creek)
    product = line["product_id"]
    set_line_override(db, bear_creek, product, "markup_percent", "20")
    set_line_override(db, bear_creek, product, "price", "markup")
    options = {o.price: o for o in price_options(db, "2026-11", bear_creek, line["subscription_id"],
                                                 today=TODAY)}  # fmt: skip
    assert options["markup"].current and options["markup"].label == "markup 20%"
    assert options["markup"].note == ""
    set_line_override(db, bear_creek, product, "fixed_price", "14.00")
    fixed = price_options(db, "2026-11", bear_creek, line["subscription_id"], today=TODAY)[2]
    assert (fixed.label, fixed.amount) == ("fixed 14.00", Decimal("251.53"))


def test_an_unknown_line_is_refused(db, bear_creek):  # noqa: F811
    with pytest.raises(TrueupError, match="has no subscription nope"):
        price_options(db, "2026-11", bear_creek, "nope", today=date(2026, 11, 21))
