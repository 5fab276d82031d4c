"""`trueup import FILE --source ...` and `trueup sandbox partner-center|ion|ingram|sherweb`:
exit codes, one-line errors on stderr, every problem of a refused file under its line, data on
stdout; the config's [import.<source>] renaming columns."""

import json

import pytest
from typer.testing import CliRunner

from test_import_partner_center import GENERATED, HANDWRITTEN, table, write
from trueup.cli import app
from trueup.cli.syncing import BUNDLED_DEMO
from trueup.core.settings.config import ConfigError, load_settings, save_settings
from trueup.core.sync.lock import exclusive, lock_path

FILES = HANDWRITTEN.parent


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_an_import_then_the_same_file_again(env):
    first = invoke("import", str(HANDWRITTEN), "--source", "partner-center")
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0] == (
        "imported partner_center_handwritten.csv (Partner Center): 4 rows, charges from "
        "2026-09, 2026-10"
    )
    assert "  invoice items      4 new" in first.stdout and first.stderr == ""
    again = invoke("import", str(HANDWRITTEN), "--source", "partner-center")
    assert again.exit_code == 0
    assert again.stdout.startswith("nothing changed: partner_center_handwritten.csv")
    as_json = json.loads(
        invoke("import", str(HANDWRITTEN), "--source", "partner-center", "--json").stdout
    )
    assert as_json["changed"] is False and as_json["entities"]["invoice items"]["unchanged"] == 4
    logged = json.loads(invoke("log", "--json", "--limit", "1").stdout)
    assert logged["entries"][0]["source"] == "import"


def test_a_file_name_with_control_characters_is_printed_with_them_visible(env, tmp_path):
    """From a boundary review: the headline printed the name as it is, so a download named
    with an escape sequence cleared the operator's screen."""
    named = tmp_path / "recon\x1b[2J\u202e.csv"
    named.write_bytes(HANDWRITTEN.read_bytes())
    for said in ("imported", "nothing changed:"):
        result = invoke("import", str(named), "--source", "partner-center")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"{said} recon\\x1b[2J\\u202e.csv")
        assert "\x1b" not in result.output and "\u202e" not in result.output


def test_a_refused_file_exits_1_with_one_line_then_each_problem(env, tmp_path):
    header, rows = table()
    rows[0]["BillableQuantity"] = "ten"
    rows[3]["ChargeEndDate"] = "2/30/2026"
    result = invoke("import", str(write(tmp_path, header, rows)), "--source", "partner-center")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: recon.csv was not imported (2 problems; nothing was changed): fix the file or "
        "the column mapping, and import it again",
        "  row 2, BillableQuantity: 'ten' is not a number like 1234.56",
        "  row 5, ChargeEndDate: '2/30/2026' is not a day of the calendar",
    ]


def test_a_file_of_another_format_is_one_line(env, tmp_path):
    pax8 = tmp_path / "pax8-invoice.csv"
    pax8.write_text("id,companyName,startPeriod,endPeriod,total\r\n1,Acme,2026-10-01,,9\r\n")
    result = invoke("import", str(pax8), "--source", "partner-center")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: pax8-invoice.csv looks like a Pax8 invoice export, not a Partner Center (new "
        "commerce) invoice reconciliation file"
    )


@pytest.mark.parametrize(
    ("source", "name", "rows"),
    [
        ("ion", "TD SYNNEX StreamOne Ion", 5),
        ("ingram", "Ingram Micro Cloud Marketplace", 5),
        ("sherweb", "Sherweb", 4),
    ],
)
def test_each_distributors_file_imports_then_changes_nothing(env, source, name, rows):
    path = FILES / f"{source}_handwritten.csv"
    first = invoke("import", str(path), "--source", source)
    assert first.exit_code == 0 and first.stderr == "", first.output
    assert first.stdout.startswith(f"imported {path.name} ({name}): {rows} rows")
    again = invoke("import", str(path), "--source", source)
    assert again.exit_code == 0 and again.stdout.startswith(f"nothing changed: {path.name}")


def test_a_file_given_as_another_source_is_one_line(env):
    result = invoke("import", str(HANDWRITTEN), "--source", "sherweb")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "error: partner_center_handwritten.csv looks like a Partner Center (new commerce) invoice "
        "reconciliation file, not a Sherweb payable charges file (CSV per client)"
    )


def test_a_device_is_said_to_be_no_file_not_empty(env):
    """From a bad-input pass: /dev/zero (no size to stat) read as "zero is empty"."""
    refused = invoke("import", "/dev/zero", "--source", "partner-center")
    assert refused.exit_code == 1
    assert "zero is not a file (a device or a pipe)" in refused.stderr
    assert "empty" not in refused.stderr


def test_bad_usage_exits_2(env, tmp_path):
    assert invoke("import", str(HANDWRITTEN), "--source", "pax8").exit_code == 2
    assert invoke("import", str(tmp_path / "missing.csv"), "--source", "ion").exit_code == 2
    assert invoke("import", str(HANDWRITTEN)).exit_code == 2  # --source is required
    month = invoke("import", str(HANDWRITTEN), "--source", "partner-center", "--month", "2026-13")
    assert month.exit_code == 2 and "is not a month like 2026-11" in month.stderr


def test_a_file_of_another_month_exits_1(env):
    result = invoke("import", str(HANDWRITTEN), "--source", "partner-center", "--month", "2026-08")
    assert result.exit_code == 1
    assert "is the file of 2026-10, not 2026-08" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_import_during_a_sync_exits_1_and_imports_nothing(env):
    with exclusive(lock_path(env / "trueup.sqlite")):
        result = invoke("import", str(HANDWRITTEN), "--source", "partner-center")
    assert result.exit_code == 1 and "nothing was imported" in result.stderr
    assert json.loads(invoke("status", "--json").stdout)["entities"]["pax8_company"] == 0


def test_warnings_go_to_stderr_and_the_import_succeeds(env, tmp_path):
    header, rows = table()
    rows[0]["Subtotal"] = "55.21"
    result = invoke("import", str(write(tmp_path, header, rows)), "--source", "partner-center")
    assert result.exit_code == 0
    assert result.stderr.strip() == (
        "warning: row 2: Subtotal 55.21 is not what Microsoft's rounding gives (55.20); the "
        "file's figure is kept"
    )


def test_the_config_renames_columns_and_keeps_them_when_saved(env, tmp_path):
    header, rows = table()
    header = ["Charge Start" if h == "ChargeStartDate" else h for h in header]
    for row in rows:
        row["Charge Start"] = row.pop("ChargeStartDate")
    path = write(tmp_path, header, rows)
    assert invoke("import", str(path), "--source", "partner-center").exit_code == 1
    config = env / "config.toml"
    config.write_text('[import.partner-center]\ncharge_start = "Charge Start"\n')
    assert invoke("import", str(path), "--source", "partner-center").exit_code == 0
    save_settings(load_settings(config))
    assert load_settings(config).import_columns == {
        "partner-center": {"charge_start": "Charge Start"}
    }
    shown = invoke("config", "show").stdout
    assert '[import.partner-center]\ncharge_start = "Charge Start"' in shown


@pytest.mark.parametrize(
    ("table_text", "said"),
    [
        (
            '[import.partner-center]\nstart = "Start"\n',
            "no field start (the fields are: customer_id",
        ),
        ('[import.ion]\ncharge_start = "Start"\n', "[import.ion]: no field charge_start"),
        ('[import.pax8]\nx = "y"\n', "[import.pax8]: no such source"),
        ("[import.partner-center]\ncharge_start = 3\n", "each key names a column"),
        ("[import]\npartner-center = 1\n", "each key names a column"),
        (  # From a boundary review: imported, Ion's client price was read as the cost too.
            '[import.ion]\nseller_cost = "Customer Cost"\n',
            "[import.ion]: seller_cost and customer_cost would both read the column "
            "'Customer Cost'",
        ),
    ],
)
def test_a_wrong_import_table_is_a_config_error(env, table_text, said):
    (env / "config.toml").write_text(table_text)
    with pytest.raises(ConfigError) as caught:
        load_settings(env / "config.toml")
    assert said in str(caught.value)


SCENARIOS = BUNDLED_DEMO.parent


def test_the_sandbox_writes_the_demos_sample(env, tmp_path):
    out = tmp_path / "pc.csv"
    result = invoke("sandbox", "partner-center", "--out", str(out))
    assert result.exit_code == 0 and out.read_bytes() == GENERATED.read_bytes()
    assert invoke("sandbox", "partner-center", "--seed", "2").stdout != GENERATED.read_text()
    assert invoke("import", str(out), "--source", "partner-center").exit_code == 0


@pytest.mark.parametrize("source", ["ion", "ingram", "sherweb"])
def test_the_sandbox_writes_each_distributors_sample_and_it_imports(env, tmp_path, source):
    out = tmp_path / f"{source}.csv"
    result = invoke("sandbox", source, "--out", str(out))
    bundled = SCENARIOS / f"demo-{source}.csv"
    assert result.exit_code == 0 and out.read_bytes() == bundled.read_bytes()
    assert invoke("sandbox", source, "--seed", "2").stdout != bundled.read_text()
    imported = invoke("import", str(out), "--source", source, "--json")
    assert imported.exit_code == 0, imported.output


def test_status_counts_the_imported_rows_apart(env):
    invoke("import", str(HANDWRITTEN), "--source", "partner-center")
    status = json.loads(invoke("status", "--json").stdout)
    assert status["entities"]["pax8_company"] == 2  # every distributor's, as before
    assert status["imported"]["partner-center"]["pax8_invoice_item"] == 4
    listed = invoke("status").stdout
    assert "Pax8 companies" in listed and "Partner Center invoice items" in listed


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("partner-center", "BillableQuantity"),
        ("ion", "Seat Count"),  # where Ion's seats come from, beside its Quantity
        ("ingram", "CHARGE_QUANTITY"),
        ("sherweb", "quantity"),
    ],
)
def test_a_negative_seat_count_that_costs_money_is_refused(env, tmp_path, source, column):
    # Read as seats taken away, -5 on a recurring row billed the client nothing that month.
    import csv

    bundled = BUNDLED_DEMO.with_name(f"demo-{source}.csv")
    with bundled.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    rows[1][rows[0].index(column)] = "-5"
    edited = tmp_path / f"{source}.csv"
    with edited.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    result = invoke("import", str(edited), "--source", source)
    assert result.exit_code == 1, result.output
    said = result.stderr.splitlines()
    assert "nothing was changed" in said[0]
    assert any(
        line.startswith("  row 2") and "-5 seats on a" in line and "seats are never below 0" in line
        for line in said[1:]
    ), said
    assert json.loads(invoke("status", "--json").stdout)["imported"] == {}


def test_ions_seats_come_from_its_seat_count_so_its_quantity_alone_is_no_seat(env, tmp_path):
    import csv

    with BUNDLED_DEMO.with_name("demo-ion.csv").open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    rows[1][rows[0].index("Quantity")] = "-5"  # Seat Count 20 still bills 20 seats
    edited = tmp_path / "ion.csv"
    with edited.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    result = invoke("import", str(edited), "--source", "ion")
    assert result.exit_code == 0, result.output
