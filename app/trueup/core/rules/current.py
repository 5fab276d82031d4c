"""The billing rules in force: imported whole from a TOML file, or changed one key at a time.

Every change stores a new RulesDocument (the newest is in force), so the history of the rules is
kept and a batch can name the rules it was built with. A change is validated whole, against the
parser and against the store's Halo clients and Pax8 products, before anything is written.
An import keeps the operator's text (and its comments) as given; a key changed from the
workbench stores the canonical text of the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from trueup.core.billing.rules import (
    CHOICES,
    CLIENT_ONLY,
    DEFAULT_RULES,
    KEYS,
    KINDS,
    LINE_KEYS,
    PRICE_POLICIES,
    PRORATION_POLICIES,
    USAGE_PRICE_POLICIES,
    LineRule,
    Policy,
    Rules,
    RulesError,
)
from trueup.core.rules.effect import IdleKey, idle_keys, taxed_keys
from trueup.core.rules.text import check_ids, dump_rules, parse_located, parse_rules
from trueup.core.rules.values import value_from_text, value_text
from trueup.core.settings.operator import current_user
from trueup.core.store.database import Database
from trueup.core.store.tables import HaloClient, Pax8Product, RulesDocument, table_of

__all__ = [
    "CHOICES",
    "CLIENT_ONLY",
    "DEFAULT_RULES",
    "KEYS",
    "KINDS",
    "LINE_KEYS",
    "MAX_RULES_BYTES",
    "PRICE_POLICIES",
    "PRORATION_POLICIES",
    "USAGE_PRICE_POLICIES",
    "LineRule",
    "Policy",
    "Rules",
    "RulesError",
    "RulesSummary",
    "current_rules",
    "dump_rules",
    "export_rules",
    "idle_in_force",
    "import_rules",
    "parse_rules",
    "rules_of",
    "set_client_override",
    "set_default",
    "set_line_override",
    "summarise",
    "too_big",
    "value_from_text",
    "value_text",
]

_DOCS = table_of(RulesDocument)
# The largest rules file taken in. An MSP's rules for 2,000 clients, each with three client
# keys and three [[lines]] of four keys, export to 1.4 MB (three lines of two keys: 0.8 MB);
# past 4 MiB a file is not a rules file, and one of unknown client ids that size already
# takes seconds to check. Kept whole in the rules history, a bigger one would be stored whole.
MAX_RULES_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class RulesSummary:
    """One line's worth about a rules document, for `rules import` and the workbench."""

    id: int | None
    imported_at: datetime | None
    imported_by: str | None
    clients: int
    lines: int
    rates: int

    def __str__(self) -> str:
        where = "built-in defaults" if self.id is None else f"rules #{self.id}"
        counts = (
            f"overrides for {_plural(self.clients, 'client')} and "
            f"{_plural(self.lines, 'line')}, {_plural(self.rates, 'rate')}"
        )
        if self.imported_at is None:
            return f"{where}: {counts}"
        stamp = self.imported_at.strftime("%Y-%m-%d %H:%M UTC")
        return f"{where}: {counts}; by {self.imported_by} at {stamp}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- reading ----------------------------------------------------------------------------------


def current_rules(db: Database) -> tuple[Rules, int | None]:
    """The rules in force and their RulesDocument id (DEFAULT_RULES and None before any)."""
    with db.read() as conn:
        row = _newest(conn)
    return (
        (DEFAULT_RULES, None)
        if row is None
        else (parse_rules(row["text"], strict=False), row["id"])
    )


def rules_of(conn: Connection, rules_id: int | None) -> Rules:
    """The rules of a stored document (DEFAULT_RULES for None: before any was imported)."""
    if rules_id is None:
        return DEFAULT_RULES
    text = conn.execute(select(_DOCS.c.text).where(_DOCS.c.id == rules_id)).scalar_one()
    return parse_rules(text, strict=False)


def export_rules(db: Database) -> str:
    """The text in force, as imported (comments kept), or the defaults spelled out."""
    with db.read() as conn:
        row = _newest(conn)
    return dump_rules(DEFAULT_RULES) if row is None else str(row["text"])


def idle_in_force(db: Database) -> list[IdleKey]:
    """The keys of the rules in force that change no figure, and a tax no destination is sent
    (effect.taxed_keys), each with its line in the text, in the text's order."""
    with db.read() as conn:
        row = _newest(conn)
    if row is None:
        return []
    rules, locate = parse_located(row["text"], strict=False)
    found = idle_keys(rules, locate) + taxed_keys(rules, locate)
    return sorted(found, key=lambda key: key.line or 0)


def summarise(db: Database) -> RulesSummary:
    with db.read() as conn:
        row = _newest(conn)
    if row is None:
        return RulesSummary(None, None, None, 0, 0, 0)
    rules = parse_rules(row["text"], strict=False)
    stamp = row["imported_at"]
    return RulesSummary(
        row["id"],
        stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp,
        row["imported_by"],
        len(rules.clients),
        len(rules.lines),
        len(rules.rates),
    )


def _newest(conn: Connection) -> RowMapping | None:
    query = select(_DOCS).order_by(_DOCS.c.id.desc()).limit(1)
    return conn.execute(query).mappings().first()


# --- changing ---------------------------------------------------------------------------------


def import_rules(db: Database, text: str, *, allow_empty: bool = False) -> int:
    """Put a rules file in force, all or nothing; the id of its RulesDocument.

    RulesError lists every problem: in the text, and every client id and [[lines]] product the
    store does not know. A file that sets nothing (empty, or comments only) would put every
    built-in default back: refused, saying what it would remove, unless `allow_empty`.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_RULES_BYTES:
        raise RulesError([too_big(size)])
    rules, locate = parse_located(text)
    if not allow_empty and not _sets_anything(text):
        raise RulesError(
            [
                f"the file sets nothing: importing it would put the built-in defaults in "
                f"place of {summarise(db)}; import it with --allow-empty if that is meant"
            ]
        )
    with db.write() as conn:
        client_known, product_known = _known(conn)
        check_ids(rules, locate, client_known, product_known)
        return _store(conn, text)


def too_big(size: int | None) -> str:
    """Why a rules file of `size` bytes (None: more than the bound, as read from a pipe) is
    refused, in one line."""
    said = f"is {size:,} bytes" if size is not None else "holds more"
    return (
        f"the file {said}, more than a rules file holds ({MAX_RULES_BYTES:,} bytes at most; "
        "2,000 clients' rules take about 1.4 MB): is it the rules file?"
    )


def set_default(db: Database, key: str, value: str | None) -> None:
    """Change one default; None puts back trueup's built-in value."""
    parsed = _typed(key, value, KEYS)
    with db.write() as conn:
        rules = _in_force(conn)
        built_in = Policy().value(key)
        new = replace(rules.defaults, **{key: built_in if parsed is None else parsed})
        _save(conn, rules, replace(rules, defaults=new))


def set_client_override(db: Database, client_id: int, key: str, value: str | None) -> None:
    """Set one key for one Halo client; None removes the override (the default applies)."""
    parsed = _typed(key, value, KEYS)
    with db.write() as conn:
        rules = _in_force(conn)
        if parsed is not None:
            _known_client(conn, client_id)
        overrides = _changed(rules.clients.get(client_id, {}), key, parsed)
        clients = {c: o for c, o in rules.clients.items() if c != client_id}
        if overrides:
            clients[client_id] = overrides
        _save(conn, rules, replace(rules, clients=dict(sorted(clients.items()))))


def set_line_override(
    db: Database, client_id: int, product: str, key: str, value: str | None
) -> None:
    """Set one key for one client's line of a Pax8 product (id or sku); None removes it.

    An existing [[lines]] entry naming the product by its id or its sku is the one changed.
    """
    parsed = _typed(key, value, LINE_KEYS)
    with db.write() as conn:
        rules = _in_force(conn)
        names = _product_names(conn, product)
        if parsed is not None:
            _known_client(conn, client_id)
            if not names:
                raise RulesError([f"no Pax8 product has the id or sku {product!r}; sync first"])
        names.add(product)
        lines = list(rules.lines)
        index = next(
            (i for i, r in enumerate(lines) if r.client_id == client_id and r.product in names),
            None,
        )
        current = lines[index].overrides if index is not None else {}
        overrides = _changed(current, key, parsed)
        rule = LineRule(
            client_id, lines[index].product if index is not None else product, overrides
        )
        if index is None:
            lines.append(rule)
        elif overrides:
            lines[index] = rule
        else:
            del lines[index]
        _save(conn, rules, replace(rules, lines=tuple(r for r in lines if r.overrides)))


def _typed(key: str, value: str | None, allowed: tuple[str, ...]) -> Any:
    if key not in allowed:
        where = "per client, not per line" if key in CLIENT_ONLY else "not a rules key"
        raise RulesError([f"{key}: {where}; the keys are {', '.join(allowed)}"])
    return None if value is None else value_from_text(key, value)


def _changed(overrides: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    changed = {k: v for k, v in overrides.items() if k != key}
    if value is not None:
        changed[key] = value
    return changed


def _in_force(conn: Connection) -> Rules:
    row = _newest(conn)
    return DEFAULT_RULES if row is None else parse_rules(row["text"], strict=False)


def _save(conn: Connection, old: Rules, new: Rules) -> None:
    """Store the new rules if they differ, validated by the same parser an import goes through."""
    if new == old:
        return
    text = dump_rules(new)
    parse_rules(text, strict=False)  # the value changed was checked strictly as it was typed
    _store(conn, text)


def _store(conn: Connection, text: str) -> int:
    result = conn.execute(
        insert(_DOCS).values(text=text, imported_at=datetime.now(UTC), imported_by=current_user())
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _known(conn: Connection) -> tuple[Callable[[int], bool], Callable[[str], bool]]:
    clients = set(conn.execute(select(table_of(HaloClient).c.id)).scalars())
    products = table_of(Pax8Product)
    names: set[str] = set()
    for product_id, sku in conn.execute(select(products.c.id, products.c.sku)):
        names.add(product_id)
        if sku:
            names.add(sku)
    return clients.__contains__, names.__contains__


def _known_client(conn: Connection, client_id: int) -> None:
    clients = table_of(HaloClient)
    if conn.execute(select(clients.c.id).where(clients.c.id == client_id)).first() is None:
        raise RulesError([f"unknown Halo client {client_id}; sync, or check the id"])


def _product_names(conn: Connection, product: str) -> set[str]:
    """The id and sku of the Pax8 product known by `product` (its id or sku); empty if none."""
    products = table_of(Pax8Product)
    query = select(products.c.id, products.c.sku).where(
        (products.c.id == product) | (products.c.sku == product)
    )
    return {name for row in conn.execute(query) for name in row if name}


def _sets_anything(text: str) -> bool:
    """Whether the text holds a key or a table at all (not only blanks and comments)."""
    return any(line.strip() and not line.strip().startswith("#") for line in text.splitlines())
