"""A sync writes exactly the rows a record-by-record insert writes.

Records are parsed and converted as they are staged and applied by set-based SQL
(sync/apply.py). The reference here parses each fetched record on its own, as the JSON text it
is staged as, keeps the first copy of a key and the records whose parent is stored, and hands
the rows to SQLAlchemy's insert in the order they were fetched; every synced table must match
it value for value, storage class for storage class and rowid for rowid.
"""

import asyncio
import copy

import pytest
from sqlalchemy import Connection, Table, select

from test_sync import clients, run
from trueup.core.store.database import Database, open_database
from trueup.core.store.json_text import dump_json, load_json
from trueup.core.sync.records import ENTITIES, SOURCE_ENTITIES, Entity, RecordError
from trueup.core.sync.staging import Stager, upsert
from trueup.sandbox.generate import generate_scenario
from world import world

Fetched = dict[str, list[tuple[dict, dict]]]  # entity -> (raw, extra) in the order staged


def scenario():
    """12 generated clients in the tests' month, and the tests' world's own records (an id
    listed twice, a record refused) added to it."""
    data = generate_scenario(12, seed=5, month="2026-11")
    small = world()
    for source in ("pax8", "halo"):
        for kind, records in small[source].items():
            if isinstance(records, list) and isinstance(data[source].get(kind), list):
                data[source][kind].extend(copy.deepcopy(records))
    company = data["halo"]["clients"][0]
    data["halo"]["clients"].append({**company, "name": "listed twice, this copy dropped"})
    site = data["halo"]["sites"][0]
    data["halo"]["sites"].append({**site, "id": 99_999, "client_id": 2**63})  # refused
    return data


@pytest.fixture
def fetched(monkeypatch):
    """What the sync fetched, as it was staged."""
    seen: Fetched = {}
    add = Stager.add

    def recording(self, entity, raws, *, scope=None, extra=None):
        records = seen.setdefault(entity, [])
        for index, raw in enumerate(raws):
            context = extra(index) if callable(extra) else extra or {}
            records.append((copy.deepcopy(raw), dict(context)))
        add(self, entity, raws, scope=scope, extra=extra)

    monkeypatch.setattr(Stager, "add", recording)
    return seen


def test_a_first_sync_stores_the_rows_a_record_by_record_insert_stores(tmp_path, fetched):
    synced = open_database(tmp_path / "synced.sqlite")
    results = asyncio.run(run(synced, *clients(scenario())))
    assert {r.status for r in results.values()} == {"ok"}
    assert results["halo"].counts["halo_site"].failed == 1
    reference = open_database(tmp_path / "reference.sqlite")
    with reference.write() as conn:
        for source in ("pax8", "halo"):
            for name in SOURCE_ENTITIES[source]:
                insert_one_by_one(conn, ENTITIES[name], fetched.get(name, []))
    for name, entity in ENTITIES.items():
        stored = table_rows(synced, entity.table)
        assert stored, f"{name}: the scenario stores no row of this kind"
        assert stored == table_rows(reference, entity.table), name
    synced.dispose()
    reference.dispose()


def test_a_sync_again_changes_no_row(tmp_path):
    store = open_database(tmp_path / "s.sqlite")
    data = scenario()
    asyncio.run(run(store, *clients(data)))
    before = {name: table_rows(store, e.table) for name, e in ENTITIES.items()}
    results = asyncio.run(run(store, *clients(data)))
    for result in results.values():
        for name, counts in result.counts.items():
            assert counts.created == counts.updated == counts.deleted == 0, name
    assert {name: table_rows(store, e.table) for name, e in ENTITIES.items()} == before
    store.dispose()


def insert_one_by_one(conn: Connection, entity: Entity, records) -> None:
    keys = [c.name for c in entity.table.primary_key.columns]
    parents = {
        column.name: set(conn.execute(select(fk.column)).scalars())
        for column in entity.table.columns
        for fk in column.foreign_keys
    }
    rows, seen = [], set()
    for raw, extra in records:
        try:
            row = entity.parse(load_json(dump_json(raw)), load_json(dump_json(extra)))
        except (RecordError, ValueError):
            continue
        key = tuple(row[k] for k in keys)
        if key in seen or any(row.get(c) not in found for c, found in parents.items()):
            continue
        seen.add(key)
        rows.append({**row, "raw": dump_json(raw)})
    if rows:
        upsert(conn, entity.table, keys, rows)


def table_rows(db: Database, table: Table) -> list[tuple]:
    columns = ", ".join(f"{c.name}, typeof({c.name})" for c in table.columns)
    with db.read() as conn:
        return list(
            conn.exec_driver_sql(f"SELECT rowid, {columns} FROM {table.name} ORDER BY rowid")
        )
