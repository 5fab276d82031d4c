"""Sherweb's payable charges as trueup reads them: the generated demo sample and a hand-written
one from the fields Sherweb's API shows (and the default table's assumed ones), the cost after
deductions and fees, prorated charges, bad files refused whole with every row and column named,
the same file twice, one client's file beside another's, renamed columns, and a client billed
by Pax8 and Sherweb on one invoice."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from file_formats import FormatReader
from test_import_batch import TODAY, invoices_of
from test_import_partner_center import SCENARIOS, table, write
from test_import_store import dump, store  # noqa: F401 (fixture)
from trueup.core.batch.build import build_batch
from trueup.core.service.imports import Imports
from trueup.core.service.mappings import Mappings
from trueup.core.sources.files.sherweb import FORMAT
from trueup.core.store.logbook import read_log
from trueup.sandbox.gen_sherweb import sherweb_csv

HANDWRITTEN = Path(__file__).resolve().parent / "files" / "sherweb_handwritten.csv"
GENERATED = SCENARIOS / "demo-sherweb.csv"
MESA_VERDE = 93  # the Halo client, billed by Pax8 already


READER = FormatReader(FORMAT)
read, refusal, subscriptions = READER.read, READER.refusal, READER.subscriptions


# --- the two samples ---------------------------------------------------------------------------


def test_the_bundled_sample_is_what_the_generator_writes_for_the_demo():
    demo = json.loads((SCENARIOS / "demo.json").read_text())
    assert GENERATED.read_bytes() == sherweb_csv(demo).encode()
    assert sherweb_csv(demo, seed=2) != sherweb_csv(demo)
    records = read(GENERATED)
    assert (records.rows, records.warnings) == (4, [])
    assert [c["name"] for c in records.companies] == ["Mesa Verde Title & Escrow"]


def test_the_handwritten_charges_read_as_cost_after_deductions_and_a_list_price():
    records = read(HANDWRITTEN)
    assert (records.rows, records.warnings) == (4, [])
    assert [(c["id"], c["name"]) for c in records.companies] == [
        ("sw:cust-abc-123", "Acme Corporation")
    ]
    # No SKU: a product is its name, shared by every client that buys it.
    assert [p["id"] for p in records.products] == [
        "sw:Microsoft 365 Business Premium",
        "sw:Azure Plan",
        "sw:Exchange Online (Plan 1)",
    ]
    # Cost: subTotal less deductions plus fees (427.50 - 12.83); the client's: listPrice for
    # netPrice over the same seats and days (25 x 22.00; 13.24 x 22.00 / 17.10).
    assert [
        (i["type"], i["term"], i["start_period"], i["cost_total"], i["total"])
        for i in records.items
    ] == [
        ("subscription", "Monthly", date(2026, 10, 1), Decimal("414.67"), Decimal("550.00")),
        ("prorate", "Monthly", date(2026, 10, 20), Decimal("13.24"), Decimal("17.03")),
        ("subscription", "Arrears", date(2026, 10, 1), Decimal("84.12"), Decimal("98.96")),
        ("prorate", "One-Time", date(2026, 10, 1), Decimal("10.00"), Decimal("15.00")),
    ]
    assert [(i["id"], i["total"]) for i in records.invoices] == [
        ("sw:INV-2026-10-1187:cust-abc-123", Decimal("522.03"))
    ]
    premium, history = subscriptions(records)["sw:sub-def-456"]
    # 25 seats for October; the prorated charge's 12 days run to the period's end: 2 more
    # from the 20th.
    assert [(s["quantity"], s["updated_at"].date()) for s in history] == [
        (Decimal(27), date(2026, 10, 20)),
        (Decimal(25), date(2026, 10, 1)),
    ]
    assert (premium["price"], premium["partner_cost"], premium["billing_term"]) == (
        Decimal("22.00"),
        Decimal("17.10"),
        "Monthly",
    )


def test_a_removal_pays_money_back_and_takes_the_seats_away(tmp_path):
    header, rows = table(HANDWRITTEN)
    rows[1]["subTotal"], rows[1]["taxes"], rows[1]["total"] = "-13.24", "-1.03", "-14.27"
    records = read(write(tmp_path, header, rows))
    _, history = subscriptions(records)["sw:sub-def-456"]
    assert [s["quantity"] for s in history] == [Decimal(23), Decimal(25)]


def test_a_renamed_column_is_read_through_the_config_table(tmp_path):
    header, rows = table(HANDWRITTEN)
    header = ["Period Start" if h == "periodFrom" else h for h in header]
    for row in rows:
        row["Period Start"] = row.pop("periodFrom")
    path = write(tmp_path, header, rows)
    assert "has no column periodFrom: is it a Sherweb payable charges file" in str(refusal(path))
    assert read(path, start="Period Start").items == read(HANDWRITTEN).items


def test_a_total_that_is_not_its_parts_is_flagged_and_the_parts_kept(tmp_path):
    header, rows = table(HANDWRITTEN)
    rows[0]["total"] = "460.67"  # the deduction left out
    records = read(write(tmp_path, header, rows))
    assert records.warnings == [
        "row 2: total 460.67 is not subTotal less deductions plus fees and taxes (447.84); the "
        "parts are kept"
    ]
    assert records.items[0]["cost_total"] == Decimal("414.67")


# --- bad files -----------------------------------------------------------------------------------


def test_a_bad_file_is_refused_whole_naming_each_row_and_column(tmp_path):
    header, rows = table(HANDWRITTEN)
    rows[0]["netPrice"] = "17.10 USD"
    rows[1]["proratedDays"] = "40"
    rows[2]["periodTo"] = "2026-09-30"
    rows[3]["customerId"] = "cust\tabc"
    rows.append({**rows[1], "proratedDays": "2.5", "customerId": "cust-zzz-999"})
    refused = refusal(write(tmp_path, header, rows, "acme.csv"))
    assert str(refused).startswith("acme.csv was not imported (6 problems; nothing was changed)")
    assert refused.problems == (
        "row 2, netPrice: '17.10 USD' is not a number like 1234.56",
        "row 5, customerId: 'cust\\x09abc' holds a space or a control character (not an id)",
        # What only the rows that read say together, then what only Sherweb's columns say:
        "row 4, periodTo: is before periodFrom",
        "row 6: subscription sub-def-456 has customer cust-zzz-999, and cust-abc-123 in row 3",
        "row 3, proratedDays: 40 is not a number of the period's 31 days",
        "row 6, proratedDays: 2.5 is not a number of the period's 31 days",
    )


def test_a_client_price_worked_out_past_the_bounds_is_refused(tmp_path):
    header, rows = table(HANDWRITTEN)
    rows[0]["netPrice"], rows[0]["listPrice"] = "0.0001", "999999999999"
    assert refusal(write(tmp_path, header, rows)).problems == (
        "row 2: its client price is out of range (at most 1,000,000,000,000)",
    )


def test_a_pax8_export_given_as_sherweb_is_named_as_such(tmp_path):
    path = tmp_path / "pax8.csv"
    path.write_text("id,companyName,startPeriod,endPeriod,total,billedByPax8\r\n1,A,x,y,1,true\r\n")
    assert str(refusal(path)) == (
        "pax8.csv looks like a Pax8 invoice export, not a Sherweb payable charges file (CSV per "
        "client)"
    )


# --- into the store ------------------------------------------------------------------------------


def test_the_same_file_twice_changes_nothing(store):  # noqa: F811 (fixture)
    assert Imports(store).run(HANDWRITTEN, "sherweb").changed
    before = dump(store)
    assert not Imports(store).run(HANDWRITTEN, "sherweb").changed
    assert dump(store) == before
    assert read_log(store, limit=1)[0]["event"] == "Sherweb import: nothing changed"


def test_each_clients_file_of_one_invoice_keeps_the_others_charges(store, tmp_path):  # noqa: F811
    header, rows = table(HANDWRITTEN)
    Imports(store).run(HANDWRITTEN, "sherweb")
    other = [
        {**row, "customerId": "cust-xyz-789", "customerName": "Globex", "subscriptionId": f"g{n}"}
        for n, row in enumerate(rows[:2])
    ]
    second = Imports(store).run(write(tmp_path, header, other, "globex.csv"), "sherweb")
    assert second.json()["entities"]["invoice items"]["deleted"] == 0
    with store.read() as conn:
        items = dict(
            conn.execute(
                text(
                    "SELECT company_id, count(*) FROM pax8_invoice_item "
                    "WHERE distributor = 'sherweb' GROUP BY company_id"
                )
            ).all()
        )
    assert items == {"sw:cust-abc-123": 4, "sw:cust-xyz-789": 2}


# --- through the batch ---------------------------------------------------------------------------


def test_a_client_billed_from_pax8_and_sherweb_gets_one_invoice(db):
    (before,) = invoices_of(build_batch(db, "2026-10", today=TODAY), MESA_VERDE)
    Imports(db).run(GENERATED, "sherweb")
    with db.read() as conn:
        company = conn.execute(
            text("SELECT id FROM pax8_company WHERE distributor = 'sherweb'")
        ).scalar_one()
        item = conn.execute(text("SELECT id FROM halo_item WHERE name = 'Visio Plan 2'")).scalar()
    Mappings(db).map_company(company, MESA_VERDE)
    Mappings(db).map_product("sw:Visio Plan 2", item)
    (invoice,) = invoices_of(build_batch(db, "2026-10", today=TODAY), MESA_VERDE)
    pax8 = {line["subscription_id"] for line in before["lines"]}
    assert pax8 < {line["subscription_id"] for line in invoice["lines"]}
    visio = next(line for line in invoice["lines"] if line["description"] == "Visio Plan 2")
    # 19 seats, one more from the 21st (11 days prorated); the cost is both charges after the
    # performance deduction (242.25 - 7.27 + 4.52).
    assert (visio["quantity"], visio["amount"], visio["cost"]) == ("19.3548", "290.32", "239.50")
    assert "cost 239.50 (Sherweb invoice sw:INV-2026-10-4953:" in visio["explanation"]
    assert "2 items)" in visio["explanation"]
    assert "Sherweb price, Sherweb history" in visio["explanation"]
