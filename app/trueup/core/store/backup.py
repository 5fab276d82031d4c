"""Backups of the store: taken before every posting run, so a bad day can be undone.

Copies go through SQLite's online backup API, which reads a consistent snapshot even while
another connection writes (a `cp` of a WAL database can copy half a transaction). Each copy is
a standalone file (rollback journal, no -wal beside it), 0600 in a 0700 folder. A copy SQLite's
quick check finds damaged is not kept: the store it copies is damaged, and posting waits.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trueup.core.errors import TrueupError
from trueup.core.store import soundness

if TYPE_CHECKING:
    from trueup.core.store.database import Database

DEFAULT_KEEP = 20


class BackupError(TrueupError):
    """No backup could be written; the message says why and what to do."""


_STAMP = "%Y%m%dT%H%M%SZ"


def backups_dir(db_path: Path) -> Path:
    """Backups sit beside the database they copy, so a store given with --db keeps its own."""
    return db_path.expanduser().parent / "backups"


def backup_database(
    db: Database, reason: str, *, keep: int = DEFAULT_KEEP, before: str = "posting"
) -> Path:
    """Copy the store to backups/<stem>-<UTC stamp>-<reason>.sqlite; keep the newest `keep`.
    BackupError, saying why, when no copy could be written (the store is left as it was, and
    what it comes `before` does not start)."""
    folder = backups_dir(db.path)
    try:
        target = _copy(db, folder, reason)
    except _Damaged as damaged:
        # A copy of a damaged store would be named as the way back, and push out sound ones.
        raise BackupError(
            f"{db.path} is damaged (SQLite found: {damaged}), so no backup was taken and "
            f"{before} did not start: `trueup doctor` examines it; {restore_hint(db.path)}"
        ) from None
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(_unwritten(db.path, folder, exc, before)) from None
    _prune(db.path, keep)
    return target


def _copy(db: Database, folder: Path, reason: str) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    target = _free_name(folder, db.path.stem, datetime.now(UTC).strftime(_STAMP), _slug(reason))
    partial = target.with_name(target.name + ".partial")  # never mistaken for a backup
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    try:
        with (
            closing(db.read_only()) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)
            problem = soundness.damage(copy)  # the backup API copies pages as they are
            if problem is not None:
                raise _Damaged(problem)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        partial.chmod(0o600)
        os.replace(partial, target)
    finally:  # a failed copy (a full disk, say) leaves neither it nor its journal behind
        partial.unlink(missing_ok=True)
        partial.with_name(partial.name + "-journal").unlink(missing_ok=True)
    return target


class _Damaged(Exception):
    """The copy SQLite finds damaged; str() is its first problem."""


def _unwritten(db_path: Path, folder: Path, exc: OSError | sqlite3.Error, before: str) -> str:
    """Why no backup was written, and what to do: `before` starts only after one."""
    full = getattr(exc, "errno", None) == errno.ENOSPC or "disk is full" in str(exc)
    if full:
        size = db_path.stat().st_size / 1e6
        why = f"the disk is full: {free_space(folder)} free there, a backup takes {size:,.1f} MB"
        fix = "free some space there and run it again"
    else:
        said = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        why = f"{said}: {exc.filename}" if isinstance(exc, OSError) and exc.filename else said
        fix = "fix that and run it again"
    return (
        f"no backup of {db_path} could be written in {folder} ({why}), and {before} starts "
        f"only after one: {fix}"
    )


def free_space(folder: Path) -> str:
    """The space left on the disk that holds `folder`, in MB."""
    try:
        free = shutil.disk_usage(folder.expanduser().resolve()).free
    except OSError:
        return "unknown"
    return f"{free / 1e6:,.1f} MB"


def list_backups(db_path: Path) -> list[Path]:
    """The backups of this store, oldest first."""
    folder = backups_dir(db_path)
    if not folder.is_dir():
        return []
    pattern = re.compile(rf"{re.escape(db_path.stem)}-(\d{{8}}T\d{{6}}Z)-[a-z0-9-]+\.sqlite")
    found = []
    for candidate in folder.iterdir():
        match = pattern.fullmatch(candidate.name)
        if match:
            found.append((match.group(1), candidate.stat().st_mtime_ns, candidate))
    return [path for *_, path in sorted(found)]


def latest_backup(db_path: Path) -> Path | None:
    backups = list_backups(db_path.expanduser())
    return backups[-1] if backups else None


def restore_hint(db_path: Path) -> str:
    """How to get a usable store back, naming the newest backup when there is one."""
    latest = latest_backup(db_path)
    if latest is None:
        return "no backup of it exists; move it aside and sync again into a new file"
    return (
        f"the latest backup is {latest}; to restore it, move {db_path} (and any -wal/-shm "
        f"beside it) aside, then copy the backup to {db_path}"
    )


def _free_name(folder: Path, stem: str, stamp: str, reason: str) -> Path:
    """Two backups in the same second get -2, -3... after the reason."""
    target = folder / f"{stem}-{stamp}-{reason}.sqlite"
    count = 2
    while target.exists():
        target = folder / f"{stem}-{stamp}-{reason}-{count}.sqlite"
        count += 1
    return target


def _slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-") or "manual"


def _prune(db_path: Path, keep: int) -> None:
    for old in list_backups(db_path)[: -max(keep, 1)]:
        old.unlink(missing_ok=True)
    # A copy a killed run left half-written (the store's size each): an hour old, no run is
    # still writing it.
    stale = datetime.now(UTC).timestamp() - 3600
    for partial in backups_dir(db_path).glob(f"{glob.escape(db_path.stem)}-*.partial*"):
        with contextlib.suppress(OSError):
            if partial.stat().st_mtime < stale:
                partial.unlink()
