"""A [[lines]] entry naming a usage product by its sku applies to the usage line (billing-rules
§6 prices usage by the line's policy; contract.md §5: a line is named by product id or sku)."""

from dataclasses import replace

from billing_builders import CLIENT, D, bill, client, only_line, usage
from trueup.core.billing.rules import LineRule, Rules


def test_a_usage_line_takes_the_line_rule_naming_its_sku():
    azure = replace(usage("1234.567", "1400.00"), sku="MST-AZR-PLAN")
    absorbed = Rules(lines=(LineRule(CLIENT, "MST-AZR-PLAN", {"usage_price": "absorb"}),))
    line = only_line(bill(client(usage_facts=(azure,)), "2025-07", absorbed))
    assert (line.amount, line.cost, line.policy) == (D("0.00"), D("1234.57"), "usage · absorb")


def test_a_usage_line_takes_the_markup_of_the_line_rule_naming_its_sku():
    azure = replace(usage("1234.567", "1400.00"), sku="MST-AZR-PLAN")
    marked_up = Rules(
        lines=(
            LineRule(
                CLIENT,
                "MST-AZR-PLAN",
                {"usage_price": "markup", "markup_percent": D(15)},
            ),
        )
    )
    line = only_line(bill(client(usage_facts=(azure,)), "2025-07", marked_up))
    assert line.amount == D("1419.75")  # r(1234.567 × 1.15): billing-semantics case 12
