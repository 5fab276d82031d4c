"""QuickBooks tax codes for the Halo clients trueup bills, where the company needs one on every
line: a company outside the US (Canada's GST/HST, the UK's VAT, Australia's GST), which refuses a
sales line without one ("Make sure all your transactions have a GST/HST rate before you save").

A client's invoices go out with one tax code on every line, the one mapped here. The offer is the
client's QuickBooks customer's own default tax code (DefaultTaxCodeRef, kept by QuickBooks for
this very purpose); no name is guessed, since a code follows the client's place of supply, not
its name. Several clients share a code, unlike customers and items. A US company computes sales
tax itself (Automated Sales Tax): it needs no code and gets none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, insert, select

from trueup.core.mapping.books.engine import STATUS_ORDER, BookMappingError
from trueup.core.mapping.books.reading import QBO
from trueup.core.settings.operator import current_user
from trueup.core.store import tables as m
from trueup.core.store.database import Database


@dataclass(frozen=True)
class QboCompanyFacts:
    """What `trueup qbo refresh` read of the company."""

    country: str | None
    home_currency: str | None
    multicurrency: bool | None
    # Preferences' SalesFormsPrefs.CustomTxnNumbers: off, QuickBooks numbers invoices itself.
    custom_numbers: bool | None = None

    @property
    def needs_tax_codes(self) -> bool:
        return self.country not in (None, "US")


@dataclass(frozen=True)
class TaxCodeRow:
    client_id: int
    client_name: str
    status: str  # mapped | suggested | unmapped | stale
    tax_code_id: str | None  # the mapping, or the offer
    tax_code_name: str | None
    reason: str


@dataclass(frozen=True)
class TaxCode:
    id: str
    name: str
    active: bool


def company_facts(conn: Connection) -> QboCompanyFacts | None:
    """The company as last refreshed; None before the first refresh that read it."""
    table = m.table_of(m.QboCompany).c
    custom = func.json_extract(table.raw, "$.Preferences.SalesFormsPrefs.CustomTxnNumbers")
    row = conn.execute(
        select(table.country, table.home_currency, table.multicurrency, custom)
    ).first()
    if row is None:
        return None
    country, currency, multicurrency, numbers = row
    return QboCompanyFacts(
        country, currency, multicurrency, None if numbers is None else bool(numbers)
    )


def tax_codes(conn: Connection) -> dict[str, TaxCode]:
    table = m.table_of(m.QboTaxCode).c
    return {
        r.id: TaxCode(r.id, r.name or f"tax code {r.id}", r.active is not False)
        for r in conn.execute(select(table.id, table.name, table.active))
    }


def live_tax_codes(conn: Connection) -> dict[int, str]:
    """For the poster: each client's mapped tax code, where QuickBooks still has it active."""
    codes = tax_codes(conn)
    return {
        client: code
        for client, (code, _, _) in mappings(conn).items()
        if code in codes and codes[code].active
    }


def tax_code_rows(db: Database) -> list[TaxCodeRow]:
    """Every billed client with its tax code or the offer, those needing the operator first;
    none when the company needs no codes (in the US, or not refreshed yet)."""
    with db.read() as conn:
        return _rows(conn)


def accept_tax_codes(db: Database) -> list[TaxCodeRow]:
    """Map every client offered its customer's default tax code, in one transaction."""
    with db.write() as conn:
        rows = [r for r in _rows(conn) if r.status == "suggested"]
        for row in rows:
            assert row.tax_code_id is not None
            write_tax_code(conn, row.client_id, row.tax_code_id, "customer", row.reason)
    return rows


def set_tax_code(db: Database, client_id: int, code_id: str) -> str:
    """Put `code_id` on every line of the client's invoices; says what it did."""
    with db.write() as conn:
        names = QBO.clients.side(conn).sources
        if client_id not in names:
            raise BookMappingError(f"unknown Halo client {client_id}: sync, or check the id")
        code = tax_codes(conn).get(code_id)
        if code is None:
            raise BookMappingError(
                f"unknown QuickBooks tax code {code_id}: refresh with `trueup qbo refresh`, "
                "or check the id (`trueup qbo tax codes` lists them)"
            )
        if not code.active:
            raise BookMappingError(f"QuickBooks tax code {code_id} ({code.name}) is inactive")
        write_tax_code(conn, client_id, code_id, "manual", "set by hand")
    return (
        f"mapped Halo client {client_id} ({names[client_id].name}) to QuickBooks tax code "
        f"{code_id} ({code.name})"
    )


def unset_tax_code(db: Database, client_id: int) -> bool:
    """Forget the client's tax code; False when it had none."""
    table = m.table_of(m.QboTaxCodeMapping)
    with db.write() as conn:
        return bool(conn.execute(delete(table).where(table.c.client_id == client_id)).rowcount)


def _rows(conn: Connection) -> list[TaxCodeRow]:
    facts = company_facts(conn)
    if facts is None or not facts.needs_tax_codes:
        return []
    side = QBO.clients.side(conn)
    codes, mapped = tax_codes(conn), mappings(conn)
    customers = m.table_of(m.QboCustomer).c
    defaults = {r.id: r.tax_code for r in conn.execute(select(customers.id, customers.tax_code))}
    rows = []
    for client_id in side.billed:
        name = side.halo_name(client_id)
        if client_id in mapped:
            code_id, source, reason = mapped[client_id]
            code = codes.get(code_id)
            if code is None or not code.active:
                state = "no longer exists" if code is None else "is inactive"
                rows.append(
                    TaxCodeRow(
                        client_id,
                        name,
                        "stale",
                        code_id,
                        code.name if code else None,
                        f"QuickBooks tax code {code_id} {state}: map it again",
                    )
                )
                continue
            said = reason or ("the customer's default" if source == "customer" else "set by hand")
            rows.append(TaxCodeRow(client_id, name, "mapped", code_id, code.name, said))
            continue
        customer = side.mappings.get(client_id)
        offered = codes.get(defaults.get(customer.target) or "") if customer else None
        if customer is not None and offered is not None and offered.active:
            reason = f"the default tax code of QuickBooks customer {customer.target}"
            rows.append(TaxCodeRow(client_id, name, "suggested", offered.id, offered.name, reason))
        else:
            why = (
                "no QuickBooks customer yet"
                if customer is None
                else "its QuickBooks customer has no active default tax code"
            )
            rows.append(TaxCodeRow(client_id, name, "unmapped", None, None, why))
    return sorted(rows, key=lambda r: (STATUS_ORDER[r.status], r.client_name.casefold()))


def mappings(conn: Connection) -> dict[int, tuple[str, str, str]]:
    """Client -> (tax code, source, reason), as mapped."""
    table = m.table_of(m.QboTaxCodeMapping).c
    query = select(table.client_id, table.tax_code_id, table.source, table.reason)
    return {r.client_id: (r.tax_code_id, r.source, r.reason) for r in conn.execute(query)}


def write_tax_code(
    conn: Connection, client_id: int, code_id: str, source: str, reason: str
) -> None:
    """Set the client's code, saying how it was chosen, by whom and when."""
    table = m.table_of(m.QboTaxCodeMapping)
    conn.execute(delete(table).where(table.c.client_id == client_id))
    conn.execute(
        insert(table).values(
            client_id=client_id,
            tax_code_id=code_id,
            source=source,
            reason=reason,
            created_at=datetime.now(UTC),
            created_by=current_user(),
        )
    )
