"""Adjustments and awkward amounts at QuickBooks and Xero, end to end: `trueup post` and
`trueup post --adjust` against `trueup sandbox serve`, each document read back whole through the
destination's own API (its kind, currency, tax, lines and total) and set against what trueup's
month, batch and journal say."""

import asyncio
import json
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash

from ledger_fixtures import ledger_prepared, ledger_served, rules_with  # noqa: F401 (fixtures)

UP, DOWN = 40, 107  # Aspen Grove Chiropractic (USD) and Maple Leaf Physiotherapy Ltd. (CAD)
# Document kinds, as each destination names them: (a debit, a credit).
KINDS = {"qbo": ("Invoice", "CreditMemo"), "xero": ("ACCREC", "ACCRECCREDIT")}


def _read_back(env, destination):
    """{reference: (kind, currency, subtotal, tax, total, [line amounts])} of every live
    document of ours at the destination, as its API shows it (a credit's figures positive, as
    the destination keeps them)."""
    return asyncio.run(_documents(env, destination))


async def _documents(env, destination):
    from trueup.core.posting.qbo import is_voided
    from trueup.core.settings.clients import qbo_from_settings, xero_from_settings
    from trueup.core.settings.config import load_settings

    found = {}
    with post_crash.environment(env):
        settings = load_settings(Path(env["TRUEUP_CONFIG"]))
        if destination == "qbo":
            async with qbo_from_settings(settings) as qbo:
                for entity in ("Invoice", "CreditMemo"):
                    for row in await qbo.query(entity):
                        if is_voided(row) or not row["DocNumber"].startswith("TU"):
                            continue
                        lines = [
                            _money(line["Amount"])
                            for line in row["Line"]
                            if line["DetailType"] == "SalesItemLineDetail"
                        ]
                        tax = _money((row.get("TxnTaxDetail") or {}).get("TotalTax", 0))
                        total = _money(row["TotalAmt"])
                        found[row["DocNumber"]] = (
                            entity, row["CurrencyRef"]["value"], total - tax, tax, total, lines
                        )  # fmt: skip
            return found
        async with xero_from_settings(settings) as xero:
            numbers = (("Invoices", "InvoiceNumber"), ("CreditNotes", "CreditNoteNumber"))
            for collection, number in numbers:
                for row in await xero.pages(collection, {}):
                    if row["Status"] in ("VOIDED", "DELETED") or not row[number].startswith("TU"):
                        continue
                    found[row[number]] = (
                        row["Type"], row["CurrencyCode"], _money(row["SubTotal"]),
                        _money(row["TotalTax"]), _money(row["Total"]),
                        [_money(line["LineAmount"]) for line in row["LineItems"]],
                    )  # fmt: skip
    return found


def _money(value):
    return Decimal(str(value))


def _journal(db):
    """{reference: payload} of the journal's documents."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT reference, payload FROM posting_entry WHERE action = 'create'")
        return {reference: json.loads(payload) for reference, payload in rows}


def _clients(sandbox, db):
    month = json.loads(sandbox.run(db, "month", "--json").stdout)
    return {c["client_id"]: c for c in month["clients"]}


def _batch(sandbox, db):
    built = json.loads(sandbox.run(db, "batch", "--month", "2026-11", "--json").stdout)
    return {invoice["client_id"]: invoice for invoice in built["invoices"]}


@pytest.mark.parametrize("destination", ["qbo", "xero"])
def test_a_rules_change_raising_one_client_and_lowering_another_is_one_document_each(
    served, tmp_path, destination
):
    """Posted, then a rules change raises one client's month (a price with 4 decimals) and
    lowers another's (in CAD): `--adjust` sends one document each, a debit for the rise and a
    credit for the fall, in the client's currency, with no tax added, whose lines and total the
    destination reads back as trueup's difference to the cent; run again, it sends nothing."""
    sandbox, db, batch_id = served
    post = ("post", batch_id, "--to", destination, "--client", str(UP), "--client", str(DOWN))
    posted = sandbox.run(db, *post, "--yes", "--unsettled")
    assert posted.returncode == 0, posted.stderr
    before = _read_back(sandbox.env, destination)
    assert sorted(before) == [f"TU2611-{DOWN}", f"TU2611-{UP}"]

    lines = _batch(sandbox, db)
    up, down = lines[UP]["lines"][0], lines[DOWN]["lines"][2]
    assert (up["quantity"], up["unit_price"], down["quantity"], down["unit_price"]) == (
        "8.0000", "2.50", "7.0000", "17.25"
    )  # fmt: skip
    rules_with(sandbox, db, tmp_path,
               f'\n[[lines]]\nclient = "{UP}"\nproduct = "{up["product_id"]}"\nprice = "fixed"\n'
               'fixed_price = "12.3456"\n'
               f'\n[[lines]]\nclient = "{DOWN}"\nproduct = "{down["product_id"]}"\n'
               'price = "fixed"\nfixed_price = "16.9876"\n')  # fmt: skip
    now = _batch(sandbox, db)
    # 8 x 12.3456 = 98.7648 and 7 x 16.9876 = 118.9132, each line rounded once.
    assert (now[UP]["lines"][0]["amount"], now[DOWN]["lines"][2]["amount"]) == ("98.76", "118.91")
    month = _clients(sandbox, db)
    difference = {c: Decimal(month[c]["difference"]) for c in (UP, DOWN)}
    assert difference == {UP: Decimal("78.76"), DOWN: Decimal("-1.84")}

    adjust = ("post", "2026-11", "--to", destination, "--adjust", "--yes", "--unsettled")
    done = sandbox.run(db, *adjust, "--json")
    assert done.returncode == 0, done.stderr
    made = {e["client_id"]: e for e in json.loads(done.stdout) if e["this_run"]}
    assert {c: (e["reference"], e["state"], e["total"]) for c, e in made.items()} == {
        UP: (f"TU2611-{UP}-A1", "POSTED", "78.76"),
        DOWN: (f"TU2611-{DOWN}-A1", "POSTED", "-1.84"),
    }

    after = _read_back(sandbox.env, destination)
    assert set(after) - set(before) == {f"TU2611-{UP}-A1", f"TU2611-{DOWN}-A1"}
    assert {r: after[r] for r in before} == before  # the posted invoices are as they were
    journal = _journal(db)
    debit, credit = KINDS[destination]
    for client, kind, currency in ((UP, debit, "USD"), (DOWN, credit, "CAD")):
        reference = f"TU2611-{client}-A1"
        sent = journal[reference]
        sign = -1 if kind == credit else 1  # a credit holds the difference's lines, negated
        got_kind, got_currency, subtotal, tax, total, amounts = after[reference]
        assert (got_kind, got_currency, tax) == (kind, currency, Decimal(0))
        assert sign * total == sign * subtotal == difference[client] == Decimal(sent["total"])
        assert sorted(sign * a for a in amounts) == sorted(
            Decimal(line["amount"]) for line in sent["lines"]
        )
        assert sum(amounts) == subtotal
    # The month: both adjusted, nothing left to adjust, the posted total now the batch's.
    month = _clients(sandbox, db)
    for client in (UP, DOWN):
        assert (month[client]["state"], month[client]["difference"]) == ("adjusted", "0.00")
        assert month[client]["posted_total"] == now[client]["total"]

    again = sandbox.run(db, *adjust)
    assert again.returncode == 0 and "0 adjustment(s) to post" in again.stderr
    assert _read_back(sandbox.env, destination) == after


def _priced_lines(env, destination, reference):
    """[(description, quantity, unit price, amount)] of one of our documents, as the
    destination's API shows it (Xero asked for its 4-place unit amounts)."""
    return asyncio.run(_lines_of(env, destination, reference))


async def _lines_of(env, destination, reference):
    from trueup.core.settings.clients import qbo_from_settings, xero_from_settings
    from trueup.core.settings.config import load_settings

    with post_crash.environment(env):
        settings = load_settings(Path(env["TRUEUP_CONFIG"]))
        if destination == "qbo":
            async with qbo_from_settings(settings) as qbo:
                (row,) = await qbo.query("Invoice", f"DocNumber = '{reference}'")
            return [
                (
                    line.get("Description"),
                    _money(line["SalesItemLineDetail"]["Qty"]),
                    _money(line["SalesItemLineDetail"]["UnitPrice"]),
                    _money(line["Amount"]),
                )
                for line in row["Line"]
                if line["DetailType"] == "SalesItemLineDetail"
            ]
        async with xero_from_settings(settings) as xero:
            rows = await xero.pages("Invoices", {"unitdp": "4"})
    (row,) = [r for r in rows if r["InvoiceNumber"] == reference and r["Status"] != "VOIDED"]
    return [
        (
            line["Description"],
            _money(line["Quantity"]),
            _money(line["UnitAmount"]),
            _money(line["LineAmount"]),
        )
        for line in row["LineItems"]
    ]


@pytest.mark.parametrize("destination", ["qbo", "xero"])
def test_a_price_with_four_decimals_is_posted_as_seats_times_that_price(
    served, tmp_path, destination
):
    """A fixed price (or a markup on cost) with more places than a cent bills 8 x 12.3456 =
    98.76. The batch's line kept its price to the cent, so the document read 8 x 12.35, which is
    98.80: the line went out as 1 x 98.76 "(8 x 12.35, rounded)". Now the exact price goes, and
    the destination shows the client's 8 seats at 12.3456 (QuickBooks and Xero keep 4 places)."""
    sandbox, db, _ = served
    line = _batch(sandbox, db)[UP]["lines"][0]
    rules_with(sandbox, db, tmp_path,
               f'\n[[lines]]\nclient = "{UP}"\nproduct = "{line["product_id"]}"\n'
               'price = "fixed"\nfixed_price = "12.3456"\n')  # fmt: skip
    now = _batch(sandbox, db)[UP]["lines"][0]
    assert (now["quantity"], now["unit_price"], now["amount"]) == ("8.0000", "12.35", "98.76")
    assert sandbox.run(db, "approve", "2026-11", "--client", str(UP)).returncode == 0
    post = ("post", "2026-11", "--to", destination, "--client", str(UP), "--yes", "--unsettled")
    done = sandbox.run(db, *post)
    assert done.returncode == 0, done.stderr
    sent = _priced_lines(sandbox.env, destination, f"TU2611-{UP}")
    billed = [s for s in sent if s[0].startswith(line["description"])]
    assert [s[1:] for s in billed] == [(Decimal(8), Decimal("12.3456"), Decimal("98.76"))]
    assert billed[0][0] == line["description"]  # no "(8 x 12.35, rounded)" to explain it
