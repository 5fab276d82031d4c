"""The Ingram Micro Cloud Marketplace rated data export as trueup reads it: the generated demo
sample and a hand-written one from the columns Ingram and CloudBlue document (and the default
table's assumed ones), the reseller's side as cost and the customer's as price, bad files
refused whole with every row and column named, the same file twice, renamed columns, and a
client billed by Pax8 and Ingram on one invoice."""

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
from trueup.core.sources.files.ingram import FORMAT
from trueup.sandbox.gen_ingram import ingram_csv

HANDWRITTEN = Path(__file__).resolve().parent / "files" / "ingram_handwritten.csv"
GENERATED = SCENARIOS / "demo-ingram.csv"
MESA_VERDE = 93  # the Halo client, billed by Pax8 already


READER = FormatReader(FORMAT)
read, refusal, subscriptions = READER.read, READER.refusal, READER.subscriptions


# --- the two samples ---------------------------------------------------------------------------


def test_the_bundled_sample_is_what_the_generator_writes_for_the_demo():
    demo = json.loads((SCENARIOS / "demo.json").read_text())
    assert GENERATED.read_bytes() == ingram_csv(demo).encode()
    assert ingram_csv(demo, seed=2) != ingram_csv(demo)
    records = read(GENERATED)
    assert (records.rows, records.warnings) == (9, [])
    assert {i["invoice_id"].split(":")[1] for i in records.items} == {"IN202610-95916"}


def test_the_handwritten_export_reads_both_sides_of_each_charge():
    records = read(HANDWRITTEN)
    assert (records.rows, records.warnings) == (5, [])
    assert [(c["id"], c["name"]) for c in records.companies] == [
        ("im:1000006", "Company Inc"),
        ("im:1000007", "Northwind Traders"),
    ]
    # RESELLER_* is what Ingram charges the partner, CUSTOMER_* what the client is charged.
    assert [
        (i["type"], i["term"], i["cost"], i["cost_total"], i["price"], i["total"])
        for i in records.items
    ] == [
        (
            "subscription",
            "Monthly",
            Decimal("11.25"),
            Decimal("90.00"),
            Decimal("12.50"),
            Decimal("100.00"),
        ),
        (
            "prorate",
            "Monthly",
            Decimal("25.00"),
            Decimal("25.00"),
            Decimal("35.00"),
            Decimal("35.00"),
        ),
        (
            "prorate",
            "Monthly",
            Decimal("11.25"),
            Decimal("11.61"),
            Decimal("12.50"),
            Decimal("12.90"),
        ),
        ("subscription", "Arrears", None, Decimal("43.27"), None, Decimal("49.76")),
        (
            "service-credit",
            "Monthly",
            Decimal("3.99"),
            Decimal("-2.84"),
            Decimal("4.40"),
            Decimal("-3.16"),
        ),
    ]
    # One invoice, split by customer: a file replaces only the customers it holds.
    assert [(i["id"], i["company_id"], i["total"]) for i in records.invoices] == [
        ("im:IN-2026-11-0042:1000006", "im:1000006", Decimal("126.61")),
        ("im:IN-2026-11-0042:1000007", "im:1000007", Decimal("40.43")),
    ]
    rebuilt = subscriptions(records)
    standard, history = rebuilt["im:1000065"]
    # 8 seats for October, the prorated recurring charge adds 2 from the 16th; the setup fee
    # is money, no seats.
    assert [(s["quantity"], s["updated_at"].date()) for s in history] == [
        (Decimal(10), date(2026, 10, 16)),
        (Decimal(8), date(2026, 10, 1)),
    ]
    assert (standard["price"], standard["partner_cost"], standard["product_id"]) == (
        Decimal("12.50"),
        Decimal("11.25"),
        "im:1000234",
    )
    assert rebuilt["im:1000071"][0]["quantity"] == Decimal(1)  # the Azure plan
    assert rebuilt["im:1000072"][0]["quantity"] == Decimal(0)  # a refund alone holds no seat


def test_a_renamed_column_is_read_through_the_config_table(tmp_path):
    header, rows = table(HANDWRITTEN)
    header = ["CHARGE_FROM" if h == "CHARGE_START_DATE" else h for h in header]
    for row in rows:
        row["CHARGE_FROM"] = row.pop("CHARGE_START_DATE")
    path = write(tmp_path, header, rows)
    assert "has no column CHARGE_START_DATE" in str(refusal(path))
    assert read(path, start="CHARGE_FROM").items == read(HANDWRITTEN).items


def test_a_charge_type_trueup_does_not_know_costs_and_changes_no_seats(tmp_path):
    header, rows = table(HANDWRITTEN)
    rows[2]["CHARGE_TYPE"] = "Upgrade"
    records = read(write(tmp_path, header, rows))
    assert records.warnings == [
        "row 4: CHARGE_TYPE 'Upgrade' is not one trueup knows: its cost counts, it changes no seats"
    ]
    assert records.items[2]["type"] == "prorate"
    assert subscriptions(records)["im:1000065"][0]["quantity"] == Decimal(8)


# --- bad files -----------------------------------------------------------------------------------


def test_a_bad_export_is_refused_whole_naming_each_row_and_column(tmp_path):
    header, rows = table(HANDWRITTEN)
    rows[0]["RESELLER_AMOUNT"] = ""
    rows[1]["CHARGE_END_DATE"] = "2026-02-30"
    rows[2]["CUSTOMER_AMOUNT"] = "12,90"
    rows[3]["SUBSCRIPTION_ACCOUNT_NAME"] = "x" * 501
    rows[4]["RESELLER_ACCOUNT_CURRENCY"] = "EUR"  # the invoice of customer 1000007 in two...
    rows.append({**rows[3], "SUBSCRIPTION_ACCOUNT_NAME": "Northwind Traders"})  # ...currencies
    refused = refusal(write(tmp_path, header, rows))
    assert refused.problems == (
        "row 2, RESELLER_AMOUNT: is empty",
        "row 3, CHARGE_END_DATE: '2026-02-30' is not a day of the calendar",
        "row 4, CUSTOMER_AMOUNT: '12,90' is not a number like 1234.56",
        "row 5, SUBSCRIPTION_ACCOUNT_NAME: is 501 characters long (at most 500)",
        "row 7: invoice IN-2026-11-0042:1000007 has currency USD, and EUR in row 6",
    )


def test_ids_a_spreadsheet_rounded_or_marked_invisibly_are_refused(tmp_path):
    """From a boundary review: Excel saves a long numeric id as 1.00001E+15 (its last digits
    gone) and a pasted id may carry a zero-width space or a bidi mark; each was taken as an id,
    so the customer became a new company (the same as another's, once rounded) that looks
    like the one it is not."""
    header, rows = table(HANDWRITTEN)
    rows = [rows[3]]  # Northwind's usage: its own subscription and customer
    for bad in ("1.00001E+15", "1000007\u200b", "1000\u202e007"):
        rows[0]["SUBSCRIPTION_ACCOUNT_ID"] = bad
        problems = refusal(write(tmp_path, header, rows, "ingram.csv")).problems
        assert len(problems) == 1 and problems[0].startswith("row 2, SUBSCRIPTION_ACCOUNT_ID: ")
    assert problems[0].endswith("'1000\\u202e007' holds a space or a control character (not an id)")
    rows[0]["SUBSCRIPTION_ACCOUNT_ID"] = "1.00001E+15"
    assert refusal(write(tmp_path, header, rows, "ingram.csv")).problems == (
        "row 2, SUBSCRIPTION_ACCOUNT_ID: '1.00001E+15' is a long number a spreadsheet rounded "
        "(its last digits are lost): download the file again rather than saving it from a "
        "spreadsheet",
    )


def test_a_sherweb_file_given_as_ingram_is_named_as_such(tmp_path):
    path = tmp_path / "sherweb.csv"
    path.write_text("customerId,productName,listPrice,netPrice,quantity\r\n1,A,2,1,1\r\n")
    assert str(refusal(path)) == (
        "sherweb.csv looks like a Sherweb payable charges file, not an Ingram Micro Cloud "
        "Marketplace rated data export"
    )


# --- into the store ------------------------------------------------------------------------------


def test_the_same_export_twice_changes_nothing(store):  # noqa: F811 (fixture)
    assert Imports(store).run(HANDWRITTEN, "ingram").changed
    before = dump(store)
    assert not Imports(store).run(HANDWRITTEN, "ingram").changed
    assert dump(store) == before


def test_a_corrected_export_of_one_customer_keeps_the_others(store, tmp_path):  # noqa: F811
    Imports(store).run(HANDWRITTEN, "ingram")
    header, rows = table(HANDWRITTEN)
    rows[0]["CHARGE_QUANTITY"], rows[0]["RESELLER_AMOUNT"] = "9", "101.25"
    corrected = Imports(store).run(write(tmp_path, header, rows[:3]), "ingram")
    counts = corrected.json()["entities"]["invoice items"]
    assert (counts["created"], counts["deleted"], counts["unchanged"]) == (1, 1, 2)
    with store.read() as conn:
        kept = conn.execute(
            text("SELECT count(*) FROM pax8_invoice_item WHERE company_id = 'im:1000007'")
        ).scalar_one()
        seats = conn.execute(
            text("SELECT quantity FROM pax8_subscription WHERE id = 'im:1000065'")
        ).scalar_one()
    assert (kept, seats) == (2, "11")


# --- through the batch ---------------------------------------------------------------------------


def test_a_client_billed_from_pax8_and_ingram_gets_one_invoice(db):
    (before,) = invoices_of(build_batch(db, "2026-10", today=TODAY), MESA_VERDE)
    Imports(db).run(GENERATED, "ingram")
    with db.read() as conn:
        company = conn.execute(
            text(
                "SELECT id FROM pax8_company WHERE distributor = 'ingram' "
                "AND name = 'Mesa Verde Title & Escrow'"
            )
        ).scalar_one()
        item = conn.execute(text("SELECT id FROM halo_item WHERE name = 'Project Plan 3'")).scalar()
    Mappings(db).map_company(company, MESA_VERDE)
    Mappings(db).map_product("im:1000203", item)
    (invoice,) = invoices_of(build_batch(db, "2026-10", today=TODAY), MESA_VERDE)
    pax8 = {line["subscription_id"] for line in before["lines"]}
    assert pax8 < {line["subscription_id"] for line in invoice["lines"]}
    project = next(line for line in invoice["lines"] if line["description"] == "Project Plan 3")
    assert (project["quantity"], project["amount"], project["cost"]) == (
        "14.0000",
        "420.00",
        "357.00",
    )
    assert (
        "cost 357.00 (Ingram Micro Cloud Marketplace invoice im:IN202610-95916:"
        in project["explanation"]
    )
    # Its Azure usage of September, billed in arrears, is on the same invoice at Ingram's price.
    usage = next(
        line
        for line in invoice["lines"]
        if line["kind"] == "usage" and line["subscription_id"].startswith("im:")
    )
    assert (usage["amount"], usage["cost"]) == ("461.39", "392.18")


def test_a_resource_added_mid_term_leaves_an_annual_subscription_annual(tmp_path):
    # CloudBlue bills a resource added mid-term as its own Recurring charge from that day to
    # the term's end: 111 days here, which read as a term made the year's subscription monthly.
    path = tmp_path / "ingram.csv"
    path.write_text(
        "SUBSCRIPTION_ACCOUNT_ID,SUBSCRIPTION_ACCOUNT_NAME,SUBSCRIPTION_ID,"
        "SUBSCRIPTION_RESOURCE_ID,SUBSCRIPTION_RESOURCE_NAME,RESELLER_INVOICE_NUMBER,CHARGE_TYPE,"
        "CHARGE_START_DATE,CHARGE_END_DATE,CHARGE_QUANTITY,RESELLER_AMOUNT,CUSTOMER_AMOUNT,"
        "RESELLER_ACCOUNT_CURRENCY\r\n"
        "1000006,Company Inc,1000065,1000234,Visio Plan 2,IN-1,Recurring,2026-03-01,2027-02-28,"
        "10,1000.00,1200.00,USD\r\n"
        "1000006,Company Inc,1000065,1000234,Visio Plan 2,IN-2,Recurring,2026-11-10,2027-02-28,"
        "2,60.82,72.99,USD\r\n"
    )
    row, history = subscriptions(read(path))["im:1000065"]
    assert (row["billing_term"], row["price"], row["partner_cost"]) == (
        "Annual",
        Decimal("120.0000"),
        Decimal("100.0000"),
    )
    assert [(s["quantity"], s["updated_at"].date()) for s in history] == [
        (Decimal(12), date(2026, 11, 10)),
        (Decimal(10), date(2026, 3, 1)),
    ]
