"""The unit price of a subscription line under its price policy (billing-rules §4)."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from trueup.core.billing.lines import percent_text
from trueup.core.billing.rules import Policy
from trueup.core.billing.timeline import Snapshot
from trueup.core.values.money import money_prose

HUNDRED = Decimal(100)


class Pricing(NamedTuple):
    """How one line is priced: per day from the snapshot in effect, or held for the month."""

    policy: Policy
    halo_unit_price: Decimal | None
    who: str = "Pax8"  # the subscription's distributor, as explanations name it
    unit: str = "seat"  # what a quantity counts, as explanations name it (lines.unit_word)

    def price(self, snapshot: Snapshot | None) -> Decimal | None:
        """The client's unit price while `snapshot` is in effect; None when it has none."""
        match self.policy.price:
            case "pax8":
                return snapshot.price if snapshot else None
            case "markup":
                cost = snapshot.partner_cost if snapshot else None
                return None if cost is None else cost * (1 + self.policy.markup_percent / HUNDRED)
            case "fixed":
                return self.policy.fixed_price
            case "halo":
                return self.halo_unit_price
        raise ValueError(f"unknown price policy {self.policy.price!r}")

    @property
    def label(self) -> str:
        """The price policy for the line's policy column: `pax8`, `markup 20%`, `fixed 12.50`."""
        match self.policy.price:
            case "markup":
                return f"markup {percent_text(self.policy.markup_percent)}"
            case "fixed" if self.policy.fixed_price is not None:
                return f"fixed {money_prose(self.policy.fixed_price)}"
        return self.policy.price

    @property
    def source(self) -> str:
        """Where the unit price comes from, for explanations."""
        match self.policy.price:
            case "pax8":
                return f"{self.who} price"
            case "markup":
                markup = percent_text(self.policy.markup_percent)
                origin = self.policy.origin("markup_percent")
                return f"{self.who} cost + {markup} markup (rules: {origin})"
            case "fixed":
                return f"fixed price (rules: {self.policy.origin('fixed_price')})"
        return "Halo line price"

    @property
    def missing(self) -> str:
        """Why there is no unit price, for UNBILLED_SUBSCRIPTION."""
        match self.policy.price:
            case "pax8":
                return f"{self.who} has no price for it"
            case "markup":
                return f"{self.who} has no partner cost to mark up"
            case "fixed":
                return "price policy fixed with no fixed_price"
        return "price policy halo with no Halo line to take the price from"
