"""The Partner Center reconciliation file as trueup reads it: the generated demo sample and a
hand-written one from Microsoft's documented columns, Microsoft's rounding of subtotals, and
bad files refused whole with every row and column named."""

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from trueup.core.sources.files.columns import renamed
from trueup.core.sources.files.partner_center import FORMAT
from trueup.core.sources.files.partner_center.subtotal import rule_subtotal
from trueup.core.sources.files.problems import FileRefused
from trueup.sandbox.gen_partner_center import partner_center_csv

HERE = Path(__file__).resolve().parent
HANDWRITTEN = HERE / "files" / "partner_center_handwritten.csv"
SCENARIOS = HERE.parent / "app" / "trueup" / "sandbox" / "scenarios"
GENERATED = SCENARIOS / "demo-partner-center.csv"


def read(path, **renames):
    return FORMAT.read(path, renamed(FORMAT.columns, renames))


def table(path=HANDWRITTEN):
    """The file's header and rows, as dicts to edit."""
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    return list(reader.fieldnames), list(reader)


def write(tmp_path, header, rows, name="recon.csv"):
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def rebuilt_from_store(records):
    """The subscriptions as a later import rebuilds them: from the raw cells the store keeps."""
    return FORMAT.subscriptions([], [i["raw"] for i in records.items])


def refusal(path, **renames):
    with pytest.raises(FileRefused) as caught:
        read(path, **renames)
    return caught.value


# --- the two samples ---------------------------------------------------------------------------


def test_the_bundled_sample_is_what_the_generator_writes_for_the_demo():
    demo = json.loads((SCENARIOS / "demo.json").read_text())
    assert GENERATED.read_bytes() == partner_center_csv(demo).encode()
    assert partner_center_csv(demo, seed=2) != partner_center_csv(demo)


def test_the_generated_sample_reads_as_customers_skus_and_dated_seats():
    records = read(GENERATED)
    assert (records.rows, records.warnings) == (10, [])
    names = sorted(c["name"] for c in records.companies)
    assert names == [
        "Harbor Point Wealth Advisors",
        "Highland Bakery, LLC",
        "Pinecrest Family Dental, P.C.",
        "Whitfield Chiropractic",
    ]
    assert all(c["id"].startswith("pc:") for c in records.companies)
    assert {i["invoice_id"] for i in records.items} == {"pc:G311776353"}
    azure = [i for i in records.items if i["product_id"] == "pc:DZH318Z0BPS6:0001"]
    assert {(i["term"], i["type"], i["start_period"]) for i in azure} == {
        ("Arrears", "subscription", date(2026, 9, 1))
    }
    # Power BI Pro: 5 seats from its purchase on 19 Oct, one more added on the 26th.
    subscriptions = rebuilt_from_store(records)
    power_bi = next(row for row, _ in subscriptions if row["product_name"] == "Power BI Pro")
    history = next(s for row, s in subscriptions if row is power_bi)
    assert [(s["position"], s["quantity"], s["updated_at"].date()) for s in history] == [
        (0, Decimal(6), date(2026, 10, 26)),
        (1, Decimal(5), date(2026, 10, 19)),
    ]
    assert (power_bi["billing_term"], power_bi["commitment_term"]) == ("Monthly", "1-Year")
    assert power_bi["commitment_end"] == date(2027, 10, 18)


def test_the_handwritten_sample_reads_in_its_own_column_order_and_case():
    # No SubscriptionId column (the order and SKU name the subscription), `MPNID` in capitals,
    # ISO dates with times, a customer name holding a comma, euros at an exchange rate.
    records = read(HANDWRITTEN)
    assert (records.rows, records.warnings) == (4, [])
    assert sorted(c["name"] for c in records.companies) == [
        "Fabrikam, Inc.",
        "Johnny Modern Cust DE2",
    ]
    assert [(i["type"], i["subtotal"]) for i in records.items] == [
        ("subscription", Decimal("55.20")),
        ("prorate", Decimal("5.70")),
        ("service-credit", Decimal("-4.60")),
        ("subscription", Decimal("11.00")),
    ]
    assert [(i["id"], i["total"], i["currency"]) for i in records.invoices] == [
        ("pc:G002297372", Decimal("67.30"), "EUR")
    ]
    rebuilt = dict((row["id"], (row, history)) for row, history in rebuilt_from_store(records))
    basic, history = rebuilt["pc:6dc5c039750a:CFQ7TTC0LH18:0001"]
    # 10 seats from 5 Oct, 12 from the add on the 20th; the credit changes no seats. The price
    # is the unit price in euros, rounded down as Microsoft rounds it.
    assert [s["quantity"] for s in history] == [Decimal(12), Decimal(10)]
    assert (basic["price"], basic["partner_cost"], basic["currency"]) == (
        Decimal("5.52"),
        Decimal("5.52"),
        "EUR",
    )
    assert basic["commitment_term"] == "1-Month"
    usage, _ = rebuilt["pc:0ET2qaZvJGfF9wgSKnWzR5JLmhp10lOc1:DZH318Z0BNZ5:006G"]
    assert (usage["quantity"], usage["price"]) == (Decimal(1), Decimal(0))


@pytest.mark.parametrize("path", [GENERATED, HANDWRITTEN])
def test_subscriptions_are_the_same_from_the_file_and_from_the_store(path):
    records = read(path)
    assert FORMAT.subscriptions(records.parsed.values(), []) == rebuilt_from_store(records)


def test_a_renamed_column_is_read_through_the_config_table(tmp_path):
    header, rows = table()
    renamed_header = ["Charge Start" if h == "ChargeStartDate" else h for h in header]
    for row in rows:
        row["Charge Start"] = row.pop("ChargeStartDate")
    path = write(tmp_path, renamed_header, rows)
    assert "no column ChargeStartDate" in str(refusal(path))
    assert read(path, charge_start="Charge Start").rows == 4


# --- Microsoft's rounding ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "price", "quantity", "rate", "expected"),
    [
        # seat: ROUNDDOWN(EffectiveUnitPrice × rate, 2) × BillableQuantity
        (False, "6.00", "10", "0.9213", "55.20"),  # 5.5278 → 5.52, × 10
        (False, "3.0968", "2", "0.9213", "5.70"),  # 2.85308... → 2.85, × 2
        (False, "14.4", "50", "1", "720.00"),  # Microsoft's own example row
        (False, "-5.00", "1", "0.9213", "-4.60"),  # a credit rounds towards zero
        # usage: ROUNDDOWN(ROUNDDOWN(EffectiveUnitPrice × BillableQuantity, 2) × rate, 2)
        (True, "0.03825", "312.5", "0.9213", "11.00"),  # 11.953125 → 11.95; 11.0095... → 11.00
        (True, "0.0816", "744", "1", "60.71"),  # 60.7104
        (True, "0.045", "0.2", "1", "0.00"),  # a fraction of a cent is never billed
    ],
)
def test_subtotals_follow_microsofts_rounding(usage, price, quantity, rate, expected):
    subtotal = rule_subtotal(usage, Decimal(price), Decimal(quantity), Decimal(rate))
    assert subtotal == Decimal(expected)


def test_the_rule_fills_an_empty_subtotal_and_flags_one_it_does_not_give(tmp_path):
    header, rows = table()
    rows[0]["Subtotal"] = ""
    rows[1]["Subtotal"] = "5.71"  # the rule gives 5.70: Microsoft's figure is kept, and said
    records = read(write(tmp_path, header, rows))
    assert [i["cost_total"] for i in records.items][:2] == [Decimal("55.20"), Decimal("5.71")]
    assert records.warnings == [
        "row 3: Subtotal 5.71 is not what Microsoft's rounding gives (5.70); the file's figure "
        "is kept"
    ]


def test_a_charge_type_trueup_does_not_know_costs_and_changes_no_seats(tmp_path):
    header, rows = table()
    rows[1]["ChargeType"] = "priceAdjustment"
    records = read(write(tmp_path, header, rows))
    assert records.items[1]["type"] == "prorate"
    assert "row 3: ChargeType 'priceAdjustment' is not one trueup knows" in records.warnings[0]
    rows[1]["ChargeType"] = "\x1b]0;pwned\x07"  # its escapes once, as every message shows them
    hostile = read(write(tmp_path, header, rows)).warnings[0]
    assert "ChargeType '\\x1b]0;pwned\\x07' is not" in hostile and "\x1b" not in hostile
    subscriptions = rebuilt_from_store(records)
    basic = next(row for row, _ in subscriptions if row["product_id"].endswith("LH18:0001"))
    assert basic["quantity"] == Decimal(10)


def test_dates_no_day_past_the_12th_tells_are_read_month_first_and_said(tmp_path):
    """From a boundary review: 05/10/2026 to 04/10/2027 (a year from 5 October, saved by a
    day-first spreadsheet) read as 10 May to 10 April with no word; month first stays the
    reading (Microsoft's samples write 10/3/2020), and the import now says it guessed."""
    header, rows = table()
    rows = [rows[0], {**rows[2], "ChargeStartDate": "10/10/2026"}]  # the same either way
    rows[0]["ChargeStartDate"], rows[0]["ChargeEndDate"] = "05/10/2026", "04/10/2027"
    rows[1]["ChargeEndDate"] = "10/10/2026"
    records = read(write(tmp_path, header, rows))
    assert records.items[0]["start_period"] == date(2026, 5, 10)
    assert records.warnings == [
        "row 2, ChargeStartDate: 05/10/2026 is read month first (10 May 2026), as no date in "
        "the file has a day past the 12th to say which comes first; if the file's dates are day "
        "first, write them as YYYY-MM-DD and import it again"
    ]


def test_a_file_excel_saved_as_unicode_text_or_windows_1252_reads_the_same(tmp_path):
    """From a boundary review: Excel's "Unicode Text" (UTF-16, tabs) and its Windows "CSV
    (Comma delimited)" (Windows-1252, a £ or € one byte) were refused as not UTF-8."""
    unicode_text = tmp_path / "unicode.txt"
    unicode_text.write_bytes(_written("\t", "\r\n").encode("utf-16"))
    assert read(unicode_text).items == read(HANDWRITTEN).items
    header, rows = table()
    rows[3]["CustomerName"] = "Fabrikam £ € Café"
    windows = write(tmp_path, header, rows)
    windows.write_bytes(windows.read_text(encoding="utf-8").encode("cp1252"))
    records = read(windows)
    assert records.companies[1]["name"] == "Fabrikam £ € Café"
    assert records.items == read(write(tmp_path, header, rows, "utf8.csv")).items
    assert records.warnings == [
        "row 5, CustomerName: 'Fabrikam £ € Café' is read as Windows-1252, as Excel's 'CSV "
        "(Comma delimited)' saves it: recon.csv is not UTF-8. If a name reads wrong, save the "
        "file as 'CSV UTF-8' and import it again"
    ]


# --- bad files -----------------------------------------------------------------------------------


def test_a_file_with_many_bad_cells_is_refused_whole_naming_each_row_and_column(tmp_path):
    header, rows = table()
    rows[0]["ChargeStartDate"] = "31/13/2026"
    rows[0]["UnitPrice"] = "NaN"
    rows[1]["CustomerId"] = "196e2273\x1b[2J"
    rows[1]["BillableQuantity"] = "1e12"
    rows[2]["ChargeEndDate"] = "2026-08-31"
    rows[3]["PCToBCExchangeRate"] = "0"
    rows[3]["Currency"] = "euro"
    rows[3]["Subtotal"] = "1.234,50"  # a decimal comma: 1,234.50 reads (test_spreadsheet_saves)
    refused = refusal(write(tmp_path, header, rows))
    assert str(refused) == (
        "recon.csv was not imported (8 problems; nothing was changed): fix the file or the "
        "column mapping, and import it again"
    )
    assert refused.problems == (
        "row 2, UnitPrice: 'NaN' is not a finite number",
        "row 2, ChargeStartDate: '31/13/2026' is not a day of the calendar",
        "row 3, CustomerId: '196e2273\\x1b[2J' holds a space or a control character (not an id)",
        "row 3, BillableQuantity: '1e12' is out of range (a quantity is at most 1,000,000,000)",
        "row 5, Subtotal: '1.234,50' is not a number like 1234.56",
        "row 5, Currency: 'euro' is not a currency code like USD",
        "row 5, PCToBCExchangeRate: '0' is not a rate (it must be above 0)",
        "row 4, ChargeEndDate: is before ChargeStartDate",
    )


def test_rows_that_contradict_one_another_are_refused(tmp_path):
    header, rows = table()
    rows[3]["OrderId"] = rows[0]["OrderId"]  # Fabrikam's usage on Johnny's subscription...
    rows[3]["ProductId"], rows[3]["SkuId"] = rows[0]["ProductId"], rows[0]["SkuId"]
    rows[2]["Currency"] = "USD"  # ...and one invoice in two currencies
    problems = refusal(write(tmp_path, header, rows)).problems
    assert problems == (
        "row 4: invoice G002297372 has currency USD, and EUR in row 2",
        "row 5: subscription 6dc5c039750a:CFQ7TTC0LH18:0001 has customer "
        "d1c7c0a4-2b8e-4a55-9d7c-3f1d6e0b9a21, and 196e2273-9651-43a3-ba7e-7cbcd918fc40 in row 2",
    )


def test_a_truncated_download_is_refused_at_the_row_it_stops(tmp_path):
    text = HANDWRITTEN.read_text(encoding="utf-8")
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: text.rindex("Bandwidth Inter-Region,") + 5], encoding="utf-8")
    problems = refusal(cut).problems
    assert len(problems) == 1 and problems[0].startswith("row 5: has 14 of the header's 29 columns")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text(text[: text.index('"Fabrikam') + 5], encoding="utf-8")
    assert refusal(quoted).problems[0].startswith("row 5: the file stops being CSV here")


def test_a_refusal_lists_fifty_problems_then_how_many_more(tmp_path):
    header, rows = table()
    many = [{**rows[0], "UnitPrice": "x"} for _ in range(70)]
    problems = refusal(write(tmp_path, header, many)).problems
    assert len(problems) == 51 and problems[-1] == "... and 20 more"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "empty.csv is empty: download a Partner Center (new commerce) invoice"),
        (b"\r\n\r\n", "empty.csv is empty"),
        (b"PK\x03\x04rest of a zip", "empty.csv is a workbook (xlsx), not CSV"),
        # Bytes neither UTF-8 nor Windows-1252 has.
        (b"CustomerId,Name\x81\x8d\r\n", "empty.csv is not UTF-8 text (byte 15)"),
        (b"\xff\xfeC\x00u\x00s", "empty.csv is UTF-16 text that breaks off at byte 6"),
        (b"%PDF-1.7\n%\xe2\xe3", "empty.csv is a PDF, not CSV: download a Partner Center"),
        (b"CustomerId\x00,Name\r\n", "empty.csv holds NUL bytes"),
    ],
)
def test_files_that_are_not_a_csv_at_all_are_refused_in_one_line(tmp_path, content, said):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    refused = refusal(path)
    assert str(refused).startswith(said) and refused.problems == ()


def test_a_header_without_rows_is_refused(tmp_path):
    header, _ = table()
    assert "has a header and no rows" in str(refusal(write(tmp_path, header, [])))


@pytest.mark.parametrize(
    ("header", "said"),
    [
        (
            "id,type,companyName,startPeriod,endPeriod,quantity,subTotal,costTotal,billedByPax8",
            "looks like a Pax8 invoice export, not a Partner Center (new commerce) invoice "
            "reconciliation file",
        ),
        (
            "PartnerId,CustomerId,CustomerName,OrderId,SubscriptionId,OfferId,DurableOfferId,"
            "OfferName,ChargeStartDate,ChargeEndDate,ChargeType,UnitPrice,Quantity,Amount,Currency",
            "looks like a Partner Center legacy (not new commerce) license reconciliation file",
        ),
        (
            "PartnerId,CustomerId,UsageDate,MeterId,MeterName,Quantity",
            "looks like a Partner Center daily rated usage file",
        ),
        (
            "Date,Description,Amount",
            "has no column CustomerId, CustomerName, InvoiceNumber, OrderId, ProductId, SkuId, "
            "SkuName, ChargeType, UnitPrice, Currency, ChargeStartDate, ChargeEndDate, "
            "EffectiveUnitPrice, BillableQuantity: is it a Partner Center",
        ),
    ],
)
def test_a_file_of_another_format_is_named_as_such(tmp_path, header, said):
    path = tmp_path / "other.csv"
    path.write_text(header + "\r\n" + ",".join("1" for _ in header.split(",")) + "\r\n")
    assert said in str(refusal(path))


def _written(delimiter, line_end):
    """The handwritten sample's rows as a spreadsheet saves them with `delimiter`."""
    header, rows = table()
    out = io.StringIO()
    writer = csv.DictWriter(out, header, delimiter=delimiter, lineterminator=line_end)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_a_semicolon_separated_file_saved_by_a_spreadsheet_reads_the_same(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text(_written(";", "\n"), encoding="utf-8")
    assert read(path).items == read(HANDWRITTEN).items


def test_names_keep_no_control_character_and_ids_refuse_them(tmp_path):
    header, rows = table()
    rows[0]["CustomerName"] = "Evil\u202eCorp\x1b[31m"
    records = read(write(tmp_path, header, rows))
    company = next(c for c in records.companies if c["id"].endswith("7cbcd918fc40"))
    assert company["name"] == "Evil\\u202eCorp\\x1b[31m"
    assert company["raw"]["customerName"] == "Evil\u202eCorp\x1b[31m"  # as sent, like a sync's
