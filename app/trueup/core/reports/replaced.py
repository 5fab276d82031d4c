"""A report file written whole or not at all: into a new file beside it, renamed over it once
complete. An interrupted or failed export (Ctrl-C, a full disk) leaves the last good file as it
was and no half-written one."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """The path to write `path`'s new content to; it becomes `path` when the block ends well.
    A link is followed (the file it names is replaced) and the file's permissions are kept. A
    path that is not a plain file (a device such as /dev/stdout), or a file in a folder that
    takes no new file, is written as it is."""
    target = path.resolve() if path.is_symlink() else path
    if target.exists() and not target.is_file():
        with _named(path):
            yield path
        return
    # A short name of its own: the file's name and more could pass the 255 bytes a name has.
    partial = target.with_name(f".trueup-{secrets.token_hex(4)}.partial")
    try:
        # Made here with the umask's usual mode (a new file) or the old file's (a replaced one),
        # so the writer opening it by name keeps it.
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
        if target.exists():
            os.chmod(partial, mode)  # past the umask, as the old file had it
    except PermissionError as error:
        if not target.exists():
            raise PermissionError(error.errno, error.strerror, str(path)) from None
        with _named(path):  # the folder is closed to new files, the file open to writing
            yield target
        return
    try:
        with _named(path):
            yield partial
            os.replace(partial, target)
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
