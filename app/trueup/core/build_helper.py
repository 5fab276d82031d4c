"""Large batches built for the workbench by a helper process.

The workbench runs threads, so it may not fork (`core.forked`): on its own it builds a
2,000-client batch in one process. A helper started with spawn has a single thread, so it
builds as `trueup batch` does (two processes from `SPLIT_FROM` clients), stores the batch and
hands back its id. It is started ahead of the first large batch (`start`) or by it, and kept for
the next. If it cannot be started, or dies, the caller builds the batch itself; an error of the
build itself (an unknown client, a store it cannot read) is raised to the caller as it was.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from datetime import date
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

__all__ = ["BuildHelper"]

_WAIT_S = 0.2  # how often a caller waiting for a build checks that the helper still lives


class BuildHelper:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()  # one build at a time: the helper serves them in turn
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def start(self) -> None:
        """Start the helper now, so that its ~1 s of start-up is over by the first build."""
        with self._lock:
            self._started()

    def build(self, month: str, clients: Sequence[int] | None, today: date) -> str | None:
        """The id of the month's batch, built and stored by the helper; None when the helper
        could not do it (the caller builds it itself)."""
        with self._lock:
            try:
                conn = self._started()
                conn.send((month, None if clients is None else list(clients), today))
                while not conn.poll(_WAIT_S):
                    if self._process is None or not self._process.is_alive():
                        raise EOFError("the batch helper ended")
                done, outcome = conn.recv()
            except (OSError, EOFError, ValueError):  # no process, a broken pipe, an ended helper
                self._stop()
                return None
        if not done:
            raise outcome
        return str(outcome)

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _started(self) -> Connection:
        if self._conn is None or self._process is None or not self._process.is_alive():
            self._stop()
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve, args=(str(self._path), theirs), name="trueup-batch", daemon=True
            )
            process.start()
            theirs.close()
            self._process, self._conn = process, ours
        return self._conn

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None and self._process.is_alive():
            self._process.kill()  # a build in progress is not wanted any more
            self._process.join()
        self._process = self._conn = None


def _serve(path: str, conn: Connection) -> None:
    """The helper: builds each batch asked for, until the workbench closes its end."""
    from trueup.core.batch import build_batch  # imported here: the helper's start-up
    from trueup.core.db import open_database

    db = open_database(Path(path))
    while True:
        try:
            month, clients, today = conn.recv()
        except EOFError:
            return
        try:
            conn.send((True, build_batch(db, month, clients=clients, today=today).batch_id))
        except Exception as error:  # the build's own: the workbench raises it as it would
            conn.send((False, error))
