"""Report files are written whole or not at all, and say which file a failure is about."""

import csv
import errno
import os
import stat
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from trueup.core.reports import workbook
from trueup.core.reports.csv_files import write_csv_folder
from trueup.core.reports.tables import Column, Table
from trueup.core.service.books import QBO, Accounting
from trueup.core.service.mappings import Mappings
from trueup.core.service.rules import RuleBook
from trueup.core.store.database import open_database
from trueup.core.store.replaced import replaced

TABLE = Table(
    "Invoices",
    (Column("Client"), Column("Currency"), Column("Total", "money")),
    [("Acme", "USD", Decimal("12.50")), ("Refunds", "USD", Decimal("-3.00"))],
)


def test_a_failed_workbook_leaves_the_last_good_file_and_nothing_half_written(
    tmp_path, monkeypatch
):
    out = tmp_path / "month.xlsx"
    workbook.write_workbook([TABLE], out)
    good = out.read_bytes()

    def interrupted(*args):
        raise KeyboardInterrupt  # Ctrl-C while the sheets are written

    monkeypatch.setattr(workbook, "_sheet", interrupted)
    with pytest.raises(KeyboardInterrupt):
        workbook.write_workbook([TABLE], out)
    assert out.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["month.xlsx"]


def test_a_full_disk_names_the_file_and_keeps_the_old_one(tmp_path):
    out = tmp_path / "lines.csv"
    out.write_text("the last good export")
    with pytest.raises(OSError) as refused, replaced(out):
        raise OSError(errno.ENOSPC, "No space left on device")  # as a write says it
    assert (refused.value.filename, refused.value.strerror) == (str(out), "No space left on device")
    assert out.read_text() == "the last good export"
    assert [p.name for p in tmp_path.iterdir()] == ["lines.csv"]


def test_a_device_is_written_as_it_is_never_replaced():
    with replaced(Path("/dev/null")) as path:
        assert str(path) == "/dev/null"


def test_csv_text_that_a_spreadsheet_would_run_is_kept_text(tmp_path):
    names = [
        '=HYPERLINK("http://evil.example","click")',
        "+1+2",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1)",
    ]
    rows = [(name, "USD", Decimal("-1.00")) for name in names]
    write_csv_folder([Table("Invoices", TABLE.columns, rows)], tmp_path)
    with (tmp_path / "invoices.csv").open(encoding="utf-8-sig", newline="") as file:
        read = list(csv.DictReader(file))
    assert [r["Client"] for r in read] == [f"'{name}" for name in names]
    assert {r["Total"] for r in read} == {"-1.00"}  # a negative amount stays a number


def test_a_replaced_file_keeps_its_link(tmp_path):
    real = tmp_path / "real" / "month.xlsx"
    real.parent.mkdir()
    workbook.write_workbook([TABLE], real)
    real.chmod(0o600)  # the month's billing, private
    link = tmp_path / "month.xlsx"
    link.symlink_to(real)
    before = real.read_bytes()
    workbook.write_workbook([Table("Other", TABLE.columns, TABLE.rows[:1])], link)
    assert link.is_symlink() and real.read_bytes() != before  # the file it names, replaced
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["month.xlsx"]


@pytest.fixture
def open_umask():
    """The umask most desktops have: new files readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_exports_are_private_whatever_the_umask_or_the_file_they_replace(tmp_path, open_umask):
    """Every client's billing was written 0644 under the usual umask, and a file written over
    kept an old file's wider mode."""
    book = tmp_path / "month.xlsx"
    workbook.write_workbook([TABLE], book)
    old = tmp_path / "csv" / "invoices.csv"
    old.parent.mkdir()
    old.write_text("last month's, world-readable")
    old.chmod(0o644)
    write_csv_folder([TABLE], old.parent)
    folder = write_csv_folder([TABLE], tmp_path / "new" / "csv")
    assert [mode(p) for p in (book, old, folder / "invoices.csv")] == [0o600] * 3
    assert mode(folder) == 0o700 and "Acme" in old.read_text(encoding="utf-8-sig")


@pytest.mark.skipif(os.geteuid() != 0, reason="a link of another user's needs root to make")
def test_a_link_another_user_made_is_not_followed(tmp_path):
    """In a shared folder (/tmp) another user's link named like the export would have the
    export replace any file of ours it points at; the kernel refuses such a link
    (protected_symlinks), but replaced() resolved it by hand."""
    ours = tmp_path / "home" / ".bashrc"
    ours.parent.mkdir()
    ours.write_text("ours")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o1777)
    planted = shared / "trueup-2026-11.xlsx"
    planted.symlink_to(ours)
    os.lchown(planted, 4242, 4242)
    with pytest.raises(PermissionError) as refused:
        workbook.write_workbook([TABLE], planted)
    assert refused.value.filename == str(planted) and "not followed" in refused.value.strerror
    assert ours.read_text() == "ours" and sorted(p.name for p in ours.parent.iterdir()) == [
        ".bashrc"
    ]


def test_a_workbook_that_cannot_be_finished_names_its_file_once(tmp_path, monkeypatch):
    from xlsxwriter.exceptions import FileCreateError

    out = tmp_path / "month.xlsx"

    def full(self):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as error:
            raise FileCreateError(error) from None  # as XlsxWriter raises it

    monkeypatch.setattr(workbook.xlsxwriter.Workbook, "close", full)
    with pytest.raises(OSError) as refused:
        workbook.write_workbook([TABLE], out)
    assert (refused.value.filename, refused.value.strerror) == (str(out), "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_mapping_rules_and_tax_code_exports_are_private_too(tmp_path, open_umask):
    """Left by the secrets review: `map export`, `rules export` and `qbo tax export` wrote
    with a plain write_text, at the umask's mode (0644) and over the old file in place."""
    db = open_database(tmp_path / "trueup.sqlite")
    try:
        mappings, rules, codes = (tmp_path / n for n in ("map.toml", "rules.toml", "tax.toml"))
        mappings.write_text("last month's, world-readable")
        mappings.chmod(0o644)
        Mappings(db).export_file(mappings)
        RuleBook(db).export_file(rules)
        Accounting(db, QBO).export_tax_codes(codes)
    finally:
        db.dispose()
    assert [mode(p) for p in (mappings, rules, codes)] == [0o600] * 3
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("trueup")) == [
        "map.toml", "rules.toml", "tax.toml"]  # fmt: skip


def test_a_unit_price_past_the_cent_is_written_whole_so_its_line_adds_up(tmp_path):
    """A 17.5% markup bills 14 × 2.05625 = 28.79: the CSV wrote the price as 2.06 (14 × 2.06 =
    28.84) and the workbook showed $2.06 over the exact value; a whole quantity read "14." in
    the workbook (#,##0.#### keeps its point)."""
    columns = (
        Column("Currency"), Column("Quantity", "number"), Column("Unit price", "money"),
        Column("Amount", "money"),
    )  # fmt: skip
    rows = [("USD", Decimal("14"), Decimal("2.05625"), Decimal("28.79")),
            ("USD", Decimal("12.6"), Decimal("12.50"), Decimal("157.50"))]  # fmt: skip
    table = Table("Lines", columns, rows)
    write_csv_folder([table], tmp_path / "csv")
    with (tmp_path / "csv" / "lines.csv").open(encoding="utf-8-sig", newline="") as file:
        read = [(r["Unit price"], r["Amount"]) for r in csv.DictReader(file)]
    assert read == [("2.05625", "28.79"), ("12.50", "157.50")]

    workbook.write_workbook([table], tmp_path / "month.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "month.xlsx")["Lines"]
    (price, whole), (_, part) = [(r[2], r[1]) for r in sheet.iter_rows(min_row=2)]
    shown = {fmt: number_shown(fmt, value) for fmt, value in (
        (price.number_format, 2.05625), (whole.number_format, 14), (part.number_format, 12.6)
    )}  # fmt: skip
    assert list(shown.values()) == ["$2.05625", "14", "12.6"]


def number_shown(fmt, value):
    """A number as a spreadsheet shows it in `fmt` (the few codes the workbook uses)."""
    prefix = ""
    if fmt.startswith('"'):
        prefix, fmt = fmt[1:].split('"', 1)
    places = fmt.partition(".")[2]
    required, optional = places.count("0"), places.count("#")
    text = f"{value:,.{required + optional}f}" if places else f"{round(value):,}"
    if optional:
        text = text.rstrip("0")
        if required:
            text = text.ljust(text.index(".") + 1 + required, "0")
    return prefix + text  # a trailing point is shown, as Excel shows it


def test_no_control_character_of_a_name_reaches_a_sheet(tmp_path):
    """A name from an API with a bell, an escape or a right-to-left override (U+202E, which
    shows the cell's text backwards): the CSV carried them raw and the workbook as _x0007_
    escapes Excel turns back into them. Each is shown as U+FFFD, where it was."""
    names = ["Bell\x07Co\x1b[2J", "\u202eevil.exe", "\tTab", "two\nlines"]
    read, kept = _names_written(names, tmp_path)
    shown = ["Bell\ufffdCo\ufffd[2J", "\ufffdevil.exe", "\ufffdTab", "two\nlines"]
    assert read == kept == shown


def _names_written(names, tmp_path):
    """The Client cells of an Invoices table of `names`, as the CSV and the workbook hold them."""
    rows = [(name, "USD", Decimal("1.00")) for name in names]
    table = Table("Invoices", TABLE.columns, rows)
    write_csv_folder([table], tmp_path / "csv")
    with (tmp_path / "csv" / "invoices.csv").open(encoding="utf-8-sig", newline="") as file:
        read = [r["Client"] for r in csv.DictReader(file)]
    workbook.write_workbook([table], tmp_path / "month.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "month.xlsx")["Invoices"]
    return read, [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]


def test_a_bidi_mark_or_a_zero_width_character_of_a_name_is_shown_in_a_sheet(tmp_path):
    """A left-to-right mark (U+200E) reorders a cell's text and a zero width space (U+200B) makes
    two names read alike: the sheets wrote both as they were, where a terminal is shown each
    escaped (values.text). Each is U+FFFD; a joiner inside an emoji sequence is kept."""
    names = [
        "\u200eContoso",
        "Con\u200btoso\ufeff",
        "\u061cSoft\xadware",
        "Dev \U0001f469\u200d\U0001f4bb",
    ]
    read, kept = _names_written(names, tmp_path)
    shown = ["\ufffdContoso", "Con\ufffdtoso\ufffd", "\ufffdSoft\ufffdware", names[3]]
    assert read == kept == shown


class _DiskFull:
    """A cell whose writing fails as a full disk does."""

    def __str__(self):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_csv_folder_that_fails_midway_keeps_every_file_of_the_last_export(tmp_path):
    """The CSV files were each renamed into place as soon as written: a full disk at the third
    left this month's first two beside last month's others, a folder that reads as one export
    and adds up to none. Now none is renamed until all are whole."""
    tables = [Table(name, TABLE.columns, TABLE.rows) for name in ("Invoices", "Lines", "Usage")]
    write_csv_folder(tables, tmp_path)
    last = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    now = [Table(t.name, t.columns, [("Other", "USD", Decimal("1.00"))]) for t in tables]
    now[2] = Table("Usage", TABLE.columns, [(_DiskFull(), "USD", Decimal("1.00"))])
    with pytest.raises(OSError) as refused:
        write_csv_folder(now, tmp_path)
    assert refused.value.filename == str(tmp_path / "usage.csv")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == last

    write_csv_folder(now[:2], tmp_path)  # and once all are whole, all are replaced
    for name in ("invoices.csv", "lines.csv"):
        assert "Other" in (tmp_path / name).read_text(encoding="utf-8-sig")


def test_a_formula_after_a_semicolon_is_kept_text_too(tmp_path):
    """Excel where the list separator is ';' (most of Europe) opens the CSV split at each ';'
    whatever the quotes around the cell: 'x;=HYPERLINK(...);y' gave a cell
    =HYPERLINK(...), run. A formula start after a ';' gets the quote a cell's start gets."""
    names = ['Acme;=HYPERLINK("http://evil.example","click");x', "a;+1;-2;@SUM(1)", "a; -1;b"]
    rows = [(name, "USD", Decimal("1.00")) for name in names]
    write_csv_folder([Table("Invoices", TABLE.columns, rows)], tmp_path)
    with (tmp_path / "invoices.csv").open(encoding="utf-8-sig", newline="") as file:
        read = [r["Client"] for r in csv.DictReader(file)]
    assert read == [
        """Acme;'=HYPERLINK("http://evil.example","click");x""",
        "a;'+1;'-2;'@SUM(1)",
        "a; -1;b",  # after a space: no formula in any spreadsheet
    ]
    # As a ';' spreadsheet cuts the lines: no piece starts a formula.
    text = (tmp_path / "invoices.csv").read_text(encoding="utf-8-sig")
    assert not [p for line in text.splitlines() for p in line.split(";") if p[:1] in "=+-@"]


def test_an_id_that_reads_as_a_number_is_a_text_cell_in_the_text_format(tmp_path):
    """A SKU 0001, a Pax8 subscription id or a Halo id all digits were text cells in the General
    format: typed into again (F2, Enter), Excel made each a number, 0001 the number 1. Each id
    cell is in the Text format, "@", its column's empty cells too; money, numbers and other
    text keep theirs."""
    columns = (
        Column("Client"), Column("SKU", "id"), Column("Subscription", "id"),
        Column("Id there", "id"), Column("Quantity", "number"), Column("Amount", "money"),
        Column("Currency"),
    )  # fmt: skip
    rows = [
        ("00042 Holdings", "0001", "000123456", "-1207", Decimal("3"), Decimal("30.00"), "USD"),
        ("Acme", "", "9f1c0b7e-0001", "0042", Decimal("1"), Decimal("10.00"), "USD"),
    ]
    workbook.write_workbook([Table("Lines", columns, rows)], tmp_path / "month.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "month.xlsx")["Lines"]
    read = [[(c.value, c.number_format) for c in r] for r in sheet.iter_rows(min_row=2)]
    assert [[cell[0] for cell in row[1:4]] for row in read] == [
        ["0001", "000123456", "-1207"], [None, "9f1c0b7e-0001", "0042"]]  # fmt: skip
    assert {fmt for row in read for value, fmt in row[1:4] if value is not None} == {"@"}
    assert {sheet.column_dimensions[c].number_format for c in "BCD"} == {"@"}
    client, quantity, amount = read[0][0], read[0][4], read[0][5]
    assert (client, quantity[1], amount[1]) == (
        ("00042 Holdings", "General"),
        "#,##0",
        '"$"#,##0.00####',
    )
    assert sheet.column_dimensions["A"].number_format == "General"
