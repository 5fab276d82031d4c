"""An invoice item's id for a charge read from a file: its invoice's id and a digest of its
row, so the same charge keeps its id wherever it stands in a download (and a re-download of
the invoice changes nothing). Two identical rows of one invoice (two equal adds on one day) are
told apart by their order, `:2` and on."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping


class ItemIds:
    def __init__(self) -> None:
        self._seen: Counter[tuple[str, str]] = Counter()

    def next(self, invoice_id: str, cells: Mapping[str, str]) -> str:
        """The id of the next charge of `invoice_id`, whose row is `cells` (field -> text)."""
        digest = _digest(cells)
        self._seen[(invoice_id, digest)] += 1
        nth = self._seen[(invoice_id, digest)]
        return f"{invoice_id}:{digest}" + (f":{nth}" if nth > 1 else "")


def _digest(cells: Mapping[str, str]) -> str:
    text = json.dumps(sorted(cells.items()), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
