"""JSON in the store's text columns: Decimal numbers kept exact both ways."""

from __future__ import annotations

from typing import Any

import simplejson


def dump_json(value: Any) -> str:
    """Compact JSON keeping Decimal numbers exact (the stdlib would need floats)."""
    return str(simplejson.dumps(value, use_decimal=True, separators=(",", ":"), ensure_ascii=False))


def load_json(text: str) -> Any:
    return simplejson.loads(text, use_decimal=True)
