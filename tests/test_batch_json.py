"""The stored body's bytes: orjson must write exactly what `json.dumps` wrote before it, or
every batch stored by an earlier trueup would get a new fingerprint and every approval lapse."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from trueup.core.batch.body import (
    canonical_bytes,
    canonical_text,
    parsed_body,
    pretty_text,
    spliced,
)

# What a body holds: text (any character a client or product name may carry, control
# characters and U+2028 included), 64-bit integers, booleans and nulls, in lists and objects.
_TEXT = st.text(st.characters(exclude_categories=["Cs"]))
_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _TEXT
_BODIES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=30,
)


@given(_BODIES)
def test_canonical_text_is_what_json_dumps_wrote(body: Any) -> None:
    wrapped = {"body": body}
    expected = json.dumps(wrapped, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert canonical_text(wrapped) == expected
    assert parsed_body(canonical_text(wrapped)) == wrapped


@given(st.dictionaries(_TEXT, _BODIES, max_size=4), _TEXT, st.lists(_BODIES, max_size=4))
def test_a_list_spliced_in_encoded_gives_the_bytes_of_the_whole(head, key, items) -> None:
    """A batch's invoices are encoded one by one (in two processes) and spliced into the body."""
    head.pop(key, None)
    encoded = [canonical_bytes(item) for item in items]
    assert spliced(head, key, encoded).decode() == canonical_text(head | {key: items})


@given(_BODIES)
def test_pretty_text_is_what_json_dumps_wrote_indented(body: Any) -> None:
    wrapped = {"body": body}
    expected = json.dumps(wrapped, sort_keys=True, ensure_ascii=False, indent=2)
    assert pretty_text(wrapped) == expected


def test_control_characters_and_separators_are_escaped_alike() -> None:
    body = {"name": 'Smith & Co [b]"quoted"\\ \x00\x1f\x7f\u2028 é 🎉\b\f\t\n\r', "lines": []}
    assert canonical_text(body) == json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
