"""What every distributor file of a scenario shares (gen_partner_center, gen_ion, gen_ingram,
gen_sherweb): the Halo clients that also buy elsewhere than Pax8, the Microsoft licences they
buy there (SKUs Pax8 does not bill them, so their lines add to the same invoice rather than
repeat one), and the month a file bills.

The clients are those whose Pax8 company carries their Halo id, so a distributor's customer
named as the Halo client is suggested to it, and its invoice joins the Pax8 one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from trueup.sandbox.scenario import ScenarioError

# A distributor's price to the partner, of the list price (the client's): the usual discount.
COST_SHARE = Decimal("0.85")
# (ProductId, SkuId, SkuName, unit price a month): licences an MSP buys outside Pax8.
LICENCES = (
    ("CFQ7TTC0L3PB", "0001", "Power BI Pro", Decimal("14.00")),
    ("CFQ7TTC0HD33", "0001", "Visio Plan 2", Decimal("15.00")),
    ("CFQ7TTC0HDCW", "0001", "Project Plan 3", Decimal("30.00")),
    ("CFQ7TTC0MM8R", "0002", "Microsoft 365 Copilot", Decimal("30.00")),
    ("CFQ7TTC0RM8S", "0001", "Microsoft Teams Premium", Decimal("10.00")),
    ("CFQ7TTC0LFK5", "0001", "Microsoft Entra ID P1", Decimal("6.00")),
)
Licence = tuple[str, str, str, Decimal]


def linked_clients(
    scenario: dict[str, Any], rng: random.Random, count: int
) -> list[tuple[dict[str, Any], set[str]]]:
    """Halo clients whose Pax8 company names their Halo id, with the SKUs Pax8 bills them."""
    halo = {str(c["id"]): c for c in scenario["halo"]["clients"]}
    pax8 = scenario["pax8"]
    linked = sorted(
        (c for c in pax8["companies"] if str(c.get("externalId")) in halo),
        key=lambda c: int(c["externalId"]),
    )
    if not linked:
        raise ScenarioError(
            "no Pax8 company of the scenario names a Halo client of it (its externalId): a "
            "distributor's file names the clients it bills, and there is none to write"
        )
    chosen = sorted(rng.sample(linked, k=min(count, len(linked))), key=lambda c: c["name"])
    return [
        (
            halo[str(company["externalId"])],
            {
                s.get("vendorSkuId")
                for s in pax8["subscriptions"]
                if s["companyId"] == company["id"]
            },
        )
        for company in chosen
    ]


def offered(skus: set[str]) -> list[Licence]:
    """The licences Pax8 does not bill a client whose Pax8 SKUs are `skus`."""
    return [licence for licence in LICENCES if f"{licence[0]}:{licence[1]}" not in skus]


def billed_month(scenario: dict[str, Any]) -> date:
    """The first day of the month a scenario's files bill: the one before its as-of."""
    as_of = date.fromisoformat(scenario["as_of"][:10])
    return (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return next_month(day.replace(day=1)) - timedelta(days=1)


def month_before(month: date) -> tuple[date, date]:
    """The first and last day of the month before `month`'s: usage billed in arrears."""
    last = month.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def next_month(day: date) -> date:
    year, month = divmod(day.year * 12 + day.month, 12)
    return day.replace(year=year, month=month + 1)


def us_day(day: date) -> str:
    """A day as US files write it, month first: 10/3/2026."""
    return f"{day.month}/{day.day}/{day.year}"


@dataclass(frozen=True)
class Held:
    """Seats of a licence a client holds through a distributor, billed for the month."""

    client: dict[str, Any]  # the Halo client
    licence: Licence
    seats: Decimal
    added: date | None  # one seat more from this day of the month


@dataclass(frozen=True)
class Used:
    """A client's Azure usage of the month before, billed in arrears."""

    client: dict[str, Any]
    cost: Decimal  # the partner's


@dataclass(frozen=True)
class Purchases:
    month: date  # its first day
    clients: list[dict[str, Any]]  # the Halo clients buying, by name
    held: list[Held]
    used: list[Used]


def purchases(scenario: dict[str, Any], rng: random.Random, clients: int) -> Purchases:
    """What `clients` of the scenario's clients buy through a distributor in the billed month:
    two licences each (the first client's first one with a seat added mid-month), and the
    last client's Azure usage."""
    month = billed_month(scenario)
    chosen = linked_clients(scenario, rng, clients)
    held: list[Held] = []
    for number, (client, skus) in enumerate(chosen):
        licences = offered(skus)
        for position, licence in enumerate(rng.sample(licences, k=min(2, len(licences)))):
            added = None
            if number == 0 and position == 0:
                added = month + timedelta(days=rng.randint(5, (month_end(month) - month).days))
            held.append(Held(client, licence, Decimal(rng.randint(2, 20)), added))
    used = [Used(chosen[-1][0], Decimal(rng.randint(4_000, 40_000)) / 100)] if chosen else []
    return Purchases(month, [client for client, _ in chosen], held, used)


def share(added: date) -> Decimal:
    """The part of its month a seat added on `added` is billed for (its day included)."""
    last = month_end(added)
    return Decimal((last - added).days + 1) / Decimal(last.day)
