"""Large batches built for the workbench by a helper process.

The workbench runs threads, so it may not fork (`core.forked`): on its own it builds a
2,000-client batch in one process. A helper started with spawn has a single thread, so it
builds as `trueup batch` does (two processes from `SPLIT_FROM` clients), stores the batch and
hands back its id. It is started ahead of the first large batch (`start`) or by it, and kept for
the next. If it cannot be started, or dies, the caller builds the batch itself; an error of the
build itself (an unknown client, a store it cannot read) is raised to the caller as it was.

Each build runs in a fresh fork of the helper, which itself never builds where it can fork: a
process that has built a batch keeps ~300 MB of freed heap, and forking it again would have
both halves copy those pages as they reuse them (~0.2 s a build).
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from collections.abc import Sequence
from datetime import date
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, BinaryIO

from trueup.core.batch.build import build_batch
from trueup.core.batch.forked import forked
from trueup.core.store.database import Database, open_database

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
        """End the helper, once a build it may be running is done (its caller holds it)."""
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
            self._process.kill()  # idle, or no longer answering
            self._process.join()
        self._process = self._conn = None


def _serve(path: str, conn: Connection) -> None:
    """The helper: builds each batch asked for, until the workbench closes its end."""
    db = open_database(Path(path))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        db.dispose()  # no connection open across the fork
        with forked(partial(_write_built, db, request)) as result:
            reply = result()  # None where it cannot fork: then built here
        conn.send(_built(db, *request) if reply is None else pickle.loads(reply))


def _write_built(db: Database, request: tuple[Any, ...], sink: BinaryIO) -> None:
    pickle.dump(_built(db, *request), sink)


def _built(db: Database, month: str, clients: list[int] | None, today: date) -> tuple[bool, Any]:
    """(True, the batch id), or (False, the error of the build: the workbench raises it)."""
    try:
        return True, build_batch(db, month, clients=clients, today=today).batch_id
    except Exception as error:
        return False, error
