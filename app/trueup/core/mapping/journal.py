"""Writing mappings: every change journaled with what it replaced, in the same transaction.

The journal (mapping_change) is what makes a change undoable: undo restores the `before` of the
newest change not yet undone (all of its batch when it was part of one, such as an "accept all"
or an import) and records the undo itself, so the journal is also the audit trail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from trueup.core.settings.operator import current_user
from trueup.core.store import tables as m
from trueup.core.store.json_text import dump_json, load_json

COMPANY, PRODUCT = "company", "product"


@dataclass(frozen=True)
class Key:
    """Which mapping: a company's, a product's for every client, or one client's override."""

    kind: str  # company | product
    id: str  # the Pax8 company or product id
    client_id: int | None = None  # a product's per-client override

    def as_json(self) -> dict[str, Any]:
        if self.kind == COMPANY:
            return {"company_id": self.id}
        return {"product_id": self.id, "client_id": self.client_id}

    @staticmethod
    def from_json(kind: str, data: dict[str, Any]) -> Key:
        if kind == COMPANY:
            return Key(COMPANY, data["company_id"])
        return Key(PRODUCT, data["product_id"], data.get("client_id"))


def new_batch() -> str:
    return uuid.uuid4().hex


def read_mapping(conn: Connection, key: Key) -> dict[str, Any] | None:
    table = _table(key)
    row = conn.execute(select(table).where(*_where(table, key))).mappings().first()
    if row is None:
        return None
    return {c: _plain(v) for c, v in row.items() if c != "id"}


def write_mapping(
    conn: Connection,
    key: Key,
    target: int | None,
    *,
    action: str,
    status: str = "mapped",
    source: str = "manual",
    score: int | None = None,
    reason: str = "",
    batch: str | None = None,
) -> bool:
    """Set one mapping (`status` ignored: no target) and journal it; False when nothing changed."""
    before = read_mapping(conn, key)
    if before and (before["status"], target_of(key, before)) == (status, target):
        return False
    after = {
        **key.as_json(),
        _target_column(key): target,
        "status": status,
        "source": source,
        "score": score,
        "reason": reason,
        "created_at": datetime.now(UTC).isoformat(),
        "created_by": current_user(),
    }
    _store(conn, key, after)
    _journal(conn, key, action, before, after, batch)
    return True


def remove_mapping(conn: Connection, key: Key, *, action: str = "unmap") -> bool:
    before = read_mapping(conn, key)
    if before is None:
        return False
    _store(conn, key, None)
    _journal(conn, key, action, before, None, None)
    return True


@dataclass(frozen=True)
class Undone:
    action: str
    key: Key
    restored: dict[str, Any] | None  # the mapping as it is again, None when none
    replaced: dict[str, Any] | None


@dataclass(frozen=True)
class NewestChange:
    """The change (with the rest of its batch) the next undo would revert."""

    id: int  # the newest of its batch
    by: str
    at: datetime
    action: str
    count: int


def newest_change(conn: Connection) -> NewestChange | None:
    group = _undoable_group(conn)
    if not group:
        return None
    newest = group[0]
    return NewestChange(newest.id, newest.by, newest.at, newest.action, len(group))


def _undoable_group(conn: Connection) -> list[Any]:
    """The newest change not yet undone and the rest of its batch, newest first."""
    changes = m.table_of(m.MappingChange)
    newest = conn.execute(
        select(changes)
        .where(changes.c.action != "undo", changes.c.undone.is_(False))
        .order_by(changes.c.id.desc())
        .limit(1)
    ).first()
    if newest is None:
        return []
    if newest.batch is None:
        return [newest]
    return list(
        conn.execute(
            select(changes)
            .where(changes.c.batch == newest.batch, changes.c.undone.is_(False))
            .order_by(changes.c.id.desc())
        )
    )


def newest_id(conn: Connection) -> int:
    """The id of the newest journal entry, undos included (0 for none)."""
    changes = m.table_of(m.MappingChange)
    return int(conn.execute(select(func.max(changes.c.id))).scalar() or 0)


def undo_newest(conn: Connection) -> list[Undone]:
    """Revert the newest change not yet undone, with the rest of its batch; [] when none."""
    changes = m.table_of(m.MappingChange)
    group = _undoable_group(conn)
    if not group:
        return []
    batch = new_batch() if len(group) > 1 else None
    undone = []
    for change in group:  # newest first, so each restores what the one before it left
        key = Key.from_json(change.kind, load_json(change.key))
        before = load_json(change.before) if change.before else None
        after = load_json(change.after) if change.after else None
        _store(conn, key, before)
        conn.execute(update(changes).where(changes.c.id == change.id).values(undone=True))
        _journal(conn, key, "undo", after, before, batch)
        undone.append(Undone(change.action, key, before, after))
    return undone


def _store(conn: Connection, key: Key, values: dict[str, Any] | None) -> None:
    table = _table(key)
    conn.execute(delete(table).where(*_where(table, key)))
    if values is not None:
        row = dict(values)
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        conn.execute(insert(table).values(**row))


def _journal(
    conn: Connection,
    key: Key,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    batch: str | None,
) -> None:
    conn.execute(
        insert(m.table_of(m.MappingChange)).values(
            at=datetime.now(UTC),
            by=current_user(),
            action=action,
            kind=key.kind,
            key=dump_json(key.as_json()),
            before=dump_json(before) if before is not None else None,
            after=dump_json(after) if after is not None else None,
            batch=batch,
        )
    )


def _table(key: Key) -> Table:
    return m.table_of(m.CompanyMapping if key.kind == COMPANY else m.ProductMapping)


def _where(table: Table, key: Key) -> list[Any]:
    if key.kind == COMPANY:
        return [table.c.company_id == key.id]
    client = table.c.client_id
    return [
        table.c.product_id == key.id,
        client.is_(None) if key.client_id is None else client == key.client_id,
    ]


def _target_column(key: Key) -> str:
    return "client_id" if key.kind == COMPANY else "item_id"


def target_of(key: Key, row: dict[str, Any]) -> int | None:
    """The client (company) or item (product) a mapping row as read_mapping gives it names."""
    target: int | None = row[_target_column(key)]
    return target


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
