"""A store that cannot grow, as on a full disk: SQLite's max_page_count fails a write that needs
more pages with "database or disk is full", as a full disk does."""

import sqlite3
from contextlib import closing

from sqlalchemy import event


def cap_store(db, spare_pages: int = 5) -> None:
    """From now on `db` (disposed first, then compacted: no free pages left to reuse) may grow by
    `spare_pages` pages at most."""
    db.dispose()
    with closing(sqlite3.connect(db.path)) as raw:
        raw.execute("VACUUM")
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
    event.listen(
        db.engine,
        "connect",
        lambda connection, _: connection.execute(f"PRAGMA max_page_count = {pages + spare_pages}"),
    )
