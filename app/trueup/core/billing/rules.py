"""The billing rules as values (contract.md §5, billing-rules.md §3-§8): what each key means.

A `Policy` is every key resolved for one client or one line; `Rules` holds the file's layers
(defaults, per-client overrides, per-line overrides, currency rates) and resolves them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from trueup.core.errors import TrueupError

PRORATION_POLICIES = ("start", "end", "max", "daily")
PRICE_POLICIES = ("pax8", "markup", "fixed", "halo")
USAGE_PRICE_POLICIES = ("pax8", "markup", "absorb")

# Each key of [defaults] and what kind of value it takes; [clients."ID"] takes any of them.
KINDS: dict[str, str] = {
    "proration": "enum",
    "price": "enum",
    "markup_percent": "decimal",
    "fixed_price": "decimal",
    "min_margin_percent": "decimal",
    "qty_swing_percent": "decimal",
    "usage_month_offset": "int",
    "usage_price": "enum",
    "sync": "bool",
    "tax_percent": "decimal",
    "currency": "currency",
}
KEYS = tuple(KINDS)
CHOICES: dict[str, tuple[str, ...]] = {
    "proration": PRORATION_POLICIES,
    "price": PRICE_POLICIES,
    "usage_price": USAGE_PRICE_POLICIES,
}
# Tax and currency belong to the invoice (tax is computed on its subtotal, §8), so not to a line.
CLIENT_ONLY = ("tax_percent", "currency")
LINE_KEYS = tuple(k for k in KEYS if k not in CLIENT_ONLY)


class RulesError(TrueupError, ValueError):
    """The rules were refused; each problem names its line, its key and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Policy:
    proration: str = "daily"
    price: str = "pax8"
    markup_percent: Decimal = Decimal(0)
    fixed_price: Decimal | None = None
    min_margin_percent: Decimal = Decimal(0)
    qty_swing_percent: Decimal = Decimal(25)
    usage_month_offset: int = -1
    usage_price: str = "pax8"
    sync: bool = True
    tax_percent: Decimal = Decimal(0)
    currency: str | None = None  # None: the currency Pax8 bills in
    source: str = "defaults"  # the most specific layer applied: "client 14", "line 14/SKU"
    # (key, layer) for each key a client or line layer set, for per-figure explanations
    origins: tuple[tuple[str, str], ...] = ()

    def origin(self, key: str) -> str:
        """The layer a key's value comes from: "defaults", "client 14" or "line 14/SKU"."""
        return dict(self.origins).get(key, "defaults")

    def value(self, key: str) -> Any:
        return getattr(self, key)


@dataclass(frozen=True)
class LineRule:
    client_id: int
    product: str  # a Pax8 product id or sku
    overrides: Mapping[str, Any]


@dataclass(frozen=True)
class Rules:
    defaults: Policy = field(default_factory=Policy)
    clients: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    lines: tuple[LineRule, ...] = ()
    # (from, to) -> how many `to` one `from` buys: ("EUR", "USD") -> 1.0850
    rates: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)

    def for_client(self, client_id: int) -> Policy:
        """The defaults, then the client's [clients."ID"] overrides."""
        overrides = self.clients.get(client_id)
        if not overrides:
            return self.defaults
        return _apply(self.defaults, overrides, f"client {client_id}")

    def for_line(self, client_id: int, product_id: str | None, sku: str | None) -> Policy:
        """The client's policy, then the [[lines]] entry naming the product id (else its sku)."""
        policy = self.for_client(client_id)
        rule = self._line_index.get((client_id, product_id or "")) or (
            self._line_index.get((client_id, sku)) if sku else None
        )
        if rule is None:
            return policy
        return _apply(policy, rule.overrides, f"line {client_id}/{rule.product}")

    def line_rule(self, client_id: int, product: str) -> LineRule | None:
        return self._line_index.get((client_id, product))

    def rate(self, from_currency: str, to_currency: str) -> Decimal | None:
        """What one `from_currency` is worth in `to_currency`: 1, the configured rate or the
        inverse of the reverse one; None when no rate is configured."""
        if from_currency == to_currency:
            return Decimal(1)
        direct = self.rates.get((from_currency, to_currency))
        if direct is not None:
            return direct
        reverse = self.rates.get((to_currency, from_currency))
        return None if reverse is None else Decimal(1) / reverse

    @cached_property
    def _line_index(self) -> dict[tuple[int, str], LineRule]:
        # The engine asks for every line of every client: a dict, not a scan of the list.
        return {(rule.client_id, rule.product): rule for rule in self.lines}


def _apply(policy: Policy, overrides: Mapping[str, Any], layer: str) -> Policy:
    origins = dict(policy.origins) | dict.fromkeys(overrides, layer)
    return dataclasses.replace(
        policy, **overrides, source=layer, origins=tuple(sorted(origins.items()))
    )


DEFAULT_RULES = Rules()
