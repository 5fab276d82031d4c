"""Which QuickBooks company the stored lists (and the mappings made from them) are of.

QuickBooks numbers customers and items 1, 2, 3 in every company, so a mapping made from one
company's lists names another customer, silently, in the next: the company trying trueup on
Intuit's sandbox, then the real one. The realm id of the last refresh is kept in schema_meta
(no table of its own: one value); a refresh of another company, and a post to one, are refused
while the store holds mappings made from this one's lists.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from trueup.core.store import tables as m

_KEY = "qbo_realm"
QBO_MAPPINGS = (m.QboCustomerMapping, m.QboItemMapping, m.QboTaxCodeMapping)


def stored_realm(conn: Connection) -> str | None:
    """The QuickBooks company whose lists the store holds; None before the first refresh (and
    in a store refreshed before it was kept)."""
    found = conn.execute(text("SELECT value FROM schema_meta WHERE key = :k"), {"k": _KEY})
    return found.scalar()


def keep_realm(conn: Connection, realm: str) -> None:
    conn.execute(
        text(
            "INSERT INTO schema_meta(key, value) VALUES (:k, :v) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        ),
        {"k": _KEY, "v": realm},
    )


def qbo_mapped(conn: Connection) -> int:
    """How many QuickBooks mappings (customers, items, tax codes) the store holds."""
    return sum(
        int(conn.exec_driver_sql(f"SELECT count(*) FROM {m.table_of(t)}").scalar_one())
        for t in QBO_MAPPINGS
    )


def other_company(stored: str, now: str) -> str:
    """Why lists or mappings of company `stored` are not used with company `now`."""
    return (
        f"the QuickBooks mappings in the store were made from company {stored}'s lists, and "
        f"trueup is connected to company {now}, whose customers and items number their own "
        f"(1, 2, 3 in every company): a mapping would name another customer there. If the "
        f"company changed for good, `trueup qbo refresh --new-company` reads {now}'s lists and "
        f"forgets {stored}'s mappings (map again after); else `trueup connect qbo --realm "
        f"{stored}`"
    )
