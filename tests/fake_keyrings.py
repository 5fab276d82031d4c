"""Keyring backends for tests: one in memory, and ones that fail as real hosts do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
from keyring.backend import KeyringBackend

from trueup.sandbox.memory_keyring import MemoryKeyring


class RaisingKeyring(KeyringBackend):
    """Every call raises `error`, as a headless host's or a locked keyring does."""

    priority = 0

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get_password(self, service, username):
        raise self.error

    def set_password(self, service, username, password):
        raise self.error

    def delete_password(self, service, username):
        raise self.error


@contextmanager
def using(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    """`backend` as the process's keyring for the block: the real one is never touched."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


__all__ = ["MemoryKeyring", "RaisingKeyring", "using"]
