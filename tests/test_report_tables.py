"""The month's tables for the accountant (`trueup export`), read from the batch's typed invoices:
every anomaly once, said where it stands (the line or the invoice), with the override that let
it through and who gave it."""

import io
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rich.console import Console

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.approval import approve
from trueup.core.batch.build import build_batch
from trueup.core.batch.stored import load_batch
from trueup.core.reports.history import History
from trueup.core.reports.summary import CurrencyTotals, MonthSummary, Mover, Override, Voided
from trueup.core.reports.summary_page import summary_renderables
from trueup.core.reports.tables import month_tables
from trueup.core.values.months import Month

TODAY = date(2026, 11, 21)


def sheet(tables, name):
    table = next(t for t in tables if t.name == name)
    headers = [c.header for c in table.columns]
    return [dict(zip(headers, row, strict=True)) for row in table.rows]


def test_each_anomaly_is_one_row_on_the_line_or_invoice_it_stands_on(db):
    built = build_batch(db, "2026-11", today=TODAY, by="test")
    approve(db, built.batch_id, overrides=[("UNMAPPED_SKU", "mapped next month")], by="ann")
    invoices = load_batch(db, built.batch_id).invoices
    rows = sheet(month_tables(db, Month("2026-11"), today=TODAY), "Anomalies")
    on_invoices = [r for r in rows if r["Where"] != "batch"]

    expected = Counter(
        (i.client_id, a.code, a.subscription_id or "", a.message)
        for i in invoices
        for a in i.anomalies
    )
    assert (
        Counter((r["Client ID"], r["Code"], r["Subscription"], r["Message"]) for r in on_invoices)
        == expected
    )
    on_lines = {
        (i.client_id, a.message) for i in invoices for line in i.lines for a in line.anomalies
    }
    assert on_lines and all(
        (r["Where"] == "line") == ((r["Client ID"], r["Message"]) in on_lines) for r in on_invoices
    )
    overridden = [r for r in on_invoices if r["Code"] == "UNMAPPED_SKU"]
    assert overridden and all(
        (r["Override reason"], r["Overridden by"]) == ("mapped next month", "ann")
        for r in overridden
    )
    assert all(r["Override reason"] == "" for r in on_invoices if r["Code"] != "UNMAPPED_SKU")


def test_the_lines_sheet_holds_every_line_with_its_money(db):
    built = build_batch(db, "2026-11", today=TODAY, by="test")
    invoices = load_batch(db, built.batch_id).invoices
    rows = sheet(month_tables(db, Month("2026-11"), today=TODAY), "Lines")
    assert len(rows) == sum(len(i.lines) for i in invoices)
    for invoice in invoices:
        amounts = [r["Amount"] for r in rows if r["Client ID"] == invoice.client_id]
        assert sum(amounts) == invoice.subtotal


def test_five_currencies_are_summarised_three_to_a_table_and_nothing_is_cut_at_80_columns():
    """From the hostile-data keyboard review: with five currencies the summary's one table was
    cut at the workbench's right edge (70 columns), SEK's and USD's totals out of sight."""
    currencies = ("AUD", "CHF", "EUR", "SEK", "USD")
    summary = MonthSummary(
        Month("2026-11"), "2026-11-b1", 5, {"draft": 5}, History((Month("2026-11"),), {}),
        currencies={c: CurrencyTotals(total=Decimal("9259258.50") + n)
                    for n, c in enumerate(currencies)},
    )  # fmt: skip
    console = Console(width=70, file=io.StringIO(), color_system=None)
    for part in summary_renderables(summary):
        console.print(part)
    text = console.file.getvalue()
    for n, currency in enumerate(currencies):
        assert currency in text and f"{9259258.50 + n:,.2f}" in text
    assert "By currency, more" in text


def test_an_override_says_when_it_was_given_in_utc(db):
    """The Anomalies sheet said who let an error through and why, not when: an auditor needs
    the time. A column after the others, UTC as its header says, written as the Journal's When
    (ISO 8601 with its +00:00); an anomaly let through by nobody has none."""
    built = build_batch(db, "2026-11", today=TODAY, by="test")
    approve(db, built.batch_id, overrides=[("UNMAPPED_SKU", "mapped next month")], by="ann")
    with db.read() as conn:
        (at,) = {r[0] for r in conn.exec_driver_sql("SELECT at FROM batch_override")}
    table = next(
        t for t in month_tables(db, Month("2026-11"), today=TODAY) if t.name == "Anomalies"
    )
    assert [c.header for c in table.columns][-3:] == [
        "Override reason", "Overridden by", "Overridden at (UTC)"]  # fmt: skip
    rows = sheet([table], "Anomalies")
    stamped = str(at).replace(" ", "T")[:19] + "+00:00"
    overridden = [r for r in rows if r["Code"] == "UNMAPPED_SKU" and r["Where"] != "batch"]
    assert overridden and {r["Overridden at (UTC)"] for r in overridden} == {stamped}
    assert {r["Overridden at (UTC)"] for r in rows if r["Override reason"] == ""} == {""}


def _columns(text):
    """Each bordered table's cells, a column at a time, the lines' pieces joined: what a column
    holds, however it was wrapped or folded."""
    tables, current = [], None
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            current = current or [""] * len(cells)
            current[:] = [was + " " + cell for was, cell in zip(current, cells, strict=True)]
        elif current:
            tables.append(current)
            current = None
    return tables


def test_a_long_name_or_reason_is_folded_never_cut_at_80_columns():
    """A client name or an override's reason of one long word (a ticket's URL) was cut at the
    80 columns of `trueup summary` with "…": "see https://halo.example.com…". Each is folded
    onto the next lines, whole; the money beside it is never wrapped."""
    name = "The Extraordinarily Long Named Regional Veterinary Hospital of Northern Saskatchewan"
    word = "Wolfeschlegelsteinhausenbergerdorff-Holdings-International-GmbH"
    url = "see https://halo.example.com/tickets/123456789?view=full&tab=notes"
    moved = (Decimal("100"), Decimal("1234567.89"), ("QTY_SWING: 5 to 500 seats",))
    summary = MonthSummary(
        Month("2026-11"), "2026-11-b1", 2, {"posted": 2}, History((Month("2026-11"),), {}),
        currencies={"USD": CurrencyTotals(total=Decimal("1234567.89"))},
        movers=[Mover(name, "USD", *moved), Mover(word, "USD", *moved)],
        overrides=[Override(name, "POSSIBLE_DOUBLE_BILL", url, 1),
                   Override(word, "NEGATIVE_MARGIN", word, 2)],
        voided=[Voided(1, name, "USD", Decimal("1234567.89"), ("TU2611-1",)),
                Voided(2, word, "USD", Decimal("1234567.89"), ("TU2611-2",))],
    )  # fmt: skip
    console = Console(width=80, file=io.StringIO(), color_system=None)
    for part in summary_renderables(summary):
        console.print(part)
    text = console.file.getvalue()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    _, movers, overrides, voided, _ = _columns(text)
    squeezed = [["".join(column.split()) for column in t] for t in (movers, overrides, voided)]
    for client, *_ in squeezed:
        assert "".join(name.split()) in client and word in client
    reasons = squeezed[1][2]
    assert "".join(url.split()) in reasons and word in reasons
    # The money on one line each, whole.
    assert text.count("+1,234,467.89 USD") == 2 and text.count("│ 1,234,567.89 USD │") == 2


def test_the_lines_sheet_prices_a_line_as_its_amount_is_made(db):
    """A markup on cost bills 2.05625 a seat: the sheet's price was the cent's (2.06), and its
    quantity times that price was not the line's amount. Now each price is the one the amount is
    quantity times, to the cent of the amount."""
    from trueup.core.rules.current import import_rules

    import_rules(db, '[defaults]\nprice = "markup"\nmarkup_percent = "5"\n')
    build_batch(db, "2026-11", today=TODAY, by="test")
    rows = sheet(month_tables(db, Month("2026-11"), today=TODAY), "Lines")
    priced = [r for r in rows if r["Kind"] == "subscription" and r["Unit price"]]
    finer = [r for r in priced if r["Unit price"] != r["Unit price"].quantize(Decimal("0.01"))]
    assert finer  # 5% on costs to the cent: prices with 3 and 4 places
    whole = [r for r in finer if r["Quantity"] == int(r["Quantity"])]  # prorated: 4 places
    assert whole and all(
        (r["Quantity"] * r["Unit price"]).quantize(Decimal("0.01"), ROUND_HALF_UP) == r["Amount"]
        for r in whole
    )


def test_movers_are_ranked_within_their_currency_so_a_yen_change_crowds_out_no_dollar():
    """¥50,000 is about $330: ranked by the number alone, five yen clients (or forint ones)
    filled "moved most" and a $5,000 change was not shown. Each currency's own most, in the
    order the summary lays out its currencies."""
    from trueup.core.reports.summary import MOVERS, _movers

    def change(client_id, currency, then, now):
        delta = Decimal(now) - Decimal(then)
        name = f"{currency} client {client_id}"
        return {"client_id": client_id, "client_name": name, "currency": currency,
                "then": then, "now": now, "delta": f"{delta:.2f}"}  # fmt: skip

    yen = [change(n, "JPY", "100000.00", f"{150000 + 10000 * n}.00") for n in range(1, 7)]
    changes = [*yen, change(10, "USD", "20000.00", "25000.00"),
               change(11, "USD", "900.00", "880.00"), change(12, "USD", "50.00", "50.00"),
               change(20, "HUF", "1000000.00", "400000.00")]  # fmt: skip
    movers = _movers(changes, {})
    shown = [(m.currency, m.client_name, m.change) for m in movers]
    assert shown == [
        ("HUF", "HUF client 20", Decimal("-600000.00")),
        *[("JPY", f"JPY client {n}", Decimal(f"{50000 + 10000 * n}.00")) for n in (6, 5, 4, 3, 2)],
        ("USD", "USD client 10", Decimal("5000.00")),
        ("USD", "USD client 11", Decimal("-20.00")),
    ]
    assert MOVERS == 5  # the yen clients beyond it are the ones left out

    summary = MonthSummary(
        Month("2026-11"), "2026-11-b1", 9, {"approved": 9}, History((Month("2026-11"),), {}),
        currencies={c: CurrencyTotals() for c in ("HUF", "JPY", "USD")}, movers=movers,
    )  # fmt: skip
    console = Console(width=80, file=io.StringIO(), color_system=None)
    for part in summary_renderables(summary):
        console.print(part)
    assert "+5,000.00 USD" in console.file.getvalue()


def test_the_month_workbook_writes_each_id_column_as_text(db, tmp_path):
    """The columns that hold another system's id (a SKU like 0001, a Pax8 subscription id, a
    Halo id or document number, trueup's references and batch) are ids, written in the Text
    format: typed into again in Excel, an id all digits was made a number, its zeros gone."""
    import openpyxl

    from trueup.core.reports.workbook import write_workbook

    build_batch(db, "2026-11", today=TODAY, by="test")
    tables = month_tables(db, Month("2026-11"), today=TODAY)
    ids = {(t.name, c.header) for t in tables for c in t.columns if c.kind == "id"}
    assert ids == {
        ("Invoices", "Reference"), ("Invoices", "Number there"), ("Lines", "SKU"),
        ("Anomalies", "Subscription"), ("Usage", "Subscription"), ("Journal", "Reference"),
        ("Journal", "Id there"), ("Journal", "Number there"), ("Journal", "Batch"),
    }  # fmt: skip
    book = openpyxl.load_workbook(write_workbook(tables, tmp_path / "month.xlsx"))
    for name, header in sorted(ids):
        table = next(t for t in tables if t.name == name)
        at = [c.header for c in table.columns].index(header)
        cells = [row[at] for row in book[name].iter_rows(min_row=2)]
        written = [(c.value, c.number_format) for c in cells if c.value is not None]
        assert all(isinstance(v, str) and fmt == "@" for v, fmt in written), (name, header)
    skus = [(c.value, c.number_format) for c in book["Lines"]["D"][1:] if c.value]
    assert skus and {fmt for _, fmt in skus} == {"@"}
    assert "#,##0.00" in book["Lines"]["H2"].number_format  # money as it was
