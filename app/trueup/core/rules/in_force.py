"""Which rules document is in force: the newest imported (rules/current.py reads it). Naming a
batch needs only its id, so the commands that read what is stored parse no rules."""

from __future__ import annotations

from sqlalchemy import Connection

from trueup.core.store.tables import RulesDocument, table_of


def rules_id_in_force(conn: Connection) -> int | None:
    """The id of the RulesDocument in force; None before any was imported (the defaults)."""
    found: int | None = conn.exec_driver_sql(
        f"SELECT max(id) FROM {table_of(RulesDocument)}"
    ).scalar()
    return found
