"""The rules file as text (contract.md §5): parsed and validated whole, and written canonically.

Validation collects every problem before refusing, so one round of fixes is enough; each names
its line (found by rules_locate) and its key.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from trueup.core.billing.rules import (
    CHOICES,
    CLIENT_ONLY,
    KEYS,
    LINE_KEYS,
    LineRule,
    Policy,
    Rules,
    RulesError,
)
from trueup.core.rules.currencies import CURRENCIES
from trueup.core.rules.locate import Locator, Path
from trueup.core.rules.values import ValueProblem, close_to, decimal_of, value_of, value_text
from trueup.core.values.text import visible

_CLIENT = re.compile(r"[0-9]+")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_PAIR = re.compile(r"([A-Z]{3})/([A-Z]{3})")
_TOP = ("defaults", "clients", "lines", "rates")
# What one currency may be worth in another: the widest pair there is (a Kuwaiti dinar in
# Lebanese pounds) is under 300,000.
LOWEST_RATE = Decimal("0.000001")
HIGHEST_RATE = Decimal(1_000_000)


@dataclass
class _Problems:
    locate: Locator
    strict: bool = True  # False: a stored document, read with the checks it was accepted under
    found: list[tuple[int, str]] = field(default_factory=list)
    paths: set[tuple[str | int, ...]] = field(default_factory=set)  # the keys refused

    def add(self, path: Path, message: str, *, shown: str | None = None) -> None:
        self.paths.add(tuple(path))
        line = self.locate.line(path)
        where = f"line {line}: " if line is not None else ""
        self.found.append((line or 0, f"{where}{shown or label(path)}: {message}"))

    def raise_any(self) -> None:
        if self.found:
            raise RulesError([message for _, message in sorted(self.found, key=lambda p: p[0])])


def label(path: Path) -> str:
    """A key as the file shows it: `[defaults] price`, `[clients."14"] proration`."""
    top, *rest = path
    if top == "clients" and rest:
        head, rest = f'[clients."{visible(str(rest[0]))}"]', rest[1:]
    elif top == "lines" and rest and isinstance(rest[0], int):
        head, rest = f"[[lines]] #{rest[0] + 1}", rest[1:]
    elif top in _TOP:
        head = f"[[{top}]]" if top == "lines" else f"[{top}]"
    else:
        head = visible(str(top))  # the file's own text: its control characters shown
    # Rates are written quoted ("EUR/USD"), as they must be in the file (JSON escapes them).
    quoted = top == "rates" or not all(_BARE.fullmatch(str(k)) for k in rest)
    return " ".join([head, *(json.dumps(str(k)) if quoted else str(k) for k in rest)])


# --- parsing ----------------------------------------------------------------------------------


def parse_rules(text: str, *, strict: bool = True) -> Rules:
    """The rules of a TOML text, or RulesError listing every problem in it."""
    return parse_located(text, strict=strict)[0]


def parse_located(text: str, *, strict: bool = True) -> tuple[Rules, Locator]:
    """The rules and where each key is. `strict` for a text coming in (an import, a change);
    not for a document the store holds, read with the checks it was accepted under: one a
    check added since refuses (a rate of 1e400, a currency outside ISO 4217) still reads, so
    the batches built with it do."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError([_syntax(str(exc))]) from None
    except RecursionError:
        raise RulesError([_syntax("arrays or tables nested deeper than any rule is")]) from None
    except ValueError:  # an integer of thousands of digits: Python refuses to read it
        raise RulesError(
            [_syntax("a number of thousands of digits, which no rule needs")]
        ) from None
    problems = _Problems(Locator(text), strict)
    for top, value in data.items():
        if top not in _TOP:
            kind, shown = ("table", f"[{top}]") if isinstance(value, dict) else ("key", top)
            problems.add(
                (top,),
                f"unknown {kind}{close_to(top, _TOP)}; a rules file has "
                '[defaults], [clients."ID"], [[lines]] and [rates]',
                shown=shown,
            )
    defaults = replace(
        Policy(), **_overrides(data.get("defaults", {}), ("defaults",), KEYS, problems)
    )
    rules = Rules(
        defaults=defaults,
        clients=_clients(data.get("clients", {}), problems),
        lines=_lines(data.get("lines", []), problems),
        rates=_rates(data.get("rates", {}), problems),
    )
    _check_fixed(rules, problems)
    problems.raise_any()
    return rules, problems.locate


def _syntax(message: str) -> str:
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if match is None:
        return f"not valid TOML: {message}"
    what = message[: match.start()].strip()
    return f"line {match[1]}: not valid TOML: {what} (column {match[2]})"


def _overrides(
    table: Any, path: Path, allowed: tuple[str, ...], problems: _Problems
) -> dict[str, Any]:
    if not isinstance(table, dict):
        problems.add(path, "must be a table of keys")
        return {}
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in allowed:
            if key in CLIENT_ONLY:
                problems.add(
                    (*path, key), "set it per client: tax and currency apply to the whole invoice"
                )
            else:
                problems.add((*path, key), f"unknown key{close_to(key, allowed)}")
            continue
        try:
            values[key] = value_of(key, raw, strict=problems.strict)
        except ValueProblem as exc:
            problems.add((*path, key), str(exc))
    return values


def _clients(table: Any, problems: _Problems) -> dict[int, dict[str, Any]]:
    if not isinstance(table, dict):
        problems.add(("clients",), 'must be tables like [clients."14"]')
        return {}
    clients: dict[int, dict[str, Any]] = {}
    for key, overrides in table.items():
        path: Path = ("clients", key)
        if not _CLIENT.fullmatch(key):
            problems.add(path, f"{json.dumps(key)} is not a Halo client id (a whole number)")
        elif int(key) in clients:
            problems.add(path, f"client {int(key)} is given twice")
        else:
            values = _overrides(overrides, path, KEYS, problems)
            if values:
                clients[int(key)] = values
    return clients


def _lines(entries: Any, problems: _Problems) -> tuple[LineRule, ...]:
    if not isinstance(entries, list):
        problems.add(("lines",), "must be [[lines]] tables")
        return ()
    rules: list[LineRule] = []
    seen: set[tuple[int, str]] = set()
    for index, entry in enumerate(entries):
        path: Path = ("lines", index)
        if not isinstance(entry, dict):
            problems.add(path, "must be a table with client, product and the keys to override")
            continue
        body = {k: v for k, v in entry.items() if k not in ("client", "product")}
        overrides = _overrides(body, path, LINE_KEYS, problems)
        client, product = entry.get("client"), entry.get("product")
        if client is None:
            problems.add(path, 'has no client (add client = "<halo client id>")')
        elif isinstance(client, bool) or not _CLIENT.fullmatch(str(client)):
            problems.add((*path, "client"), f"{client!r} is not a Halo client id")
            client = None
        if not isinstance(product, str) or not product.strip():
            problems.add(
                (*path, "product") if product is not None else path,
                "needs product = a Pax8 product id or sku",
            )
            product = None
        if client is None or product is None:
            continue
        key = (int(client), product.strip())
        if key in seen:
            problems.add(path, f"client {key[0]} product {key[1]} is given twice")
            continue
        seen.add(key)
        rules.append(LineRule(key[0], key[1], overrides))
    return tuple(rules)


def _rates(table: Any, problems: _Problems) -> dict[tuple[str, str], Decimal]:
    if not isinstance(table, dict):
        problems.add(("rates",), 'must be a table like "EUR/USD" = "1.0850"')
        return {}
    rates: dict[tuple[str, str], Decimal] = {}
    for key, raw in table.items():
        path: Path = ("rates", key)
        match = _PAIR.fullmatch(key)
        if match is None or match[1] == match[2]:
            capitals = _PAIR.fullmatch(key.upper())
            said = f': write it "{key.upper()}"' if capitals and key != key.upper() else ""
            problems.add(path, f'is not a currency pair like "EUR/USD" (1 EUR = rate USD){said}')
            continue
        pair = (match[1], match[2])
        unknown = [code for code in pair if code not in CURRENCIES]
        if unknown and problems.strict:
            problems.add(path, f"{unknown[0]} is not an ISO 4217 currency code, like USD")
            continue
        try:
            rate = decimal_of(raw)
        except ValueProblem as exc:
            problems.add(path, str(exc))
            continue
        if rate <= 0:
            problems.add(path, "must be more than 0")
        elif problems.strict and not LOWEST_RATE <= rate <= HIGHEST_RATE:
            # Past what any two currencies are worth to each other, and past what the
            # arithmetic holds: 1e400 stopped every batch with "unexpected InvalidOperation".
            problems.add(
                path,
                f"{_magnitude(rate)} is out of range: a rate is between "
                f"{value_text(LOWEST_RATE)} and {HIGHEST_RATE:,}",
            )
        elif (pair[1], pair[0]) in rates:
            problems.add(
                path,
                f"{pair[1]}/{pair[0]} is given too; give one direction, the other is its inverse",
            )
        else:
            rates[pair] = rate
    return rates


def _magnitude(rate: Decimal) -> str:
    shown = value_text(rate)
    return shown if len(shown) <= 20 else f"{rate:.3E}"


def _check_fixed(rules: Rules, problems: _Problems) -> None:
    """A layer that chooses the fixed price policy must leave a fixed_price in effect (one it
    gives that was refused is said as that, not as missing)."""

    def missing(*layer: str | int) -> bool:
        return (*layer, "fixed_price") not in problems.paths

    if (
        rules.defaults.price == "fixed"
        and rules.defaults.fixed_price is None
        and missing("defaults")
    ):
        problems.add(
            ("defaults", "price"), '"fixed" needs a fixed_price; add fixed_price = "12.50"'
        )
    for client_id, overrides in rules.clients.items():
        fixed = overrides.get("price") == "fixed"
        if (
            fixed
            and rules.for_client(client_id).fixed_price is None
            and missing("clients", str(client_id))
        ):
            problems.add(
                ("clients", str(client_id), "price"),
                '"fixed" needs a fixed_price for the client; add fixed_price = "12.50"',
            )
    for index, line in enumerate(rules.lines):
        # A line inheriting "fixed" without a price was reported at the layer that chose it.
        effective = rules.for_line(line.client_id, line.product, None)
        fixed = line.overrides.get("price") == "fixed"
        if fixed and effective.fixed_price is None and missing("lines", index):
            problems.add(
                ("lines", index, "price"),
                '"fixed" needs a fixed_price on the line; add fixed_price = "12.50"',
            )


# --- writing ----------------------------------------------------------------------------------

_HEADER = (
    "# trueup billing rules (contract.md §5). Money and percents are quoted decimals;\n"
    '# [clients."<halo client id>"] overrides any default for one client, [[lines]] one line.'
)


def dump_rules(rules: Rules) -> str:
    """The canonical TOML of the rules: every default spelled out, then overrides by id."""
    out = [_HEADER, "", "[defaults]"]
    out += _assignments({k: rules.defaults.value(k) for k in KEYS})
    if rules.rates:
        out += ["", "[rates]"]
        out += [f'"{a}/{b}" = "{value_text(r)}"' for (a, b), r in sorted(rules.rates.items())]
    for client_id in sorted(rules.clients):
        out += ["", f'[clients."{client_id}"]', *_assignments(rules.clients[client_id])]
    for line in rules.lines:
        out += [
            "",
            "[[lines]]",
            f'client = "{line.client_id}"',
            f"product = {json.dumps(line.product)}",
            *_assignments(line.overrides),
        ]
    return "\n".join(out) + "\n"


def _assignments(values: Mapping[str, Any]) -> list[str]:
    lines = []
    for key in KEYS:
        value = values.get(key)
        if value is None:
            continue
        assignment = f"{key} = {_toml(value)}"
        if key in CHOICES:
            assignment = f"{assignment:<28} # {' | '.join(CHOICES[key])}"
        lines.append(assignment)
    return lines


def _toml(value: Any) -> str:
    if isinstance(value, bool | int):
        return value_text(value)
    return json.dumps(value_text(value))


def check_ids(
    rules: Rules,
    locate: Locator,
    client_known: Callable[[int], bool],
    product_known: Callable[[str], bool],
) -> None:
    """RulesError listing every client and [[lines]] product the store does not know."""
    problems = _Problems(locate)
    for client_id in rules.clients:
        if not client_known(client_id):
            problems.add(
                ("clients", str(client_id)),
                f"unknown Halo client {client_id}; sync, or check the id",
            )
    for index, line in enumerate(rules.lines):
        if not client_known(line.client_id):
            problems.add(
                ("lines", index, "client"),
                f"unknown Halo client {line.client_id}; sync, or check the id",
            )
        if not product_known(line.product):
            problems.add(
                ("lines", index, "product"),
                f"no Pax8 product has the id or sku {line.product!r}; sync, or check it",
            )
    problems.raise_any()
