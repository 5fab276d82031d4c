"""Which clients' invoices a change can have changed, between a stored batch and the store now.

A batch is named by its inputs (stored.BatchInputs). When the month's newest batch differs from
the store only in the rules or the mappings, most invoices are the same: a rule on one client's
line, a company mapped, a product mapped to an item. The clients named here are billed again;
every other invoice is the stored one. None means "bill every client": a sync or import, another
day for counting seats, last month's batch, the billing code, or any change this module cannot
bound (a default rule, a currency rate, a journal entry of a kind it does not know).

What a mapping change reaches, beyond the clients it names:
- a product's mapping for every client: the clients with a subscription of it, and those with a
  Halo line of the item it left or went to (whether a line is billed by hand depends on it);
- any mapping change: the clients with a product mapped to no item, whose look-alike evidence
  (batch/alike.py) weighs every client's mappings and lines.
The store's main currency (of clients whose subscriptions name none) moves with the company
mappings too; build.py compares it after reading the facts.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection

from trueup.core.billing.rules import LineRule, Rules
from trueup.core.mapping.index import MappingIndex
from trueup.core.store import tables as m

__all__ = ["SAME_INPUTS", "touched_clients"]

# The inputs that must be the same for any stored invoice to be reused.
SAME_INPUTS = ("engine", "month", "clients", "sync_runs", "counted_on", "previous")


def touched_clients(
    conn: Connection,
    then: dict[str, Any],
    now: dict[str, Any],
    rules_then: Rules,
    rules_now: Rules,
    index: MappingIndex,
) -> set[int] | None:
    """The clients to bill again, from the stored batch's inputs `then` to `now` (both as
    stored: BatchInputs as JSON values); None for all of them."""
    if any(then.get(key) != now[key] for key in SAME_INPUTS):
        return None
    by_rules = _rules_touched(rules_then, rules_now)
    by_mappings = _mappings_touched(conn, then.get("mapping_change"), now["mapping_change"], index)
    if by_rules is None or by_mappings is None:
        return None
    return by_rules | by_mappings


def _rules_touched(then: Rules, now: Rules) -> set[int] | None:
    """The clients whose own rules ([clients."ID"], [[lines]]) changed; None when anything
    every client reads did (the defaults, the rates, or a part of the rules added later)."""
    for field in fields(Rules):
        if field.name not in ("clients", "lines") and getattr(then, field.name) != getattr(
            now, field.name
        ):
            return None
    touched = {
        client
        for client in then.clients.keys() | now.clients.keys()
        if then.clients.get(client) != now.clients.get(client)
    }
    lines_then, lines_now = _lines_by_client(then.lines), _lines_by_client(now.lines)
    touched |= {
        client
        for client in lines_then.keys() | lines_now.keys()
        if lines_then.get(client) != lines_now.get(client)
    }
    return touched


def _lines_by_client(lines: tuple[LineRule, ...]) -> dict[int, list[LineRule]]:
    found: dict[int, list[LineRule]] = defaultdict(list)
    for line in lines:
        found[line.client_id].append(line)
    return found


def _mappings_touched(
    conn: Connection, then: int | None, now: int | None, index: MappingIndex
) -> set[int] | None:
    if then == now:
        return set()
    if now is None or (then is not None and now < then):
        return None  # the journal went back: not a change this module can follow
    clients: set[int] = set()
    products: set[str] = set()
    items: set[int] = set()
    for kind, key, before, after in conn.exec_driver_sql(
        f"SELECT kind, key, before, after FROM {m.table_of(m.MappingChange)} "
        "WHERE id > ? AND id <= ?",
        (then or 0, now),
    ):
        was, becomes = _row(before), _row(after)
        if kind == "company":
            clients |= {_client(was), _client(becomes)} - {None}  # type: ignore[arg-type]
        elif kind == "product" and json.loads(key).get("client_id") is not None:
            clients.add(int(json.loads(key)["client_id"]))  # one client's override
        elif kind == "product":
            products.add(str(json.loads(key)["product_id"]))
            items |= {_item(was), _item(becomes)} - {None}  # type: ignore[arg-type]
        else:
            return None
    items |= {item for p in products if (item := index.products.get(p)) is not None}
    return (
        clients
        | _with_products(conn, products, index)
        | _with_items(conn, items)
        | _with_unmapped_products(conn, index)
    )


def _row(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _client(row: dict[str, Any]) -> int | None:
    return None if row.get("client_id") is None else int(row["client_id"])


def _item(row: dict[str, Any]) -> int | None:
    return None if row.get("item_id") is None else int(row["item_id"])


def _company_products(conn: Connection) -> list[tuple[str | None, str | None]]:
    return conn.exec_driver_sql(
        f"SELECT DISTINCT company_id, product_id FROM {m.table_of(m.Pax8Subscription)}"
    ).all()  # type: ignore[return-value]


def _with_products(conn: Connection, products: set[str], index: MappingIndex) -> set[int]:
    if not products:
        return set()
    return {
        client
        for company, product in _company_products(conn)
        if product in products and (client := index.companies.get(company or "")) is not None
    }


def _with_items(conn: Connection, items: set[int]) -> set[int]:
    if not items:
        return set()
    return {
        int(row[0])
        for row in conn.exec_driver_sql(
            f"SELECT DISTINCT h.client_id FROM {m.table_of(m.HaloRecurringInvoiceLine)} l "
            f"JOIN {m.table_of(m.HaloRecurringInvoice)} h ON h.id = l.invoice_id "
            "WHERE h.client_id IS NOT NULL AND l.item_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(items)),),
        )
    }


def _with_unmapped_products(conn: Connection, index: MappingIndex) -> set[int]:
    found = set()
    for company, product in _company_products(conn):
        client = index.companies.get(company or "")
        if client is None or not product or product in index.ignored_products:
            continue
        if index.item_for(product, client) is None:
            found.add(client)
    return found
