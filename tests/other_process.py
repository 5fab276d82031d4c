"""Another process holding a store's posting lock, as a second `trueup post` would."""

import subprocess
import sys
from contextlib import contextmanager


@contextmanager
def posting_elsewhere(path):
    """While inside, another process holds the posting lock of the store at `path`."""
    lock = f"{path}.post-lock"
    code = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({lock!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        yield
    finally:
        other.kill()
        other.wait()


@contextmanager
def writing_elsewhere(path):
    """While inside, another process holds the store's write lock, as a sync's apply does."""
    code = (
        "import sqlite3, time\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\nprint('held', flush=True)\ntime.sleep(60)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        yield
    finally:
        other.kill()
        other.wait()
