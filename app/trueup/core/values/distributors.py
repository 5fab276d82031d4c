"""The distributors whose records the store holds, and how their ids are kept apart.

Pax8 is synced over its API; the others arrive as files (`trueup import`). All of them land in
the same tables (store/tables.py, the `distributor` column), so mapping, the seat diff and the
batch read every distributor's records unchanged. A record from a file gets an id prefixed with
its distributor's tag (`pc:` + a Partner Center tenant GUID): Pax8's ids are bare GUIDs, so the
two can never collide, and anything that holds only an id (a mapping, a batch line, an
explanation) can still tell whose record it names.
"""

from __future__ import annotations

PAX8 = "pax8"
PARTNER_CENTER = "partner-center"
ION = "ion"
INGRAM = "ingram"
SHERWEB = "sherweb"

# The distributors `trueup import --source` names, in the contract's order.
FILE_SOURCES = (PARTNER_CENTER, ION, INGRAM, SHERWEB)

NAMES = {
    PAX8: "Pax8",
    PARTNER_CENTER: "Partner Center",
    ION: "TD SYNNEX StreamOne Ion",
    INGRAM: "Ingram Micro Cloud Marketplace",
    SHERWEB: "Sherweb",
}

# The id prefix of each file source's records.
PREFIXES = {PARTNER_CENTER: "pc:", ION: "ion:", INGRAM: "im:", SHERWEB: "sw:"}


def namespaced(distributor: str, *parts: str) -> str:
    """The store's id of a file source's record: its prefix and the file's id parts."""
    return PREFIXES[distributor] + ":".join(parts)


_BY_PREFIX = {prefix: distributor for distributor, prefix in PREFIXES.items()}


def distributor_of(record_id: str | None) -> str:
    """Whose record an id names: the file source whose prefix it carries, else Pax8."""
    # Every prefix is a tag and a colon: one split, not a test per prefix (a batch asks ~90,000
    # times).
    tag, colon, _ = (record_id or "").partition(":")
    return _BY_PREFIX.get(tag + colon, PAX8) if colon else PAX8


def distributor_name(record_id: str | None) -> str:
    """`Pax8`, `Partner Center`: the distributor of a record, as messages name it."""
    return NAMES[distributor_of(record_id)]
