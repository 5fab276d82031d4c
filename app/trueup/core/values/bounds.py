"""The sane bounds of a number from outside (an API record or an imported file): far past any
real MSP, far below what breaks the arithmetic. A number past them is refused, never stored."""

from __future__ import annotations

from decimal import Decimal

QUANTITY_LIMIT = Decimal(10) ** 9  # seats, units, GB: a billion
MONEY_LIMIT = Decimal(10) ** 12  # a unit price, a cost, an invoice total: a trillion
INT64 = 2**63 - 1  # a numeric id (a Halo client's): it must fit SQLite's integer
MAX_ID = 100  # a text id's characters: it becomes a store key; GUIDs are 36
