"""A batch's invoices as rows (store schema 10): each invoice's canonical bytes stored once, by
their sha256, with its digest (body.invoice_digest), and one row per place in a batch naming
it. The contract's batch JSON is the head (invoice_batch.body) with the invoices spliced back
in: the same bytes as a body stored whole.

A batch built again after a one-client change lists the same invoices but one: it stores one
new text and ~2,000 small rows, not the month's 26 MB again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from trueup.core.batch.body import (
    StoredInvoice,
    canonical_bytes,
    invoice_digest,
    parsed_body,
    spliced,
)
from trueup.core.store import tables as m

__all__ = [
    "Listed",
    "body_bytes",
    "invoice_at",
    "invoice_of",
    "invoice_texts",
    "listed",
    "store_invoices",
    "stored_invoices",
    "text_sha",
]

_TEXTS, _ROWS = m.table_of(m.BatchInvoiceText), m.table_of(m.BatchInvoice)
_JOINED = f"FROM {_ROWS} r JOIN {_TEXTS} t ON t.sha256 = r.sha256"  # a batch's rows, with texts


@dataclass(frozen=True)
class Listed:
    """One invoice of a batch, without its text: what building the next batch reuses."""

    client_id: int
    sha256: str
    digest: dict[str, Any]


def text_sha(text: bytes | memoryview) -> str:
    return hashlib.sha256(text).hexdigest()


def store_invoices(
    conn: Connection,
    batch_id: str,
    listed: Sequence[Listed],
    new_texts: dict[str, bytes | memoryview],
) -> None:
    """The batch's invoices in their order; `new_texts` (by sha256) are those the store may not
    hold yet (a text already held is kept: the same bytes)."""
    by_sha = {item.sha256: item for item in listed}
    if new_texts:
        conn.exec_driver_sql(
            f"INSERT OR IGNORE INTO {_TEXTS} (sha256, text, digest) VALUES (?, ?, ?)",
            [
                (sha, bytes(text).decode(), canonical_bytes(by_sha[sha].digest).decode())
                for sha, text in new_texts.items()
            ],
        )
    if listed:  # an empty list would be bound as no parameters at all
        conn.exec_driver_sql(
            f"INSERT INTO {_ROWS} (batch_id, position, client_id, sha256) VALUES (?, ?, ?, ?)",
            [(batch_id, n, item.client_id, item.sha256) for n, item in enumerate(listed)],
        )


def listed(conn: Connection, batch_id: str) -> list[Listed]:
    """The batch's invoices in order, each with its digest (a few hundred bytes, not ~13 kB)."""
    return [
        Listed(
            client_id,
            sha,
            parsed_body(digest) if digest is not None else invoice_digest(parsed_body(text)),
        )
        for client_id, sha, digest, text in conn.exec_driver_sql(
            # A text stored by the schema 10 migration has no digest yet: made from the text.
            "SELECT r.client_id, r.sha256, t.digest, iif(t.digest IS NULL, t.text, NULL) "
            f"{_JOINED} WHERE r.batch_id = ? ORDER BY r.position",
            (batch_id,),
        ).all()  # at once: row by row costs a cursor call each (~40 ms for 2,000)
    ]


def invoice_texts(conn: Connection, batch_id: str) -> list[bytes]:
    # As BLOB: SQLite's UTF-8 as it is, not decoded to str to be encoded again.
    return [
        text
        for (text,) in conn.exec_driver_sql(
            f"SELECT CAST(t.text AS BLOB) {_JOINED} WHERE r.batch_id = ? ORDER BY r.position",
            (batch_id,),
        )
    ]


def stored_invoices(conn: Connection, batch_id: str) -> list[StoredInvoice]:
    """The batch's invoices in order, read from their digests; their texts parsed when asked."""
    return [
        StoredInvoice.read(text, None if digest is None else parsed_body(digest))
        for text, digest in conn.exec_driver_sql(
            f"SELECT CAST(t.text AS BLOB), t.digest {_JOINED} "
            "WHERE r.batch_id = ? ORDER BY r.position",
            (batch_id,),
        ).all()
    ]


def invoice_at(conn: Connection, batch_id: str, position: int) -> str | None:
    return conn.exec_driver_sql(
        f"SELECT t.text {_JOINED} WHERE r.batch_id = ? AND r.position = ?",
        (batch_id, position),
    ).scalar()


def invoice_of(conn: Connection, batch_id: str, client_id: int) -> tuple[int, str] | None:
    """A client's place in the batch and its invoice's text."""
    row = conn.exec_driver_sql(
        f"SELECT r.position, t.text {_JOINED} WHERE r.batch_id = ? AND r.client_id = ?",
        (batch_id, client_id),
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


def body_bytes(head: str | bytes, texts: Sequence[bytes | memoryview]) -> bytes:
    """The whole batch JSON, from its stored head and its invoices' texts in order."""
    return spliced(parsed_body(head), "invoices", texts)
