"""A client's own sales tax at Xero: a UK organisation bills an overseas client outside the scope
of UK VAT. The Xero contact's AccountsReceivableTaxType goes on every line of its invoice (Xero's
API applies no contact default itself); a client without one keeps its items' 20% VAT. Read back
through the simulator's API, never trusted from our output."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest

from test_cli_xero import DEMO, _environment, data, invoke
from trueup.core.settings.clients import xero_from_settings
from trueup.core.settings.config import load_settings
from trueup.sandbox.gen_xero import as_edition
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background

OVERSEAS, DOMESTIC = "Maple Leaf Physiotherapy Ltd.", "Albright & Mercer Architects"  # CAD, USD


@pytest.fixture
def uk(tmp_path, monkeypatch):
    """The demo synced and mapped, its Xero a UK organisation (as_edition)."""
    world = json.loads(DEMO.read_text(encoding="utf-8"))
    world["xero"] = as_edition(world["xero"], "GB")
    sims = build_simulators(parse_scenario(world), rate_limits=False)
    with serve_in_background(sims) as urls:
        yield _environment(urls, tmp_path, monkeypatch)


def xero_read(tmp_path: Path, collection: str, params: dict[str, str]) -> list[dict]:
    async def read() -> list[dict]:
        async with xero_from_settings(load_settings(tmp_path / "config.toml")) as xero:
            return await xero.pages(collection, params)

    return asyncio.run(read())


def test_an_overseas_clients_invoice_carries_its_contacts_own_tax_type(uk) -> None:
    assert invoke("xero", "refresh").exit_code == 0
    assert invoke("xero", "map", "accept", "--min-score", "80").exit_code == 0
    contacts = {c["Name"]: c for c in xero_read(uk, "Contacts", {})}
    assert contacts[OVERSEAS]["AccountsReceivableTaxType"] == "NONE"  # No VAT: outside the scope
    assert "AccountsReceivableTaxType" not in contacts[DOMESTIC]

    batch = data(invoke("batch", "--month", "2026-11", "--json"))
    clients = {i["client_name"]: i["client_id"] for i in batch["invoices"]}
    ids = [str(clients[OVERSEAS]), str(clients[DOMESTIC])]
    for client in ids:
        assert invoke("approve", batch["batch_id"], "--client", client).exit_code == 0
    chosen = [a for client in ids for a in ("--client", client)]
    posted = invoke("post", "2026-11", "--to", "xero", "--yes", "--unsettled", *chosen)
    assert posted.exit_code == 0, posted.output

    numbers = {name: f"TU2611-{clients[name]}" for name in (OVERSEAS, DOMESTIC)}
    found = {
        r["InvoiceNumber"]: r
        for r in xero_read(uk, "Invoices", {"InvoiceNumbers": ",".join(numbers.values())})
    }
    overseas, domestic = found[numbers[OVERSEAS]], found[numbers[DOMESTIC]]
    assert {line["TaxType"] for line in overseas["LineItems"]} == {"NONE"}
    assert Decimal(str(overseas["TotalTax"])) == 0
    assert Decimal(str(overseas["Total"])) == Decimal(str(overseas["SubTotal"])) > 0
    assert {line["TaxType"] for line in domestic["LineItems"]} == {"OUTPUT2"}
    net = Decimal(str(domestic["SubTotal"]))
    assert abs(Decimal(str(domestic["TotalTax"])) - net / 5) <= Decimal("0.01") * len(
        domestic["LineItems"]
    )
