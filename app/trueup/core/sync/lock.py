"""One sync at a time per store, across processes: an OS lock on a file beside the database.

The kernel drops the lock when its holder exits, however it exits (even SIGKILL), so a crashed
sync never blocks the next one. The holder writes its pid into the file for the refusal message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockHeld(Exception):
    """Another process holds the lock; str() is its pid, when it wrote one."""


def lock_path(db_path: Path) -> Path:
    """Beside the file itself: a store reached through a link is locked as the same store."""
    real = db_path.resolve()
    return real.with_name(real.name + ".sync-lock")


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the lock for the block, or raise LockHeld at once (never waits)."""
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        if not _try_lock(descriptor):
            os.lseek(descriptor, 0, os.SEEK_SET)
            raise LockHeld(os.read(descriptor, 32).decode(errors="replace").strip())
        os.ftruncate(descriptor, 0)
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.write(descriptor, str(os.getpid()).encode())
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            _unlock(descriptor)
    finally:
        os.close(descriptor)


if sys.platform == "win32":
    import msvcrt

    # Windows locks byte ranges and keeps others from reading them: lock a byte past the pid.
    _LOCKED_BYTE = 4096

    def _try_lock(descriptor: int) -> bool:
        os.lseek(descriptor, _LOCKED_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        os.lseek(descriptor, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
