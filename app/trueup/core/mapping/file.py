"""Mappings as a readable file for version control: `trueup map export` / `trueup map import`.

TOML (or JSON when the file name ends in .json), sorted by id so a diff shows only what changed.
Ids are what count; names ride along for people reading the file and are ignored on import.
An import is all or nothing: any unknown id, malformed entry or new mapping to an inactive
Halo client or item (which `trueup map set` refuses too) refuses the whole file, listing every
problem, and writes nothing. It sets the mappings the file holds and leaves others as they
are; the changes form one journal batch, so one undo takes the whole import back.

A mapping whose company, product, client or item the store no longer has (a company that left
Pax8, an item deleted in Halo), or whose client or item Halo marks inactive, is exported marked
`stale = "..."` saying which, and an import skips marked entries with a line each: the file a
store exports always imports.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from trueup.core.errors import TrueupError
from trueup.core.mapping.journal import (
    COMPANY,
    PRODUCT,
    Key,
    new_batch,
    read_mapping,
    target_of,
    write_mapping,
)
from trueup.core.store import tables as m
from trueup.core.store.database import Database
from trueup.core.store.replaced import write_private
from trueup.core.values.text import toml_string, visible

FORMAT_VERSION = 1
_HEADER = (
    "# trueup mappings: Pax8 companies to Halo clients, Pax8 products to Halo items.\n"
    "# `trueup map import FILE` reads this back, all or nothing. The ids are what count;\n"
    "# the names are here for people reading a diff and are ignored on import.\n"
)


class MappingImportError(TrueupError):
    """The file was refused whole; `problems` lists every reason."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:20]) + (
            f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        )
        super().__init__(f"{path}: import refused, nothing written: {shown}")


@dataclass(frozen=True)
class ImportResult:
    changed: int  # mappings set or changed (identical ones are left alone)
    skipped: list[str]  # the entries marked stale, one line each


def export_mappings(db: Database, path: Path) -> int:
    """Write every mapping to `path`; returns how many."""
    text, count = mappings_text(db, path)
    write_private(path, text)
    return count


def mappings_text(db: Database, path: Path = Path("-")) -> tuple[str, int]:
    """Every mapping as `export_mappings` writes it to `path` (its suffix chooses JSON or
    TOML; `-`, stdout, is TOML), and how many."""
    with db.read() as conn:
        document = _document(conn)
    count = len(document["companies"]) + len(document["products"])
    return document_text(path, _HEADER, document), count


def import_mappings(db: Database, path: Path) -> ImportResult:
    """Set the mappings in `path`, skipping those marked stale."""
    skipped: list[str] = []
    entries = _entries(path, read_document(path, "companies and products"), skipped)
    with db.write() as conn:
        _check_ids(conn, path, entries)
        batch = new_batch()
        changed = 0
        for key, target, ignored in entries:
            status = "ignored" if ignored else "mapped"
            changed += write_mapping(
                conn, key, target, action="import", status=status, source="import", batch=batch
            )
    return ImportResult(changed, skipped)


# --- export -----------------------------------------------------------------------------------


def _document(conn: Connection) -> dict[str, Any]:
    names = _names(conn)
    known, inactive = _known(conn), _inactive(conn)
    companies = []
    for r in conn.execute(select(m.table_of(m.CompanyMapping)).order_by("company_id")):
        entry: dict[str, Any] = {"company_id": r.company_id}
        _name(entry, "company", names["company"].get(r.company_id))
        if r.status == "ignored":
            entry["ignored"] = True
        else:
            entry["client_id"] = r.client_id
            _name(entry, "client", names["client"].get(r.client_id))
        ids = [("Pax8 company", r.company_id), ("Halo client", r.client_id)]
        _mark_stale(entry, known, inactive, ids)
        companies.append(entry)
    products = []
    table = m.table_of(m.ProductMapping)
    for r in conn.execute(
        select(table).order_by(
            table.c.product_id, table.c.client_id.is_not(None), table.c.client_id
        )
    ):
        entry = {"product_id": r.product_id}
        _name(entry, "sku", names["sku"].get(r.product_id))
        _name(entry, "product", names["product"].get(r.product_id))
        if r.client_id is not None:
            entry["client_id"] = r.client_id
            _name(entry, "client", names["client"].get(r.client_id))
        if r.status == "ignored":
            entry["ignored"] = True
        else:
            entry["item_id"] = r.item_id
            _name(entry, "item", names["item"].get(r.item_id))
        used = [("Pax8 product", r.product_id), ("Halo client", r.client_id)]
        # An override's client inactive is no reason: `map set` takes one (the item must be active).
        items = {"Halo item": inactive["Halo item"]}
        _mark_stale(entry, known, items, [*used, ("Halo item", r.item_id)])
        products.append(entry)
    return {"version": FORMAT_VERSION, "companies": companies, "products": products}


def _mark_stale(
    entry: dict[str, Any],
    known: dict[str, set[Any]],
    inactive: dict[str, set[Any]],
    ids: list[tuple[str, Any]],
) -> None:
    """Say in the entry what it names that is gone, or `inactive` (a target `map set` refuses)."""
    stale = [
        f"{what} {value} is {'inactive' if value in known[what] else 'gone'}"
        for what, value in ids
        if value is not None and (value not in known[what] or value in inactive.get(what, ()))
    ]
    if stale:
        entry["stale"] = "; ".join(stale)


def _name(entry: dict[str, Any], field: str, value: str | None) -> None:
    if value:
        entry[field] = value


def _names(conn: Connection) -> dict[str, dict[Any, str]]:
    def pairs(model: Any, column: str) -> dict[Any, str]:
        table = m.table_of(model)
        return {k: v for k, v in conn.execute(select(table.c.id, table.c[column])) if v}

    return {
        "company": pairs(m.Pax8Company, "name"),
        "client": pairs(m.HaloClient, "name"),
        "product": pairs(m.Pax8Product, "name"),
        "sku": pairs(m.Pax8Product, "sku"),
        "item": pairs(m.HaloItem, "name"),
    }


def document_text(path: Path, header: str, document: dict[str, Any]) -> str:
    """A mapping document as JSON (a .json name) or TOML: `version`, then each list of
    entries as an array of tables, in the order the document holds them."""
    if path.suffix.lower() == ".json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    lines = [header, f"version = {document['version']}"]
    for table, entries in document.items():
        for entry in entries if isinstance(entries, list) else ():
            lines.append(f"\n[[{table}]]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in entry.items())
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return toml_string(str(value))


# --- import -----------------------------------------------------------------------------------


def read_document(path: Path, holding: str) -> dict[str, Any]:
    """The object a mapping file holds (`holding`: what, for the refusal), or
    MappingImportError saying why it cannot be read."""
    try:  # utf-8-sig: an editor that saves UTF-8 with a BOM (Notepad) leaves it at the start
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingImportError(path, [f"cannot read it: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise MappingImportError(path, ["it is not UTF-8 text"]) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingImportError(path, [f"not valid {_format(path)}: {exc}"]) from None
    except RecursionError:
        raise MappingImportError(path, ["nested deeper than a mapping file is"]) from None
    except ValueError:  # a number of thousands of digits: Python refuses to read it
        raise MappingImportError(
            path, ["a number of thousands of digits, which no id has"]
        ) from None
    if not isinstance(data, dict):
        raise MappingImportError(path, [f"expected an object with {holding}"])
    return data


def _format(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "TOML"


Entry = tuple[Key, int | None, bool]  # (which mapping, target, ignored)


# What an export writes: anything else is a typo that would be skipped without a word (a
# `[[company]]` table, a `clientt` key), so the file is refused naming it.
_TOP = ("version", "companies", "products")
_KEYS = {  # the keys that count first: a typo is said as one of them, never as a name
    COMPANY: ("company_id", "client_id", "ignored", "stale"),
    PRODUCT: ("product_id", "item_id", "client_id", "ignored", "stale"),
}
_NAMES = {COMPANY: ("company", "client"), PRODUCT: ("sku", "product", "client", "item")}


def _unknown(
    keys: Any, known: tuple[str, ...], where: str, names: tuple[str, ...] = ()
) -> list[str]:
    found = []
    for key in keys:
        if key not in known and key not in names:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            found.append(f"{where}unknown key {visible(str(key))!r}{hint}")
    return found


def _entries(path: Path, data: dict[str, Any], skipped: list[str]) -> list[Entry]:
    problems: list[str] = _unknown(data, _TOP, "")
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        problems.append(f"version {data.get('version')!r} is not {FORMAT_VERSION}")
    entries: list[Entry] = []
    for table, kind in (("companies", COMPANY), ("products", PRODUCT)):
        listed = data.get(table, [])
        if not isinstance(listed, list):
            problems.append(f"'{table}' must be a list")
            continue
        for index, raw in enumerate(listed, 1):
            where = f"{table} #{index}"
            stale = raw.get("stale") if isinstance(raw, dict) else None
            if isinstance(stale, str) and stale.strip():
                named = visible(str(raw.get("company_id") or raw.get("product_id")))
                skipped.append(f"{where} ({named}) skipped: marked stale, {visible(stale.strip())}")
                continue
            entry = _entry(kind, raw, where, problems)
            if entry is not None:
                entries.append(entry)
    seen: set[Key] = set()
    for key, _, _ in entries:
        if key in seen:
            problems.append(f"{_describe_key(key)} is listed twice")
        seen.add(key)
    if problems:
        raise MappingImportError(path, problems)
    return entries


def _entry(kind: str, raw: Any, where: str, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{where} is not a table")
        return None
    unknown = _unknown(raw, _KEYS[kind], f"{where}: ", _NAMES[kind])
    if unknown:
        problems += unknown
        return None
    id_field, target_field = (
        ("company_id", "client_id") if kind == COMPANY else ("product_id", "item_id")
    )
    source_id = raw.get(id_field)
    if not isinstance(source_id, str) or not source_id.strip():
        problems.append(f"{where} has no {id_field}")
        return None
    ignored = raw.get("ignored", False) is True
    target = raw.get(target_field)
    override = raw.get("client_id") if kind == PRODUCT else None
    if override is not None and not _is_id(override):
        problems.append(f"{where}: client_id must be a whole number")
        return None
    if ignored and (target is not None or override is not None):
        problems.append(
            f"{where}: ignored takes no {target_field}" + ("/client_id" if override else "")
        )
        return None
    if not ignored and not _is_id(target):
        problems.append(f"{where}: {target_field} must be a whole number (or ignored = true)")
        return None
    return Key(kind, source_id.strip(), override), None if ignored else target, ignored


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _known(conn: Connection) -> dict[str, set[Any]]:
    """The ids the store has, of each kind a mapping names."""
    return {
        what: set(conn.execute(select(m.table_of(model).c.id)).scalars())
        for what, model in (
            ("Pax8 company", m.Pax8Company),
            ("Pax8 product", m.Pax8Product),
            ("Halo client", m.HaloClient),
            ("Halo item", m.HaloItem),
        )
    }


def _inactive(conn: Connection) -> dict[str, set[int]]:
    """The Halo clients and items the store has that Halo marks inactive."""
    found = {}
    for what, model in (("Halo client", m.HaloClient), ("Halo item", m.HaloItem)):
        table = m.table_of(model)
        found[what] = set(conn.execute(select(table.c.id).where(table.c.inactive)).scalars())
    return found


def _check_ids(conn: Connection, path: Path, entries: list[Entry]) -> None:
    known = _known(conn)
    wanted: dict[tuple[str, Any], None] = {}  # ordered set, in file order
    for key, target, _ in entries:
        if key.kind == COMPANY:
            wanted[("Pax8 company", key.id)] = None
            if target is not None:
                wanted[("Halo client", target)] = None
        else:
            wanted[("Pax8 product", key.id)] = None
            if key.client_id is not None:
                wanted[("Halo client", key.client_id)] = None
            if target is not None:
                wanted[("Halo item", target)] = None
    unknown = [f"unknown {what} {value}" for what, value in wanted if value not in known[what]]
    # As `trueup map set` refuses them: an inactive target bills nobody (its row reads stale).
    # A mapping the store already holds is left as it is: nothing to refuse.
    inactive = _inactive(conn)
    for key, target, _ in entries:
        what = "Halo client" if key.kind == COMPANY else "Halo item"
        if target in inactive[what] and _target_now(conn, key) != target:
            unknown.append(f"{_describe_key(key)}: {what} {target} is inactive")
    if unknown:
        raise MappingImportError(path, unknown)


def _target_now(conn: Connection, key: Key) -> int | None:
    now = read_mapping(conn, key)
    return target_of(key, now) if now is not None and now["status"] == "mapped" else None


def _describe_key(key: Key) -> str:
    if key.kind == COMPANY:
        return f"company {key.id}"
    return f"product {key.id}" + (f" for client {key.client_id}" if key.client_id else "")
