"""A store with one damaged page, as a bad sector leaves it: for the doctor and the sync."""

import sqlite3


def damage_page_of(path, name):
    """Make the first page of table or index `name` unreadable to SQLite; its page number."""
    with sqlite3.connect(path) as conn:
        query = "SELECT rootpage FROM sqlite_master WHERE name = ?"
        (page,) = conn.execute(query, (name,)).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    with open(path, "r+b") as file:
        file.seek((page - 1) * size)
        file.write(b"\x0d\x00\x00\x00\xff\xff" + b"\xff" * 40)  # free space that is not there
    return page
