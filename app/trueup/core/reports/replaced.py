"""A report file written whole or not at all: into a new file beside it, renamed over it once
complete. An interrupted or failed export (Ctrl-C, a full disk) leaves the last good file as it
was and no half-written one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """The path to write `path`'s new content to; it becomes `path` when the block ends well.
    A path that is not a plain file (a device such as /dev/stdout) is written as it is."""
    if path.exists() and not path.is_file():
        with _named(path):
            yield path
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    # Made here, with the umask's usual mode, so the writer opening it by name keeps it.
    with _named(path):
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666))
    try:
        with _named(path):
            yield partial
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _named(path: Path) -> Iterator[None]:
    """An OSError with no file name (a full disk says only "No space left on device") names
    the file being written."""
    try:
        yield
    except OSError as error:
        if error.filename is not None:
            raise
        raise OSError(error.errno, error.strerror or str(error), str(path)) from None
