"""Whether SQLite finds a store damaged, in one line.

SQLite does not notice every damaged page when it writes, so a sync could go on adding to a
corrupt file (on one, Halo's answer was applied while Pax8's failed "malformed"). `trueup sync`
therefore runs `PRAGMA quick_check` before writing: it reads every page once, as
`integrity_check` (the doctor's) does, but skips matching each index against its table: a
fraction of a second next to a sync of minutes (bench/README.md, "A store's soundness before
a sync").
"""

from __future__ import annotations

import sqlite3

QUICK = "quick_check"
FULL = "integrity_check"


def damage(conn: sqlite3.Connection, check: str = QUICK) -> str | None:
    """The first problem SQLite's `check` (QUICK or FULL) reports, or None when it says ok.
    sqlite3.OperationalError (locked, I/O) when the file could not be checked."""
    verdict: list[str] = []
    try:
        verdict.extend(str(row[0]) for row in conn.execute(f"PRAGMA {check}"))
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError as exc:  # damage that stops the check itself
        verdict.append(str(exc))
    if verdict == ["ok"]:
        return None
    # Its first line is "*** in database main ***", which says nothing to a reader.
    lines = [line for row in verdict for line in row.splitlines() if not line.startswith("***")]
    return lines[0] if lines else "damaged"
