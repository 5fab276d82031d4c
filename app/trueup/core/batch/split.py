"""Billing a batch's clients, and sharing a large batch between two processes (core.forked).

Each invoice is encoded as soon as it is billed and then dropped, keeping its bytes and its
digest (`invoice_digest`: what the rest of the body takes from it), so a batch never holds its
~1M JSON values at once. From `SPLIT_FROM` clients, where forking is safe, a forked process
bills every other client, each process in its own read transaction, and hands over its bytes
and digests; the parent merges them in client order.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, BinaryIO, NamedTuple

from sqlalchemy import Connection

from trueup.core.batch.body import canonical_bytes, invoice_digest, invoice_json
from trueup.core.batch.facts import BatchError, BatchFacts
from trueup.core.batch.forked import forked
from trueup.core.billing.invoice import bill_client
from trueup.core.mapping.index import load_mapping_index
from trueup.core.rules.current import Rules
from trueup.core.store.database import Database

__all__ = ["SPLIT_FROM", "Billed", "bill_all", "billed_in_two", "client_count", "is_large"]

# From this many clients, two processes share the billing where forking is safe (a process
# with one thread: the command line, the workbench's helper): 2,000 clients in ~1.7 s instead
# of ~2.9 s on two cores. Each process still reads what every client shares (mappings,
# currencies, usage: ~0.1 s), so below this, forking saves little.
SPLIT_FROM = 400


class Billed(NamedTuple):
    """Invoices in client order, each as its canonical bytes and its `invoice_digest`."""

    texts: list[bytes | memoryview]
    digests: list[dict[str, Any]]


def bill_all(facts: BatchFacts, rules: Rules) -> Billed:
    billed = Billed([], [])
    for client in facts.clients:
        invoice = invoice_json(bill_client(client, facts.month, rules))
        billed.texts.append(canonical_bytes(invoice))
        billed.digests.append(invoice_digest(invoice))
    return billed


def billed_in_two(
    db: Database,
    share: Callable[[Connection, Callable[[int], bool]], BatchFacts | None],
    rules: Rules,
) -> tuple[BatchFacts, Billed] | None:
    """The clients billed by this process and a forked one: `share` reads the facts of the
    clients at the positions it is given (None when the store no longer has the batch's
    inputs). None unless both processes billed their share."""

    def billed_here(which: Callable[[int], bool]) -> tuple[BatchFacts, Billed] | None:
        with db.read() as conn:
            facts = share(conn, which)
        if facts is None:
            return None
        billed = bill_all(facts, rules)
        return replace(facts, clients=[]), billed  # the clients' facts freed before waiting

    def second(sink: BinaryIO) -> None:
        with db.read() as conn:
            facts = share(conn, _theirs)
        if facts is None:
            raise BatchError("the store changed while the batch was built")
        _hand_over(bill_all(facts, rules), sink)

    # No connection open across the fork: SQLite keeps its locks' bookkeeping per process, and
    # a child inheriting a live connection's would read unprotected.
    db.engine.dispose()
    with forked(second) as theirs:
        own = billed_here(_ours)
        handed_over = theirs()
    if own is None or handed_over is None:
        return None
    facts, mine = own
    other = _taken_over(handed_over)
    merged = sorted(
        zip(mine.digests + other.digests, mine.texts + other.texts, strict=True),
        key=lambda pair: (pair[0]["client_name"].casefold(), pair[0]["client_id"]),
    )
    return facts, Billed([text for _, text in merged], [digest for digest, _ in merged])


def _ours(position: int) -> bool:
    """Every other client: both processes bill and encode their invoices alike (the forked one
    hands over bytes and digests, the other reads them), so halves finish together."""
    return position % 2 == 0


def _theirs(position: int) -> bool:
    return not _ours(position)


def _hand_over(billed: Billed, sink: BinaryIO) -> None:
    """A share's invoices written out: the digests and the texts' lengths (pickled), then the
    texts back to back, as they are (pickling 13 MB of texts would copy them twice more)."""
    lengths = [len(text) for text in billed.texts]
    head = pickle.dumps((billed.digests, lengths), protocol=pickle.HIGHEST_PROTOCOL)
    sink.write(len(head).to_bytes(8, "big") + head)
    sink.writelines(billed.texts)


def _taken_over(data: bytes) -> Billed:
    """`_hand_over`'s bytes (our own child's, never a stranger's) back: the texts are views."""
    size = int.from_bytes(data[:8], "big")
    digests, lengths = pickle.loads(data[8 : 8 + size])
    view, at = memoryview(data), 8 + size
    texts: list[bytes | memoryview] = []
    for length in lengths:
        texts.append(view[at : at + length])
        at += length
    return Billed(texts, digests)


def is_large(db: Database, clients: Sequence[int] | None = None) -> bool:
    """Whether a batch of `clients` (default: every mapped one) is billed by two processes
    where forking is safe."""
    with db.read() as conn:
        return client_count(conn, clients) >= SPLIT_FROM


def client_count(conn: Connection, clients: Sequence[int] | None) -> int:
    if clients is not None:
        return len(set(clients))
    return len(set(load_mapping_index(conn).companies.values()))
