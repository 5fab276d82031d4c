"""A share of a large pure computation done in a second process, started with fork: the child
inherits what the parent has already read, and only its result, as bytes, comes back.

Forking is safe only in a process with one thread (a lock another thread holds at the fork
stays locked in the child for ever) and where the platform has fork (not Windows); elsewhere
`can_fork` says no and the caller does all the work itself. The child never returns into the
caller's code: it writes its bytes and ends with `os._exit`, so no cleanup of the parent's
(files, connections, atexit handlers) runs twice. Whatever goes wrong in the child (or when no
child can be started), the parent gets None and can do that share itself.

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
from typing import IO

__all__ = ["can_fork", "forked"]

_DONE, _FAILED = b"\0", b"\1"


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


@contextmanager
def forked(work: Callable[[], bytes]) -> Iterator[Callable[[], bytes | None]]:
    """Run `work` in a forked child; the function yielded waits for its bytes (None when the
    child failed). Leaving the block ends the child if it is still running."""
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
            sink.seek(0)  # the child's writes moved the offset both processes share
            data = sink.read()
            if status != 0 or not data.startswith(_DONE):
                return None
            return data[len(_DONE) :]

        try:
            yield result
        finally:
            if not waited:  # the parent's own share failed: the child's result is not wanted
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _run_child(work: Callable[[], bytes], sink: IO[bytes]) -> None:
    status = 1
    try:
        try:
            data = _DONE + work()
        except BaseException:  # the parent redoes the share and meets the error itself
            data = _FAILED
        sink.write(data)
        sink.flush()
        status = 0
    finally:
        os._exit(status)
