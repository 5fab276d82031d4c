"""A file trueup writes for the user (a report, an export of the mappings, the rules, the tax
codes) written whole or not at all: into a new file beside it, renamed over it once complete.
An interrupted or failed export (Ctrl-C, a full disk) leaves the last good file as it was and
no half-written one. They are private: 0600 files, new folders 0700."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

PRIVATE = 0o600
# The first bytes of a SQLite database and of its write-ahead log (either byte order).
_HEADERS = (b"SQLite format 3\x00", b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
_DATABASE = "a SQLite file (a trueup store or its backup?): not written over; name another file"


@contextlib.contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """The path to write `path`'s new content to; it becomes `path` when the block ends well,
    0600 whatever the umask or the old file's mode: it holds every client's billing. A link
    of the user's own is followed (the file it names is replaced); one another user made is
    refused, as the kernel's protected_symlinks would (resolved by hand, it would not). A
    path that is not a plain file (a device such as /dev/stdout), or a file in a folder that
    takes no new file, is written as it is."""
    if path.is_symlink() and _foreign(path):
        raise PermissionError(errno.EACCES, "a link another user made: not followed", str(path))
    target = path.resolve() if path.is_symlink() else path
    if _database(target):
        raise FileExistsError(errno.EEXIST, _DATABASE, str(path))
    if target.exists() and not target.is_file():
        with _named(path):
            yield path
        return
    # A short name of its own: the file's name and more could pass the 255 bytes a name has.
    partial = target.with_name(f".trueup-{secrets.token_hex(4)}.partial")
    try:
        # Made here, so the writer opening it by name keeps its mode.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
        os.chmod(partial, PRIVATE)  # past a umask that took the owner's bits too
    except PermissionError as error:
        if not target.exists():
            raise PermissionError(error.errno, error.strerror, str(path)) from None
        with contextlib.suppress(OSError):  # not ours to narrow: written as it is
            os.chmod(target, PRIVATE)
        with _named(path):  # the folder is closed to new files, the file open to writing
            yield target
        return
    except OSError as error:  # no such folder, a file where one would be: said of `path`
        raise OSError(error.errno, error.strerror, str(path)) from None
    try:
        with _named(path):
            yield partial
            os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def write_private(path: Path, text: str) -> None:
    """`text` as `path`'s whole content (UTF-8), written as `replaced` writes."""
    with replaced(path) as partial:
        partial.write_text(text, encoding="utf-8")


def private_folder(folder: Path) -> Path:
    """`folder`, made 0700 if it is new (an existing one is the user's choice)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _database(path: Path) -> bool:
    """Whether `path` is a SQLite database or log: the store is one tab away from an export's
    name (trueup.sqlite beside mappings.toml), and an export over it would leave a TOML file
    where every client's billing was."""
    if not path.is_file():  # a device or a pipe is not read: it could wait forever
        return False
    try:
        with path.open("rb") as file:
            first = file.read(16)
    except OSError:  # unreadable: not a database we could lose
        return False
    return first.startswith(_HEADERS)


def _foreign(link: Path) -> bool:
    """Whether another user (not root) owns the link: in a shared folder (/tmp) it may point
    at any file of ours, to be replaced by the export."""
    if not hasattr(os, "geteuid"):  # Windows: links need privileges to make
        return False
    return link.lstat().st_uid not in (os.geteuid(), 0)


@contextlib.contextmanager
def _named(path: Path) -> Iterator[None]:
    """An OSError with no file name (a full disk says only "No space left on device") names
    the file being written."""
    try:
        yield
    except OSError as error:
        if error.filename is not None:
            raise
        raise OSError(error.errno, error.strerror or str(error), str(path)) from None
