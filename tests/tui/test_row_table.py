"""The virtual table: literal cells, headings the cursor passes over, paging, narrow widths."""

from rich.text import Text
from textual.app import App, ComposeResult

from trueup.tui.widgets.row_table import Column, Heading, RowTable

COLUMNS = [
    Column("Name", 10, flex=True),
    Column("Code", 12, hide_below=60),
    Column("N", 4, "right"),
]


class Group(Heading):
    def __init__(self, name):
        self.name = name

    def text(self):
        return Text(self.name)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RowTable(COLUMNS, lambda row: (Text(row[0]), Text(row[1]), Text(str(row[2]))))


def line(table, y):
    return "".join(segment.text for segment in table.render_line(y)).rstrip()


def rows(count):
    return [(f"name {n}", f"code-{n}", n) for n in range(count)]


async def test_cells_are_literal_and_narrow_tables_leave_columns_out():
    app = TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows([("Acme [bold]Corp[/]", "[red]x", 1)])
        await pilot.pause()
        assert line(table, 0).split() == ["Name", "Code", "N"]
        assert "Acme [bold]Corp[/]" in line(table, 1) and "[red]x" in line(table, 1)
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert line(table, 0).split() == ["Name", "N"]


async def test_the_cursor_passes_over_headings_and_pages_by_the_screenful():
    app = TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(RowTable)
        table.focus()
        table.set_rows([Group("group A"), *rows(3), Group("group B"), *rows(500)])
        await pilot.pause()
        assert table.cursor == 1 and table.row_count == 503
        await pilot.press("down", "down", "down")
        assert table.current == rows(500)[0]  # the heading was skipped
        await pilot.press("pagedown")
        assert table.current == rows(500)[table.size.height - 2]
        await pilot.press("end")
        assert table.current == rows(500)[-1]
        assert line(table, table.size.height - 1).startswith("name 499")
        assert table.border_subtitle == "503 of 503"


async def test_new_rows_keep_the_cursor_on_the_same_row():
    app = TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(rows(50), key=lambda row: row[0])
        await pilot.press("pagedown")
        kept = table.current
        table.set_rows(list(reversed(rows(50))), key=lambda row: row[0])
        assert table.current == kept
        table.set_rows([], key=lambda row: row[0])
        await pilot.pause()
        assert table.current is None and "Nothing to show." in line(table, 1)
