from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from trueup.core.sources.files.cells import CellError, day, quantity
from trueup.core.values.parsing import month_start, parse_day, parse_instant, to_decimal, to_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-08-11T11:33:12.314-0600", datetime(2023, 8, 11, 17, 33, 12, 314000, tzinfo=UTC)),
        ("2021-01-01T08:30:00Z", datetime(2021, 1, 1, 8, 30, tzinfo=UTC)),
        ("2024-03-15", datetime(2024, 3, 15, tzinfo=UTC)),
        ("2025-03-20T18:50:25.057", datetime(2025, 3, 20, 18, 50, 25, 57000, tzinfo=UTC)),
        ("2024-06-03T09:12:00+02:00", datetime(2024, 6, 3, 7, 12, tzinfo=UTC)),
    ],
)
def test_every_timestamp_style_the_apis_send(text, expected):
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    "junk", [None, "", "soon", 12, "1899-12-30T00:00:00", "1900-01-01T00:00:00"]
)
def test_junk_and_halo_sentinels_are_no_date(junk):
    assert parse_instant(junk) is None


def test_the_day_is_the_utc_date():
    # 23:30 in Denver on the 11th is the 12th in UTC: billing days are UTC dates.
    assert parse_day("2026-11-11T23:30:00.000-0700") == date(2026, 11, 12)


def test_money_stays_exact():
    assert to_decimal(Decimal("26.40")) == Decimal("26.40")
    assert to_decimal("12.50") == Decimal("12.50")
    assert to_decimal(18) == Decimal(18)
    assert [to_decimal(v) for v in (None, True, "abc", "NaN", [1])] == [None] * 5
    assert to_int(Decimal("18.0")) == 18
    assert to_int(Decimal("18.5")) is None


@pytest.mark.parametrize("text", ["1_0", "１０", "١٠", "1 0", "0x10"])
def test_digits_no_file_or_api_writes_are_junk_not_ten(text):
    """From a bad-input pass: Decimal() reads "1_0" and other scripts' digits as 10, so a
    Partner Center file's BillableQuantity of "１０" was stored as 10 seats."""
    assert to_decimal(text) is None
    with pytest.raises(CellError, match=r"is not a number like 1234\.56"):
        quantity(text)
    assert to_decimal(" 1.5e2 ") == Decimal("150") and quantity("7.00") == Decimal("7.00")
    with pytest.raises(CellError):
        day("２０２６-１１-０１")


def test_month_start_crosses_years():
    assert month_start(date(2026, 1, 21), 1) == date(2025, 12, 1)
    assert month_start(date(2026, 11, 21), 2) == date(2026, 9, 1)
    assert month_start(date(2026, 11, 21)) == date(2026, 11, 1)


@pytest.mark.parametrize(
    "text",
    ["2026-10-05", "2026-10-05T00:00:00Z", "2026-10-05T08:12:44.1234567Z", "2026-10-05 00:00",
     "2026-10-05T00:00:00+05:30", "2026-10-05T00:00:00.000-0700", "10/5/2026",
     "10/5/2026 12:00:00 AM", "10/5/2026 3:04 pm", "10/5/2026 00:00:00 UTC"],
)  # fmt: skip
def test_a_file_day_may_carry_a_time_as_exports_write_it(text):
    assert day(text) == date(2026, 10, 5)


@pytest.mark.parametrize(
    "text", ["2026-10-05Tjunk", "2026-10-05 to 2026-10-31", "10/5/2026 - 11/4/2026", "2026-10-05 x"]
)
def test_a_file_day_followed_by_anything_but_a_time_is_refused(text):
    """Left by the boundary review: whatever followed the date was dropped as its time, so a
    period written in one cell ("2026-10-05 to 2026-10-31") was read as its first day."""
    with pytest.raises(CellError, match="is not a date like 2026-11-05"):
        day(text)
