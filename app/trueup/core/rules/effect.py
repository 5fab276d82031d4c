"""Keys of the rules that change no figure, and why (`trueup rules import`, the Rules screen).

Some keys only count under another: a markup under `price = "markup"` (or `usage_price =
"markup"` for usage), a fixed price under `price = "fixed"`, a proration while vendor sync is on
(with sync off the line bills Halo's quantity as it is), the usage month per client (the batch
chooses usage by the client's offset, never a line's). A key counts when some policy that takes
its value from the layer setting it (that layer's own, or a client's or line's inheriting it)
uses it. The defaults the file spells out at their built-in values are not reported: every
exported file has them. A tax above 0 changes trueup's totals but no posted document, which is
refused instead (`taxed_keys`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trueup.core.billing.rules import Policy, Rules
from trueup.core.rules.locate import Locator, Path
from trueup.core.rules.text import label

# A key that only counts under others: whether a policy uses it (and whether the policy is a
# [[lines]] entry's), and what it needs, in words.
_Uses = Callable[[Policy, bool], bool]
_DEPENDS: dict[str, tuple[_Uses, tuple[str, ...], str]] = {
    "markup_percent": (
        lambda p, _: "markup" in (p.price, p.usage_price),
        ("price", "usage_price"),
        'markup applies with price = "markup" or usage_price = "markup"',
    ),
    "fixed_price": (
        lambda p, _: p.price == "fixed",
        ("price",),
        'a fixed price applies with price = "fixed"',
    ),
    "proration": (
        lambda p, _: p.sync,
        ("sync",),
        "with vendor sync off the line bills Halo's quantity, not prorated",
    ),
    "usage_month_offset": (
        lambda _, line: not line,
        (),
        "usage is billed for the month the client's usage_month_offset chooses",
    ),
}


@dataclass(frozen=True)
class IdleKey:
    """A key the rules set that changes no figure (or no figure a destination is sent)."""

    path: Path  # as the file nests it: ("clients", "14", "markup_percent")
    reason: str  # 'no effect while price = "pax8" (markup applies with ...)'
    line: int | None = None  # in the rules text, when known

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{label(self.path)}: {self.reason}"


def idle_keys(rules: Rules, locate: Locator | None = None) -> list[IdleKey]:
    """Every key of `rules` that changes no figure, in the order of the file (`locate` gives
    the lines of its text)."""
    layers = _layers(rules)
    used = _used(layers)
    found = []
    for layer, (policy, _, set_keys) in layers.items():
        for key in set_keys:
            if key in _DEPENDS and (layer, key) not in used:
                path = (*layer, key)
                line = locate.line(path) if locate is not None else None
                found.append(IdleKey(path, _reason(key, policy), line))
    return sorted(found, key=lambda idle: idle.line or 0)


TAX_SENT_NOWHERE = (
    "trueup's own figure, sent to no destination: each taxes by its own codes, so a client "
    "taxed above 0 is refused at every one (set its tax in Halo or the books instead)"
)


def taxed_keys(rules: Rules, locate: Locator | None = None) -> list[IdleKey]:
    """Every `tax_percent` above 0 the rules set: posting refuses those clients (README,
    Billing rules), so the import warns before a month-end finds out."""
    paths: list[Path] = [("defaults", "tax_percent")] if rules.defaults.tax_percent else []
    paths += [
        ("clients", str(client_id), "tax_percent")
        for client_id, overrides in rules.clients.items()
        if overrides.get("tax_percent")
    ]
    return [
        IdleKey(path, TAX_SENT_NOWHERE, locate.line(path) if locate is not None else None)
        for path in paths
    ]


# A layer of the rules by its path in the file: its policy, whether it is a [[lines]] entry,
# and the keys it sets.
_Layer = tuple[Policy, bool, tuple[str, ...]]


def _layers(rules: Rules) -> dict[Path, _Layer]:
    built_in = Policy()
    defaults = tuple(k for k in _DEPENDS if rules.defaults.value(k) != built_in.value(k))
    layers: dict[Path, _Layer] = {("defaults",): (rules.defaults, False, defaults)}
    for client_id, overrides in rules.clients.items():
        layers[("clients", str(client_id))] = (rules.for_client(client_id), False, tuple(overrides))
    for index, line in enumerate(rules.lines):
        policy = rules.for_line(line.client_id, line.product, None)
        layers[("lines", index)] = (policy, True, tuple(line.overrides))
    return layers


def _used(layers: dict[Path, _Layer]) -> set[tuple[Path, str]]:
    """The (layer, key) pairs some policy taking the key from that layer uses."""
    # A layer's policy is named after it: "defaults", "client 14", "line 14/SKU" (Policy.origin).
    by_origin = {policy.source: path for path, (policy, _, _) in layers.items()}
    return {
        (by_origin[policy.origin(key)], key)
        for policy, is_line, _ in layers.values()
        for key, (uses, _, _) in _DEPENDS.items()
        if uses(policy, is_line)
    }


def _reason(key: str, policy: Policy) -> str:
    _, governing, needs = _DEPENDS[key]
    if not governing:
        return f"no effect on a line ({needs})"
    values = " and ".join(f"{k} = {_toml(policy.value(k))}" for k in governing)
    return f"no effect while {values} ({needs})"


def _toml(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
