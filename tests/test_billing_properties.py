"""Properties of client billing (hypothesis): policies, rounding, totals, determinism."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_builders import bill, client, item, manual, rules, snap, sub, usage
from trueup.core.billing.facts import ClientFacts
from trueup.core.billing.pricing import Pricing
from trueup.core.billing.proration import Run, daily_charge, month_runs
from trueup.core.values.months import Month

D = Decimal
POLICIES = ("start", "end", "max", "daily")
MONTHS = ("2024-02", "2025-02", "2025-06", "2025-07", "2026-11")

months = st.sampled_from(MONTHS)
seats = st.integers(min_value=0, max_value=400)
money = st.integers(min_value=0, max_value=99_999).map(lambda cents: D(cents) / 100)
percents = st.integers(min_value=0, max_value=3000).map(lambda tenths: D(tenths) / 10)
price_rules = st.one_of(
    st.just({"price": "pax8"}),
    percents.map(lambda m: {"price": "markup", "markup_percent": m}),
    money.map(lambda p: {"price": "fixed", "fixed_price": p}),
    st.just({"price": "halo"}),
)

# Billing a client takes a few milliseconds; the first call warms caches, so no deadline.
checked = settings(deadline=None, max_examples=80)


@st.composite
def histories(draw, month, *, rising=False, changes=4):
    """Snapshots from before the month, with changes on days of it (quantities rise if asked)."""
    first, last = Month(month).bounds
    quantity, price, cost = draw(seats), draw(money), draw(money)
    snapshots = [snap("2024-01-01", quantity, str(price), str(cost))]
    days = draw(st.lists(st.integers(0, (last - first).days), max_size=changes, unique=True))
    for offset in sorted(days):
        quantity = quantity + draw(seats.map(lambda n: n % 7)) if rising else draw(seats)
        if not rising:
            price = draw(st.one_of(st.just(price), money))
        effective = (first + timedelta(days=offset)).isoformat()
        snapshots.append(snap(effective, quantity, str(price), str(cost)))
    return snapshots


def policy_amounts(facts, month, **policy):
    return {
        proration: bill(facts, month, rules(proration=proration, **policy)).subtotal
        for proration in POLICIES
    }


@checked
@given(month=months, quantity=seats, price=money, price_rule=price_rules, data=st.data())
def test_with_no_change_in_the_month_all_four_policies_agree(
    month, quantity, price, price_rule, data
):
    before = Month(month).bounds[0] - timedelta(days=data.draw(st.integers(1, 400)))
    facts = client(
        sub(
            snap("2022-06-01", data.draw(seats), "9.99", "8.00"),
            snap(before.isoformat(), quantity, str(price), "7.50"),
            halo_price=str(data.draw(money)),
        )
    )
    assert len(set(policy_amounts(facts, month, **price_rule).values())) == 1


@checked
@given(month=months, data=st.data())
def test_daily_lies_between_start_and_end_when_quantity_only_rises(month, data):
    facts = client(sub(*data.draw(histories(month, rising=True))))
    amounts = policy_amounts(facts, month)
    assert amounts["start"] <= amounts["daily"] <= amounts["end"]
    assert amounts["max"] == amounts["end"]


@checked
@given(month=months, quantity=seats, price=money, price_rule=price_rules, data=st.data())
def test_a_whole_month_run_is_charged_as_that_run_cut_in_two(
    month, quantity, price, price_rule, data
):
    """One run (most lines, charged by a shortcut) and the same snapshot over two runs (which
    merge back into one piece) give the same charge, text and reference included."""
    first, last = Month(month).bounds
    snapshot = snap("2024-01-01", quantity, str(price), str(data.draw(money)))
    [whole] = month_runs([snapshot], first, last)
    cut = data.draw(st.integers(1, whole.days - 1))
    halves = [
        Run(first, cut, whole.quantity, snapshot),
        Run(first + timedelta(days=cut), whole.days - cut, whole.quantity, snapshot),
    ]
    pricing = Pricing(rules(**price_rule).defaults, data.draw(st.one_of(st.none(), money)))
    assert whole == Run(first, (last - first).days + 1, snapshot.quantity, snapshot)
    assert daily_charge([whole], pricing) == daily_charge(halves, pricing)


@st.composite
def clients(draw):
    month = draw(months)
    first = Month(month).bounds[0]
    subscriptions = tuple(
        sub(
            *draw(histories(month)),
            sid=f"s{n}",
            term=draw(st.sampled_from(["Monthly", "Monthly", "Annual", "One-Time"])),
            item_id=draw(st.one_of(st.none(), st.just(7))),
            halo_quantity=draw(st.one_of(st.none(), seats)),
            halo_price=str(draw(money)),
            currency=draw(st.sampled_from(["USD", "USD", "EUR"])),
            name=draw(st.sampled_from(["M365 BP", "Defender", "Exchange"])),
        )
        for n in range(draw(st.integers(0, 4)))
    )
    items = tuple(
        item(
            str(draw(money)),
            first.isoformat(),
            (first + timedelta(days=27)).isoformat(),
            sid=f"s{draw(st.integers(0, 3))}",
            item_id=f"i{n}",
        )
        for n in range(draw(st.integers(0, 3)))
    )
    manual_lines = tuple(
        manual(f"Labour {n % 2}", str(draw(seats)), str(draw(money)), line_id=n)
        for n in range(draw(st.integers(0, 3)))
    )
    usage_facts = tuple(
        usage(str(draw(money) / 7), str(draw(money) / 3), sid=f"az{n % 2}", group=f"rg{n}")
        for n in range(draw(st.integers(0, 3)))
    )
    facts = client(*subscriptions, manual_lines=manual_lines, items=items, usage_facts=usage_facts)
    policy = {
        "proration": draw(st.sampled_from(POLICIES)),
        "usage_price": draw(st.sampled_from(["pax8", "markup", "absorb"])),
        "tax_percent": draw(percents),
        "sync": draw(st.booleans()),
        **draw(price_rules),
    }
    rates = draw(st.sampled_from([{}, {("EUR", "USD"): D("1.0850")}]))
    return facts, month, rules(rates=rates, **policy)


@checked
@given(case=clients())
def test_the_total_is_the_sum_of_the_rounded_lines_plus_tax(case):
    facts, month, in_force = case
    invoice = bill(facts, month, in_force)
    counted = [line for line in invoice.lines if line.currency == invoice.currency]
    assert all(line.amount == line.amount.quantize(D("0.01")) for line in invoice.lines)
    assert invoice.subtotal == sum((line.amount for line in counted), D(0))
    tax_percent = in_force.for_client(facts.client_id).tax_percent
    assert invoice.tax == (invoice.subtotal * tax_percent / 100).quantize(
        D("0.01"), "ROUND_HALF_UP"
    )
    assert invoice.total == invoice.subtotal + invoice.tax
    assert invoice.cost == sum((line.cost for line in counted), D(0))
    held_out = [line for line in invoice.lines if line.currency != invoice.currency]
    assert all("CURRENCY_MISMATCH" in {a.code for a in line.anomalies} for line in held_out)


def shuffled(facts: ClientFacts, permute) -> ClientFacts:
    return replace(
        facts,
        subscriptions=tuple(permute(list(facts.subscriptions))),
        manual_lines=tuple(permute(list(facts.manual_lines))),
        cost_items=tuple(permute(list(facts.cost_items))),
        usage=tuple(permute(list(facts.usage))),
    )


@checked
@given(case=clients(), randoms=st.randoms(use_true_random=False))
def test_bill_client_is_deterministic_whatever_the_order_of_the_facts(case, randoms):
    facts, month, in_force = case
    first = bill(facts, month, in_force)
    assert bill(facts, month, in_force) == first

    def permute(values):
        randoms.shuffle(values)
        return values

    assert bill(shuffled(facts, permute), month, in_force) == first
