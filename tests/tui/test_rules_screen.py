"""The Rules screen: defaults and client overrides edited from the keyboard, checked against
the rules in force in the store afterwards."""

from decimal import Decimal

import pytest
from textual.widgets import Input, Static

from tools.demo_workbench import wait_until_idle
from trueup.core.rules.current import DEFAULT_RULES, current_rules, set_client_override, set_default
from trueup.tui.screens.picker import PickerScreen
from trueup.tui.screens.rules_value import ValueScreen


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


async def go_to(pilot, text):
    """Search the rules, leaving the cursor on the first row that matches."""
    await press(pilot, "slash", *text, "enter")
    assert pilot.app.screen.table.current is not None


def cedar(workbench):
    return workbench.mappings.client_choices("cedar hollow")[0].client_id


async def test_edit_a_default_and_add_a_client_override(app, workbench, store):
    client = cedar(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "5")
        await go_to(pilot, "markup")
        assert app.screen.table.current.key == "markup_percent"
        await press(pilot, "enter")
        assert isinstance(app.screen, ValueScreen)
        await press(pilot, "backspace", *"12.5", "enter")
        assert not isinstance(app.screen, ValueScreen)
        await press(pilot, "c", *"cedar hollow", "enter")
        assert isinstance(app.screen, PickerScreen)  # which key
        await press(pilot, *"proration", "enter")
        await press(pilot, *"end", "enter")
        assert not isinstance(app.screen, PickerScreen)
    rules, rules_id = current_rules(store)
    assert rules_id == 2  # one document per change: the history is kept
    assert rules.defaults.markup_percent == Decimal("12.5")
    assert rules.clients == {client: {"proration": "end"}}
    assert rules.for_client(client).source == f"client {client}"


async def test_edit_then_delete_a_client_override(app, workbench, store):
    client = cedar(workbench)
    set_client_override(store, client, "markup_percent", "20")
    set_client_override(store, client, "price", "markup")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "5")
        await go_to(pilot, "cedar")
        row = app.screen.table.current
        assert (row.scope, row.key, row.value) == ("client", "price", "markup")
        await press(pilot, "down", "enter", "backspace", "backspace", *"35", "enter")
        assert current_rules(store)[0].clients[client]["markup_percent"] == Decimal(35)
        await press(pilot, "up", "d")
        assert app.screen.table.current.key == "markup_percent"  # the cursor stays near
    assert current_rules(store)[0].clients == {client: {"markup_percent": Decimal(35)}}


async def test_d_puts_a_default_back_to_the_built_in_value(app, store):
    set_default(store, "qty_swing_percent", "40")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "5")
        await go_to(pilot, "swing")
        await press(pilot, "d")
    rules, rules_id = current_rules(store)
    assert rules == DEFAULT_RULES and rules_id == 2


async def test_a_refused_value_keeps_the_box_open_and_says_why(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "5")
        await go_to(pilot, "markup")
        await press(pilot, "enter", "backspace", *"-3", "enter")
        assert isinstance(app.screen, ValueScreen)
        check = app.screen.query_one("#rule-value-check", Static)
        assert str(check.render()) == '"-3" is negative; it must be 0 or more'
        app.screen.query_one(Input).value = "abc"
        await wait_until_idle(pilot)
        assert "is not a decimal" in str(check.render())
        await press(pilot, "escape")
        assert not isinstance(app.screen, ValueScreen)
    assert current_rules(store) == (DEFAULT_RULES, None)


async def test_a_change_the_rules_refuse_is_reported_and_nothing_is_saved(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "5")
        await go_to(pilot, "price")
        assert app.screen.table.current.key == "price"
        await press(pilot, "enter", *"fixed", "enter")
        messages = [n.message for n in app._notifications]
        assert any('"fixed" needs a fixed_price' in m for m in messages), messages
        assert not app.screen.saving  # keys work again
    assert current_rules(store) == (DEFAULT_RULES, None)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_with_overrides(snap_compare, app, workbench, store, size):
    client = cedar(workbench)
    set_default(store, "min_margin_percent", "10")
    for key, value in (("proration", "end"), ("price", "markup"), ("markup_percent", "20")):
        set_client_override(store, client, key, value)

    async def reach(pilot):
        await wait_until_idle(pilot)
        await press(pilot, "5")

    assert snap_compare(app, terminal_size=size, run_before=reach)
