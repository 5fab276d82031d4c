"""A share of a large pure computation done in a second process, started with fork: the child
inherits what the parent has already read, and only its result, as bytes, comes back.

Forking is safe only in a process with one thread (a lock another thread holds at the fork
stays locked in the child for ever) and where the platform has fork (not Windows); elsewhere
`can_fork` says no and the caller does all the work itself. The child never returns into the
caller's code: it writes its bytes and ends with `os._exit`, so no cleanup of the parent's
(files, connections, atexit handlers) runs twice. Whatever goes wrong in the child (or when no
child can be started), the parent gets None and can do that share itself.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

__all__ = ["can_fork", "forked"]

_DONE, _FAILED = b"\0", b"\1"


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


@contextmanager
def forked(work: Callable[[], bytes]) -> Iterator[Callable[[], bytes | None]]:
    """Run `work` in a forked child; the function yielded waits for its bytes (None when the
    child failed). Leaving the block ends the child if it is still running."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to be had (a limit, memory): the caller does it all
        os.close(read_end)
        os.close(write_end)
        yield lambda: None
        return
    if pid == 0:
        _run_child(work, read_end, write_end)
    os.close(write_end)
    waited = False

    def result() -> bytes | None:
        nonlocal waited
        with os.fdopen(read_end, "rb") as source:
            data = source.read()  # until the child closes its end: its whole result
        _, status = os.waitpid(pid, 0)
        waited = True
        if status != 0 or not data.startswith(_DONE):
            return None
        return data[len(_DONE) :]

    try:
        yield result
    finally:
        if not waited:  # the parent's own share failed: the child's result is not wanted
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            with suppress(OSError):  # closed by a result() that failed after reading
                os.close(read_end)


def _run_child(work: Callable[[], bytes], read_end: int, write_end: int) -> None:
    status = 1
    try:
        os.close(read_end)
        try:
            data = _DONE + work()
        except BaseException:  # the parent redoes the share and meets the error itself
            data = _FAILED
        with os.fdopen(write_end, "wb") as sink:
            sink.write(data)
        status = 0
    finally:
        os._exit(status)
