"""Each client's QuickBooks tax code as a readable file: `trueup qbo tax export|import FILE`.

The same TOML (or JSON, for a .json name) as `trueup map export`, sorted by client: the ids
count, the names ride along for people reading a diff. An import is all or nothing: an unknown
client, a client listed twice, an unknown or inactive tax code or a malformed entry refuses the
whole file, every problem listed, and nothing is written. It sets the codes the file holds and
leaves the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trueup.core.mapping.books.reading import QBO
from trueup.core.mapping.books.tax_codes import mappings, tax_codes, write_tax_code
from trueup.core.mapping.file import MappingImportError, document_text, read_document
from trueup.core.store.database import Database
from trueup.core.store.replaced import write_private

FORMAT_VERSION = 1
_HEADER = (
    "# trueup: the QuickBooks tax code on every line of each Halo client's invoices.\n"
    "# `trueup qbo tax import FILE` reads this back, all or nothing. The ids are what count;\n"
    "# the names are here for people reading a diff and are ignored on import.\n"
)


def export_tax_codes(db: Database, path: Path) -> int:
    """Write every client's tax code to `path`; returns how many."""
    text, count = tax_codes_text(db, path)
    write_private(path, text)
    return count


def tax_codes_text(db: Database, path: Path = Path("-")) -> tuple[str, int]:
    """Every client's tax code as `export_tax_codes` writes it to `path` (its suffix chooses
    JSON or TOML; `-`, stdout, is TOML), and how many."""
    with db.read() as conn:
        names, codes = QBO.clients.side(conn).sources, tax_codes(conn)
        entries = []
        for client_id, (code_id, _, _) in sorted(mappings(conn).items()):
            entry: dict[str, Any] = {"client_id": client_id}
            if client_id in names:
                entry["client"] = names[client_id].name
            entry["tax_code_id"] = code_id
            if code_id in codes:
                entry["tax_code"] = codes[code_id].name
            entries.append(entry)
    document = {"version": FORMAT_VERSION, "tax_codes": entries}
    return document_text(path, _HEADER, document), len(entries)


def import_tax_codes(db: Database, path: Path) -> int:
    """Set the codes `path` holds; returns how many it set."""
    listed = read_document(path, "tax_codes").get("tax_codes")
    if not isinstance(listed, list):
        raise MappingImportError(path, ["expected a list of tax_codes"])
    with db.write() as conn:
        clients, codes = QBO.clients.side(conn).sources, tax_codes(conn)
        problems, wanted = [], []
        first: dict[int, int] = {}  # client -> the entry naming it first
        for number, entry in enumerate(listed, start=1):
            where = f"tax_codes #{number}"
            client = entry.get("client_id") if isinstance(entry, dict) else None
            code = entry.get("tax_code_id") if isinstance(entry, dict) else None
            if type(client) is not int or not isinstance(code, str):
                problems.append(f"{where}: needs client_id (a number) and tax_code_id (text)")
            elif client in first:  # which one was meant is not for trueup to guess
                also = first[client]
                problems.append(f"{where}: Halo client {client} is listed twice (also #{also})")
            elif client not in clients:
                problems.append(f"{where}: no Halo client {client}")
            elif code not in codes:
                problems.append(f"{where}: no QuickBooks tax code {code!r}")
            elif not codes[code].active:
                problems.append(f"{where}: QuickBooks tax code {code} is inactive")
            else:
                wanted.append((client, code))
            if type(client) is int:
                first.setdefault(client, number)
        if problems:
            raise MappingImportError(path, problems)
        for client, code in wanted:
            write_tax_code(conn, client, code, "import", f"imported from {path.name}")
    return len(wanted)
