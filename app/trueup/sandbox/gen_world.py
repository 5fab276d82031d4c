"""The generated world before it becomes wire JSON: accounts (one client as Pax8 and Halo each know
it), their subscriptions with dated quantity timelines, and what the Halo recurring lines say.

Timing conventions every renderer relies on:
- Pax8 invoices are dated the 1st-4th and bill the month ahead at the quantity of the 1st, plus
  proration for the changes of the month before. Recent changes therefore fall between the 5th of
  last month and yesterday, so none straddles an invoice.
- A change happens in Denver business hours (Pax8's timestamps carry -0600/-0700), so its UTC date
  is its local date: the date billing counts it from.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from trueup.sandbox.gen_catalog import AZURE, AZURE_METERS, SERVICES, Product, Service
from trueup.sandbox.gen_names import (
    ABROAD,
    TOWNS,
    Town,
    halo_variant,
    phone,
    street,
    website,
)

CENT = Decimal("0.01")
BILLABLE = frozenset({"Active", "PendingCancel", "Activated"})
RATES = {"USD": Decimal(1), "CAD": Decimal("1.38"), "GBP": Decimal("0.79"), "EUR": Decimal("0.92")}
TERM_MONTHS = {"1-Year": 12, "3-Year": 36}
MSP_NAME = "Trailhead Technology Partners"
MSP_DOMAIN = "trailheadtech.com"
MSP_STAFF = ("jmorales", "kpatel", "dnovak", "sbrennan")
PRICE_RISE = Decimal("1.05")  # the renewal price rises in the storylines
AZURE_COST_SHARE = Decimal("0.88")  # what the partner pays per dollar of Azure list price


def new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    first = date(day.year + year, month + 1, 1)
    return first.replace(day=min(day.day, days_in(first)))


def days_in(day: date) -> int:
    first = day.replace(day=1)
    return ((first + timedelta(days=32)).replace(day=1) - first).days


def month_end(day: date) -> date:
    return day.replace(day=days_in(day))


@dataclass(frozen=True)
class Calendar:
    month: date  # the first of the scenario's current month

    @property
    def as_of(self) -> datetime:
        return datetime(self.month.year, self.month.month, 21, tzinfo=UTC)

    @property
    def today(self) -> date:
        return self.as_of.date()

    @property
    def prev(self) -> date:
        return add_months(self.month, -1)

    @property
    def next(self) -> date:
        return add_months(self.month, 1)

    @property
    def settled(self) -> date:
        """Changes before this day are 'long ago': more than two months before as_of."""
        return add_months(self.month, -2)

    def recent_days(self) -> list[date]:
        last = [self.prev.replace(day=d) for d in range(5, days_in(self.prev) + 1)]
        return last + [self.month.replace(day=d) for d in range(5, self.today.day)]


def _hours_behind_utc(day: date) -> int:
    """Denver: UTC-6 from the second Sunday of March to the first Sunday of November, else UTC-7."""
    dst_start = date(day.year, 3, 8) + timedelta(days=(6 - date(day.year, 3, 8).weekday()))
    dst_end = date(day.year, 11, 1) + timedelta(days=(6 - date(day.year, 11, 1).weekday()))
    return 6 if dst_start <= day < dst_end else 7


def local_moment(day: date, hour: int, minute: int, second: int = 0, milli: int = 0) -> datetime:
    """A Denver wall-clock time on `day`, as a UTC datetime."""
    local = datetime(day.year, day.month, day.day, hour, minute, second, milli * 1000)
    return (local + timedelta(hours=_hours_behind_utc(day))).replace(tzinfo=UTC)


def business_moment(rng: random.Random, day: date) -> datetime:
    hour, minute, second = rng.randint(7, 16), rng.randrange(60), rng.randrange(60)
    return local_moment(day, hour, minute, second, rng.randrange(1000))


def pax8_timestamp(moment: datetime) -> str:
    """Pax8's style: Denver local time, colon-less offset: 2026-11-05T09:14:00.000-0700."""
    behind = _hours_behind_utc(moment.date())
    local = moment - timedelta(hours=behind)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}-0{behind}00"


@dataclass(frozen=True)
class Version:
    """One state of a subscription, in force from `at` until the next version."""

    at: datetime
    quantity: int
    status: str
    price: Decimal
    cost: Decimal

    @property
    def billable(self) -> int:
        return self.quantity if self.status in BILLABLE else 0


@dataclass(frozen=True)
class Meter:
    """An Azure meter a usage subscription runs under one resource group."""

    resource_group: str
    name: str
    unit: str
    unit_price: Decimal
    daily: Decimal  # a typical day's quantity
    assigned: bool = True  # False: Pax8 has not assigned the resource group to the company


@dataclass(eq=False)
class Sub:
    id: str
    product: Product
    billing_term: str
    commitment: str | None
    start: date
    versions: list[Version]  # oldest first
    vendor_id: str
    commitment_id: str | None
    created_date_only: bool  # Pax8 returns some createdDate values as a bare date
    end: date | None = None  # endDate, once cancelled or cancelling
    halo_qty: int | None = None  # the client's Halo line quantity; None = no line
    ordered_by: str = "Pax8 Partner"
    meters: list[Meter] = field(default_factory=list)

    @property
    def current(self) -> Version:
        return self.versions[-1]

    def version_on(self, day: date) -> Version | None:
        found = None
        for version in self.versions:
            if version.at.date() > day:
                break
            found = version
        return found

    def term_end(self, on: date) -> date | None:
        """The last day of the commitment term running on `on`."""
        if self.commitment is None:
            return None
        months = TERM_MONTHS[self.commitment]
        terms = 1
        while add_months(self.start, months * terms) <= on:
            terms += 1
        return add_months(self.start, months * terms) - timedelta(days=1)


@dataclass(eq=False)
class Account:
    pax8_name: str | None  # None: not a Pax8 company
    halo_name: str | None  # None: not a Halo client
    town: Town
    street: str
    phone: str
    website: str
    currency: str
    headcount: int
    link: str  # how Halo knows the Pax8 company: "link" (ExternalLink), "external_id", "name"
    since: date
    company_id: str
    service: Service
    subs: list[Sub] = field(default_factory=list)
    bill_on_behalf: bool = False
    self_service: bool = False
    discount: Decimal = Decimal(1)  # the client's price on Halo lines, as a share of Pax8's
    retired: list[tuple[Product, int]] = field(default_factory=list)  # inactive Halo lines
    halo_id: int = 0
    site_id: int = 0
    qbo_id: str = ""

    @property
    def name(self) -> str:
        return self.pax8_name or self.halo_name or ""

    def holds(self, product: Product) -> bool:
        return any(sub.product is product for sub in self.subs)


def new_account(
    rng: random.Random,
    cal: Calendar,
    name: str,
    *,
    halo_name: str | None = None,
    pax8: bool = True,
    halo: bool = True,
    town: Town | None = None,
    currency: str = "USD",
    headcount: int | None = None,
    link: str = "link",
) -> Account:
    town = town or ABROAD.get(currency) or rng.choice(TOWNS)
    headcount = headcount or max(2, min(400, round(rng.lognormvariate(math.log(16), 0.75))))
    service = SERVICES[0] if rng.random() < 0.6 else SERVICES[1]
    since = add_months(cal.month, -rng.randint(5, 72)).replace(day=rng.randint(1, 28))
    return Account(
        pax8_name=name if pax8 else None,
        halo_name=(halo_name or halo_variant(rng, name)) if halo else None,
        town=town,
        street=street(rng),
        phone=phone(rng, town),
        website=website(name),
        currency=currency,
        headcount=headcount,
        link=link,
        since=since,
        company_id=new_id(rng),
        service=service,
        self_service=rng.random() < 0.2,
    )


def list_price(
    product: Product, billing_term: str, commitment: str | None, currency: str
) -> tuple[Decimal, Decimal]:
    """Pax8's customer price and partner cost per unit per billing period."""
    factor = {"Annual": Decimal(12), "3-Year": Decimal(36)}.get(billing_term, Decimal(1))
    if billing_term == "Monthly" and commitment is None and product.is_microsoft_seat:
        factor = Decimal("1.2")
    rate = RATES[currency] * factor
    return cents(product.price * rate), cents(product.cost * rate)


def add_sub(
    rng: random.Random,
    account: Account,
    product: Product,
    term: tuple[str, str | None],
    start: date,
    quantity: int,
    *,
    status: str = "Active",
    at: datetime | None = None,
) -> Sub:
    billing_term, commitment = term
    price, cost = list_price(product, billing_term, commitment, account.currency)
    first = Version(at or business_moment(rng, start), quantity, status, price, cost)
    sub = Sub(
        id=new_id(rng),
        product=product,
        billing_term=billing_term,
        commitment=commitment,
        start=start,
        versions=[first],
        vendor_id=new_id(rng),
        commitment_id=new_id(rng) if commitment else None,
        created_date_only=rng.random() < 0.15,
    )
    account.subs.append(sub)
    return sub


def change(
    sub: Sub,
    at: datetime,
    *,
    quantity: int | None = None,
    status: str | None = None,
    price: Decimal | None = None,
    cost: Decimal | None = None,
) -> None:
    """Record a new version; what is not given carries over from the current one."""
    now = sub.current
    sub.versions.append(
        Version(
            at,
            now.quantity if quantity is None else quantity,
            status or now.status,
            now.price if price is None else price,
            now.cost if cost is None else cost,
        )
    )


def cancel(sub: Sub, at: datetime, status: str = "Cancelled", end: date | None = None) -> None:
    change(sub, at, status=status)
    sub.end = end or at.date()


def sized(rng: random.Random, product: Product, headcount: int) -> int:
    """A plausible quantity of `product` for a client of `headcount` staff."""
    share = {"core": (0.55, 1.0), "user": (0.1, 0.7), "device": (0.8, 1.3)}.get(product.scale)
    if share:
        return max(1, round(headcount * rng.uniform(*share)))
    if product.scale == "server":
        return rng.randint(1, 4)
    if product.scale == "storage":
        return rng.choice((250, 500, 750, 1000, 1500, 2000, 3000))
    return 1


def pick_term(rng: random.Random, product: Product) -> tuple[str, str | None]:
    billing_term, commitment, _ = rng.choices(product.terms, [t[2] for t in product.terms])[0]
    return billing_term, commitment


def monthly_term(product: Product) -> tuple[str, str | None]:
    return next((t[0], t[1]) for t in product.terms if t[0] == "Monthly")


def add_azure(rng: random.Random, account: Account, start: date, slug: str) -> Sub:
    sub = add_sub(rng, account, AZURE, ("Monthly", None), start, 1)
    groups = [f"rg-{slug}-prod", f"rg-{slug}-backup"][: rng.randint(1, 2)]
    rate = RATES[account.currency]
    for group in groups:
        for name, unit, price, typical in rng.sample(AZURE_METERS, rng.randint(1, 2)):
            unit_price = (price * rate).quantize(Decimal("0.0001"))
            sub.meters.append(Meter(group, name, unit, unit_price, typical * rng.randint(1, 3)))
    return sub


def slug_of(account: Account) -> str:
    return account.website.split(".")[0][:14]
