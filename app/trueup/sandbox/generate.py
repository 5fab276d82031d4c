"""Deterministic, realistic sandbox scenarios (contract.md §4): an MSP with N clients in Pax8,
HaloPSA, QuickBooks Online and Xero. The same clients, seed and month always give the same bytes.

Every scenario of 10+ clients carries the named storylines of gen_story (Bear Creek Winery first);
the rest are random small businesses with about 20 subscriptions each (3 to 60), of which ~6%
changed in the last two months. Regenerate the bundled demo with
`python -m trueup.sandbox.generate --demo`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from trueup.sandbox.gen_accounts import random_account
from trueup.sandbox.gen_catalog import PRODUCTS
from trueup.sandbox.gen_halo import IdSequence, render_halo
from trueup.sandbox.gen_pax8 import render_pax8
from trueup.sandbox.gen_story import STORIES
from trueup.sandbox.gen_world import Account, Calendar, new_id
from trueup.sandbox.gen_xero import render_xero

DEMO_PATH = Path(__file__).parent / "scenarios" / "demo.json"
DEMO_CLIENTS, DEMO_SEED, DEMO_MONTH = 60, 1, "2026-11"


def generate_scenario(clients: int, seed: int = 1, month: str | None = None) -> dict[str, Any]:
    """A scenario of `clients` clients whose current month is `month` ("YYYY-MM"; default: the
    month of TRUEUP_TODAY, else of today in UTC), as of the 21st of that month."""
    if clients < 1:
        raise ValueError(f"clients must be at least 1, got {clients}")
    cal = Calendar(_first_day(month))
    rng = random.Random(seed)
    product_ids = {product.key: new_id(rng) for product in PRODUCTS}
    accounts = _accounts(rng, cal, clients)
    pax8 = render_pax8(rng, cal, accounts, product_ids)
    halo, qbo = render_halo(rng, cal, accounts, product_ids)
    xero = render_xero(seed, cal, accounts, halo["items"])  # its own random stream
    return {
        "as_of": f"{cal.as_of:%Y-%m-%dT%H:%M:%SZ}",
        "pax8": pax8,
        "halo": halo,
        "qbo": qbo,
        "xero": xero,
    }


def _first_day(month: str | None) -> date:
    if month is None:
        today = os.environ.get("TRUEUP_TODAY")
        try:
            day = date.fromisoformat(today) if today else datetime.now(UTC).date()
        except ValueError:
            raise ValueError(f"TRUEUP_TODAY must be YYYY-MM-DD, got {today!r}") from None
        return day.replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{2})", month)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"month must be YYYY-MM, got {month!r}")
    return date(int(match[1]), int(match[2]), 1)


def _accounts(rng: random.Random, cal: Calendar, clients: int) -> list[Account]:
    """The storylines (most of them when there is room for random clients too), the random
    clients, shuffled, then numbered the way Halo and QBO would have."""
    stories = STORIES[: min(len(STORIES), clients - clients // 4)] if clients >= 10 else ()
    accounts = [story(rng, cal) for story in stories]
    taken = {account.name.lower() for account in accounts}
    accounts += [random_account(rng, cal, taken) for _ in range(clients - len(accounts))]
    rng.shuffle(accounts)
    client_ids, site_ids = IdSequence(rng, 10), IdSequence(rng, 17)
    for number, account in enumerate((a for a in accounts if a.halo_name), start=1):
        account.halo_id, account.site_id = client_ids.next(), site_ids.next()
        account.qbo_id = str(number)
    return accounts


def dump_scenario(data: Any) -> str:
    """Deterministic JSON text, one record per line: containers holding records are laid out
    with indentation, every other object or list stays on one line."""
    out: list[str] = []
    _write(data, "", out)
    out.append("\n")
    return "".join(out)


def _holds_records(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and isinstance(value[0], dict)
    return isinstance(value, dict) and any(_holds_records(v) for v in value.values())


def _write(value: Any, indent: str, out: list[str]) -> None:
    if not _holds_records(value):
        out.append(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
        return
    inner = indent + "  "
    pairs = value.items() if isinstance(value, dict) else ((None, v) for v in value)
    out.append("{" if isinstance(value, dict) else "[")
    for index, (key, item) in enumerate(pairs):
        out.append(f"{',' if index else ''}\n{inner}")
        if key is not None:
            out.append(json.dumps(key, ensure_ascii=False) + ": ")
        _write(item, inner, out)
    out.append(f"\n{indent}{'}' if isinstance(value, dict) else ']'}")


def demo_text() -> str:
    return dump_scenario(generate_scenario(DEMO_CLIENTS, seed=DEMO_SEED, month=DEMO_MONTH))


def write_demo(path: Path = DEMO_PATH) -> Path:
    path.write_text(demo_text(), encoding="utf-8", newline="\n")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m trueup.sandbox.generate", description="Regenerate the bundled demo."
    )
    parser.add_argument("--demo", action="store_true", required=True, help="write demo.json")
    parser.parse_args()
    print(write_demo())
