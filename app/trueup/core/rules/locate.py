"""Where each key of a rules file sits, so a problem can name its line.

tomllib gives values, not positions; this scan of the text finds the line of every table header
and `key = value`, keyed by the path of the key: ("clients", "14", "proration"), ("lines", 0,
"price"). Keys inside inline tables fall back to the line of their enclosing key.
"""

from __future__ import annotations

import json
import re

Path = tuple[str | int, ...]

_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")


class Locator:
    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        table: Path = ()
        arrays: dict[Path, int] = {}
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if line.count(in_string) % 2:
                    in_string = None
                continue
            stripped = line.lstrip()
            if stripped.startswith("[["):
                parsed = _dotted(stripped[2:])
                if parsed and parsed[1].startswith("]]"):
                    array = parsed[0]
                    index = arrays.get(array, 0)
                    arrays[array] = index + 1
                    table = (*array, index)
                    self._note(table, number)
            elif stripped.startswith("["):
                parsed = _dotted(stripped[1:])
                if parsed and parsed[1].startswith("]"):
                    table = parsed[0]
                    self._note(table, number)
            else:
                parsed = _dotted(stripped)
                if parsed and parsed[1].startswith("="):
                    self._note((*table, *parsed[0]), number)
                    for quotes in ('"""', "'''"):
                        if parsed[1].count(quotes) % 2:
                            in_string = quotes

    def _note(self, path: Path, number: int) -> None:
        for end in range(1, len(path) + 1):
            self._lines.setdefault(path[:end], number)

    def line(self, path: Path) -> int | None:
        """The line of the key, else of the nearest enclosing key or table that has one."""
        for end in range(len(path), 0, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None


def _dotted(text: str) -> tuple[tuple[str, ...], str] | None:
    """A dotted key at the start of `text` and the rest of the line, or None."""
    parts: list[str] = []
    rest = text
    while True:
        match = _PART.match(rest)
        if match is None or match.end() == 0:
            return None
        basic, literal, bare = match.groups()
        parts.append(_unescape(basic) if basic is not None else literal or bare or "")
        rest = rest[match.end() :]
        if not rest.startswith("."):
            return tuple(parts), rest
        rest = rest[1:]


def _unescape(basic: str) -> str:
    try:
        value = json.loads(f'"{basic}"')
    except ValueError:
        return basic
    return value if isinstance(value, str) else basic
