"""Writing a distributor's file into the store (`trueup import`): one transaction, under the
sync lock, touching that distributor's rows alone.

Like a sync, an import either applies whole or changes nothing, and never runs beside a sync of
the same store (the lock of sync/lock.py: an import and a sync would race on the same rows).
Unlike a sync, a file is not the distributor's whole world but one invoice's charges, so:

- companies, products and invoices are inserted or updated, never deleted (another month's
  file, and the mappings, still name them);
- an invoice's items are replaced: the file is the whole invoice, so a corrected download of
  the same invoice replaces the first one's rows;
- a charge another invoice already holds, row for row, moves to the file's (a report spanning
  months, then one of those months' own: the charge is one row, never billed twice);
- the subscriptions those items bill are rebuilt from every item stored of them (the format
  knows how), and one left with no item is deleted.

Every row compared with the stored one by its raw JSON, the same file imported twice counts
everything unchanged and writes nothing but the log. A `sync_run` row (source: the
distributor) records each import; the batch is built again after one that changed something
(batch/build.py reads the newest changing run of each file source).
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select

from trueup.core.errors import TrueupError
from trueup.core.sources.files.shapes import FileFormat, FileRecords, Record
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.json_text import dump_json, load_json
from trueup.core.store.logbook import log_event
from trueup.core.sync.lock import LockHeld, exclusive, lock_path
from trueup.core.sync.staging import EntityCounts, chunks, total_counts, upsert
from trueup.core.values.distributors import NAMES, PREFIXES

_COMPANIES, _PRODUCTS = m.table_of(m.Pax8Company), m.table_of(m.Pax8Product)
_INVOICES, _ITEMS = m.table_of(m.Pax8Invoice), m.table_of(m.Pax8InvoiceItem)
_SUBSCRIPTIONS = m.table_of(m.Pax8Subscription)
_PRODUCT_MAPS = m.table_of(m.ProductMapping)
_SNAPSHOTS = m.table_of(m.Pax8SubscriptionSnapshot)


class ImportBusyError(TrueupError):
    """A sync (or another import) holds the store's sync lock."""


@dataclass
class ImportResult:
    distributor: str
    run_id: int
    rows: int
    counts: dict[str, EntityCounts] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.deleted for c in self.counts.values())


def apply_file(
    db: Database, file_format: FileFormat, records: FileRecords, *, file_name: str
) -> ImportResult:
    """Write the file's records (their distributor's rows only) in one transaction."""
    distributor = records.distributor
    started = datetime.now(UTC)
    try:
        with exclusive(lock_path(db.path)), db.write() as conn:
            counts = {
                "companies": _merge(conn, _COMPANIES, records.companies, distributor),
                "products": _merge(conn, _PRODUCTS, records.products, distributor),
                "invoices": _merge(conn, _INVOICES, records.invoices, distributor),
            }
            items, touched = _replace_items(conn, records)
            counts["invoice items"] = items
            subscriptions, snapshots = _rebuild(conn, file_format, touched, records)
            counts["subscriptions"], counts["history snapshots"] = subscriptions, snapshots
            result = ImportResult(distributor, 0, records.rows, counts)
            result.run_id = _record(conn, result, started, file_name, records.warnings)
    except LockHeld as holder:
        who = f" (pid {holder})" if str(holder).isdigit() else ""
        raise ImportBusyError(
            f"another trueup{who} is syncing or importing into {db.path}; nothing was imported: "
            "import again when it finishes"
        ) from None
    return result


def known_products(db: Database, distributor: str) -> set[str]:
    """The ids of the distributor's products the store holds or a mapping names (a mapping file
    may come before the first import): what a file's SKUs are checked against
    (sources/files/zeros.py)."""
    prefix = PREFIXES[distributor]
    with db.read() as conn:
        stored = select(_PRODUCTS.c.id).where(_PRODUCTS.c.distributor == distributor)
        mapped = select(_PRODUCT_MAPS.c.product_id).where(
            _PRODUCT_MAPS.c.product_id.startswith(prefix, autoescape=True)
        )
        return {*conn.execute(stored).scalars(), *conn.execute(mapped).scalars()}


def log_refusal(db: Database, distributor: str, file_name: str, reason: str, problems: int) -> None:
    """The Logs screen shows a refused file too: what was refused and why."""
    with db.write() as conn:
        log_event(
            conn,
            "ERROR",
            f"{NAMES[distributor]} import refused",
            source="import",
            file=file_name,
            reason=reason,
            problems=problems,
        )


def _merge(
    conn: Connection, table: Table, records: Sequence[Record], distributor: str
) -> EntityCounts:
    """Insert or update `records`; nothing else of the table is touched."""
    stored = _stored_raw(conn, table, [r["id"] for r in records], distributor)
    return _write(conn, table, ["id"], records, stored)


def _write(
    conn: Connection,
    table: Table,
    key: list[str],
    records: Iterable[Record],
    stored: dict[Any, str],
) -> EntityCounts:
    """Upsert the records whose raw JSON differs from the stored row's; count what each was."""
    counts = EntityCounts()
    changed = []
    for record in records:
        row = {**record, "raw": dump_json(record["raw"])}
        before = stored.get(tuple(row[c] for c in key) if len(key) > 1 else row[key[0]])
        if before == row["raw"]:
            counts.unchanged += 1
            continue
        counts.created += before is None
        counts.updated += before is not None
        changed.append(row)
    if changed:
        upsert(conn, table, key, changed)
    return counts


def _stored_raw(
    conn: Connection, table: Table, ids: Sequence[str], distributor: str
) -> dict[Any, str]:
    found: dict[Any, str] = {}
    for batch in chunks(ids):
        query = select(table.c.id, table.c.raw).where(
            table.c.id.in_(batch), table.c.distributor == distributor
        )
        found.update((row.id, row.raw) for row in conn.execute(query))
    return found


def _replace_items(conn: Connection, records: FileRecords) -> tuple[EntityCounts, set[str]]:
    """The file's invoices hold its items and no others; the subscriptions of every item
    written or removed (their history is rebuilt)."""
    invoices = sorted({r["invoice_id"] for r in records.items})
    stored: dict[Any, str] = {}
    subscriptions: dict[str, str | None] = {}
    for batch in chunks(invoices):
        query = select(_ITEMS.c.id, _ITEMS.c.raw, _ITEMS.c.subscription_id).where(
            _ITEMS.c.invoice_id.in_(batch),
            _ITEMS.c.distributor == records.distributor,
        )
        for row in conn.execute(query):
            stored[row.id] = row.raw
            subscriptions[row.id] = row.subscription_id
    kept = {r["id"] for r in records.items}
    gone = [item_id for item_id in stored if item_id not in kept]
    gone += _held_elsewhere(conn, records, set(invoices), subscriptions)
    counts = _write(conn, _ITEMS, ["id"], records.items, stored)
    if gone:
        conn.execute(delete(_ITEMS).where(_ITEMS.c.id == bindparam("k")), [{"k": i} for i in gone])
        counts.deleted = len(gone)
    touched = {r["subscription_id"] for r in records.items} | {subscriptions[i] for i in gone}
    return counts, {s for s in touched if s}


def _held_elsewhere(
    conn: Connection,
    records: FileRecords,
    invoices: set[str],
    subscriptions: dict[str, str | None],
) -> list[str]:
    """The stored items, under another invoice, of charges the file carries row for row: as
    many of each as the file has. `subscriptions` gains theirs (item id -> subscription).
    Only a charge under no invoice number can be in two statements: a number is in its row."""
    undated = {i["id"] for i in records.invoices if not i["raw"].get("invoiceNumber")}
    charges = [r for r in records.items if r["invoice_id"] in undated]
    wanted = Counter((r["subscription_id"], dump_json(r["raw"])) for r in charges)
    ids = sorted({subscription for subscription, _ in wanted if subscription})
    days = sorted({r["start_period"] for r in charges})
    held: list[str] = []
    for batch in chunks(ids):
        query = (
            select(_ITEMS.c.id, _ITEMS.c.raw, _ITEMS.c.subscription_id, _ITEMS.c.invoice_id)
            .where(
                _ITEMS.c.subscription_id.in_(batch),
                _ITEMS.c.distributor == records.distributor,
                _ITEMS.c.start_period.in_(days),
            )
            .order_by(_ITEMS.c.id)
        )
        for row in conn.execute(query):
            key = (row.subscription_id, row.raw)
            if row.invoice_id not in invoices and wanted[key] > 0:
                wanted[key] -= 1
                held.append(row.id)
                subscriptions[row.id] = row.subscription_id
    return held


def _rebuild(
    conn: Connection, file_format: FileFormat, touched: set[str], records: FileRecords
) -> tuple[EntityCounts, EntityCounts]:
    """The touched subscriptions and their history from every item stored of them: the
    file's as the format read them, the others from their raw cells."""
    ids, distributor = sorted(touched), records.distributor
    cells: list[dict[str, str]] = []
    for batch in chunks(ids):
        query = (
            select(_ITEMS.c.id, _ITEMS.c.raw)
            .where(
                _ITEMS.c.subscription_id.in_(batch),
                _ITEMS.c.distributor == distributor,
            )
            .order_by(_ITEMS.c.id)
        )
        cells.extend(load_json(r.raw) for r in conn.execute(query) if r.id not in records.parsed)
    rebuilt = file_format.subscriptions(records.parsed.values(), cells)
    rows = [row for row, _ in rebuilt]
    subscriptions = _write(
        conn, _SUBSCRIPTIONS, ["id"], rows, _stored_raw(conn, _SUBSCRIPTIONS, ids, distributor)
    )
    emptied = sorted(touched - {row["id"] for row in rows})
    if emptied:  # every charge of it was in a corrected file that no longer has it
        conn.execute(
            delete(_SUBSCRIPTIONS).where(
                _SUBSCRIPTIONS.c.id.in_(emptied), _SUBSCRIPTIONS.c.distributor == distributor
            )
        )
        subscriptions.deleted = len(emptied)
    return subscriptions, _replace_snapshots(conn, ids, [s for _, s in rebuilt])


def _replace_snapshots(
    conn: Connection, ids: list[str], rebuilt: list[list[Record]]
) -> EntityCounts:
    stored: dict[Any, str] = {}
    for batch in chunks(ids):
        query = select(_SNAPSHOTS.c.subscription_id, _SNAPSHOTS.c.position, _SNAPSHOTS.c.raw)
        query = query.where(_SNAPSHOTS.c.subscription_id.in_(batch))
        stored.update(((r.subscription_id, r.position), r.raw) for r in conn.execute(query))
    snapshots = [s for history in rebuilt for s in history]
    counts = _write(conn, _SNAPSHOTS, ["subscription_id", "position"], snapshots, stored)
    gone = stored.keys() - {(s["subscription_id"], s["position"]) for s in snapshots}
    if gone:  # a shorter history, or the subscription deleted (its rows cascade already)
        conn.execute(
            delete(_SNAPSHOTS).where(
                _SNAPSHOTS.c.subscription_id == bindparam("s"),
                _SNAPSHOTS.c.position == bindparam("p"),
            ),
            [{"s": s, "p": p} for s, p in sorted(gone)],
        )
        counts.deleted = len(gone)
    return counts


def _record(
    conn: Connection,
    result: ImportResult,
    started: datetime,
    file_name: str,
    warnings: Sequence[str],
) -> int:
    """The import's run row and its log entries; the run's id."""
    totals = total_counts(result.counts.values())
    entities = {name: asdict(c) for name, c in result.counts.items()}
    ended = datetime.now(UTC)
    key = conn.execute(
        insert(m.table_of(m.SyncRun)).values(
            source=result.distributor,
            status="ok",
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=started,
            ended_at=ended,
            duration_ms=int((ended - started).total_seconds() * 1000),
            counts=dump_json(entities),
            **asdict(totals),
        )
    ).inserted_primary_key
    assert key is not None
    name = NAMES[result.distributor]
    log_event(
        conn,
        "INFO",
        f"{name} import" + ("" if result.changed else ": nothing changed"),
        source="import",
        run_id=key[0],
        file=file_name,
        rows=result.rows,
        **asdict(totals),
        entities=entities,
    )
    if warnings:
        log_event(
            conn,
            "WARNING",
            f"{name} import: {len(warnings)} rows to look at",
            source="import",
            file=file_name,
            warnings=list(warnings),
        )
    return int(key[0])
