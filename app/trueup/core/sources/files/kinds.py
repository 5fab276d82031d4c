"""What a charge does to its subscription's seats, whatever its distributor calls it: the kinds
every format reads its charge types into, and Microsoft's charge types (Partner Center's, and
TD SYNNEX Ion's, which bills Microsoft's products under Microsoft's names).

A charge type no table lists still costs what it says; it changes no seats, and the import says
so.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

# The whole cycle's seats, seats added, seats removed, the subscription ended, money back.
CYCLE, ADD, REMOVE, CANCEL, CREDIT = "cycle", "add", "remove", "cancel", "credit"
# Consumption billed in arrears (Azure), and a one-off fee (a setup): money, no seats.
USAGE, ONE_TIME = "usage", "one-time"

# By ChargeType with case, spaces and dashes aside. Microsoft's documentation shows `New` (the
# reconciliation file's sample) and `new` (the API's); the others are the new-commerce
# lifecycle as partners' tools name it, not confirmed against a real file. `customerCredit` is
# also the type TD SYNNEX Ion documents for Microsoft's credits ([TD5] in
# ../shared/reference/market-2026-12.md §4.2).
MICROSOFT = {
    "new": CYCLE,
    "renew": CYCLE,
    "cyclecharge": CYCLE,
    "cyclefee": CYCLE,
    "convert": CYCLE,
    "addquantity": ADD,
    "removequantity": REMOVE,
    "cancelimmediate": CANCEL,
    "cancel": CANCEL,
    "customercredit": CREDIT,
    "credit": CREDIT,
}


# The kinds that bill their quantity as seats: a negative one costing money contradicts itself.
SEATED = (CYCLE, ADD)


def negative_seats(charge_type: str, seats: Decimal) -> str:
    """The problem with negative seats on a SEATED charge that costs money (seats.py would take
    them away, and the month would bill none)."""
    return (
        f"bills {seats} seats on a '{charge_type}' charge that costs money: seats are never "
        "below 0 (money back has a negative amount)"
    )


def kind_of(kinds: Mapping[str, str], charge_type: str) -> str | None:
    """The kind `kinds` gives a charge type, None when it lists none."""
    return kinds.get("".join(ch for ch in charge_type.casefold() if ch.isalnum()))
