"""Turning a batch's invoice into the document a destination receives.

`halo-invoice`, `qbo` and `xero` get the invoice as the batch has it, line for line.
`halo-recurring` gets the true-up of the client's recurring invoice: each synced item's
`qty_order` set to the Pax8 seats on the day counted (and its price when the price policy is not
`halo`), and a one-off invoice for the difference between what the month costs (the batch) and
what the recurring invoice bills for it, plus usage, which a recurring invoice never carries.
Lines the rules keep manual (vendor sync off) are not touched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sqlalchemy import Connection
from sqlmodel import SQLModel

from trueup.core.batch.body import LineView, StoredInvoice
from trueup.core.billing.rules import Rules
from trueup.core.diff.seats import DiffRow
from trueup.core.mapping.books.tax_codes import QboCompanyFacts, company_facts, live_tax_codes
from trueup.core.mapping.index import MappingIndex
from trueup.core.posting.halo_invoice import wire_price
from trueup.core.posting.qbo import overlong_lines
from trueup.core.posting.sink import (
    Document,
    DocumentLine,
    RecurringChange,
    RecurringLineChange,
)
from trueup.core.settings.config import XeroSettings
from trueup.core.store import tables as m
from trueup.core.store.books_company import other_company, stored_realm
from trueup.core.values.months import Month
from trueup.core.values.text import some

CENT = Decimal("0.01")


@dataclass(frozen=True)
class HaloCatalog:
    """What the documents need from the store besides the batch."""

    nominal_codes: dict[int, str]  # Halo item -> GL code
    manual_items: dict[tuple[int, str], int]  # (client, line description) -> Halo item
    qbo_customers: dict[int, str] = field(default_factory=dict)  # Halo client -> QBO customer
    qbo_items: dict[int, str] = field(default_factory=dict)  # Halo item -> QBO item
    xero_contacts: dict[int, str] = field(default_factory=dict)  # Halo client -> Xero contact
    xero_items: dict[int, XeroLine] = field(default_factory=dict)  # Halo item -> its Xero item
    xero: XeroSettings = field(default_factory=XeroSettings)
    xero_accounts: frozenset[str] = frozenset()  # active account codes (empty: never read)
    xero_revenue_taxes: frozenset[str] = frozenset()  # active tax types a sale may carry
    qbo_company: QboCompanyFacts | None = None  # None: never refreshed
    qbo_currencies: dict[str, str] = field(default_factory=dict)  # QBO customer -> its currency
    qbo_tax_codes: dict[int, str] = field(default_factory=dict)  # Halo client -> live tax code
    # Halo client -> its first active recurring invoice (of its oldest active line): where a
    # true-up adds a line for an item the client's recurring invoices do not bill yet.
    first_recurring: dict[int, int] = field(default_factory=dict)
    # Halo client -> its Xero contact's own sales tax type (AccountsReceivableTaxType), when set
    xero_contact_taxes: dict[int, str] = field(default_factory=dict)
    # The clients Halo listed at the last sync, inactive ones included (None: never read)
    halo_clients: frozenset[int] | None = None
    # The ids the books' last refresh listed (None: never read): a mapping to one gone since
    # (deleted or merged there) would be refused at the books, or worse, name another's.
    # (list, id): a customer and an item may share an id ("5"), each of its own list.
    qbo_listed: frozenset[tuple[str, str]] | None = None  # QuickBooks customers and items
    xero_listed: frozenset[tuple[str, str]] | None = None  # Xero contacts
    # The QuickBooks company the lists and their mappings are of, and the one a post reaches
    # (the configured one), when each is known (store/books_company.py).
    qbo_realms: tuple[str | None, str | None] = (None, None)


@dataclass(frozen=True)
class XeroLine:
    """What a Xero line takes from the mapped Xero item: its code, sales account, tax type."""

    code: str
    account_code: str | None
    tax_type: str | None


def load_catalog(
    conn: Connection, xero: XeroSettings | None = None, qbo_realm: str | None = None
) -> HaloCatalog:
    codes = {
        item: code
        for item, code in conn.exec_driver_sql(
            f"SELECT id, json_extract(raw, '$.nominalcode') FROM {m.table_of(m.HaloItem)}"
        )
        if code
    }
    manual: dict[tuple[int, str], int] = {}
    for client, description, name, item in conn.exec_driver_sql(
        "SELECT h.client_id, l.description, i.name, l.item_id "
        f"FROM {m.table_of(m.HaloRecurringInvoiceLine)} l "
        f"JOIN {m.table_of(m.HaloRecurringInvoice)} h ON h.id = l.invoice_id "
        f"LEFT JOIN {m.table_of(m.HaloItem)} i ON i.id = l.item_id "
        "WHERE l.item_id IS NOT NULL ORDER BY l.id"
    ):
        manual.setdefault((client, description or name or ""), item)
    first_recurring: dict[int, int] = {}
    for client, recurring_id in conn.exec_driver_sql(
        f"SELECT h.client_id, h.id FROM {m.table_of(m.HaloRecurringInvoiceLine)} l "
        f"JOIN {m.table_of(m.HaloRecurringInvoice)} h ON h.id = l.invoice_id "
        "WHERE NOT coalesce(l.inactive, 0) AND NOT coalesce(h.disabled, 0) "
        "AND h.client_id IS NOT NULL ORDER BY l.id"
    ):
        first_recurring.setdefault(client, recurring_id)
    customers: dict[int, str] = dict(
        conn.exec_driver_sql(
            f"SELECT client_id, customer_id FROM {m.table_of(m.QboCustomerMapping)}"
        ).all()
    )
    items: dict[int, str] = dict(
        conn.exec_driver_sql(
            f"SELECT item_id, qbo_item_id FROM {m.table_of(m.QboItemMapping)}"
        ).all()
    )
    contacts: dict[int, str] = dict(
        conn.exec_driver_sql(
            f"SELECT client_id, contact_id FROM {m.table_of(m.XeroContactMapping)}"
        ).all()
    )
    xero_items = {
        item: XeroLine(code, account, tax)
        for item, code, account, tax in conn.exec_driver_sql(
            "SELECT mp.item_id, x.code, x.account_code, x.tax_type "
            f"FROM {m.table_of(m.XeroItemMapping)} mp "
            f"JOIN {m.table_of(m.XeroItem)} x ON x.id = mp.xero_item_id"
        )
    }
    # Xero's API uses no contact default on a line it is sent (developer.xero.com, "Tax and the
    # Xero API"): trueup puts the contact's own on every line itself.
    contact_taxes: dict[int, str] = {
        client: tax
        for client, tax in conn.exec_driver_sql(
            "SELECT mp.client_id, json_extract(c.raw, '$.AccountsReceivableTaxType') "
            f"FROM {m.table_of(m.XeroContactMapping)} mp "
            f"JOIN {m.table_of(m.XeroContact)} c ON c.id = mp.contact_id"
        )
        if tax
    }
    accounts = frozenset(
        conn.exec_driver_sql(
            f"SELECT code FROM {m.table_of(m.XeroAccount)} WHERE coalesce(status, 'ACTIVE') = "
            "'ACTIVE'"
        ).scalars()
    )
    taxes = frozenset(
        conn.exec_driver_sql(
            f"SELECT tax_type FROM {m.table_of(m.XeroTaxRate)} WHERE coalesce(status, 'ACTIVE') "
            "= 'ACTIVE' AND coalesce(revenue, 1)"
        ).scalars()
    )
    currencies = {
        customer: currency
        for customer, currency in conn.exec_driver_sql(
            f"SELECT id, currency FROM {m.table_of(m.QboCustomer)}"
        )
        if currency
    }
    company = company_facts(conn)
    # A US company computes its own tax: a code mapped while it read otherwise is never sent.
    needed = company is not None and company.needs_tax_codes
    return HaloCatalog(
        codes,
        manual,
        customers,
        items,
        contacts,
        xero_items,
        xero or XeroSettings(),
        accounts,
        taxes,
        company,
        currencies,
        live_tax_codes(conn) if needed else {},
        first_recurring,
        xero_contact_taxes=contact_taxes,
        halo_clients=frozenset(
            conn.exec_driver_sql(f"SELECT id FROM {m.table_of(m.HaloClient)}").scalars()
        ),
        qbo_listed=_listed(conn, m.QboCustomer, m.QboItem),
        xero_listed=_listed(conn, m.XeroContact),
        qbo_realms=(stored_realm(conn), qbo_realm or None),
    )


def month_name(month: str) -> str:
    return Month(month).name


def reference_for(month: str, client_id: int, revision: int, destination: str) -> str:
    """Ours, deterministic, at most 21 characters (QBO's DocNumber): TU2611-420, then
    TU2611-420-2 for the invoice posted again after the first was voided. A recurring
    true-up's adjustment invoice is TR2611-420: it lives in Halo beside invoices."""
    prefix = "TR" if destination == "halo-recurring" else "TU"
    base = f"{prefix}{month[2:4]}{month[5:7]}-{client_id}"
    return base if revision == 1 else f"{base}-{revision}"


def adjustment_reference(month: str, client_id: int, number: int, destination: str) -> str:
    """The month's `number`th adjustment for the client: TU2611-420-A1, TU2611-420-A2."""
    return f"{reference_for(month, client_id, 1, destination)}-A{number}"


def invoice_document(
    invoice: StoredInvoice,
    *,
    batch_id: str,
    month: str,
    reference: str,
    destination: str,
    index: MappingIndex,
    catalog: HaloCatalog,
) -> Document:
    """The batch's invoice as it stands, for `halo-invoice` and `qbo`."""
    lines = tuple(
        _document_line(line, invoice.client_id, index, catalog, destination)
        for line in invoice.lines
    )
    return _document(invoice, batch_id, month, reference, lines, catalog, destination)


def recurring_document(
    invoice: StoredInvoice,
    *,
    batch_id: str,
    month: str,
    reference: str,
    index: MappingIndex,
    catalog: HaloCatalog,
    rules: Rules,
    diff_rows: Sequence[DiffRow],
) -> Document:
    """The true-up of the client's recurring invoice and its one-off adjustment invoice.

    Every subscription's adjustment is what the batch bills it less what the recurring invoice
    bills for it (a term billing nothing this month that a recurring line bills is credited),
    so that Halo bills the month at the batch's total, which the ledger records; the lines the
    true-up sets are only synced monthly ones with a Halo item (a term or a line kept manual
    keeps its recurring line as it is)."""
    client_id = invoice.client_id
    by_subscription = {
        line.subscription_id: line
        for line in invoice.lines
        if line.kind == "subscription" and line.subscription_id
    }
    targets: dict[int, list[DiffRow]] = defaultdict(list)
    adjustments: list[DocumentLine] = []
    counted: set[str] = set()
    for row in diff_rows:
        if row.subscription_id is None or row.product_id is None:
            continue  # Halo seats of no subscription: the batch bills their lines as manual
        counted.add(row.subscription_id)
        item = index.item_for(row.product_id, client_id)
        billed = _billed_by_recurring(row)
        line = by_subscription.get(row.subscription_id)
        if line is None:  # nothing due this month (a term between renewals): Halo bills it
            if billed:
                due = _Due(row.product_name, row.subscription_id, Decimal(0), "nothing this month")
                adjustments.append(_adjustment(due, month, item, catalog, billed, row.halo_qty))
            continue
        if (
            item is not None
            and not _is_term(line)
            and rules.for_line(client_id, row.product_id, row.sku).sync
        ):
            targets[item].append(row)
        if line.amount != billed:
            adjustments.append(
                _adjustment(_due_of(line), month, item, catalog, billed, row.halo_qty)
            )
    # A line the seat diff has no row for (billed for some days of the month only) whose item
    # no recurring line of the client bills: the adjustment invoice bills it whole. (One whose
    # item has a recurring line is left to it: which of its seats are this line's is unknown.)
    on_recurring = {h.item_id for row in diff_rows for h in row.halo_lines}
    for subscription_id, line in by_subscription.items():
        item = index.item_for(line.product_id, client_id) if line.product_id else None
        if subscription_id not in counted and line.amount and item not in on_recurring:
            adjustments.append(_adjustment(_due_of(line), month, item, catalog))
    for line in invoice.lines:
        if line.kind == "usage":
            adjustments.append(_document_line(line, client_id, index, catalog, "halo-invoice"))
    first = catalog.first_recurring.get(client_id)
    changes = _recurring_changes(targets, by_subscription, first)
    if not changes and not adjustments and first is not None:
        # Nothing to change: the month is billed by the recurring invoice as it is, named so
        # the journal holds its id (a change of no line sends nothing).
        changes = (RecurringChange(first, ()),)
    return _document(
        invoice,
        batch_id,
        month,
        reference,
        tuple(adjustments),
        catalog,
        "halo-recurring",
        recurring=changes,
    )


def _is_term(line: LineView) -> bool:
    """Annual and multi-year terms are billed when the term is, not by the monthly recurring
    invoice's seat count: their recurring lines are left as they are."""
    return line.policy.split(" · ")[0].endswith(" term")


def _halo_priced(line: LineView) -> bool:
    parts = line.policy.split(" · ")
    return len(parts) > 1 and parts[1].startswith("halo")


def _billed_by_recurring(row: DiffRow) -> Decimal:
    """What the recurring invoice bills the month for this subscription: its seats at its price."""
    price = next((h.unit_price for h in row.halo_lines if h.unit_price is not None), None)
    return (row.halo_qty * (price or Decimal(0))).quantize(CENT, ROUND_HALF_UP)


class _Due(NamedTuple):
    """What the batch bills a subscription for the month, and under which policy."""

    description: str
    subscription_id: str | None
    amount: Decimal
    policy: str


def _due_of(line: LineView) -> _Due:
    return _Due(line.description, line.subscription_id, line.amount, line.policy)


def _adjustment(
    due: _Due,
    month: str,
    item: int | None,
    catalog: HaloCatalog,
    billed: Decimal = Decimal(0),
    seats: Decimal = Decimal(0),
) -> DocumentLine:
    """What is due less `billed`, what `seats` on the recurring invoice bill the month."""
    difference = due.amount - billed
    text = (
        f"{due.description}, {month_name(month)} true-up: due {due.amount} "
        f"({due.policy}) less {billed} on the recurring invoice "
        f"({seats.normalize():f} seats)"
    )
    return DocumentLine(
        kind="adjustment",
        description=text,
        quantity=Decimal(1),
        unit_price=difference,
        amount=difference,
        subscription_id=due.subscription_id,
        halo_item_id=item,
        nominal_code=None if item is None else catalog.nominal_codes.get(item),
    )


def _recurring_changes(
    targets: Mapping[int, list[DiffRow]], lines: Mapping[str, LineView], first: int | None
) -> tuple[RecurringChange, ...]:
    """Per recurring invoice, the lines to set: an item's first line takes the seats Pax8
    counts less what the item's other lines already bill; an item with no line gets one, on
    the recurring invoice of a synced item's line, else on the client's `first` (with none,
    the adjustment invoice alone bills it)."""
    per_invoice: dict[int, list[RecurringLineChange]] = defaultdict(list)
    fallback: int | None = None
    for item, rows in sorted(targets.items()):
        seats = sum((r.pax8_qty for r in rows), Decimal(0))
        halo_lines = sorted({h.line_id: h for r in rows for h in r.halo_lines}.values(),
                            key=lambda h: h.line_id)  # fmt: skip
        first_line = lines[rows[0].subscription_id or ""]
        price = None if _halo_priced(first_line) else first_line.unit_price_exact
        if halo_lines:
            head, rest = halo_lines[0], halo_lines[1:]
            fallback = fallback if fallback is not None else head.invoice_id
            quantity = max(seats - sum((h.quantity for h in rest), Decimal(0)), Decimal(0))
            # Halo holds the price as it was sent (4 places: 1.0763 for 1.07625): compared so.
            if quantity == head.quantity and (
                price is None or wire_price(price) == head.unit_price
            ):
                continue
            per_invoice[head.invoice_id].append(
                RecurringLineChange(
                    head.line_id,
                    item,
                    head.description or first_line.description,
                    quantity,
                    price,
                    head.quantity,
                    head.unit_price,
                )
            )
        else:
            per_invoice[0].append(
                RecurringLineChange(
                    None,
                    item,
                    first_line.description,
                    seats,
                    first_line.unit_price_exact,
                    Decimal(0),
                    None,
                )
            )
    added = per_invoice.pop(0, [])
    if fallback is None:
        fallback = first
    if added and fallback is not None:
        per_invoice[fallback].extend(added)
    return tuple(
        RecurringChange(invoice_id, tuple(changes))
        for invoice_id, changes in sorted(per_invoice.items())
    )


def _document_line(
    line: LineView,
    client_id: int,
    index: MappingIndex,
    catalog: HaloCatalog,
    destination: str,
) -> DocumentLine:
    if line.product_id:
        item = index.item_for(line.product_id, client_id)
    else:
        item = catalog.manual_items.get((client_id, line.description))
    xero = catalog.xero_items.get(item) if destination == "xero" and item else None
    settings = catalog.xero
    # A prorated quantity (17.9667) with the seats and days it is made of, for the client.
    words = line.proration
    return DocumentLine(
        kind=line.kind,
        description=f"{line.description} ({words})" if words else line.description,
        quantity=line.quantity,
        unit_price=line.unit_price_exact,
        amount=line.amount,
        subscription_id=line.subscription_id,
        halo_item_id=item,
        nominal_code=None if item is None else catalog.nominal_codes.get(item),
        qbo_item_id=catalog.qbo_items.get(item) if destination == "qbo" and item else None,
        xero_item_code=xero.code if xero else None,
        xero_account_code=(
            ((xero and xero.account_code) or settings.account_code)
            if destination == "xero"
            else None
        ),
        # The client's own (an overseas client: outside the scope of VAT, GST-free), else the
        # item's, else the setting.
        xero_tax_type=(
            (
                catalog.xero_contact_taxes.get(client_id)
                or (xero and xero.tax_type)
                or settings.tax_type
                or None
            )
            if destination == "xero"
            else None
        ),
    )


def _document(
    invoice: StoredInvoice,
    batch_id: str,
    month: str,
    reference: str,
    lines: tuple[DocumentLine, ...],
    catalog: HaloCatalog,
    destination: str,
    *,
    recurring: tuple[RecurringChange, ...] = (),
) -> Document:
    client_id = invoice.client_id
    if destination == "halo-recurring":
        # Halo applies its own tax codes to the adjustment lines.
        subtotal, tax = sum((line.amount for line in lines), Decimal(0)), Decimal(0)
        total = subtotal
    else:
        subtotal, tax, total = invoice.subtotal, invoice.tax, invoice.total
    return Document(
        reference=reference,
        client_id=client_id,
        client_name=invoice.client_name,
        month=month,
        invoice_date=Month(month).bounds[1],
        currency=invoice.currency,
        subtotal=subtotal,
        tax=tax,
        total=total,
        note=f"trueup batch {batch_id}, {month_name(month)}, {invoice.client_name}",
        lines=lines,
        qbo_customer_id=catalog.qbo_customers.get(client_id) if destination == "qbo" else None,
        qbo_tax_code=catalog.qbo_tax_codes.get(client_id) if destination == "qbo" else None,
        xero_contact_id=catalog.xero_contacts.get(client_id) if destination == "xero" else None,
        due_date=(
            Month(month).bounds[1] + timedelta(days=catalog.xero.due_days)
            if destination == "xero"
            else None
        ),
        draft=destination == "xero" and catalog.xero.invoice_status == "draft",
        recurring=recurring,
    )


# Where a document's tax is the destination's own: trueup sends lines, never a tax figure, and
# the ledger records trueup's total, so the rules may add no tax there (README, Billing rules).
_HALO_TAX = ("Halo", "from the tax codes of the client and its items")
OWN_TAX = {
    "halo-invoice": _HALO_TAX,
    "halo-recurring": _HALO_TAX,
    "xero": ("Xero", "from its lines' tax types"),
    "qbo": ("QuickBooks", "from the company's sales tax settings and the lines' tax codes"),
}


def _listed(conn: Connection, *tables: type[SQLModel]) -> frozenset[tuple[str, str]] | None:
    """(list, id) of these lists as the last refresh stored them; None when none was read."""
    ids = frozenset(
        (m.table_of(table).name, str(row_id))
        for table in tables
        for row_id in conn.exec_driver_sql(f"SELECT id FROM {m.table_of(table)}").scalars()
    )
    return ids or None


def _gone_from_books(document: Document, destination: str, catalog: HaloCatalog) -> list[str]:
    """Mappings to a customer, contact or item the books' last refresh no longer listed."""
    qbo = destination == "qbo"
    listed = catalog.qbo_listed if qbo else catalog.xero_listed
    if listed is None:
        return []
    name, books = ("QuickBooks", "qbo") if qbo else ("Xero", "xero")
    who = document.qbo_customer_id if qbo else document.xero_contact_id
    table, noun = ("qbo_customer", "customer") if qbo else ("xero_contact", "contact")
    gone = [f"{name} {noun} {who}"] if who and (table, who) not in listed else []
    if qbo:
        items = {line.qbo_item_id for line in document.lines if line.qbo_item_id}
        gone += [f"QuickBooks item {i}" for i in sorted(items) if ("qbo_item", i) not in listed]
    if not gone:
        return []
    return [
        f"{some(gone)} mapped for it {'is' if len(gone) == 1 else 'are'} no longer in {name} "
        f"(the last `trueup {books} refresh` did not list it: deleted or merged there): map "
        f"again with `trueup {books} map suggest`{_BOOKS_SCREEN}"
    ]


def missing_targets(
    document: Document,
    destination: str,
    catalog: HaloCatalog | None = None,
    *,
    rules_tax: Decimal | None = None,
) -> list[str]:
    """Why the document cannot post to `destination` as it is, one reason each. A Halo line
    with no item goes as a free-text line: its UNMAPPED_SKU error was let through to get here;
    QuickBooks and Xero need an item on every line, and Xero an account and a tax type that a
    sale may carry (checked against the lists `trueup xero refresh` read, when it has). A
    client Halo no longer lists takes no Halo document at all (that alone is said).
    `rules_tax`: the tax the rules add to the client's month, where the document does not carry
    it (a halo-recurring true-up's one-off invoice is only the month's difference, untaxed);
    else the document's own."""
    problems = []
    if destination.startswith("halo") and catalog is not None:
        gone = _gone_from_halo(document, catalog)
        if gone:
            return [gone]  # nothing else about the document matters
    tax = document.tax if rules_tax is None else rules_tax
    if destination in OWN_TAX and tax:
        name, how = OWN_TAX[destination]
        problems.append(
            f"the rules add {tax:,.2f} {document.currency} of tax (tax_percent), and "
            f"{name} works out a document's tax itself, {how}: the total posted would not be "
            f"trueup's. Set tax_percent to 0 for this client (`trueup rules export`, edit, "
            f"`trueup rules import`) and its tax in {name}"
        )
    if destination == "qbo":
        stored, connected = catalog.qbo_realms if catalog is not None else (None, None)
        if stored and connected and stored != connected:
            return [other_company(stored, connected)]  # every id it holds names another's
        if document.qbo_customer_id is None:
            problems.append(f"no QuickBooks customer: run `trueup qbo map suggest`{_BOOKS_SCREEN}")
        problems += _unmapped_items(
            document, "qbo", [not line.qbo_item_id for line in document.lines]
        )
        problems += overlong_lines(document)
        if catalog is not None:
            problems += _gone_from_books(document, destination, catalog)
        if catalog is not None and catalog.qbo_company is not None:
            problems += _qbo_company_rules(document, catalog, catalog.qbo_company)
        elif catalog is not None and catalog.qbo_listed is not None:
            # Lists read, the company not (its CompanyInfo came without an Id): whether it keeps
            # our DocNumber, by which a lost answer is found, is unknown.
            problems.append(
                "the QuickBooks company's settings were not read with its lists, so whether it "
                f"keeps {document.reference} as the invoice's number (custom transaction "
                "numbers), by which a lost answer is found and never created twice, is "
                "unknown: `trueup qbo refresh` reads them"
            )
    if destination == "xero":
        if document.xero_contact_id is None:
            problems.append(f"no Xero contact: run `trueup xero map suggest`{_BOOKS_SCREEN}")
        problems += _unmapped_items(
            document, "xero", [not line.xero_item_code for line in document.lines]
        )
        if catalog is not None:
            problems += _gone_from_books(document, destination, catalog)
            problems += _xero_coding(document, catalog)
    return problems


def _gone_from_halo(document: Document, catalog: HaloCatalog) -> str | None:
    """Why a client Halo no longer lists (deleted or merged) cannot take a Halo document: Halo
    refuses an invoice for a client it does not have, or, where it did not, would hold one for
    nobody. Overriding CLIENT_INACTIVE lets the month be billed; an inactive client Halo still
    has is billed there, a deleted one only elsewhere."""
    if catalog.halo_clients is None or document.client_id in catalog.halo_clients:
        return None
    client_id = document.client_id
    name = document.client_name
    who = f"Halo client {client_id}" + ("" if name == f"client {client_id}" else f" ({name})")
    return (
        f"{who} is no longer in Halo (deleted or merged; the last Halo sync did not list it), "
        "so Halo cannot take an invoice for it, whatever the override of CLIENT_INACTIVE; "
        "map its Pax8 companies to the client that bills them now (`trueup map set --company "
        "PAX8_ID --client HALO_ID`), then build, approve and post the month again (`trueup "
        "sync` first if it is back in Halo)"
    )


# Where the workbench maps the same (its Books screen), said after the commands.
_BOOKS_SCREEN = " (or map it on the workbench's Books screen, 0)"


def _unmapped_items(document: Document, books: str, missing: list[bool]) -> list[str]:
    """Lines with no item at the books (`missing`, line by line), and what maps them: a line
    with no Halo item (its UNMAPPED_SKU let through) needs one first, as the books map Halo's."""
    name, option = ("QuickBooks", "--qbo-item") if books == "qbo" else ("Xero", "--xero-item")
    lines = [line for line, absent in zip(document.lines, missing, strict=True) if absent]
    halo = {line.halo_item_id: line.description for line in lines if line.halo_item_id}
    bare = sorted({line.description for line in lines if not line.halo_item_id})
    problems = []
    if halo:
        named = [f"{text} (Halo item {item})" for item, text in sorted(halo.items())]
        problems.append(
            f"no {name} item for {some(named)}: `trueup {books} map suggest` lists candidates, "
            f"`trueup {books} map set --item {min(halo)} {option} ID` maps one (an item {name} "
            f"does not have yet: create it there, then `trueup {books} refresh`){_BOOKS_SCREEN}"
        )
    if bare:
        problems.append(
            f"{some(bare)}: no Halo item, so no {name} item either (its UNMAPPED_SKU was let "
            "through): `trueup map set --product PAX8_ID --item HALO_ITEM_ID`, then map that "
            f"item in {name}"
        )
    return problems


def _qbo_company_rules(
    document: Document, catalog: HaloCatalog, company: QboCompanyFacts
) -> list[str]:
    """What the QuickBooks company refuses (README, QuickBooks decisions): outside the US a
    sales line without a tax code; an invoice not in its customer's currency (multicurrency) or
    not in the home currency (without it). And what exactly-once posting needs of it: our
    DocNumber kept (custom transaction numbers on), the number a lost answer is looked up by."""
    problems = []
    if company.custom_numbers is False:
        problems.append(
            "the QuickBooks company numbers invoices itself (custom transaction numbers are "
            f"off), so {document.reference} could not be found by its number after a lost "
            "answer and might be created twice: turn them on in QuickBooks (Account and "
            "settings, Sales, Custom transaction numbers), then `trueup qbo refresh`"
        )
    if company.needs_tax_codes and document.qbo_tax_code is None:
        problems.append(
            f"no QuickBooks tax code (a company in {company.country} needs one on every line): "
            "run `trueup qbo tax suggest`"
        )
    customer = document.qbo_customer_id
    own = catalog.qbo_currencies.get(customer or "") or company.home_currency
    if company.multicurrency is False:
        if company.home_currency and document.currency != company.home_currency:
            problems.append(
                f"the invoice is in {document.currency} and the QuickBooks company bills only "
                f"in {company.home_currency} (multicurrency is off)"
            )
    elif customer is not None and own and document.currency != own:
        problems.append(
            f"the invoice is in {document.currency} and QuickBooks customer {customer} is in "
            f"{own}: QuickBooks bills a customer in its own currency; map the client to a "
            f"{document.currency} customer"
        )
    return problems


def _xero_coding(document: Document, catalog: HaloCatalog) -> list[str]:
    """Xero's rules for a sales line: its account must exist and be active, and its tax type
    must be one that applies to revenue (TaxRates' CanApplyToRevenue)."""
    problems = []
    accounts = {line.xero_account_code for line in document.lines if line.xero_account_code}
    unknown = sorted(accounts - catalog.xero_accounts) if catalog.xero_accounts else []
    if unknown:
        problems.append(
            f"Xero has no active account {some(unknown)}: set the Xero item's sales account "
            "or [xero] account_code"
        )
    taxes = {line.xero_tax_type for line in document.lines if line.xero_tax_type}
    unfit = sorted(taxes - catalog.xero_revenue_taxes) if catalog.xero_revenue_taxes else []
    if unfit:
        problems.append(
            f"tax type {some(unfit)} does not apply to sales in Xero (a sales line needs one "
            "that can apply to revenue): set the Xero contact's default sales tax, the Xero "
            "item's sales tax type or [xero] tax_type, then `trueup xero refresh`"
        )
    return problems
