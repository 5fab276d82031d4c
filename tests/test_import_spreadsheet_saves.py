"""A distributor's file opened in a spreadsheet and saved again, as `trueup import` takes it: a
totals row refused at its row, numbers formatted with thousands separators or parenthesised
negatives read as the plain numbers they are (when the file's decimal separator is known), ids
whose leading zeros were dropped named in a warning, and a workbook refused in one line."""

import csv
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from trueup.cli import app
from trueup.core.store.database import open_database

FILES = Path(__file__).resolve().parent / "files"
SOURCES = ["partner-center", "ion", "ingram", "sherweb"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    return tmp_path


def invoke(*args):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def rows_of(source):
    """The handwritten sample's rows, the header first, as lists to edit."""
    path = FILES / f"{source.replace('-', '_')}_handwritten.csv"
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def saved(tmp_path, rows, name="saved.csv", tail=""):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file, lineterminator="\r\n").writerows(rows)
        file.write(tail)
    return path


def imported(env):
    return json.loads(invoke("status", "--json").stdout)["imported"]


def stored_items(env):
    """The stored items' cost totals and raw cells by charge type and product."""
    db = open_database(env / "trueup.sqlite")
    try:
        with db.read() as conn:
            found = conn.execute(text("SELECT cost_total, raw FROM pax8_invoice_item")).all()
    finally:
        db.dispose()
    return {
        (cells["charge_type"], cells["product_id"]): (Decimal(cost), cells)
        for cost, cells in ((cost, json.loads(raw)) for cost, raw in found)
    }


# --- a totals row --------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("padded", [False, True], ids=["short", "padded"])
def test_a_totals_row_is_refused_at_its_row_in_one_line(env, tmp_path, source, padded):
    """Excel's sum under the rows, saved: "Total,,,,1234.56" (or padded to the header's width)
    was 'cut short' or a dozen 'is empty' problems; no distributor documents such a row."""
    rows = rows_of(source)
    total = ["Total", "", "", "", "1234.56"]
    rows.append(total + [""] * (len(rows[0]) - len(total)) if padded else total)
    result = invoke("import", str(saved(tmp_path, rows)), "--source", source)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "error: saved.csv was not imported (1 problem; nothing was changed): fix the file or the "
        "column mapping, and import it again",
        f"  row {len(rows)}: looks like a totals row ('Total'), not a charge: no distributor's "
        "file has one (a spreadsheet's sum?); delete the row and import the file again",
    ]
    assert imported(env) == {}


@pytest.mark.parametrize("label", ["TOTAL:", "Grand Total", "Subtotal", "Sum"])
def test_a_totals_row_under_another_label_and_after_blank_lines_is_named(env, tmp_path, label):
    rows = [*rows_of("ion"), [], [], ["", label, "", "", "1,234.56"]]
    result = invoke("import", str(saved(tmp_path, rows)), "--source", "ion")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1].startswith(
        f"  row 9: looks like a totals row ('{label}'), not a charge"
    )


def test_a_customer_named_total_on_a_whole_row_is_a_charge(env, tmp_path):
    rows = rows_of("ion")
    rows[4][0] = "Total"  # Ion's first column is the customer's name
    result = invoke("import", str(saved(tmp_path, rows)), "--source", "ion")
    assert result.exit_code == 0, result.output
    assert imported(env)["ion"]["pax8_invoice_item"] == 5


# --- numbers as a spreadsheet formats them ------------------------------------------------------


def test_thousands_separators_and_parenthesised_negatives_read_as_the_plain_numbers(env, tmp_path):
    """The file has decimal points, so 1,198.00 is a thousand and more; (5.00) is -5.00. The
    store keeps them plain: the same charges imported unformatted change nothing."""
    plain = rows_of("ion")
    plain[1][11] = "1198.00"  # Seller Cost
    plain[1][13] = "-978.00"  # Margin
    first = invoke("import", str(saved(tmp_path, plain, "plain.csv")), "--source", "ion")
    assert first.exit_code == 0 and first.stderr == "", first.output
    formatted = [list(row) for row in plain]
    formatted[1][11], formatted[1][13] = "1,198.00", "(978.00)"
    formatted[3][11:14] = ["(5.00)", "(5.50)", "( 0.50 )"]  # Seller, Customer Cost, Margin
    path = saved(tmp_path, formatted, "formatted.csv")
    result = invoke("import", str(path), "--source", "ion")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("nothing changed: formatted.csv")
    assert result.stderr.strip() == (
        "warning: row 2, Seller Cost: '1,198.00' is read as 1198.00: the file's numbers are "
        "written as a spreadsheet formats them (thousands separators, negatives in "
        "parentheses), so it was saved from one: check it against the distributor's download"
    )
    stored = stored_items(env)
    premium = "CFQ7TTC0LF8Q:0001"
    cycle, credit = stored["cycleCharge", premium], stored["customerCredit", premium]
    assert (cycle[0], cycle[1]["seller_cost"]) == (Decimal("1198.00"), "1198.00")
    assert (credit[0], credit[1]["seller_cost"], credit[1]["margin"]) == (
        Decimal("-5.00"),
        "-5.00",
        "-0.50",
    )


@pytest.mark.parametrize("source", SOURCES)
def test_every_format_reads_a_formatted_amount(env, tmp_path, source):
    rows = rows_of(source)
    header = [h.casefold() for h in rows[0]]
    column = {
        "partner-center": "unitprice",
        "ion": "customer cost",
        "ingram": "customer_amount",
        "sherweb": "listprice",
    }[source]
    at = header.index(column)
    rows[1][at] = "1,000.00"
    result = invoke("import", str(saved(tmp_path, rows)), "--source", source, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"][0].startswith(
        f"row 2, {rows[0][at]}: '1,000.00' is read as 1000.00"
    )


def test_a_thousands_separator_in_a_file_without_decimal_points_is_refused(env, tmp_path):
    """1,198 is 1198 with a decimal point and 1.198 with a decimal comma: nothing in the file
    says which, so the cell is refused saying how to fix the file."""
    rows = [row[:13] + row[14:] for row in rows_of("ion")[:2]]  # no Margin
    rows[1][11:13] = ["1,198", "1220"]
    result = invoke("import", str(saved(tmp_path, rows)), "--source", "ion")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        "  row 2, Seller Cost: '1,198' has a comma that is a thousands separator or a decimal "
        "comma, and no number of the file has a decimal point to say which: format the "
        "spreadsheet's number columns without thousands separators (or download the file "
        "again) and import it again"
    ]
    assert imported(env) == {}


def test_a_decimal_comma_elsewhere_makes_every_comma_unknown(env, tmp_path):
    rows = rows_of("ion")
    rows[1][11], rows[2][11] = "1,198.00", "15,33"
    result = invoke("import", str(saved(tmp_path, rows)), "--source", "ion")
    assert result.exit_code == 1
    said = result.stderr.splitlines()[1:]
    assert said[0].startswith("  row 2, Seller Cost: '1,198.00' has a comma that is a thousands")
    assert said[1] == "  row 3, Seller Cost: '15,33' is not a number like 1234.56"


# --- ids whose leading zeros a spreadsheet dropped ----------------------------------------------


def products(env):
    db = open_database(env / "trueup.sqlite")
    try:
        with db.read() as conn:
            return set(conn.execute(text("SELECT id FROM pax8_product")).scalars())
    finally:
        db.dispose()


def test_a_sku_that_lost_its_leading_zeros_is_named_with_its_rows(env, tmp_path):
    """Excel saves Partner Center's SkuId 0001 as 1: CFQ7TTC0LH18:1 is no product a mapping
    names. The rows import, as the file says, and the warning names them and the SKU they
    most likely are."""
    assert invoke("import", str(FILES / "partner_center_handwritten.csv"), "--source",
                  "partner-center").exit_code == 0  # fmt: skip
    rows = rows_of("partner-center")
    sku = rows[0].index("SkuId")
    for row in rows[1:4]:
        row[sku] = "1"
    result = invoke("import", str(saved(tmp_path, rows)), "--source", "partner-center")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        "warning: rows 2, 3, 4: SKU CFQ7TTC0LH18:1 is none trueup knows, but CFQ7TTC0LH18:0001 "
        "is: a spreadsheet drops an id's leading zeros when it opens a file. Imported as a "
        "product of its own; import the file as downloaded to bill them as CFQ7TTC0LH18:0001"
    )
    assert {"pc:CFQ7TTC0LH18:1", "pc:CFQ7TTC0LH18:0001"} <= products(env)
    logged = json.loads(invoke("log", "--json", "--limit", "1").stdout)["entries"][0]
    assert "CFQ7TTC0LH18:1 is none trueup knows" in json.dumps(logged)


def test_a_sku_with_and_without_its_zeros_in_one_file_is_named(env, tmp_path):
    rows = rows_of("partner-center")
    rows[2][rows[0].index("SkuId")] = "1"  # one row edited by hand in a spreadsheet
    result = invoke("import", str(saved(tmp_path, rows)), "--source", "partner-center")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "warning: row 3: SKU CFQ7TTC0LH18:1 is none trueup knows, but CFQ7TTC0LH18:0001 is"
    )


def test_an_id_already_known_as_it_is_and_other_digits_are_not_flagged(env, tmp_path):
    rows = rows_of("partner-center")
    sku = rows[0].index("SkuId")
    rows[1][sku] = "1"
    assert invoke("import", str(saved(tmp_path, rows)), "--source", "partner-center").stderr
    again = invoke("import", str(saved(tmp_path, rows, "again.csv")), "--source", "partner-center")
    assert again.exit_code == 0 and again.stderr == ""  # its 1 is now a stored product
    other = rows_of("ingram")  # numeric ids of other lengths: 1000234, 1000301, 1000235
    result = invoke("import", str(saved(tmp_path, other, "im.csv")), "--source", "ingram")
    assert result.exit_code == 0 and result.stderr == "", result.output


def test_a_sku_a_mapping_names_before_any_import_is_known(env, tmp_path):
    """A mapping file imported first (`trueup map import`) names pc:CFQ7TTC0LH18:0001."""
    db = open_database(env / "trueup.sqlite")
    try:
        with db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO product_mapping (product_id, item_id, status, source, reason, "
                    "created_at, created_by) VALUES ('pc:CFQ7TTC0LH18:0001', 7, 'mapped', "
                    "'import', '', '2026-11-01 00:00:00', 'test')"
                )
            )
    finally:
        db.dispose()
    rows = rows_of("partner-center")
    rows[1][rows[0].index("SkuId")] = "01"
    result = invoke("import", str(saved(tmp_path, rows[:2])), "--source", "partner-center")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "warning: row 2: SKU CFQ7TTC0LH18:01 is none trueup knows, but CFQ7TTC0LH18:0001 is"
    )


# --- a workbook where a CSV belongs -------------------------------------------------------------


def test_an_xlsx_workbook_is_refused_in_one_line_saying_to_save_it_as_csv(env, tmp_path):
    """Ingram's rated data export is offered as XLSX too ([IM1]); trueup reads CSV only."""
    import xlsxwriter

    path = tmp_path / "rated.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for at, row in enumerate(rows_of("ingram")):
        sheet.write_row(at, 0, row)
    book.close()
    result = invoke("import", str(path), "--source", "ingram")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: rated.xlsx is a workbook (xlsx), not CSV: download an Ingram Micro Cloud "
        "Marketplace rated data export as CSV, or save the sheet as 'CSV UTF-8' (File > Save As)"
    ]
    assert imported(env) == {}


def written(path, data):
    path.write_bytes(data)
    return path


def zipped(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (
            lambda p: written(p, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
            "is an Excel 97-2003 workbook (xls), not CSV: download a TD SYNNEX StreamOne Ion "
            "billing report as CSV, or save the sheet as 'CSV UTF-8' (File > Save As)",
        ),
        (
            lambda p: zipped(p, {"ion-2026-10.csv": (FILES / "ion_handwritten.csv").read_text()}),
            "is a zip archive (it holds ion-2026-10.csv), not CSV: extract the CSV and import that",
        ),
        (
            lambda p: zipped(
                p,
                {
                    "mimetype": "application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": "<office:document-content/>",
                },
            ),
            "is an OpenDocument spreadsheet (ods), not CSV: download a TD SYNNEX StreamOne Ion "
            "billing report as CSV, or save the sheet as CSV (UTF-8)",
        ),
    ],
    ids=["xls", "zip", "ods"],
)
def test_other_workbooks_and_archives_are_refused_in_one_line(env, tmp_path, make, said):
    """An .xls was 'holds NUL bytes, which no CSV file has'; a zipped CSV 'a workbook'."""
    path = make(tmp_path / "report.bin")
    result = invoke("import", str(path), "--source", "ion")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: report.bin {said}"]
