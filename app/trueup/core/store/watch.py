"""Noticing that another process (a `trueup` command, a timer's sync) changed the store.

SQLite's `PRAGMA data_version` changes, on one connection, whenever any other connection commits
to the database. A watcher holds one read-only connection of its own, so every commit to the
store, from this process or another, moves it: the workbench asks on a timer and reloads what it
shows instead of going on with data the CLI has since replaced.
"""

from __future__ import annotations

import threading
from contextlib import closing

from trueup.core.store.database import Database


class StoreWatcher:
    def __init__(self, db: Database) -> None:
        self._connection = db.read_only(check_same_thread=False)
        self._lock = threading.Lock()
        self._seen = self._version()

    def _version(self) -> int:
        with self._lock, closing(self._connection.execute("PRAGMA data_version")) as cursor:
            return int(cursor.fetchone()[0])

    def changed(self) -> bool:
        """Whether the store was committed to since the last call (or `seen`)."""
        version = self._version()
        if version == self._seen:
            return False
        self._seen = version
        return True

    def seen(self) -> None:
        """Count what is committed now as seen (after this process's own reload)."""
        self._seen = self._version()

    def close(self) -> None:
        with self._lock:
            self._connection.close()
