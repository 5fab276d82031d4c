"""The local store's tables. Every synced row keeps the raw JSON the API sent beside its columns.

The `pax8_*` tables hold every distributor's records, told apart by their `distributor` column
(Pax8's by default) and their ids (values/distributors.py): the names predate the other
distributors, and mapping, the seat diff and the batch read them whoever the distributor.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from trueup.core.values.distributors import PAX8


class DecimalText(TypeDecorator[Decimal]):
    """Exact decimals as TEXT: SQLite's NUMERIC would round money through a float."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for bulk statements (SQLModel does not type __table__)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def money(**kwargs: Any) -> Any:
    return Field(default=None, sa_type=DecimalText, **kwargs)


def raw_json() -> Any:
    return Field(sa_column=Column(Text, nullable=False))


def distributor_field() -> Any:
    """Whose record a row is (values/distributors.py): a sync replaces only Pax8's rows, an
    import only its own distributor's. A server default, so rows written before schema 9 and
    every insert that names no distributor are Pax8's."""
    return Field(default=PAX8, sa_column_kwargs={"server_default": PAX8})


# --- Pax8 -------------------------------------------------------------------------------------


class Pax8Company(SQLModel, table=True):
    __tablename__ = "pax8_company"
    id: str = Field(primary_key=True)
    name: str | None = None
    external_id: str | None = None
    status: str | None = None
    bill_on_behalf: bool | None = None
    updated_at: datetime | None = None
    raw: str = raw_json()
    distributor: str = distributor_field()


class Pax8Product(SQLModel, table=True):
    __tablename__ = "pax8_product"
    id: str = Field(primary_key=True)
    name: str | None = None
    vendor_name: str | None = None
    sku: str | None = Field(default=None, index=True)
    vendor_sku: str | None = None
    raw: str = raw_json()
    distributor: str = distributor_field()


class Pax8Subscription(SQLModel, table=True):
    __tablename__ = "pax8_subscription"
    # A company's subscriptions; their ids, currencies and statuses read from the index alone
    # (a row carries ~1 kB of raw JSON: counting currencies from the rows read all 40 MB).
    __table_args__ = (
        Index("ix_pax8_subscription_company", "company_id", "currency", "status", "id"),
    )
    id: str = Field(primary_key=True)
    company_id: str | None = None
    product_id: str | None = Field(default=None, index=True)
    product_name: str | None = None
    quantity: Decimal | None = money()
    status: str | None = None
    billing_term: str | None = None
    commitment_term: str | None = None
    commitment_end: date | None = None  # the day written in the commitment's endDate
    price: Decimal | None = money()
    partner_cost: Decimal | None = money()
    currency: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    billing_start: date | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: str = raw_json()
    distributor: str = distributor_field()


class Pax8SubscriptionSnapshot(SQLModel, table=True):
    """One entry of /subscriptions/{id}/history; position 0 is the newest."""

    __tablename__ = "pax8_subscription_snapshot"
    subscription_id: str = Field(
        sa_column=Column(
            String, ForeignKey("pax8_subscription.id", ondelete="CASCADE"), primary_key=True
        )
    )
    position: int = Field(primary_key=True)
    quantity: Decimal | None = money()
    status: str | None = None
    price: Decimal | None = money()
    partner_cost: Decimal | None = money()
    updated_at: datetime | None = None
    end_at: datetime | None = None
    raw: str = raw_json()


class Pax8Invoice(SQLModel, table=True):
    __tablename__ = "pax8_invoice"
    id: str = Field(primary_key=True)
    invoice_date: date | None = Field(default=None, index=True)
    due_date: date | None = None
    status: str | None = None
    company_id: str | None = None
    total: Decimal | None = money()
    balance: Decimal | None = money()
    currency: str | None = None
    raw: str = raw_json()
    distributor: str = distributor_field()


class Pax8InvoiceItem(SQLModel, table=True):
    __tablename__ = "pax8_invoice_item"
    # The batch reads a month's items by period, from the index alone (a row carries ~0.7 kB
    # of raw JSON), and the usage billed in arrears by term (a month has ~40k other items).
    __table_args__ = (
        Index(
            "ix_pax8_invoice_item_month",
            "start_period",
            "end_period",
            "term",
            "subscription_id",
            "invoice_id",
            "id",
            "type",
            "quantity",
            "cost_total",
            "total",
            "currency",
        ),
        Index("ix_pax8_invoice_item_term", "term", "start_period"),
        # A product's unit (User, GB) is read from its items, one index seek per product.
        Index("ix_pax8_invoice_item_unit", "product_id", "unit"),
    )
    id: str = Field(primary_key=True)
    invoice_id: str = Field(
        sa_column=Column(
            String, ForeignKey("pax8_invoice.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    type: str | None = None
    company_id: str | None = Field(default=None, index=True)
    subscription_id: str | None = Field(default=None, index=True)
    product_id: str | None = None
    sku: str | None = None
    term: str | None = None
    start_period: date | None = None
    end_period: date | None = None
    quantity: Decimal | None = money()
    price: Decimal | None = money()
    cost: Decimal | None = money()
    subtotal: Decimal | None = money()
    cost_total: Decimal | None = money()
    total: Decimal | None = money()
    currency: str | None = None
    unit: str | None = None  # the item's unitOfMeasure: User, Seat, GB
    raw: str = raw_json()
    distributor: str = distributor_field()


class Pax8UsageSummary(SQLModel, table=True):
    """Usage summaries as seen in a given month: estimates before the arrears invoice exists."""

    __tablename__ = "pax8_usage_summary"
    id: str = Field(primary_key=True)
    month: str = Field(primary_key=True)  # YYYY-MM of the sync that saw it
    subscription_id: str | None = Field(default=None, index=True)
    company_id: str | None = None
    product_id: str | None = None
    resource_group: str | None = None
    current_charges: Decimal | None = money()
    partner_total: Decimal | None = money()
    currency: str | None = None
    is_trial: bool | None = None
    raw: str = raw_json()
    distributor: str = distributor_field()


# The tables whose rows carry a distributor (schema 9).
DISTRIBUTOR_TABLES = (
    Pax8Company,
    Pax8Product,
    Pax8Subscription,
    Pax8Invoice,
    Pax8InvoiceItem,
    Pax8UsageSummary,
)


# --- HaloPSA ----------------------------------------------------------------------------------


class HaloClient(SQLModel, table=True):
    __tablename__ = "halo_client"
    id: int = Field(primary_key=True)
    name: str | None = None
    inactive: bool | None = None
    toplevel_id: int | None = None
    ref: str | None = None
    accounts_id: str | None = None
    raw: str = raw_json()


class HaloSite(SQLModel, table=True):
    __tablename__ = "halo_site"
    id: int = Field(primary_key=True)
    client_id: int | None = Field(default=None, index=True)
    name: str | None = None
    inactive: bool | None = None
    raw: str = raw_json()


class HaloItem(SQLModel, table=True):
    __tablename__ = "halo_item"
    id: int = Field(primary_key=True)
    name: str | None = None
    inactive: bool | None = None
    supplier_part_code: str | None = None
    internal_reference: str | None = None
    external_reference: str | None = None
    recurring_price: Decimal | None = money()
    recurring_cost: Decimal | None = money()
    raw: str = raw_json()


class HaloRecurringInvoice(SQLModel, table=True):
    __tablename__ = "halo_recurring_invoice"
    id: int = Field(primary_key=True)  # negative, as Halo numbers them
    client_id: int | None = Field(default=None, index=True)
    disabled: bool | None = None
    reference: str | None = None
    currency: str | None = None
    raw: str = raw_json()  # the header without its lines


class HaloRecurringInvoiceLine(SQLModel, table=True):
    __tablename__ = "halo_recurring_invoice_line"
    id: int = Field(primary_key=True)
    invoice_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("halo_recurring_invoice.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    item_id: int | None = Field(default=None, index=True)
    description: str | None = None
    quantity: Decimal | None = money()
    unit_price: Decimal | None = money()
    unit_cost: Decimal | None = money()
    inactive: bool | None = None
    ends: date | None = None  # the day written in the line's enddate; None: Halo's "no date"
    raw: str = raw_json()


class HaloLicence(SQLModel, table=True):
    __tablename__ = "halo_licence"
    id: int = Field(primary_key=True)
    client_id: int | None = Field(default=None, index=True)
    name: str | None = None
    count: Decimal | None = money()
    third_party_product: str | None = None
    third_party_client_id: str | None = None
    active: bool | None = None
    raw: str = raw_json()


class HaloExternalLink(SQLModel, table=True):
    __tablename__ = "halo_external_link"
    id: int = Field(primary_key=True)
    table_id: int | None = None
    halo_id: int | None = Field(default=None, index=True)
    third_party_id: str | None = Field(default=None, index=True)
    third_party_type: str | None = None
    raw: str = raw_json()


# --- trueup's own bookkeeping -----------------------------------------------------------------


class SyncRun(SQLModel, table=True):
    """One source's sync: a single transaction applies it, so a failed run changes no data."""

    __tablename__ = "sync_run"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)  # pax8 | halo
    status: str = "running"  # running | ok | failed | interrupted
    pid: int | None = None  # the process running it, to tell a live sync from a dead one
    host: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    duration_ms: int | None = None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    counts: str = "{}"  # JSON: per entity {created, updated, deleted, unchanged, failed}
    error: str | None = None


class StagedRecord(SQLModel, table=True):
    """Records fetched by a running sync, each already parsed into its row, waiting for the one
    transaction that applies them (sync/staging.py, sync/apply.py)."""

    __tablename__ = "staged_record"
    # The apply reads one kind of record of one run at a time, in the order it was fetched.
    __table_args__ = (Index("ix_staged_record_run_entity", "run_id", "entity"),)
    seq: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sync_run.id", ondelete="CASCADE"), nullable=False)
    )
    entity: str
    # JSON: the row's columns as SQLite is given them (sync/records.py parses the record);
    # None when the record cannot be stored, and `error` says why.
    parsed: str | None = None
    error: str | None = None
    out_of_range: bool = False  # refused for an impossible number (records.OutOfRange)
    raw: str = raw_json()


class LogEvent(SQLModel, table=True):
    __tablename__ = "log_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    level: str  # INFO | WARNING | ERROR
    source: str | None = None
    event: str
    details: str = "{}"  # JSON


class SchemaMeta(SQLModel, table=True):
    __tablename__ = "schema_meta"
    key: str = Field(primary_key=True)
    value: str


# --- Mappings (schema 2) ----------------------------------------------------------------------


class CompanyMapping(SQLModel, table=True):
    """A Pax8 company's Halo client, or the operator's word that it is not billed (ignored)."""

    __tablename__ = "company_mapping"
    company_id: str = Field(primary_key=True)
    client_id: int | None = None  # None when ignored
    status: str = "mapped"  # mapped | ignored
    source: str = "manual"  # exact | suggestion | manual | import
    score: int | None = None
    reason: str = ""
    created_at: datetime
    created_by: str


class ProductMapping(SQLModel, table=True):
    """A Pax8 product's Halo item: for every client (client_id NULL) or one client's override."""

    __tablename__ = "product_mapping"
    __table_args__ = (UniqueConstraint("product_id", "client_id"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: str = Field(index=True)
    client_id: int | None = None  # set: a per-client override
    item_id: int | None = None  # None when ignored
    status: str = "mapped"  # mapped | ignored
    source: str = "manual"  # exact | suggestion | manual | import | created (its Halo item)
    score: int | None = None
    reason: str = ""
    created_at: datetime
    created_by: str


class MappingChange(SQLModel, table=True):
    """The undo journal: each map, unmap, ignore or import, with what it replaced."""

    __tablename__ = "mapping_change"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    by: str
    action: str  # map | unmap | ignore | accept | import | create-item | undo
    kind: str  # company | product
    key: str  # JSON: {"company_id"} or {"product_id", "client_id"}
    before: str | None = None  # JSON of the row replaced, None when there was none
    after: str | None = None  # JSON of the row written, None when removed
    batch: str | None = None  # changes made together (accept all, import) undo together
    undone: bool = False


# --- Rules and batches (schema 3) -------------------------------------------------------------


class RulesDocument(SQLModel, table=True):
    """The billing rules in force (contract.md §5), as the TOML text the operator imported."""

    __tablename__ = "rules_document"
    id: int | None = Field(default=None, primary_key=True)  # the newest row is in force
    text: str = Field(sa_column=Column(Text, nullable=False))
    imported_at: datetime
    imported_by: str


class InvoiceBatch(SQLModel, table=True):
    """A dry-run batch: what every client's invoice would be, built from one state of the store."""

    __tablename__ = "invoice_batch"
    id: str = Field(primary_key=True)  # deterministic: the same inputs give the same id
    month: str = Field(index=True)
    created_at: datetime
    created_by: str
    sync_runs: str = "{}"  # JSON: the sync run each source's data came from
    rules_id: int | None = None
    clients: str = "[]"  # JSON: the client ids asked for ([] = all)
    # The batch JSON (contract §3) but its invoices, which are rows (BatchInvoice).
    body: str = Field(sa_column=Column(Text, nullable=False))
    # JSON, per invoice: client, name, currency, total and each subscription line's quantity,
    # unit price and unit cost; what later batches read of this one (core/batch/previous.py).
    line_digest: str | None = Field(default=None, sa_column=Column(Text))
    # JSON: what the batch was built from (stored.BatchInputs, and the store's main currency),
    # so that the next batch of the month bills again only the clients a change touched.
    # None for batches stored before schema 10: the next batch bills every client.
    inputs: str | None = Field(default=None, sa_column=Column(Text))


class BatchInvoiceText(SQLModel, table=True):
    """An invoice as batches list it, stored once however many batches list it: a rebuild after
    a one-client change stores one new invoice, not the month's 26 MB again."""

    __tablename__ = "batch_invoice_text"
    sha256: str = Field(primary_key=True)  # of `text`'s UTF-8 bytes
    text: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON (batch/body.py)
    # body.invoice_digest as JSON; None for a text the schema 10 migration split off a body
    digest: str | None = Field(default=None, sa_column=Column(Text))


class BatchInvoice(SQLModel, table=True):
    """One client's invoice in a batch, at its place in the batch's list."""

    __tablename__ = "batch_invoice"
    __table_args__ = (UniqueConstraint("batch_id", "client_id"),)
    batch_id: str = Field(
        sa_column=Column(
            String, ForeignKey("invoice_batch.id", ondelete="CASCADE"), primary_key=True
        )
    )
    position: int = Field(primary_key=True)
    client_id: int
    sha256: str = Field(foreign_key="batch_invoice_text.sha256")


class BatchInvoiceState(SQLModel, table=True):
    """The operator's word on one client's invoice in a batch: held or ready (draft until then)."""

    __tablename__ = "batch_invoice_state"
    batch_id: str = Field(
        sa_column=Column(
            String, ForeignKey("invoice_batch.id", ondelete="CASCADE"), primary_key=True
        )
    )
    client_id: int = Field(primary_key=True)
    state: str = "draft"  # draft | held | ready
    changed_at: datetime
    changed_by: str


class BatchOverride(SQLModel, table=True):
    """An error anomaly the operator let through, with the reason, for the audit log."""

    __tablename__ = "batch_override"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(
        sa_column=Column(
            String, ForeignKey("invoice_batch.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    client_id: int
    code: str
    subscription_id: str | None = None  # the line it was on, if any
    reason: str
    at: datetime
    by: str


# --- Approval and posting (schema 4) ----------------------------------------------------------


class Approval(SQLModel, table=True):
    """The operator's approval of one client's invoice in a batch. It holds for the invoice as
    approved: the fingerprint covers the invoice and where each line posts, so a newer sync or
    mapping that changes either makes it lapse."""

    __tablename__ = "approval"
    batch_id: str = Field(
        sa_column=Column(
            String, ForeignKey("invoice_batch.id", ondelete="CASCADE"), primary_key=True
        )
    )
    client_id: int = Field(primary_key=True)
    fingerprint: str
    approved_at: datetime
    approved_by: str
    overrides: str = "[]"  # JSON: the overrides in force when approved, with their reasons


class PostingEntry(SQLModel, table=True):
    """The outbox: one document to create (or void) at one destination. Its state is written and
    committed before each network call, so a crash at any point leaves a row that says what may
    have reached the destination."""

    __tablename__ = "posting_entry"
    __table_args__ = (UniqueConstraint("destination", "reference", "action"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(
        sa_column=Column(String, ForeignKey("invoice_batch.id"), nullable=False, index=True)
    )
    month: str = Field(index=True)
    client_id: int = Field(index=True)
    destination: str  # halo-invoice | halo-recurring | qbo
    action: str = "create"  # create | void
    reference: str  # our document number: Halo invoice reference, QBO DocNumber
    idempotency_key: str = Field(unique=True)  # QBO requestid; the same for every attempt
    state: str = "PENDING"  # PENDING | SENDING | POSTED | REJECTED | UNKNOWN
    attempts: int = 0
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the document, built once
    remote_id: str | None = None  # the destination's id once known
    remote_number: str | None = None  # the destination's own number, if it has one
    error: str | None = None  # the last failure, one line
    created_at: datetime
    created_by: str
    updated_at: datetime


# --- QuickBooks Online (schema 4) -------------------------------------------------------------


class QboCustomer(SQLModel, table=True):
    __tablename__ = "qbo_customer"
    id: str = Field(primary_key=True)
    name: str | None = None  # DisplayName
    active: bool | None = None
    currency: str | None = None
    tax_code: str | None = None  # DefaultTaxCodeRef: the customer's own tax code (outside the US)
    raw: str = raw_json()


class QboItem(SQLModel, table=True):
    __tablename__ = "qbo_item"
    id: str = Field(primary_key=True)
    name: str | None = None
    sku: str | None = None
    type: str | None = None
    active: bool | None = None
    raw: str = raw_json()


class QboCustomerMapping(SQLModel, table=True):
    """A Halo client's QuickBooks customer, for the `qbo` destination."""

    __tablename__ = "qbo_customer_mapping"
    client_id: int = Field(primary_key=True)  # Halo client id
    customer_id: str
    source: str = "manual"  # exact | suggestion | manual | import
    score: int | None = None
    reason: str = ""
    created_at: datetime
    created_by: str


class QboItemMapping(SQLModel, table=True):
    """A Halo item's QuickBooks item, for the `qbo` destination."""

    __tablename__ = "qbo_item_mapping"
    item_id: int = Field(primary_key=True)  # Halo item id
    qbo_item_id: str
    source: str = "manual"
    score: int | None = None
    reason: str = ""
    created_at: datetime
    created_by: str


class QboCompany(SQLModel, table=True):
    """The QuickBooks company as its CompanyInfo and Preferences describe it (one row, schema
    12): its country decides the tax model, its currencies what an invoice may be in."""

    __tablename__ = "qbo_company"
    id: str = Field(primary_key=True)  # CompanyInfo's Id
    country: str | None = None
    home_currency: str | None = None
    multicurrency: bool | None = None
    raw: str = raw_json()  # {"CompanyInfo": ..., "Preferences": ...}


class QboTaxCode(SQLModel, table=True):
    __tablename__ = "qbo_tax_code"
    id: str = Field(primary_key=True)
    name: str | None = None
    active: bool | None = None
    raw: str = raw_json()


class QboTaxCodeMapping(SQLModel, table=True):
    """A Halo client's QuickBooks tax code, put on every line of its invoices (a company outside
    the US); several clients may share one."""

    __tablename__ = "qbo_tax_code_mapping"
    client_id: int = Field(primary_key=True)  # Halo client id
    tax_code_id: str
    source: str = "manual"  # customer (the QuickBooks customer's default) | manual | import
    reason: str = ""
    created_at: datetime
    created_by: str


# --- Xero (schema 8) --------------------------------------------------------------------------


class XeroContact(SQLModel, table=True):
    __tablename__ = "xero_contact"
    id: str = Field(primary_key=True)  # ContactID
    name: str | None = None
    account_number: str | None = None
    status: str | None = None  # ACTIVE | ARCHIVED | GDPRREQUEST
    currency: str | None = None  # DefaultCurrency
    raw: str = raw_json()


class XeroItem(SQLModel, table=True):
    __tablename__ = "xero_item"
    id: str = Field(primary_key=True)  # ItemID
    code: str  # what an invoice line names (ItemCode)
    name: str | None = None
    sold: bool | None = None  # IsSold
    account_code: str | None = None  # SalesDetails.AccountCode
    tax_type: str | None = None  # SalesDetails.TaxType
    raw: str = raw_json()


class XeroAccount(SQLModel, table=True):
    __tablename__ = "xero_account"
    code: str = Field(primary_key=True)
    name: str | None = None
    type: str | None = None  # REVENUE | SALES | EXPENSE | ...
    status: str | None = None
    tax_type: str | None = None  # its default
    raw: str = raw_json()


class XeroTaxRate(SQLModel, table=True):
    __tablename__ = "xero_tax_rate"
    tax_type: str = Field(primary_key=True)
    name: str | None = None
    status: str | None = None
    revenue: bool | None = None  # CanApplyToRevenue
    rate: Decimal | None = money()  # EffectiveRate, percent
    raw: str = raw_json()


class XeroContactMapping(SQLModel, table=True):
    """A Halo client's Xero contact, for the `xero` destination."""

    __tablename__ = "xero_contact_mapping"
    client_id: int = Field(primary_key=True)  # Halo client id
    contact_id: str
    source: str = "manual"  # exact | suggestion | manual
    score: int | None = None
    reason: str = ""
    created_at: datetime
    created_by: str


class XeroItemMapping(SQLModel, table=True):
    """A Halo item's Xero item, for the `xero` destination."""

    __tablename__ = "xero_item_mapping"
    item_id: int = Field(primary_key=True)  # Halo item id
    xero_item_id: str
    source: str = "manual"
    score: int | None = None
    reason: str = ""
    created_at: datetime
    created_by: str
