"""Text from outside, made safe to show in a terminal."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

# C0 controls, DEL, C1 controls, and the bidi marks, embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every control character written out as its escape (`\\x1b`, `\\u202e`), so
    nothing an API or a file says can move the cursor, clear the screen, recolour a row or
    reorder what the operator reads; the rest is kept as it is."""
    return _CONTROL.sub(_escape, text)


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: a JSON string is one once every control character and bidi
    mark JSON leaves as it is (DEL, C1, U+202E) is escaped too. TOML refuses DEL written out,
    and the file may be shown on a terminal (`trueup config show`, a diff)."""
    written = json.dumps(text, ensure_ascii=False)
    return _CONTROL.sub(lambda found: f"\\u{ord(found[0]):04x}", written)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def some(names: Sequence[str], shown: int = 3, separator: str = ", ") -> str:
    """The first `shown` names and how many more: `a, b, c and 4 more`."""
    more = len(names) - shown
    return separator.join(names[:shown]) + (f" and {more} more" if more > 0 else "")
