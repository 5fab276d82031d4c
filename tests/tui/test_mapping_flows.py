"""Keyboard flows on the Clients and Products grids, checked against what the store holds."""

from tools.demo_workbench import wait_until_idle
from trueup.tui.screens.confirm import ConfirmScreen
from trueup.tui.screens.picker import PickerScreen


def company(workbench, name):
    return next(r for r in workbench.mappings.company_rows() if r.company_name == name)


def product(workbench, name):
    return next(r for r in workbench.mappings.product_rows() if r.name == name)


async def open_screen(pilot, key):
    await wait_until_idle(pilot)
    await pilot.press(key)
    await wait_until_idle(pilot)


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


async def go_to(pilot, name):
    """Search for a row by name, leaving the cursor on it."""
    await press(pilot, "slash", *name.lower(), "enter")
    assert pilot.app.screen.table.current is not None


async def test_map_a_company_from_the_picker(app, workbench):
    assert company(workbench, "Copper Kettle Bakery").status == "unmapped"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        assert app.screen.table.current.company_name == "Copper Kettle Bakery"  # unmapped first
        await press(pilot, "enter")
        assert isinstance(app.screen, PickerScreen)
        first = app.screen.query_one("#picker-choices").current
        detail = str(app.screen.query_one("#picker-detail").content)
        assert first.label in detail and first.detail in detail  # whole, however long
        await press(pilot, *"cedar")
        await press(pilot, "enter")
        assert not isinstance(app.screen, PickerScreen)
    row = company(workbench, "Copper Kettle Bakery")
    assert (row.status, row.client_name, row.source) == (
        "mapped",
        "Cedar Hollow Realty Group",
        "manual",
    )


async def test_escape_in_the_picker_changes_nothing(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        await press(pilot, "enter", *"cedar", "escape")
    assert company(workbench, "Copper Kettle Bakery").status == "unmapped"


async def test_accept_one_suggestion(app, workbench):
    suggested = company(workbench, "Bear Creek Winery")
    assert suggested.status == "suggested"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        await go_to(pilot, "Bear Creek")
        await press(pilot, "a")
    row = company(workbench, "Bear Creek Winery")
    assert (row.status, row.client_id, row.source, row.score) == (
        "mapped",
        suggested.client_id,
        "suggestion",
        suggested.score,
    )


async def test_after_accepting_the_cursor_stays_on_the_next_row_to_work_on(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        screen = app.screen
        table = screen.table
        first = next(i for i, r in enumerate(table.rows) if r.status == "suggested")
        table.cursor = first
        following = table.rows[first + 1]
        await press(pilot, "a")
        assert table.current.company_id == following.company_id
        assert table.cursor <= first + 1  # not at the bottom with the mapped rows


async def test_accept_all_asks_first_and_lists_what_changes(app, workbench):
    pending = {r.company_name for r in workbench.mappings.company_rows() if r.status == "suggested"}
    assert len(pending) == 4
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        await press(pilot, "A")
        assert isinstance(app.screen, ConfirmScreen)
        assert {str(line[0]) for line in app.screen.rows} == pending
        await press(pilot, "n")
        assert {r.status for r in workbench.mappings.company_rows()} >= {"suggested"}
        await press(pilot, "A", "y")
    rows = {r.company_name: r for r in workbench.mappings.company_rows()}
    assert all(rows[name].status == "mapped" for name in pending)
    assert not any(r.status == "suggested" for r in rows.values())


async def test_unmap_then_undo(app, workbench):
    before = company(workbench, "Keating Law Group")
    assert before.status == "mapped"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        await go_to(pilot, "Keating")
        await press(pilot, "u")
        assert company(workbench, "Keating Law Group").status != "mapped"
        await press(pilot, "z")
    after = company(workbench, "Keating Law Group")
    assert (after.status, after.client_id) == ("mapped", before.client_id)


async def test_delete_unmaps_and_ctrl_z_undoes(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        await go_to(pilot, "Keating")
        await press(pilot, "delete")
        assert company(workbench, "Keating Law Group").status != "mapped"
        await press(pilot, "ctrl+z")
    assert company(workbench, "Keating Law Group").status == "mapped"


async def test_ignore_a_company_carrying_money_asks_first(app, workbench):
    assert company(workbench, "Copper Kettle Bakery").monthly_value > 0
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        await press(pilot, "i")  # the first row: the unmapped Copper Kettle Bakery
        assert isinstance(app.screen, ConfirmScreen)
        assert "carries $" in str(app.screen.query_one("#confirm-question").content)
        await press(pilot, "n")
        assert company(workbench, "Copper Kettle Bakery").status == "unmapped"
        await press(pilot, "i", "y")
    assert company(workbench, "Copper Kettle Bakery").status == "ignored"


async def test_ignoring_a_product_with_no_money_is_at_once(app, workbench):
    idle = next(r for r in workbench.mappings.product_rows() if not r.monthly_value)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "3")
        await go_to(pilot, idle.name)
        await press(pilot, "i")
        assert not isinstance(app.screen, ConfirmScreen)
    assert product(workbench, idle.name).status == "ignored"


async def test_status_filter_and_sort_keep_the_store_as_it_was(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        await press(pilot, "f", "f")
        screen = app.screen
        assert screen.status_filter == "suggested"
        assert {row.status for row in screen.table.rows} == {"suggested"}
        await press(pilot, "o")
        assert screen.sort == "name"
        names = [row.company_name.casefold() for row in screen.table.rows]
        assert names == sorted(names)


async def test_map_an_unmapped_product_from_the_picker(app, workbench):
    assert product(workbench, "Power BI Pro").status == "unmapped"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "3")
        assert app.screen.table.current.name == "Power BI Pro"  # unmapped, most money first
        await press(pilot, "enter", *"power")
        shown_first = app.screen.query_one("#picker-choices").current
        await press(pilot, "enter")
    row = product(workbench, "Power BI Pro")
    assert (row.status, row.item_id) == ("mapped", shown_first.value)
    assert shown_first.value == workbench.mappings.item_choices("power")[0].item_id


async def test_a_per_client_override_then_its_removal(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "3")
        await go_to(pilot, "Microsoft 365 E3")
        await press(pilot, "c", *"riverbend", "enter")
        assert isinstance(app.screen, PickerScreen)  # now the item
        await press(pilot, *"e5", "enter")
        row = product(workbench, "Microsoft 365 E3")
        assert row.overrides == 1 and row.status == "mapped"
        overrides = workbench.mappings.product_overrides(row.product_id)
        assert [o.client_name for o in overrides] == ["Riverbend Wealth Advisors"]
        assert "E5" in overrides[0].item_name
        await press(pilot, "u", *"river", "enter")  # asks which mapping goes
    row = product(workbench, "Microsoft 365 E3")
    assert row.overrides == 0 and row.status == "mapped"


async def test_ignore_then_undo_a_product(app, workbench):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "3")
        await press(pilot, "i", "y")  # Power BI Pro carries money: asked first
        assert product(workbench, "Power BI Pro").status == "ignored"
        await press(pilot, "z")
    assert product(workbench, "Power BI Pro").status == "unmapped"


async def test_long_product_names_keep_the_part_that_tells_them_apart_at_80x24(app, workbench):
    """Issue 22: at 80 columns three rows read "Microsoft 365 Busine…"; a name too long for its
    cell now keeps its end, so Basic, Standard and Premium can be told apart."""
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "3")
        table = app.screen.table
        width = table.scrollable_content_region.width
        cells = []
        for position, row in enumerate(table.rows):
            if row.name.startswith("Microsoft 365 Business "):
                table.scroll_to(y=max(position - 1, 0), animate=False)
                await pilot.pause()
                y = position - round(table.scroll_y) + 1
                text = "".join(s.text for s in table.render_line(y))
                cells.append(text[: table._widths(width)[1] + 1])
        assert len(cells) == 3 and all("…" in cell for cell in cells)
        for word in ("Basic", "Standard", "Premium"):
            assert sum(word[:4] in cell for cell in cells) == 1, cells


async def test_a_candidate_below_the_threshold_shows_in_the_grid_with_its_evidence(app, workbench):
    """Issue 22: Duo Essentials read "unmapped —" while `trueup unmapped` named Duo MFA (84,
    below 90) with its evidence; the grid now shows it, dimmed, and the line under the grid
    says why."""
    row = product(workbench, "Duo Essentials")
    assert row.status == "unmapped" and row.candidates
    best = row.candidates[0]
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "3")
        await go_to(pilot, "duo essentials")
        table = app.screen.table
        y = table.cursor - round(table.scroll_y) + 1
        assert f"{best.item_name[:6]}" in "".join(s.text for s in table.render_line(y))
        detail = str(app.screen.query_one("#grid-detail").content)
        assert f"below the threshold: {best.item_name} ({best.score})" in detail
        assert best.reason in detail


async def test_a_product_carrying_other_currencies_says_so_in_the_grid_and_before_ignoring(
    app, workbench
):
    """Microsoft 365 E3's Monthly read $69,678.00 alone: its CAD and EUR subscriptions' money
    was on no line, nor in the question before ignoring it (what would then not be billed)."""
    row = product(workbench, "Microsoft 365 E3")
    assert row.currency == "USD" and set(row.other_values) == {"CAD", "EUR"}
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "3")
        await go_to(pilot, "Microsoft 365 E3")
        table = app.screen.table
        y = table.rows.index(table.current) - round(table.scroll_y) + 1
        assert "$69,678.00+" in "".join(s.text for s in table.render_line(y))
        detail = str(app.screen.query_one("#grid-detail").content)
        assert detail.splitlines()[0].startswith("mapped: M365 E3")
        assert "a month: $69,678.00 + C$1,490.46 + €198.72" in detail
        await press(pilot, "i")
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question").content)
        assert "carries $69,678.00 + C$1,490.46 + €198.72 a month" in question
        await press(pilot, "n")
    assert product(workbench, "Microsoft 365 E3").status == "mapped"


async def test_undo_brings_the_cursor_back_to_the_row_it_restored(app, workbench):
    """Unmapping row 37 moved the cursor on to the next row (the next to work on); `z` then
    moved it one row further again, onto a company neither change touched, so each undo walked
    the cursor down the list away from the row put back."""
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "2")
        table = app.screen.table
        await press(pilot, "pagedown", "pagedown", "down", "down")
        name = table.current.company_name
        assert table.cursor > 30 and table.current.status == "mapped"
        await press(pilot, "u")
        assert table.current.company_name != name
        await press(pilot, "z")
        assert company(workbench, name).status == "mapped"
        assert table.current.company_name == name
