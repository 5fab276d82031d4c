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

    def lead(self):
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


async def test_a_figure_wider_than_its_column_shows_whole_and_the_columns_stay_aligned():
    """A right-aligned figure was cut to its column: "$217,286,956.74" read "$217,286,95…"."""
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows([("small", "a", 5), ("big", "b", 217_286_956_74), ("x" * 30, "c", 7)])
        await pilot.pause()
        assert line(table, 2).endswith("21728695674")
        # Every line on screen ends its figure at the same column, the header's too.
        assert len({len(line(table, y)) for y in range(4)}) == 1
        assert line(table, 3).startswith("xxx") and "…" in line(table, 3)  # the name gave way


async def test_a_heading_keeps_its_figures_and_cuts_its_name():
    class Client(Heading):
        def lead(self):
            return Text("A client with a name far too long for the table at forty columns")

        def tail(self):
            return Text("  -$1,117.98 a month")

    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows([Client(), *rows(2)])
        await pilot.pause()
        shown = line(table, 1)
        assert shown.startswith("A client") and "…" in shown
        assert shown.endswith("-$1,117.98 a month")
