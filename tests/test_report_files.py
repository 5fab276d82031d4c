"""Report files are written whole or not at all, and say which file a failure is about."""

import csv
import errno
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from trueup.core.reports import workbook
from trueup.core.reports.csv_files import write_csv_folder
from trueup.core.reports.replaced import replaced
from trueup.core.reports.tables import Column, Table

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


def test_a_replaced_file_keeps_its_permissions_and_its_link(tmp_path):
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
