"""The TD SYNNEX StreamOne Ion billing report as trueup reads it: the generated demo sample and a
hand-written one from the columns Ion documents (and the default table's assumed ones), seats by
date from charge periods, bad files refused whole with every row and column named, the same
file twice, renamed columns, and a client billed by Pax8 and Ion on one invoice."""

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
from trueup.core.sources.files.ion import FORMAT
from trueup.core.store.logbook import read_log
from trueup.sandbox.gen_ion import ion_csv

HANDWRITTEN = Path(__file__).resolve().parent / "files" / "ion_handwritten.csv"
GENERATED = SCENARIOS / "demo-ion.csv"
HARBOR_POINT = 41  # the Halo client, billed by Pax8 already


READER = FormatReader(FORMAT)
read, refusal, subscriptions = READER.read, READER.refusal, READER.subscriptions


def seats(history):
    return [(s["quantity"], s["updated_at"].date()) for s in history]


# --- the two samples ---------------------------------------------------------------------------


def test_the_bundled_sample_is_what_the_generator_writes_for_the_demo():
    demo = json.loads((SCENARIOS / "demo.json").read_text())
    assert GENERATED.read_bytes() == ion_csv(demo).encode()
    assert ion_csv(demo, seed=2) != ion_csv(demo)
    records = read(GENERATED)
    assert (records.rows, records.warnings) == (8, [])
    assert all(c["id"].startswith("ion:") for c in records.companies)


def test_the_handwritten_report_reads_as_customers_skus_items_and_dated_seats():
    records = read(HANDWRITTEN)
    assert (records.rows, records.warnings) == (5, [])
    assert [(c["id"], c["name"]) for c in records.companies] == [
        ("ion:100234", "Contoso, Ltd."),
        ("ion:100877", "Fabrikam Inc"),
    ]
    assert [(p["id"], p["vendor_name"]) for p in records.products] == [
        ("ion:CFQ7TTC0LF8Q:0001", "Microsoft"),
        ("ion:DZH318Z0BPS6:0001", "Microsoft"),
        ("ion:CFQ7TTC0LH16:0001", "Microsoft"),
    ]
    # Seller Cost is the partner's cost, Customer Cost the client's price; usage is in arrears.
    assert [
        (i["type"], i["term"], i["quantity"], i["cost_total"], i["total"]) for i in records.items
    ] == [
        ("subscription", "Monthly", Decimal(10), Decimal("198.00"), Decimal("220.00")),
        ("prorate", "Monthly", Decimal(2), Decimal("15.33"), Decimal("17.03")),
        ("service-credit", "Monthly", Decimal(1), Decimal("-5.00"), Decimal("-5.50")),
        ("subscription", "Arrears", Decimal(1), Decimal("84.12"), Decimal("98.96")),
        ("subscription", "Annual", Decimal(5), Decimal("228.00"), Decimal("240.00")),
    ]
    # No invoice number: each subscription's charges in the report (October's: the latest
    # month a charge starts in) are its own statement, of its customer; September's usage too.
    assert [(i["id"], i["company_id"], i["total"]) for i in records.invoices] == [
        ("ion:2026-10:sub-ion-0001", "ion:100234", Decimal("208.33")),
        ("ion:2026-10:sub-ion-0002", "ion:100877", Decimal("84.12")),
        ("ion:2026-10:100877:CFQ7TTC0LH16:0001", "ion:100877", Decimal("228.00")),
    ]
    rebuilt = subscriptions(records)
    premium, history = rebuilt["ion:sub-ion-0001"]
    # 10 seats for October, 2 more from the 20th; the credit changes no seats. The unit figures
    # are the cycle charge's amounts over its seats.
    assert seats(history) == [(Decimal(12), date(2026, 10, 20)), (Decimal(10), date(2026, 10, 1))]
    assert (premium["price"], premium["partner_cost"]) == (Decimal("22.0000"), Decimal("19.8000"))
    # A subscription with no id is its customer's SKU; a year's charge is an annual term.
    exchange, _ = rebuilt["ion:100877:CFQ7TTC0LH16:0001"]
    assert (exchange["quantity"], exchange["billing_term"]) == (Decimal(5), "Annual")
    azure, _ = rebuilt["ion:sub-ion-0002"]
    assert (azure["quantity"], azure["price"]) == (Decimal(1), Decimal(0))


def test_the_whole_quantity_for_the_days_left_gives_the_same_seats(tmp_path):
    header, rows = table(HANDWRITTEN)
    # The add written as Ion may instead: 10 seats until the 19th, 12 from the 20th.
    rows[0]["Charge End Date"] = "10/19/2026"
    rows[1]["Charge Type"] = "cycleCharge"
    rows[1]["Quantity"] = rows[1]["Seat Count"] = "12"
    _, history = subscriptions(read(write(tmp_path, header, rows)))["ion:sub-ion-0001"]
    assert seats(history) == [(Decimal(12), date(2026, 10, 20)), (Decimal(10), date(2026, 10, 1))]


def test_a_renamed_column_is_read_through_the_config_table(tmp_path):
    header, rows = table(HANDWRITTEN)
    header = ["Cost" if h == "Seller Cost" else h for h in header]
    for row in rows:
        row["Cost"] = row.pop("Seller Cost")
    path = write(tmp_path, header, rows)
    assert "has no column Seller Cost: is it a TD SYNNEX StreamOne Ion" in str(refusal(path))
    assert read(path, seller_cost="Cost").items == read(HANDWRITTEN).items


def test_a_margin_that_is_not_the_difference_is_flagged_and_kept(tmp_path):
    header, rows = table(HANDWRITTEN)
    rows[1]["Margin"] = "1.80"
    records = read(write(tmp_path, header, rows))
    assert records.warnings == [
        "row 3: Margin 1.80 is not Customer Cost less Seller Cost (1.70); the costs are kept"
    ]
    assert records.items[1]["cost_total"] == Decimal("15.33")


def test_a_report_saved_by_a_day_first_spreadsheet_reads_the_same_days(tmp_path):
    """From a boundary review: Excel set to en-GB saves 10/1/2026 as 01/10/2026, which was read
    as 10 January (05/10/2026 as 10 May, silently), and 31/10/2026 refused the file."""
    header, rows = table(HANDWRITTEN)
    for row in rows:
        for column in ("Charge Start Date", "Charge End Date"):
            month, day, year = row[column].split("/")
            row[column] = f"{int(day):02}/{int(month):02}/{year}"
    records = read(write(tmp_path, header, rows))
    original = read(HANDWRITTEN)
    periods = [(i["start_period"], i["end_period"]) for i in records.items]
    assert periods == [(i["start_period"], i["end_period"]) for i in original.items]
    assert records.warnings == []
    # The store keeps the days as YYYY-MM-DD, so a later import rebuilds the same history.
    assert records.items[0]["raw"]["start"] == "2026-10-01"
    assert subscriptions(records) == subscriptions(original)


# --- bad files -----------------------------------------------------------------------------------


def test_a_bad_report_is_refused_whole_naming_each_row_and_column(tmp_path):
    header, rows = table(HANDWRITTEN)
    rows[1]["Charge Start Date"] = "20/10/2026"
    rows[2]["SKU"] = "CFQ7 TTC0"
    rows[3]["Quantity"] = "Infinity"
    rows[4]["Charge End Date"] = "10/14/2026"  # the day before it starts
    rows[4]["Subscription ID"] = "sub-ion-0001"  # Contoso's subscription, under Fabrikam
    rows.append({**rows[0], "Seller Cost": "1.98e2x", "Currency": "dollars"})
    refused = refusal(write(tmp_path, header, rows, "ion.csv"))
    assert str(refused) == (
        "ion.csv was not imported (7 problems; nothing was changed): fix the file or the column "
        "mapping, and import it again"
    )
    assert refused.problems == (
        "row 3, Charge Start Date: '20/10/2026' is not a day of the calendar",
        "row 4, SKU: 'CFQ7 TTC0' holds a space or a control character (not an id)",
        "row 5, Quantity: 'Infinity' is not a finite number",
        "row 7, Seller Cost: '1.98e2x' is not a number like 1234.56",
        "row 7, Currency: 'dollars' is not a currency code like USD",
        # What only the rows that read say together:
        "row 6, Charge End Date: is before Charge Start Date",
        "row 6: subscription sub-ion-0001 has customer 100877, and 100234 in row 2",
    )


def test_a_partner_center_file_given_as_ion_is_named_as_such(tmp_path):
    path = tmp_path / "recon.csv"
    path.write_text("CustomerId,SkuId,EffectiveUnitPrice,BillableQuantity\r\n1,2,3,4\r\n")
    assert str(refusal(path)) == (
        "recon.csv looks like a Partner Center (new commerce) invoice reconciliation file, not a "
        "TD SYNNEX StreamOne Ion billing report"
    )


# --- into the store ------------------------------------------------------------------------------


def test_the_same_report_twice_changes_nothing(store):  # noqa: F811 (fixture)
    first = Imports(store).run(HANDWRITTEN, "ion")
    assert first.changed and first.json()["entities"]["invoice items"]["created"] == 5
    before = dump(store)
    again = Imports(store).run(HANDWRITTEN, "ion")
    assert not again.changed and dump(store) == before
    assert read_log(store, limit=1)[0]["event"] == "TD SYNNEX StreamOne Ion import: nothing changed"


def test_two_vendors_reports_of_a_month_keep_each_others_charges(store, tmp_path):  # noqa: F811
    header, rows = table(HANDWRITTEN)
    Imports(store).run(write(tmp_path, header, rows[:3], "microsoft.csv"), "ion")
    Imports(store).run(write(tmp_path, header, rows[3:], "azure.csv"), "ion")
    with store.read() as conn:
        items = conn.execute(
            text("SELECT count(*) FROM pax8_invoice_item WHERE distributor = 'ion'")
        ).scalar_one()
    assert items == 5
    # A corrected download of the first replaces its subscription's month: the add is gone.
    corrected = Imports(store).run(write(tmp_path, header, [rows[0], rows[2]], "fix.csv"), "ion")
    assert corrected.json()["entities"]["invoice items"]["deleted"] == 1
    with store.read() as conn:
        quantity = conn.execute(
            text("SELECT quantity FROM pax8_subscription WHERE id = 'ion:sub-ion-0001'")
        ).scalar_one()
    assert quantity == "10"


# --- through the batch ---------------------------------------------------------------------------


def test_a_client_billed_from_pax8_and_ion_gets_one_invoice(db):
    (before,) = invoices_of(build_batch(db, "2026-10", today=TODAY), HARBOR_POINT)
    Imports(db).run(GENERATED, "ion")
    with db.read() as conn:
        company = conn.execute(
            text(
                "SELECT id FROM pax8_company WHERE distributor = 'ion' "
                "AND name = 'Harbor Point Wealth Advisors'"
            )
        ).scalar_one()
        item = conn.execute(text("SELECT id FROM halo_item WHERE name = 'Visio Plan 2'")).scalar()
    Mappings(db).map_company(company, HARBOR_POINT)
    Mappings(db).map_product("ion:CFQ7TTC0HD33:0001", item)
    (invoice,) = invoices_of(build_batch(db, "2026-10", today=TODAY), HARBOR_POINT)
    pax8 = {line["subscription_id"] for line in before["lines"]}
    assert pax8 < {line["subscription_id"] for line in invoice["lines"]}
    visio = next(line for line in invoice["lines"] if line["description"] == "Visio Plan 2")
    assert visio["subscription_id"].startswith("ion:")
    assert (visio["quantity"], visio["amount"], visio["cost"]) == ("18.0000", "270.00", "229.50")
    assert "cost 229.50 (TD SYNNEX StreamOne Ion invoice ion:2026-10:" in visio["explanation"]


ANNUAL = (
    "Customer ID,Customer Name,Vendor,SKU,Product Name,Subscription ID,Charge Type,"
    "Charge Start Date,Charge End Date,Quantity,Seat Count,Seller Cost,Customer Cost,Margin,"
    "Currency\r\n"
    "500,Harbor Point Wealth Advisors,Microsoft,CFQ7TTC0HD33:0001,Visio Plan 2,sub-year,"
    "cycleCharge,3/1/2026,2/28/2027,10,10,1000.00,1200.00,200.00,USD\r\n"
)
# Two seats added on 10 November, co-termed: billed from that day to the term's end.
CO_TERMED_ADD = (
    "500,Harbor Point Wealth Advisors,Microsoft,CFQ7TTC0HD33:0001,Visio Plan 2,sub-year,"
    "addQuantity,11/10/2026,2/28/2027,2,2,60.82,72.99,12.17,USD\r\n"
)


def visio_line(db, month):
    (invoice,) = invoices_of(build_batch(db, month, today=TODAY), HARBOR_POINT)
    (line,) = [line for line in invoice["lines"] if line["subscription_id"] == "ion:sub-year"]
    return line


def test_an_annual_term_stays_annual_after_a_co_termed_add(db, tmp_path):
    # An add runs from its day to the term's end (111 days here): neither a term of its own
    # nor a price per seat. Read as one, the annual subscription was billed monthly at the
    # year's price (1,200.00 in October, 666.56 in November).
    path = tmp_path / "ion.csv"
    path.write_text(ANNUAL + CO_TERMED_ADD)
    Imports(db).run(path, "ion")
    with db.read() as conn:
        item = conn.execute(text("SELECT id FROM halo_item WHERE name = 'Visio Plan 2'")).scalar()
        stored = conn.execute(
            text(
                "SELECT billing_term, quantity, price, partner_cost FROM pax8_subscription "
                "WHERE id = 'ion:sub-year'"
            )
        ).one()
    assert tuple(stored) == ("Annual", "12", "120.0000", "100.0000")
    Mappings(db).map_company("ion:500", HARBOR_POINT)
    Mappings(db).map_product("ion:CFQ7TTC0HD33:0001", item)
    assert visio_line(db, "2026-10")["amount"] == "0.00"  # the term was charged in March
    november = visio_line(db, "2026-11")
    assert (november["amount"], november["cost"]) == ("72.99", "60.82")
    assert (
        "+2 seats on 10 Nov × 120.00 × 111/365 days left in the term" in (november["explanation"])
    )


def test_an_add_alone_gives_no_price_per_seat(tmp_path):
    # The term's own charge is in no file imported: the add's 72.99 for 111 days over 2 seats
    # is no unit price (it was 36.495 a seat, billed every month as a monthly price).
    path = tmp_path / "ion.csv"
    path.write_text(ANNUAL.splitlines(keepends=True)[0] + CO_TERMED_ADD)
    row, _ = subscriptions(read(path))["ion:sub-year"]
    assert (row["quantity"], row["price"], row["partner_cost"]) == (Decimal(2), None, None)


def visio_report(tmp_path, name, *rows):
    """An Ion report of Harbor Point's Visio subscription `sub-m`: (type, start, end, cost)."""
    path = tmp_path / name
    path.write_text(
        ANNUAL.splitlines(keepends=True)[0]
        + "".join(
            "500,Harbor Point Wealth Advisors,Microsoft,CFQ7TTC0HD33:0001,Visio Plan 2,sub-m,"
            f"{kind},{start},{end},10,10,{cost},{cost},0.00,USD\r\n"
            for kind, start, end, cost in rows
        )
    )
    return path


def map_visio(db):
    with db.read() as conn:
        item = conn.execute(text("SELECT id FROM halo_item WHERE name = 'Visio Plan 2'")).scalar()
    Mappings(db).map_company("ion:500", HARBOR_POINT)
    Mappings(db).map_product("ion:CFQ7TTC0HD33:0001", item)


def monthly_line(db, month):
    (invoice,) = invoices_of(build_batch(db, month, today=TODAY), HARBOR_POINT)
    (line,) = [line for line in invoice["lines"] if line["subscription_id"] == "ion:sub-m"]
    return line


def stored_charges(db):
    with db.read() as conn:
        return sorted(
            conn.execute(
                text(
                    "SELECT invoice_id, start_period FROM pax8_invoice_item "
                    "WHERE subscription_id = 'ion:sub-m'"
                )
            ).all()
        )


OCTOBER = ("cycleCharge", "10/1/2026", "10/31/2026", "100.00")
NOVEMBER = ("cycleCharge", "11/1/2026", "11/30/2026", "100.00")
LATE_CREDIT = ("customerCredit", "10/20/2026", "10/31/2026", "-5.00")


def test_a_late_charge_in_the_next_report_keeps_the_last_reports_charges(db, tmp_path):
    """A report without invoice numbers had each subscription's charges of a month as their own
    statement: November's report, carrying a credit dated 20 October, replaced the October
    report's charges of that subscription with the credit alone (October's cost read -5.00)."""
    Imports(db).run(visio_report(tmp_path, "october.csv", OCTOBER), "ion")
    map_visio(db)
    assert monthly_line(db, "2026-10")["cost"] == "100.00"
    Imports(db).run(visio_report(tmp_path, "november.csv", NOVEMBER, LATE_CREDIT), "ion")
    assert [invoice for invoice, _ in stored_charges(db)] == [
        "ion:2026-10:sub-m", "ion:2026-11:sub-m", "ion:2026-11:sub-m"]  # fmt: skip
    assert monthly_line(db, "2026-10")["cost"] == "95.00"
    assert monthly_line(db, "2026-11")["cost"] == "100.00"


def test_a_report_spanning_months_then_a_months_own_holds_each_charge_once(db, tmp_path):
    """A report of October and November, then October's own: October's charge is in both, and
    is one row (it would be billed twice as two)."""
    Imports(db).run(visio_report(tmp_path, "autumn.csv", OCTOBER, NOVEMBER), "ion")
    again = Imports(db).run(visio_report(tmp_path, "october.csv", OCTOBER), "ion")
    assert again.json()["entities"]["invoice items"] == {
        "created": 1, "updated": 0, "unchanged": 0, "deleted": 1, "failed": 0}  # fmt: skip
    assert stored_charges(db) == [
        ("ion:2026-10:sub-m", "2026-10-01"), ("ion:2026-11:sub-m", "2026-11-01")]  # fmt: skip
    map_visio(db)
    assert monthly_line(db, "2026-10")["cost"] == "100.00"


def test_a_report_is_known_by_the_month_most_of_its_charges_start_in(tmp_path):
    """Keyed by its latest month, a November report carrying one charge dated December (a
    cancellation to come) took December's key, and December's own report would replace it."""
    header = ANNUAL.splitlines(keepends=True)[0]
    rows = "".join(
        f"500,Harbor Point Wealth Advisors,Microsoft,SKU{n},Visio Plan 2,sub-{n},{kind},"
        f"{start},{end},10,10,100.00,100.00,0.00,USD\r\n"
        for n, kind, start, end in (
            (1, "cycleCharge", "11/1/2026", "11/30/2026"),
            (2, "cycleCharge", "11/1/2026", "11/30/2026"),
            (2, "cancelImmediate", "12/15/2026", "12/15/2026"),
            (3, "customerCredit", "10/20/2026", "10/31/2026"),
        )
    )
    path = tmp_path / "november.csv"
    path.write_text(header + rows)
    assert sorted(i["id"] for i in read(path).invoices) == [
        "ion:2026-11:sub-1", "ion:2026-11:sub-2", "ion:2026-11:sub-3"]  # fmt: skip
