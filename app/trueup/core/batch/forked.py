"""A share of a large pure computation done in a second process, started with fork: the child
inherits what the parent has already read, and only its result, as bytes, comes back.

Forking is safe only in a process with one thread (a lock another thread holds at the fork
stays locked in the child for ever) and where the platform has fork (not Windows); elsewhere
`can_fork` says no and the caller does all the work itself. The child never returns into the
caller's code: it writes its bytes and ends with `os._exit`, so no cleanup of the parent's
(files, connections, atexit handlers) runs twice; it ends with status 0 only once all its bytes
are written. Whatever goes wrong in the child (or when no child can be started), the parent
gets None and can do that share itself.

The bytes go through an unnamed temporary file, not a pipe: a child done first writes them all
and ends while the parent still works, where a pipe (64 kB) would hold it until the parent reads.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import BinaryIO

__all__ = ["can_fork", "forked"]


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


@contextmanager
def forked(work: Callable[[BinaryIO], None]) -> Iterator[Callable[[], bytes | None]]:
    """Run `work` in a forked child, writing its result to the file it is given; the function
    yielded waits for those bytes (None when the child failed). Leaving the block ends the
    child if it is still running."""
    with ExitStack() as stack:
        try:
            sink = stack.enter_context(tempfile.TemporaryFile())
            pid = os.fork()
        except OSError:  # no file or no process to be had (a full disk, a limit): do it all
            yield lambda: None
            return
        if pid == 0:
            _run_child(work, sink)
        waited = False

        def result() -> bytes | None:
            nonlocal waited
            _, status = os.waitpid(pid, 0)
            waited = True
            if status != 0:
                return None
            sink.seek(0)  # the child's writes moved the offset both processes share
            return sink.read()

        try:
            yield result
        finally:
            if not waited:  # the parent's own share failed: the child's result is not wanted
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _run_child(work: Callable[[BinaryIO], None], sink: BinaryIO) -> None:
    status = 1
    try:
        work(sink)
        sink.flush()
        status = 0
    finally:  # on any error too: the parent redoes the share and meets the error itself
        os._exit(status)
