"""Another process holding one of a store's locks, as a second trueup would."""

import subprocess
import sys
from contextlib import contextmanager


@contextmanager
def posting_elsewhere(path):
    """While inside, another process holds the posting lock of the store at `path`."""
    lock = f"{path}.post-lock"
    with _holding(
        "import fcntl, os, sys, time\n"
        f"fd = os.open({lock!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    ):
        yield


@contextmanager
def writing_elsewhere(path):
    """While inside, another process holds the store's write lock, as a sync's apply does."""
    with _holding(
        "import sqlite3, time\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
    ):
        yield


@contextmanager
def _holding(code):
    """A process that runs `code`, says it holds, and sleeps until killed."""
    held = code + "print('held', flush=True)\ntime.sleep(60)\n"
    other = subprocess.Popen([sys.executable, "-c", held], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        yield
    finally:
        other.kill()
        other.wait()
