"""A SKU whose leading zeros a spreadsheet dropped: Excel opens a file's "0001" as the number 1
and saves it back as "1", so Partner Center's SkuId 0001 of CFQ7TTC0LH18 comes back as
CFQ7TTC0LH18:1, a product no mapping names. Its rows still import (they are the file's
charges), as a product of their own; the warning names them and the SKU they most likely are.

Known SKUs are the distributor's products the store holds or a mapping names, and the file's
own: a product is flagged when it is none of the stored ones and another differs from it only
by leading zeros in a part of digits (an id's parts split at ':').
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from trueup.core.values.text import some

_SHOWN_ROWS = 10  # a warning names this many rows, then how many more


def lost_zeros(product_rows: Mapping[str, Sequence[int]], stored: Iterable[str]) -> list[str]:
    """A warning for each product of the file (by id, with the rows that bill it) that is no
    stored product but is one of `stored` or of the file's with leading zeros dropped."""
    stored = set(stored)
    by_key: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for product in (*stored, *product_rows):
        by_key[_key(product)].add(product)
    warnings = []
    for product, rows in product_rows.items():
        if product in stored:
            continue
        padded = sorted(other for other in by_key[_key(product)] if _lost(product, other))
        if padded:
            said = " or ".join(_shown(p) for p in padded)
            warnings.append(
                f"{_rows(rows)}: SKU {_shown(product)} is none trueup knows, but {said} is: a "
                "spreadsheet drops an id's leading zeros when it opens a file. Imported as a "
                f"product of its own; import the file as downloaded to bill them as {said}"
            )
    return warnings


def _parts(product: str) -> list[str]:
    return product.split(":")


def _digits(part: str) -> bool:
    return part.isascii() and part.isdigit()


def _key(product: str) -> tuple[str, ...]:
    """The id with every part of digits read as its number: 0001 and 1 alike."""
    return tuple(p.lstrip("0") or "0" if _digits(p) else p for p in _parts(product))


def _lost(product: str, other: str) -> bool:
    """Whether `other` is `product` with leading zeros it lacks, in one part or more."""
    return other != product and all(
        mine == theirs or (_digits(mine) and _digits(theirs) and len(theirs) > len(mine))
        for mine, theirs in zip(_parts(product), _parts(other), strict=True)
    )


def _shown(product: str) -> str:
    return product.partition(":")[2]  # the file's own id, the distributor's tag aside


def _rows(rows: Sequence[int]) -> str:
    listed = some([str(row) for row in rows], _SHOWN_ROWS)
    return f"row {listed}" if len(rows) == 1 else f"rows {listed}"
