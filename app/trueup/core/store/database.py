"""Opening the local SQLite file: pragmas, permissions, schema version (migrations.py brings an
older store up to it) and clear errors."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import SQLModel

from trueup.core.errors import TrueupError
from trueup.core.store import soundness
from trueup.core.store.backup import backup_database, free_space, restore_hint
from trueup.core.store.migrations import MIGRATIONS, SCHEMA_VERSION

APP_MARKER = "trueup"
# The write-ahead log grows to hold the largest transaction (a sync's apply) and, unless told,
# keeps that size for good: past this it is cut back each time it restarts after a checkpoint.
WAL_LIMIT = 64 * 1024 * 1024
BUSY_TIMEOUT_MS = 15000  # how long a write waits for another's lock before it says busy
EMPTY_LOG_WAIT = 0.5  # seconds empty_log waits for readers: it is never worth a frozen screen


class StoreError(TrueupError):
    """The local file cannot be used; the message says why and what to do."""


class Database:
    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, taking SQLite's write lock up front (BEGIN IMMEDIATE)."""
        with _store_errors(self.path), self.engine.connect() as conn:
            conn = conn.execution_options(begin_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: a consistent snapshot that never blocks the writer (WAL)."""
        with _store_errors(self.path), self.engine.connect() as conn, conn.begin():
            yield conn

    def empty_log(self) -> bool:
        """Fold the write-ahead log into the store and cut it to nothing, outside any
        transaction: once a stopped sync's staging is dropped, what it held is space no one
        needs, perhaps on a disk it filled. A reader on an older snapshot (the workbench) holds
        the log: then this waits at most EMPTY_LOG_WAIT and leaves it to a later checkpoint.
        Whether it was emptied."""
        with _store_errors(self.path), self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute(f"PRAGMA busy_timeout = {int(EMPTY_LOG_WAIT * 1000)}")
            try:
                busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return not busy

    def damage(self) -> str | None:
        """The first problem SQLite's quick check finds in the file (store/soundness.py), or
        None: for a command about to write into it, which would only make it worse."""
        with _store_errors(self.path), self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            try:
                return soundness.damage(raw)
            except sqlite3.OperationalError as exc:  # raw sqlite3: said as SQLAlchemy's are
                raise StoreError(_describe(self.path, exc)) from None

    def read_only(self, *, check_same_thread: bool = True) -> sqlite3.Connection:
        """A raw connection of its own that cannot write: for copying or watching the store."""
        return connect_read_only(self.path, check_same_thread=check_same_thread)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(path: Path) -> Database:
    """Open (creating if needed) the store at `path`, migrating an older schema."""
    path = path.expanduser()
    _prepare_file(path)
    version = _identify(path)
    # The path as the database, never parsed out of a URL: '?', '#' and '%' are a folder's.
    engine = create_engine(URL.create("sqlite", database=str(path)), connect_args={"timeout": 15})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    database = Database(path, engine)
    try:
        _create_or_migrate(database, version)
    except BaseException:
        engine.dispose()
        raise
    for suffix in ("", "-wal", "-shm"):
        sidecar = Path(f"{path}{suffix}")
        if sidecar.exists():
            sidecar.chmod(0o600)
    return database


def connect_read_only(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A raw connection that cannot write to the file at `path`. As a URI, escaped: a bare
    "file:Billing #2/trueup.sqlite?mode=ro" opens (creating it) the file "Billing ", read-write."""
    uri = f"{path.absolute().as_uri()}?mode=ro"
    return sqlite3.connect(uri, uri=True, check_same_thread=check_same_thread)


def _prepare_file(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a directory; give --db a file name")
    if path.exists() and not path.is_file():  # /dev/null, a pipe: SQLite says "disk I/O error"
        raise StoreError(f"{path} is not a regular file; give --db a file name")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            # Create it 0600 before SQLite does, so no other user can ever read it.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except PermissionError:
        raise StoreError(
            f"cannot create {path}: permission denied; "
            "choose a writable place with --db or TRUEUP_DB"
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise StoreError(
            f"{path} is read-only (SQLite also needs to write beside it, in {path.parent}); "
            "fix the permissions or choose another file with --db"
        )


def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
    cursor = dbapi_conn.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        f"journal_size_limit={WAL_LIMIT}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("begin_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _identify(path: Path) -> int | None:
    """The schema version of an existing trueup store, None for a new file.

    Read-only, before any pragma: a file that is not ours must be left byte for byte as it was.
    """
    if path.stat().st_size == 0:
        return None
    try:
        with closing(connect_read_only(path)) as conn:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            meta = (
                dict(conn.execute("SELECT key, value FROM schema_meta").fetchall())
                if "schema_meta" in tables
                else {}
            )
    except sqlite3.DatabaseError as exc:
        raise StoreError(_describe(path, exc)) from None
    if not tables:
        return None
    if meta.get("app") != APP_MARKER:
        raise StoreError(
            f"{path} is a SQLite file of another application, not a trueup store; "
            "choose another file with --db"
        )
    version = int(meta.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer trueup (schema {version}, this one "
            f"knows {SCHEMA_VERSION}); upgrade trueup"
        )
    return version


def _create_or_migrate(database: Database, version: int | None) -> None:
    if version == SCHEMA_VERSION:
        # Nothing to write: no write lock taken, so a command that only reads never waits for
        # another's write (a sync's apply) and never fails "busy" for it.
        return
    if version is not None and version < SCHEMA_VERSION:
        # Migrations rewrite stored data in place (15: impossible numbers to nothing, 17: text
        # written out): the store as it was is kept first, as before a post.
        backup_database(
            database, f"before-schema-{SCHEMA_VERSION}", before="upgrading the store's schema"
        )
    with database.write() as conn:
        # Read again under the lock: another process may have created or migrated it since.
        version = _version_in(conn)
        if version is None:
            SQLModel.metadata.create_all(conn)
            _set_meta(conn, "app", APP_MARKER)
            _set_meta(conn, "schema_version", str(SCHEMA_VERSION))
            return
        for step in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](conn)
            _set_meta(conn, "schema_version", str(step))


def _version_in(conn: Connection) -> int | None:
    if not conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'schema_meta'").all():
        return None
    found = conn.execute(text("SELECT value FROM schema_meta WHERE key = 'schema_version'"))
    return int(found.scalar_one_or_none() or "0")


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        text(
            "INSERT INTO schema_meta(key, value) VALUES (:k, :v) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        ),
        {"k": key, "v": value},
    )


@contextmanager
def _store_errors(path: Path) -> Iterator[None]:
    """Turn SQLite's failures into one line naming the file and the way out."""
    try:
        yield
    except OperationalError as exc:
        raise StoreError(_describe(path, exc.orig)) from exc
    except DatabaseError as exc:
        raise StoreError(_describe(path, exc.orig)) from exc


def _describe(path: Path, error: Any) -> str:
    message = str(error)
    if "not a database" in message or "malformed" in message:
        return (
            f"{path} is not a usable SQLite database (damaged, or another format): `trueup "
            f"doctor` examines it; {restore_hint(path)}, or choose another file with --db"
        )
    if "readonly" in message or "read-only" in message:
        return f"{path} is read-only; fix its permissions or choose another file with --db"
    if "locked" in message or "busy" in message:
        return f"{path} is busy: another trueup is writing to it; try again when it finishes"
    if "unable to open" in message:
        return f"cannot open {path}: check that its folder exists and is writable"
    if "disk is full" in message:
        return (
            f"{path}: the disk is full ({_free(path)} free where the store lives); the step "
            "that failed wrote nothing, and what was stored before is kept: free some space "
            f"and run it again{_log_size(path)}"
        )
    return f"{path}: {message}"


def _log_size(path: Path) -> str:
    """What the write-ahead log holds: on a full disk SQLite can neither fold it into the store
    nor cut it (both write)."""
    try:
        size = Path(f"{path}-wal").stat().st_size
    except OSError:
        return ""
    return f" (its write-ahead log holds {size / 1e6:,.1f} MB)" if size else ""


def _free(path: Path) -> str:
    return free_space(path.expanduser().resolve().parent)
