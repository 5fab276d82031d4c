"""A virtual table: only the rows on screen are ever formatted or rendered.

DataTable measures every cell it is given, which froze the UI for seconds at 40k rows
(textual-style §2); this view costs the same for 40 rows or 40,000, so filters and paging are
instant. Cells are `rich.text.Text`, so data is never read as markup.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

RowT = TypeVar("RowT")
FLEX_LEAST = 8  # the narrowest a name column gets so that a wide figure shows whole


@dataclass(frozen=True)
class Column:
    label: str
    width: int  # the fixed width, or the least a flex column gets
    justify: str = "left"  # left | right
    flex: bool = False  # flex columns share what the fixed ones leave
    hide_below: int = 0  # left out when the table is narrower than this
    # A name too long for its cell keeps its start and its end ("Micros…Premium"): product
    # names share long starts ("Microsoft 365 Business …") and differ at the end.
    keep_end: bool = False


class Heading:
    """A full-width group line (the client above its products); the cursor passes over it.

    Subclasses say what it reads: `lead` (a name), cut to fit, and `tail` (its figures), never
    cut; only headings on screen are ever asked."""

    def lead(self) -> Text:
        raise NotImplementedError

    def tail(self) -> Text:
        return Text()

    def text(self) -> Text:
        text = self.lead()
        text.append_text(self.tail())
        return text

    def fitted(self, width: int) -> Text:
        """The line in `width` cells: a long name gives way to the figures after it."""
        lead, tail = self.lead(), self.tail()
        room = max(width - tail.cell_len, 0)
        if lead.cell_len > room:
            lead = _squeezed(lead, room)
            lead.truncate(room, overflow="ellipsis")
        lead.append_text(tail)
        return lead


class RowTable(ScrollView, Generic[RowT], can_focus=True):
    """Rows of any type, turned into cells by `cells(row)` only when they are drawn."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-table--header",
        "row-table--heading",
        "row-table--cursor",
        "row-table--empty",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home", "first", "First", show=False, id="table.first"),
        Binding("end", "last", "Last", show=False, id="table.last"),
    ]
    DEFAULT_CSS = """
    RowTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
    }
    RowTable > .row-table--header { text-style: bold; color: $text-accent; }
    RowTable > .row-table--heading { text-style: bold; background: $boost; }
    RowTable > .row-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
    }
    RowTable:focus > .row-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    RowTable > .row-table--empty { color: $text-muted; text-style: italic; }
    """

    cursor: reactive[int] = reactive(-1, init=False, always_update=True)

    def __init__(
        self,
        columns: Sequence[Column],
        cells: Callable[[RowT], Sequence[Text]],
        *,
        empty: str = "Nothing to show.",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self._cells = cells
        self.empty_text = empty
        self._rows: Sequence[RowT | Heading] = []
        self._selectable: list[int] = []  # indices of rows the cursor may rest on
        self._lines: LRUCache[tuple[int, int, bool], Strip] = LRUCache(256)
        self._version = 0  # counts set_rows: the widths on screen are worked out again
        self._window_key: tuple[int, int, int] | None = None
        self._window: list[int] = []

    # --- data -----------------------------------------------------------------------------

    @property
    def rows(self) -> Sequence[RowT | Heading]:
        return self._rows

    @property
    def row_count(self) -> int:
        """Rows the cursor can reach (headings not counted)."""
        return len(self._selectable)

    @property
    def current(self) -> RowT | None:
        if 0 <= self.cursor < len(self._rows):
            row = self._rows[self.cursor]
            return None if isinstance(row, Heading) else row
        return None

    def set_rows(
        self,
        rows: Sequence[RowT | Heading],
        *,
        key: Callable[[RowT], Hashable] | None = None,
    ) -> None:
        """Replace every row; with `key`, the cursor stays on the same row when it still shows."""
        previous = self.current
        position = self._position(self.cursor)
        self._rows = rows
        self._selectable = [i for i, row in enumerate(rows) if not isinstance(row, Heading)]
        self._lines.clear()
        self._version += 1
        target: int | None = None
        if key is not None and previous is not None:
            wanted = key(previous)
            target = next((i for i in self._selectable if key(rows[i]) == wanted), None)  # type: ignore[arg-type]
        if target is None and self._selectable:
            # The row is gone (filtered out, say): stay at the same place in the list.
            target = self._selectable[min(position, len(self._selectable) - 1)]
        self._update_virtual_size()
        self.cursor = -1 if target is None else target
        self.refresh()

    # --- cursor ----------------------------------------------------------------------------

    def _position(self, index: int) -> int:
        """Where `index` sits among the selectable rows (the next one if it is a heading)."""
        return bisect_left(self._selectable, index)

    def _step(self, rows: int) -> None:
        if not self._selectable:
            return
        position = self._position(self.cursor) + rows
        self.cursor = self._selectable[max(0, min(position, len(self._selectable) - 1))]

    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(1)

    def action_page_up(self) -> None:
        self._step(-max(self._body_height - 1, 1))

    def action_page_down(self) -> None:
        self._step(max(self._body_height - 1, 1))

    def action_first(self) -> None:
        self._step(-len(self._selectable))

    def action_last(self) -> None:
        self._step(len(self._selectable))

    def watch_cursor(self, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        total = len(self._selectable)
        self.border_subtitle = f"{self._position(new) + 1:,} of {total:,}" if total else "0 rows"

    @property
    def _body_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)  # less the header line

    def _scroll_to_cursor(self) -> None:
        if self.cursor < 0:
            return
        top = round(self.scroll_y)
        # Show the heading above the first row of a group along with it.
        first = self.cursor - 1 if isinstance(self._rows[self.cursor - 1], Heading) else self.cursor
        if first < top or self.cursor < top:
            self.scroll_to(y=max(first, 0), animate=False, immediate=True)
        elif self.cursor >= top + self._body_height:
            self.scroll_to(y=self.cursor - self._body_height + 1, animate=False, immediate=True)

    # --- rendering -------------------------------------------------------------------------

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width
        self.virtual_size = Size(width, max(len(self._rows), 1) + 1)  # the header, a line at least

    def on_resize(self) -> None:
        self._lines.clear()
        self._update_virtual_size()
        self._scroll_to_cursor()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

    def on_focus(self) -> None:
        self._lines.clear()

    def on_blur(self) -> None:
        self._lines.clear()

    def _widths(self, width: int, figures: Sequence[int] = ()) -> list[int]:
        """Each column's width at this table width; 0 for a column left out. `figures`: the
        widest cell of each column; a right-aligned one (figures) widens to it, and the flex
        columns give way, down to FLEX_LEAST."""
        shown = [width >= c.hide_below for c in self.columns]
        wants = [
            max([c.width, *figures[i : i + 1]]) if c.justify == "right" else c.width
            for i, c in enumerate(self.columns)
        ]
        fixed = sum(
            w for c, w, s in zip(self.columns, wants, shown, strict=True) if s and not c.flex
        )
        flex = sum(c.flex for c, s in zip(self.columns, shown, strict=True) if s)
        share = max(width - fixed - sum(shown) + 1, 0) // max(flex, 1)
        grown = wants != [c.width for c in self.columns]
        widths = []
        for column, want, show in zip(self.columns, wants, shown, strict=True):
            if not show:
                widths.append(0)
            elif column.flex:
                least = min(column.width, FLEX_LEAST) if grown else column.width
                widths.append(max(least, share))
            else:
                widths.append(want)
        return widths

    def _window_widths(self, width: int) -> list[int]:
        """The widths for the rows on screen: a figure is never cut ("$217,286,95…" read as
        $217,286.95), so its column takes the width of the widest one shown."""
        top = round(self.scroll_y)
        key = (top, width, self._version)
        if key != self._window_key:
            on_screen = [
                self._cells(row)
                for row in self._rows[top : top + self._body_height]
                if not isinstance(row, Heading)
            ]
            figures = [
                max((cells[i].cell_len for cells in on_screen if i < len(cells)), default=0)
                for i in range(len(self.columns))
            ]
            widths = self._widths(width, figures)
            if widths != self._window:
                self._lines.clear()
            self._window_key, self._window = key, widths
        return self._window

    def _join(self, cells: Sequence[Text], width: int, base: Style) -> Text:
        line = Text(style=base, no_wrap=True, end="")
        first = True
        widths = self._window_widths(width)
        for column, cell_width, cell in zip(self.columns, widths, cells, strict=False):
            if not cell_width:
                continue
            if not first:
                line.append(" ")
            first = False
            fitted = _squeezed(cell, cell_width) if column.keep_end else cell.copy()
            fitted.truncate(cell_width, overflow="ellipsis")
            fitted.align(column.justify, cell_width)  # type: ignore[arg-type]
            line.append_text(fitted)
        return line

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = [Text(c.label) for c in self.columns]
            style = base + self.get_component_rich_style("row-table--header")
            return self._strip(self._join(header, width, style), width, base)
        index = round(self.scroll_y) + y - 1
        if not self._rows:  # the empty text, wrapped: it may say what to do next
            style = base + self.get_component_rich_style("row-table--empty")
            said = Text(f" {self.empty_text}", style=style).wrap(self.app.console, width)
            if 0 < y <= len(said):
                return self._strip(said[y - 1], width, base)
            return Strip.blank(width, base)
        if index >= len(self._rows):
            return Strip.blank(width, base)
        cached = self._lines.get((index, width, index == self.cursor))
        if cached is not None:
            return cached
        row = self._rows[index]
        if isinstance(row, Heading):
            style = base + self.get_component_rich_style("row-table--heading")
            text = Text(style=style, no_wrap=True, end="")
            text.append_text(row.fitted(width))
            strip = self._strip(text, width, style)
        else:
            text = self._join(self._cells(row), width, base)
            if index == self.cursor:
                text.stylize(self.get_component_rich_style("row-table--cursor"))
            strip = self._strip(text, width, base)
        self._lines[(index, width, index == self.cursor)] = strip
        return strip

    def _strip(self, text: Text, width: int, fill: Style) -> Strip:
        text.truncate(width, overflow="ellipsis", pad=True)
        console = self.app.console
        # Text.render drops the text's own style when no span styles it: apply it to every
        # segment, or header styles vanish and NO_COLOR's filter meets unstyled segments.
        segments = Segment.apply_style(text.render(console), console.get_style(text.style))
        return Strip(segments, width).crop_extend(0, width, fill)


def _squeezed(cell: Text, width: int) -> Text:
    """The cell's start and end around an ellipsis when it is wider than `width`, counted in
    cells: a wide character (CJK, emoji) takes two, a combining mark none, so that its end
    still shows ("株式会社…Premium") where counting characters overfilled the cell and the
    cut that followed took the end away ("株式会社テスト…H…")."""
    if cell.cell_len <= width or width < 5:
        return cell.copy()
    text = cell.plain
    head = _fitting(text, max(width // 2 - 1, 1))
    room = width - cell_len(text[:head]) - 1
    tail = len(text) - _fitting(text[::-1], room)
    while tail < len(text) and not cell_len(text[tail]):  # a mark whose letter was cut
        tail += 1
    squeezed = cell[:head]
    squeezed.append("…")
    squeezed.append_text(cell[tail:])
    return squeezed


def _fitting(text: str, cells: int) -> int:
    """How many of `text`'s first characters fit in `cells` cells (as Rich counts a string's
    cells: an emoji sequence joined by U+200D is one wide character)."""
    return bisect_right(range(1, len(text) + 1), cells, key=lambda n: cell_len(text[:n]))
