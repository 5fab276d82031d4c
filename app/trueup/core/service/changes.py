"""What the services share on one store: the seat diffs read so far, stale after any write."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class Changes:
    """Memoises costly reads (the seat diff of a month, which several screens show) until the
    next write through a service on this store, or a sync."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._kept: dict[object, object] = {}

    def kept(self, key: object, read: Callable[[], T]) -> T:
        with self._lock:
            generation = self._generation
            if key in self._kept:
                return self._kept[key]  # type: ignore[return-value]
        value = read()
        with self._lock:
            if generation == self._generation:  # nothing was written while we read
                self._kept[key] = value
        return value

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._kept.clear()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """A write: what was kept is stale afterwards, whether it succeeded or not."""
        try:
            yield
        finally:
            self.forget()
