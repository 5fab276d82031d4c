"""Text from outside, made safe to show in a terminal."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence

# C0 controls, DEL, C1 controls, and the bidi marks, embeddings, overrides and isolates; and the
# format characters that draw nothing, so that "Con\u200btoso" would read as "Contoso": the soft
# hyphen, the Mongolian vowel separator, the zero width space, the joiners (below), the word
# joiner and invisible operators (U+2060-2064), the deprecated format characters (U+206A-206F),
# the BOM (U+FEFF) and the interlinear annotation marks (U+FFF9-FFFB).
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb]"
)
# A joiner (U+200C, U+200D) shapes its neighbours in emoji sequences (woman, ZWJ, laptop: one
# technologist), Persian and Indic scripts, where it sits between two non-ASCII letters, marks or
# symbols: there it is kept. Anywhere else (next to ASCII or a space, at either end) it draws
# nothing and only makes a name unlike one that looks the same, so it is written out.
_JOINERS = "\u200c\u200d"


def visible(text: str) -> str:
    """`text` with every control and invisible format character written out as its escape
    (`\\x1b`, `\\u202e`, `\\u200b`), so nothing an API or a file says can move the cursor, clear
    the screen, recolour a row, reorder what the operator reads or make two names look alike;
    the rest is kept as it is."""
    return written_out(text, _escape)


def written_out(text: str, instead: Callable[[str], str], *, keep: str = "") -> str:
    """`text` with each character `visible` escapes (those in `keep` aside) replaced by what
    `instead` makes of it: one definition of what is hidden, for terminals and for sheets."""
    return _CONTROL.sub(lambda found: _hidden(found, keep, instead), text)


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: a JSON string is one once every character `visible`
    escapes that JSON leaves as it is (DEL, C1, U+202E, U+200B) is escaped too. TOML refuses
    DEL written out, and the file may be shown on a terminal (`trueup config show`, a diff)."""
    written = json.dumps(text, ensure_ascii=False)
    return written_out(written, lambda character: f"\\u{ord(character):04x}")


def _hidden(found: re.Match[str], keep: str, instead: Callable[[str], str]) -> str:
    character = found[0]
    if character in keep or (character in _JOINERS and _joining(found.string, found.start())):
        return character
    return instead(character)


def _joining(text: str, at: int) -> bool:
    around = text[at - 1 : at + 2 : 2] if at else ""
    return len(around) == 2 and all(
        ord(c) > 0x7F and unicodedata.category(c)[0] in "LMS" for c in around
    )


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def capped(lines: Sequence[str], shown: int, total: int | None = None) -> list[str]:
    """The first `shown` of `lines` (of `total` in all, when only those were kept), then one
    `... and N more` line: a list of problems, which a wrong file makes by the thousand, that
    never floods a terminal. One way for every list a command prints."""
    more = (len(lines) if total is None else total) - min(shown, len(lines))
    return [*lines[:shown], f"... and {more:,} more"] if more > 0 else list(lines)


def some(names: Sequence[str], shown: int = 3, separator: str = ", ") -> str:
    """The first `shown` names and how many more: `a, b, c and 4 more`."""
    more = len(names) - shown
    return separator.join(names[:shown]) + (f" and {more} more" if more > 0 else "")
