"""The rules in force as rows a person reads: every default, every override, every rate.

Shared by `trueup rules show` and the workbench's Rules screen, so both say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from trueup.core.rules.current import KEYS, Policy, Rules, current_rules, value_text
from trueup.core.store.database import Database
from trueup.core.store.tables import HaloClient, Pax8Product, table_of

DEFAULTS, CLIENT, LINE, RATE = "defaults", "client", "line", "rate"


@dataclass(frozen=True)
class RuleRow:
    scope: str  # defaults | client | line | rate
    key: str  # a policy key, or a currency pair for a rate
    value: str
    source: str  # where the value comes from, in words
    client_id: int | None = None
    product: str | None = None  # a [[lines]] entry's product id or sku
    subject: str = "defaults"  # what the row applies to, named for a person

    @property
    def row_key(self) -> str:
        return f"{self.scope}|{self.client_id or ''}|{self.product or ''}|{self.key}"


def rule_rows(db: Database) -> tuple[list[RuleRow], int | None]:
    """Every row of the rules in force, and the id of their RulesDocument (None: built-in)."""
    rules, rules_id = current_rules(db)
    with db.read() as conn:
        clients = table_of(HaloClient)
        names = {cid: name for cid, name in conn.execute(select(clients.c.id, clients.c.name))}
        products = table_of(Pax8Product)
        wanted = {line.product for line in rules.lines}
        found = conn.execute(
            select(products.c.id, products.c.sku, products.c.name).where(
                products.c.id.in_(wanted) | products.c.sku.in_(wanted)
            )
        ).all()
    product_names = {key: name for pid, sku, name in found for key in (pid, sku) if key and name}
    return rows_of(rules, rules_id, names, product_names), rules_id


def rows_of(
    rules: Rules,
    rules_id: int | None,
    client_names: dict[int, str | None],
    product_names: dict[str, str],
) -> list[RuleRow]:
    built_in = Policy()
    rows = []
    for key in KEYS:
        value = rules.defaults.value(key)
        same = value == built_in.value(key)
        source = "built-in" if same or rules_id is None else f"rules #{rules_id}"
        rows.append(RuleRow(DEFAULTS, key, _shown(value), source))
    for (a, b), rate in sorted(rules.rates.items()):
        rows.append(RuleRow(RATE, f"{a}/{b}", value_text(rate), f"1 {a} = {rate} {b}", None))
    for client_id in sorted(rules.clients, key=lambda c: (_name(client_names, c).casefold(), c)):
        subject = f"{_name(client_names, client_id)} #{client_id}"
        rows += _overrides(
            rules.clients[client_id], rules.defaults, CLIENT, client_id, None, subject
        )
    for line in sorted(rules.lines, key=lambda r: (r.client_id, r.product)):
        product = product_names.get(line.product, line.product)
        subject = f"{_name(client_names, line.client_id)} #{line.client_id} · {product}"
        inherited = rules.for_client(line.client_id)
        rows += _overrides(line.overrides, inherited, LINE, line.client_id, line.product, subject)
    return rows


def _overrides(
    overrides: Any, under: Policy, scope: str, client_id: int, product: str | None, subject: str
) -> list[RuleRow]:
    return [
        RuleRow(
            scope,
            key,
            _shown(overrides[key]),
            f"{scope} override (else {_shown(under.value(key))})",
            client_id,
            product,
            subject,
        )
        for key in KEYS
        if key in overrides
    ]


def _name(names: dict[int, str | None], client_id: int) -> str:
    return names.get(client_id) or f"client {client_id}"


def _shown(value: Any) -> str:
    return "(none)" if value is None else value_text(value)
