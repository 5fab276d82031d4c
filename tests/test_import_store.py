"""A Partner Center file written into the store: all or nothing, idempotent, only its own
distributor's rows, never beside a sync; and a Pax8 sync never touches what was imported."""

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from test_import_partner_center import GENERATED, HANDWRITTEN, table, write
from test_sync import TODAY, clients
from trueup.core.batch.stored import batch_inputs
from trueup.core.service.imports import FileRefused, ImportBusyError, Imports
from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.store.logbook import read_log
from trueup.core.sync.lock import exclusive, lock_path
from trueup.core.sync.run import sync_sources
from trueup.core.sync.shrink import check_shrink
from trueup.core.values.months import Month

DEMO = Path(__file__).resolve().parent.parent / "app/trueup/sandbox/scenarios/demo.json"
TABLES = (
    m.Pax8Company,
    m.Pax8Product,
    m.Pax8Subscription,
    m.Pax8SubscriptionSnapshot,
    m.Pax8Invoice,
    m.Pax8InvoiceItem,
)


@pytest.fixture
def store(tmp_path):
    database = open_database(tmp_path / "trueup.sqlite")
    yield database
    database.dispose()


def run(store, path, **options):
    return Imports(store).run(path, "partner-center", **options)


def dump(store):
    """Every row of the distributor tables, by table: what two stores must agree on."""
    found = {}
    with store.read() as conn:
        for model in TABLES:
            table_ = m.table_of(model)
            rows = conn.execute(select(table_).order_by(*table_.primary_key.columns)).all()
            found[table_.name] = [tuple(row) for row in rows]
    return found


def counts(store, distributor):
    with store.read() as conn:
        return {
            model.__tablename__: conn.execute(
                select(func.count())
                .select_from(m.table_of(model))
                .where(m.table_of(model).c.distributor == distributor)
            ).scalar_one()
            for model in (m.Pax8Company, m.Pax8Product, m.Pax8Subscription, m.Pax8InvoiceItem)
        }


async def sync(store, data):
    pax8, halo = clients(data)
    async with pax8, halo:
        results = await sync_sources(store, pax8=pax8, halo=halo, today=TODAY)
    assert all(r.status == "ok" for r in results), [r.error for r in results]
    return {r.source: r for r in results}


def test_the_same_file_twice_changes_nothing(store):
    first = run(store, HANDWRITTEN)
    assert first.changed and first.json()["entities"]["invoice items"]["created"] == 4
    with store.read() as conn:
        batch_id = batch_inputs(conn, "2026-10", None, TODAY, None).batch_id
    before = dump(store)
    again = run(store, HANDWRITTEN)
    assert not again.changed
    assert all(c.created == c.updated == c.deleted == 0 for c in again.counts.values())
    assert dump(store) == before
    with store.read() as conn:  # so the stored batch still stands
        assert batch_inputs(conn, "2026-10", None, TODAY, None).batch_id == batch_id
    log = read_log(store, limit=3)
    assert [(e["source"], e["event"]) for e in log[:2]] == [
        ("import", "Partner Center import: nothing changed"),
        ("import", "Partner Center import"),
    ]
    assert log[1]["details"]["file"] == "partner_center_handwritten.csv"
    assert log[1]["details"]["rows"] == 4


def test_an_import_that_changes_something_names_a_new_batch(store, tmp_path):
    run(store, HANDWRITTEN)
    with store.read() as conn:
        before = batch_inputs(conn, "2026-10", None, TODAY, None)
    header, rows = table()
    rows[0]["BillableQuantity"] = rows[0]["Quantity"] = "11"
    rows[0]["Subtotal"] = "60.72"
    assert run(store, write(tmp_path, header, rows)).changed
    with store.read() as conn:
        after = batch_inputs(conn, "2026-10", None, TODAY, None)
    assert after.batch_id != before.batch_id
    assert set(after.sync_runs) == {"pax8", "halo", "partner-center"}


def test_a_corrected_download_replaces_its_invoice_and_rebuilds_the_subscription(store, tmp_path):
    run(store, HANDWRITTEN)
    header, rows = table()
    del rows[1]  # the add of two seats was a mistake, and Microsoft's corrected file lacks it
    corrected = run(store, write(tmp_path, header, rows))
    assert corrected.json()["entities"]["invoice items"]["deleted"] == 1
    with store.read() as conn:
        subscription = conn.execute(
            text("SELECT quantity FROM pax8_subscription WHERE id LIKE 'pc:6dc5c039750a:%'")
        ).scalar_one()
        history = conn.execute(
            text(
                "SELECT count(*) FROM pax8_subscription_snapshot "
                "WHERE subscription_id LIKE 'pc:6dc%'"
            )
        ).scalar_one()
    assert (subscription, history) == ("10", 1)
    del rows[2]  # and Fabrikam's only charge: its subscription goes, its company stays
    run(store, write(tmp_path, header, rows))
    assert counts(store, "partner-center") == {
        "pax8_company": 2,
        "pax8_product": 2,
        "pax8_subscription": 1,
        "pax8_invoice_item": 2,
    }


def test_a_corrected_download_in_another_currency_rebuilds_the_subscriptions(store, tmp_path):
    """A file downloaded in the wrong currency, then again in the right one: the charges and
    the subscriptions they bill (which the batch prices in their currency) both move."""
    header, rows = table()
    run(store, write(tmp_path, header, rows))
    for row in rows:
        row["Currency"] = row["PricingCurrency"] = "GBP"
    corrected = run(store, write(tmp_path, header, rows))
    with store.read() as conn:
        currencies = conn.execute(
            text("SELECT currency FROM pax8_subscription WHERE distributor = :d"),
            {"d": "partner-center"},
        ).scalars()
        assert list(currencies) == ["GBP", "GBP"]
    assert corrected.json()["entities"]["subscriptions"]["updated"] == 2


def test_two_invoices_build_one_history_whatever_order_they_come_in(tmp_path):
    header, rows = table()
    october = write(tmp_path, header, [rows[0], rows[2], rows[3]], "october.csv")
    rows[1]["InvoiceNumber"] = "G002297999"  # the add, billed on the next invoice
    november = write(tmp_path, header, [rows[1]], "november.csv")
    dumps = []
    for order in ((october, november), (november, october)):
        database = open_database(tmp_path / f"{order[0].stem}-first.sqlite")
        for path in order:
            run(database, path)
        dumps.append(dump(database))
        database.dispose()
    assert dumps[0] == dumps[1]
    history = [r for r in dumps[0]["pax8_subscription_snapshot"] if r[0].startswith("pc:6dc")]
    assert [(position, quantity) for _, position, quantity, *_ in history] == [(0, 12), (1, 10)]


async def test_a_pax8_sync_after_an_import_keeps_the_imported_records(store):
    demo = json.loads(DEMO.read_text())
    await sync(store, demo)
    pax8 = counts(store, "pax8")
    run(store, GENERATED)
    imported = counts(store, "partner-center")
    assert imported == {
        "pax8_company": 4,
        "pax8_product": 6,
        "pax8_subscription": 7,
        "pax8_invoice_item": 10,
    }
    results = await sync(store, demo)
    # Pax8's companies and subscriptions are replaced wholesale: the imported ones stay.
    assert results["pax8"].counts["pax8_company"].deleted == 0
    assert results["pax8"].counts["pax8_subscription"].deleted == 0
    assert counts(store, "partner-center") == imported and counts(store, "pax8") == pax8
    shrunk = copy.deepcopy(demo)  # Pax8 drops a tenth: what it dropped goes, the rest stays
    gone = shrunk["pax8"]["subscriptions"][: len(shrunk["pax8"]["subscriptions"]) // 10]
    del shrunk["pax8"]["subscriptions"][: len(gone)]
    shrunk["pax8"]["subscription_history"] = {}
    results = await sync(store, shrunk)
    assert results["pax8"].counts["pax8_subscription"].deleted == len(gone)
    assert counts(store, "partner-center") == imported


async def test_a_reimport_keeps_pax8s_records(store, tmp_path):
    await sync(store, json.loads(DEMO.read_text()))
    pax8 = dump(store)
    run(store, GENERATED)
    header, rows = table(GENERATED)
    write(tmp_path, header, rows[1:], "corrected.csv")
    assert run(store, tmp_path / "corrected.csv").changed
    after = dump(store)
    for name, rows_before in pax8.items():
        assert [r for r in after[name] if not str(r[0]).startswith("pc:")] == rows_before, name


def test_the_shrink_guard_counts_pax8s_rows_alone(store, tmp_path):
    header, rows = table()
    many = [
        {**rows[0], "CustomerId": f"00000000-0000-4000-8000-{n:012d}", "OrderId": f"o{n}"}
        for n in range(20)
    ]
    run(store, write(tmp_path, header, many))
    # 20 companies stored, none of them Pax8's: a Pax8 answer with none is no shrink.
    check_shrink(store, "pax8", {"pax8_company": 0, "pax8_subscription": 0}, 50)


def test_an_import_never_runs_beside_a_sync(store):
    with exclusive(lock_path(store.path)), pytest.raises(ImportBusyError) as caught:
        run(store, HANDWRITTEN)
    assert "syncing or importing into" in str(caught.value)
    assert counts(store, "partner-center")["pax8_company"] == 0


def test_a_refused_file_changes_nothing_and_the_log_says_why(store, tmp_path):
    header, rows = table()
    rows[2]["ChargeStartDate"] = "yesterday"
    with pytest.raises(FileRefused):
        run(store, write(tmp_path, header, rows))
    assert counts(store, "partner-center")["pax8_company"] == 0
    entry = read_log(store, limit=1)[0]
    assert (entry["level"], entry["source"], entry["event"]) == (
        "ERROR",
        "import",
        "Partner Center import refused",
    )
    assert entry["details"]["problems"] == 1


def test_a_file_of_another_month_is_refused_when_the_month_is_given(store):
    with pytest.raises(FileRefused) as caught:
        run(store, HANDWRITTEN, month=Month("2026-12"))
    assert str(caught.value).startswith(
        "partner_center_handwritten.csv is the file of 2026-10, not 2026-12 (most of its charges "
        "start in 2026-10; they run 2026-09-01 to 2026-11-04)"
    )
    assert run(store, HANDWRITTEN, month=Month("2026-10")).months == ["2026-09", "2026-10"]


SAMPLES = Path(__file__).resolve().parent / "files"
OCTOBERS = [
    ("partner-center", SAMPLES / "partner_center_handwritten.csv"),
    ("ion", SAMPLES / "ion_handwritten.csv"),
    ("ingram", SAMPLES / "ingram_handwritten.csv"),
    ("sherweb", SAMPLES / "sherweb_handwritten.csv"),
]


@pytest.mark.parametrize(("source", "path"), OCTOBERS, ids=[s for s, _ in OCTOBERS])
def test_a_file_is_of_the_month_most_of_its_charges_start_in(store, source, path):
    """From review: `--month 2026-11` took October's Partner Center file, its cycles running
    to mid-November, as any charge touching the month passed. Each sample is October's (most
    charges start then): refused for November and for September (a charge carried from it),
    nothing written, and taken for October."""
    for wrong in ("2026-11", "2026-09"):
        with pytest.raises(FileRefused, match=f"is the file of 2026-10, not {wrong}"):
            Imports(store).run(path, source, month=Month(wrong))
        assert not any(counts(store, source).values())
    assert Imports(store).run(path, source, month=Month("2026-10")).changed


def test_the_imported_rows_read_back_as_the_raw_file_cells(store):
    run(store, HANDWRITTEN)
    with store.read() as conn:
        raw = conn.execute(
            text("SELECT raw FROM pax8_invoice_item WHERE subtotal = '11.00'")
        ).scalar_one()
    cells = json.loads(raw)  # as written in the file, by our field names
    assert (cells["customer_name"], cells["exchange_rate"]) == ("Fabrikam, Inc.", "0.9213")
    assert cells["charge_start"] == "2026-09-01T00:00:00Z"


def test_a_file_holding_no_charge_is_no_file_of_the_month():
    """`--month` read the month off the file's charges: with none it stopped on max() of
    nothing, a traceback, where a refusal is due."""
    from trueup.core.service.imports import _check_month
    from trueup.core.sources.files.shapes import FileRecords
    from trueup.core.values.months import Month

    empty = FileRecords("ingram", 0, [], [], [], [], [], {})
    with pytest.raises(FileRefused, match="holds no charge, so none of 2026-11"):
        _check_month(empty, Month("2026-11"), "ingram.csv")
