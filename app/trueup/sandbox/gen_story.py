"""The named clients every scenario of 10+ clients carries, each telling one reconciliation story.

Dates are relative to the scenario's month M (first day `cal.month`), so every month works; times
are Denver wall-clock, as Pax8 stamps them. The stories, most important first:

- Bear Creek Winery: mid-month hire and leaver, Halo one seat behind (see bear_creek).
- Hollis & Crane Law: Acrobat cancelled on the 18th of last month, still on an active Halo line.
- Pinecrest Family Dental: Business Premium renewed on the 9th of last month at a 5% higher price;
  Halo still bills the old 22.00.
- Harbor Light Food Bank: a second Business Basic subscription ordered through self-service on the
  20th of last month (same company, product and term: a possible duplicate), not in Halo.
- Lakeside Accounting: month-to-month Business Standard cut from 26 to 22 on the 6th of last month;
  Halo still bills 26 (over-billing).
- Copper Kettle Bakery: a new Pax8 company with no Halo client yet.
- Riverbend Montessori School: a Halo client with no Pax8 company (managed services only).
- Eagle Rock Brewing Company: Azure usage, plus a resource group assigned to no company.
- Granite Peak Engineering: a Teams Premium trial and a Microsoft 365 E3 3-year term renewing on
  the 10th of this month.
- Silver Lake Veterinary Clinic: Dropbox pending cancellation at month end; Exchange Online at 0.
- Cedar Hollow Realty: Business Premium cut from 14 to 12 on the 10th, months after the seats were
  added (the NCE 7-day window is long shut); Halo already says 12.
- Maple Leaf Physiotherapy: a Vancouver client billed in CAD.
- Aspen Grove Chiropractic: Pax8 bills them directly; this month's invoice was credited and
  re-issued.
- Stonegate Property Management: Power BI Pro and Dropsuite, which have no Halo item.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from trueup.sandbox.gen_catalog import BY_KEY, SERVICES
from trueup.sandbox.gen_names import TOWNS, Town
from trueup.sandbox.gen_world import (
    PRICE_RISE,
    Account,
    Calendar,
    Meter,
    Sub,
    add_azure,
    add_months,
    add_sub,
    cancel,
    cents,
    change,
    local_moment,
    new_account,
)

MONTHLY_NCE = ("Monthly", "1-Year")
NO_COMMITMENT = ("Monthly", None)


def _on(first: date, months: int, day: int) -> date:
    return add_months(first, months).replace(day=day)


def _sub(
    rng: random.Random,
    account: Account,
    key: str,
    quantity: int,
    start: date,
    term: tuple[str, str | None] = MONTHLY_NCE,
) -> Sub:
    """A subscription the Halo recurring invoice bills correctly."""
    sub = add_sub(rng, account, BY_KEY[key], term, start, quantity)
    sub.halo_qty = quantity if BY_KEY[key].halo_name else None
    return sub


def _town(city: str) -> Town:
    return next(town for town in TOWNS if town.city == city)


def bear_creek(rng: random.Random, cal: Calendar) -> Account:
    """Bear Creek Winery (Pax8) is "Bear Creek Winery LLC" in Halo, tied by name only (no external
    link, no externalId). Microsoft 365 Business Standard, billed monthly on an annual NCE
    commitment, at 12.50 a seat (cost 10.63):

    - M-20 months, 15th: bought with 12 seats; M-9 months, 10th: 15; M-3 months, 24th: 17.
      So 17 seats all last month and on the 1st.
    - the 5th, 09:14: 18. Diego starts as Sandra's replacement, two weeks' overlap.
    - the 12th, 10:32: 19. Carla joins as events coordinator (the mid-month hire).
    - the 15th, 16:05: 18. Sandra leaves; her seat goes back within the 7-day NCE window that
      Carla's seat opened.

    Seats by day in M: 17 (1st-4th), 18 (5th-11th), 19 (12th-14th), 18 (15th on); 18 now.
    The Halo recurring line still says 17: under-billing by one seat.
    """
    account = new_account(
        rng,
        cal,
        "Bear Creek Winery",
        halo_name="Bear Creek Winery LLC",
        town=_town("Healdsburg"),
        headcount=18,
        link="name",
    )
    account.service = SERVICES[0]
    standard = _sub(rng, account, "m365-std", 12, _on(cal.month, -20, 15))
    change(standard, local_moment(_on(cal.month, -9, 10), 11, 48, 6, 512), quantity=15)
    change(standard, local_moment(_on(cal.month, -3, 24), 8, 30, 41, 87), quantity=17)
    change(standard, local_moment(cal.month.replace(day=5), 9, 14), quantity=18)
    change(standard, local_moment(cal.month.replace(day=12), 10, 32), quantity=19)
    change(standard, local_moment(cal.month.replace(day=15), 16, 5), quantity=18)
    standard.halo_qty = 17
    _sub(rng, account, "exo-p1", 3, _on(cal.month, -20, 15))
    _sub(rng, account, "defender-bus", 17, _on(cal.month, -14, 2))
    _sub(rng, account, "acr-ws", 14, _on(cal.month, -30, 7), NO_COMMITMENT)
    _sub(rng, account, "keeper-bus", 12, _on(cal.month, -11, 19), NO_COMMITMENT)
    _sub(rng, account, "im-unite", 6, _on(cal.month, -26, 3), NO_COMMITMENT)
    return account


def hollis_crane(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(
        rng, cal, "Hollis & Crane Law", halo_name="Hollis and Crane Law, PLLC", headcount=11
    )
    _sub(rng, account, "m365-prem", 11, _on(cal.month, -17, 8))
    acrobat = _sub(rng, account, "acrobat-pro", 6, _on(cal.month, -14, 8), NO_COMMITMENT)
    cancel(acrobat, local_moment(cal.prev.replace(day=18), 8, 41, 19, 230))
    _sub(rng, account, "keeper-bus", 11, _on(cal.month, -17, 8), NO_COMMITMENT)
    _sub(rng, account, "acr-m365", 11, _on(cal.month, -9, 21), NO_COMMITMENT)
    return account


def pinecrest(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(
        rng,
        cal,
        "Pinecrest Family Dental",
        halo_name="Pinecrest Family Dental, P.C.",
        headcount=15,
        link="external_id",
    )
    premium = _sub(rng, account, "m365-prem", 10, _on(cal.prev, -24, 9))
    change(premium, local_moment(_on(cal.month, -7, 16), 13, 5, 52, 640), quantity=14)
    price, cost = premium.current.price * PRICE_RISE, premium.current.cost * PRICE_RISE
    renewal = local_moment(cal.prev.replace(day=9), 7, 2, 11, 5)
    change(premium, renewal, price=cents(price), cost=cents(cost))
    _sub(rng, account, "defender-o365", 14, _on(cal.month, -13, 4))
    _sub(rng, account, "acr-ws", 16, _on(cal.month, -25, 12), NO_COMMITMENT)
    _sub(rng, account, "acr-srv", 1, _on(cal.month, -25, 12), NO_COMMITMENT)
    _sub(rng, account, "gz-bus", 16, _on(cal.month, -25, 12), NO_COMMITMENT)
    return account


def harbor_light(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(
        rng, cal, "Harbor Light Food Bank", halo_name="Harbor Light Food Bank Inc.", headcount=14
    )
    account.self_service = True
    _sub(rng, account, "m365-basic", 12, _on(cal.month, -20, 3))
    second = add_sub(
        rng,
        account,
        BY_KEY["m365-basic"],
        MONTHLY_NCE,
        cal.prev.replace(day=20),
        3,
        at=local_moment(cal.prev.replace(day=20), 13, 47, 2, 918),
    )
    second.ordered_by = "Customer"
    _sub(rng, account, "exo-p1", 4, _on(cal.month, -20, 3))
    _sub(rng, account, "keeper-bus", 6, _on(cal.month, -8, 26), NO_COMMITMENT)
    return account


def lakeside(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(
        rng,
        cal,
        "Lakeside Accounting",
        halo_name="Lakeside Accounting, Inc.",
        headcount=24,
        link="external_id",
    )
    standard = _sub(rng, account, "m365-std", 18, _on(cal.month, -30, 11), NO_COMMITMENT)
    change(standard, local_moment(_on(cal.month, -8, 2), 9, 55, 30, 301), quantity=26)
    change(standard, local_moment(cal.prev.replace(day=6), 11, 20, 4, 777), quantity=22)
    standard.halo_qty = 26
    _sub(rng, account, "acrobat-std", 6, _on(cal.month, -19, 14))
    _sub(rng, account, "dbx-std", 8, _on(cal.month, -19, 14), NO_COMMITMENT)
    _sub(rng, account, "acr-ws", 20, _on(cal.month, -30, 11), NO_COMMITMENT)
    return account


def copper_kettle(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(rng, cal, "Copper Kettle Bakery", halo=False, headcount=6, link="name")
    day = cal.prev.replace(day=7)
    for key, quantity in (("m365-basic", 6), ("defender-bus", 6), ("exo-p1", 1)):
        add_sub(rng, account, BY_KEY[key], MONTHLY_NCE, day, quantity)
    return account


def riverbend(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(rng, cal, "Riverbend Montessori School", pax8=False, headcount=22)
    account.service = SERVICES[1]
    return account


def eagle_rock(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(rng, cal, "Eagle Rock Brewing Company", headcount=9, link="external_id")
    azure = add_azure(rng, account, _on(cal.month, -16, 6), "eaglerock")
    azure.halo_qty = 1
    price, hours = azure.meters[0].unit_price, azure.meters[0].daily
    stray = Meter("rg-dev-sandbox", "Virtual Machines B Series", "Hour", price, hours, False)
    azure.meters.append(stray)
    _sub(rng, account, "m365-prem", 9, _on(cal.month, -16, 6))
    _sub(rng, account, "gz-bus", 12, _on(cal.month, -16, 6), NO_COMMITMENT)
    _sub(rng, account, "acr-srv", 2, _on(cal.month, -16, 6), NO_COMMITMENT)
    return account


def granite_peak(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(rng, cal, "Granite Peak Engineering", headcount=32)
    _sub(rng, account, "m365-e3", 30, _on(cal.month, -36, 10), ("3-Year", "3-Year"))
    add_sub(
        rng,
        account,
        BY_KEY["teams-prem"],
        ("Trial", None),
        cal.month.replace(day=6),
        25,
        status="Trial",
    )
    _sub(rng, account, "project-p3", 3, _on(cal.month, -22, 17))
    _sub(rng, account, "acr-ws", 30, _on(cal.month, -36, 10), NO_COMMITMENT)
    _sub(rng, account, "s1-complete", 32, _on(cal.month, -36, 10), NO_COMMITMENT)
    return account


def silver_lake(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(rng, cal, "Silver Lake Veterinary Clinic", headcount=10)
    dropbox = _sub(rng, account, "dbx-std", 8, _on(cal.month, -16, 4), NO_COMMITMENT)
    notice = local_moment(cal.month.replace(day=16), 14, 25, 10, 404)
    cancel(dropbox, notice, status="PendingCancel", end=cal.next)
    mailboxes = _sub(rng, account, "exo-p1", 4, _on(cal.month, -26, 19))
    change(mailboxes, local_moment(_on(cal.month, -5, 12), 10, 1, 33, 150), quantity=0)
    mailboxes.halo_qty = None
    _sub(rng, account, "m365-std", 9, _on(cal.month, -26, 19))
    _sub(rng, account, "acr-ws", 10, _on(cal.month, -26, 19), NO_COMMITMENT)
    return account


def cedar_hollow(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(
        rng, cal, "Cedar Hollow Realty", halo_name="Cedar Hollow Realty Group", headcount=14
    )
    premium = _sub(rng, account, "m365-prem", 12, _on(cal.month, -15, 22))
    change(premium, local_moment(_on(cal.month, -6, 8), 12, 12, 12, 12), quantity=14)
    change(premium, local_moment(cal.month.replace(day=10), 15, 3, 27, 450), quantity=12)
    premium.halo_qty = 12
    _sub(rng, account, "exo-p1", 2, _on(cal.month, -15, 22))
    _sub(rng, account, "keeper-bus", 14, _on(cal.month, -15, 22), NO_COMMITMENT)
    _sub(rng, account, "gz-bus", 14, _on(cal.month, -15, 22), NO_COMMITMENT)
    return account


def maple_leaf(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(
        rng,
        cal,
        "Maple Leaf Physiotherapy",
        halo_name="Maple Leaf Physiotherapy Ltd.",
        currency="CAD",
        headcount=8,
    )
    _sub(rng, account, "m365-std", 7, _on(cal.month, -12, 1))
    _sub(rng, account, "acr-ws", 8, _on(cal.month, -12, 1), NO_COMMITMENT)
    _sub(rng, account, "gz-bus", 8, _on(cal.month, -12, 1), NO_COMMITMENT)
    return account


def aspen_grove(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(rng, cal, "Aspen Grove Chiropractic", headcount=8)
    account.bill_on_behalf = True
    for key, quantity, term in (
        ("m365-prem", 8, MONTHLY_NCE),
        ("acr-m365", 8, NO_COMMITMENT),
        ("keeper-bus", 8, NO_COMMITMENT),
    ):
        add_sub(rng, account, BY_KEY[key], term, _on(cal.month, -10, 14), quantity)
    return account


def stonegate(rng: random.Random, cal: Calendar) -> Account:
    account = new_account(
        rng,
        cal,
        "Stonegate Property Management",
        halo_name="Stonegate Property Management LLC",
        headcount=15,
        link="name",
    )
    _sub(rng, account, "m365-prem", 15, _on(cal.month, -18, 25))
    _sub(rng, account, "powerbi-pro", 4, _on(cal.month, -18, 25))
    _sub(rng, account, "dropsuite", 15, _on(cal.month, -18, 25), NO_COMMITMENT)
    _sub(rng, account, "intune-p1", 3, _on(cal.month, -9, 2))
    return account


STORIES: tuple[Callable[[random.Random, Calendar], Account], ...] = (
    bear_creek,
    hollis_crane,
    pinecrest,
    harbor_light,
    lakeside,
    copper_kettle,
    riverbend,
    eagle_rock,
    granite_peak,
    silver_lake,
    cedar_hollow,
    maple_leaf,
    aspen_grove,
    stonegate,
)
