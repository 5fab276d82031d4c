"""Rows of one file that contradict one another: a subscription under two customers, an invoice
in two currencies. Each row is right alone; only the whole file shows it, so the later row is
refused naming the earlier one."""

from __future__ import annotations

from trueup.core.sources.files.problems import Problems


def agree(
    problems: Problems,
    seen: dict[str, tuple[str, int]],
    row: int,
    owner: str,
    key: str,
    what: str,
    value: str,
) -> None:
    """Add a problem when `owner` `key` already had another `what` than `value` (`seen` keeps
    the first row that said it)."""
    first = seen.setdefault(key, (value, row))
    if first[0] != value:
        problems.add(
            row, None, f"{owner} {key} has {what} {value}, and {first[0]} in row {first[1]}"
        )
