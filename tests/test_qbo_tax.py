"""Issue 17 item 3: tax and currency at a QuickBooks company, in the US and outside it.

The simulator: a Canadian company refuses a sales line without a tax code (6000, in QuickBooks'
words) and computes the tax from each line's code; a US one takes only TAX or NON (6100); a sale
not in its customer's currency (multicurrency) or not in the home currency (without it) is
refused. trueup: `trueup qbo refresh` reads the company, its tax codes and each customer's default
code; each billed client is offered its customer's default and posts with it on every line;
posting refuses, before anything is sent, an invoice with no code or in another currency.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from qbo_fixtures import CANADA, CANADIAN_CUSTOMERS, qbo_app, qbo_client
from test_qbo_mapping import Store
from test_sink_qbo import document
from trueup.cli import app, render
from trueup.core.mapping.books import tax_codes as tc
from trueup.core.mapping.books.engine import BookMappingError
from trueup.core.mapping.books.tax_code_file import export_tax_codes, import_tax_codes
from trueup.core.mapping.file import MappingImportError
from trueup.core.posting.documents import load_catalog, missing_targets
from trueup.core.posting.qbo import QboSink, invoice_body
from trueup.core.posting.sink import Posted, Refused
from trueup.core.store import tables as m
from trueup.core.sync.books_catalog import refresh_qbo_catalog

US_SINGLE_CURRENCY = {
    "company": {"Country": "US", "HomeCurrency": "USD", "MultiCurrencyEnabled": False}
}


def canada():
    return qbo_app(customers=CANADIAN_CUSTOMERS, company=CANADA)


async def post(app, doc) -> Posted | Refused:
    async with qbo_client(app) as client:
        [outcome] = await QboSink(client).create([doc])
    return outcome


# --- the simulator, through trueup's sink ---------------------------------------------------


async def test_a_canadian_company_refuses_a_line_without_a_tax_code():
    outcome = await post(canada(), document(currency="CAD"))
    assert isinstance(outcome, Refused)
    assert "Make sure all your transactions have a GST/HST rate before you save" in outcome.reason


async def test_with_the_clients_code_on_every_line_quickbooks_computes_the_tax():
    doc = document(currency="CAD", qbo_tax_code="5")
    body = invoice_body(doc)
    assert body["GlobalTaxCalculation"] == "TaxExcluded"
    assert {li["SalesItemLineDetail"]["TaxCodeRef"]["value"] for li in body["Line"]} == {"5"}
    app = canada()
    posted = await post(app, doc)
    assert isinstance(posted, Posted)
    async with qbo_client(app) as client:
        [invoice] = await client.invoices_by_doc_number([doc.reference])
    # 13% HST on 1,350.00 of lines
    assert invoice["TxnTaxDetail"]["TotalTax"] == Decimal("175.5")
    assert invoice["TotalAmt"] == Decimal("1525.5")
    assert invoice["CurrencyRef"] == {"value": "CAD"}


async def test_a_us_company_takes_only_tax_or_non_on_a_line():
    refused = await post(qbo_app(), document(qbo_tax_code="5"))
    assert isinstance(refused, Refused)
    assert "Valid line TaxCodes for US should be TAX or NON. Supplied value: 5" in refused.reason
    assert isinstance(await post(qbo_app(), document(qbo_tax_code="TAX")), Posted)


async def test_a_sale_in_another_currency_than_the_customers_is_refused():
    refused = await post(canada(), document(currency="USD", qbo_tax_code="5"))  # 58 is in CAD
    assert isinstance(refused, Refused) and "customer 58 is in CAD" in refused.reason
    single = qbo_app(company=US_SINGLE_CURRENCY)
    refused = await post(single, document(currency="EUR"))
    assert isinstance(refused, Refused) and "multicurrency is off" in refused.reason
    assert isinstance(await post(single, document()), Posted)


async def test_company_info_and_preferences_are_served():
    async with qbo_client(canada()) as client:
        company = await client.company()
        codes = await client.tax_codes()
    assert company["CompanyInfo"]["Country"] == "CA"
    prefs = company["Preferences"]["CurrencyPrefs"]
    assert prefs == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "CAD"}}
    assert sorted(code["Id"] for code in codes) == ["3", "5", "9"]  # inactive ones too


# --- trueup: the catalogue, the mapping, the refusal before sending ---------------------------


@pytest.fixture
def store(tmp_path):
    built = Store(tmp_path / "trueup.sqlite")
    yield built
    built.db.dispose()


async def canadian_store(store: Store) -> Store:
    """Billed clients 7 (-> customer 58, HST ON), 8 (-> 59, GST, USD), 9 (-> 62, no default)
    and 10 (no customer), with QuickBooks' Canadian catalogue refreshed."""
    async with qbo_client(canada()) as client:
        counts = await refresh_qbo_catalog(store.db, client)
    assert counts == {"customers": 3, "items": 3, "tax_codes": 3}
    for client_id, name in ((7, "Acme Dental"), (8, "Beta Logistics"), (9, "Delta"), (10, "Eta")):
        store.client(client_id, name)
    for client_id, customer in ((7, "58"), (8, "59"), (9, "62")):
        store.add(
            m.QboCustomerMapping,
            client_id=client_id,
            customer_id=customer,
            created_at=datetime.now(UTC),
            created_by="test",
        )
    return store


async def test_refresh_reads_the_company_its_codes_and_each_customers_default(store):
    await canadian_store(store)
    with store.db.read() as conn:
        facts = tc.company_facts(conn)
        defaults = dict(conn.execute(select(m.QboCustomer.id, m.QboCustomer.tax_code)).all())
        company_raw = json.loads(conn.execute(select(m.QboCompany.raw)).scalar_one())
    assert facts == tc.QboCompanyFacts("CA", "CAD", True, True) and facts.needs_tax_codes
    assert defaults == {"58": "5", "59": "3", "62": None}
    assert company_raw["CompanyInfo"]["Country"] == "CA"


async def test_each_client_is_offered_its_customers_default_code_and_accept_takes_them(store):
    await canadian_store(store)
    rows = {r.client_id: r for r in tc.tax_code_rows(store.db)}
    assert (rows[7].status, rows[7].tax_code_id, rows[7].tax_code_name) == ("suggested", "5",
                                                                             "HST ON")  # fmt: skip
    assert rows[7].reason == "the default tax code of QuickBooks customer 58"
    assert (rows[8].status, rows[8].tax_code_id) == ("suggested", "3")
    assert (rows[9].status, rows[9].reason) == (
        "unmapped",
        "its QuickBooks customer has no active default tax code",
    )
    assert (rows[10].status, rows[10].reason) == ("unmapped", "no QuickBooks customer yet")
    assert [r.client_id for r in tc.accept_tax_codes(store.db)] == [7, 8]
    with store.db.read() as conn:
        assert tc.live_tax_codes(conn) == {7: "5", 8: "3"}
    mapped = {r.client_id: r.status for r in tc.tax_code_rows(store.db)}
    assert mapped == {7: "mapped", 8: "mapped", 9: "unmapped", 10: "unmapped"}


async def test_set_by_hand_refuses_unknown_or_inactive_codes_and_a_retired_code_goes_stale(store):
    await canadian_store(store)
    with pytest.raises(BookMappingError, match="unknown QuickBooks tax code 77"):
        tc.set_tax_code(store.db, 9, "77")
    with pytest.raises(BookMappingError, match=r"tax code 9 \(PST BC \(retired\)\) is inactive"):
        tc.set_tax_code(store.db, 9, "9")
    with pytest.raises(BookMappingError, match="unknown Halo client 404"):
        tc.set_tax_code(store.db, 404, "5")
    said = tc.set_tax_code(store.db, 9, "5")
    assert said == "mapped Halo client 9 (Delta) to QuickBooks tax code 5 (HST ON)"
    with store.db.write() as conn:  # the accountant retires HST ON in QuickBooks
        conn.execute(update(m.table_of(m.QboTaxCode)).where(m.QboTaxCode.id == "5").values(
            active=False))  # fmt: skip
    row = next(r for r in tc.tax_code_rows(store.db) if r.client_id == 9)
    assert (row.status, row.reason) == ("stale", "QuickBooks tax code 5 is inactive: map it again")
    with store.db.read() as conn:
        assert 9 not in tc.live_tax_codes(conn)
    assert tc.unset_tax_code(store.db, 9) and not tc.unset_tax_code(store.db, 9)


async def test_posting_refuses_before_sending_a_missing_code_or_another_currency(store):
    await canadian_store(store)
    tc.accept_tax_codes(store.db)
    with store.db.read() as conn:
        catalog = load_catalog(conn)

    def problems(client_id: int, customer: str, currency: str) -> list[str]:
        doc = document(
            lines=document().lines[:1],  # the line with a QuickBooks item
            client_id=client_id,
            qbo_customer_id=customer,
            currency=currency,
            qbo_tax_code=catalog.qbo_tax_codes.get(client_id),
        )
        return missing_targets(doc, "qbo", catalog)

    assert problems(7, "58", "CAD") == []
    assert problems(9, "62", "CAD") == [
        "no QuickBooks tax code (a company in CA needs one on every line): run "
        "`trueup qbo tax suggest`"
    ]
    [currency] = problems(8, "59", "CAD")
    assert currency.startswith("the invoice is in CAD and QuickBooks customer 59 is in USD")
    with store.db.write() as conn:  # the books move to a US company: codes are not sent
        conn.execute(update(m.table_of(m.QboCompany)).values(country="US"))
        assert load_catalog(conn).qbo_tax_codes == {}


async def test_a_us_company_needs_no_tax_code_and_a_single_currency_one_bills_only_its_own(store):
    async with qbo_client(qbo_app(company=US_SINGLE_CURRENCY)) as client:
        await refresh_qbo_catalog(store.db, client)
    store.client(7, "Acme Dental")
    assert tc.tax_code_rows(store.db) == []
    with store.db.read() as conn:
        catalog = load_catalog(conn)
    mapped = document(client_id=7, lines=document().lines[:1])
    assert missing_targets(mapped, "qbo", catalog) == []
    [problem] = missing_targets(replace(mapped, currency="EUR"), "qbo", catalog)
    assert "bills only in USD (multicurrency is off)" in problem
    # Custom transaction numbers off: QuickBooks numbers the invoice itself, so a lost answer
    # could not be looked up by our DocNumber and the invoice might be created twice.
    with store.db.write() as conn:
        conn.exec_driver_sql(
            "UPDATE qbo_company SET raw = "
            "json_set(raw, '$.Preferences.SalesFormsPrefs.CustomTxnNumbers', json('false'))"
        )
        catalog = load_catalog(conn)
    [numbers] = missing_targets(mapped, "qbo", catalog)
    assert numbers.startswith(
        f"the QuickBooks company numbers invoices itself (custom transaction numbers are off), "
        f"so {mapped.reference} could not be found by its number after a lost answer"
    )


async def test_the_cli_suggests_accepts_and_sets_tax_codes(store, tmp_path, monkeypatch):
    await canadian_store(store)
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setattr(render.stdout, "_width", 200)
    runner = CliRunner()
    shown = runner.invoke(app, ["qbo", "tax", "suggest", "--json"])
    assert shown.exit_code == 0, shown.output
    by_client = {r["client_id"]: r for r in json.loads(shown.stdout)["tax_codes"]}
    assert by_client[7]["tax_code_id"] == "5" and by_client[10]["status"] == "unmapped"
    accepted = runner.invoke(app, ["qbo", "tax", "accept"])
    assert accepted.exit_code == 0 and "accepted 2 tax codes" in accepted.stderr
    refused = runner.invoke(app, ["qbo", "tax", "set", "--client", "9", "--tax-code", "9"])
    assert refused.exit_code == 1 and "is inactive" in refused.stderr
    assert runner.invoke(app, ["qbo", "tax", "set", "--client", "9"]).exit_code == 2
    listed = runner.invoke(app, ["qbo", "tax", "codes"])
    assert "HST ON" in listed.stdout and "inactive" in listed.stdout
    exported = runner.invoke(app, ["qbo", "tax", "export", str(tmp_path / "tax.toml")])
    assert exported.exit_code == 0 and "wrote 2 tax codes" in exported.stderr
    # `-` is stdout, as for `rules export -` (it wrote a file named `-`: a boundary review).
    monkeypatch.chdir(tmp_path)
    shown = runner.invoke(app, ["qbo", "tax", "export", "-"])
    assert shown.exit_code == 0 and not (tmp_path / "-").exists()
    assert shown.stdout == (tmp_path / "tax.toml").read_text(encoding="utf-8")
    (tmp_path / "bad.toml").write_text('[[tax_codes]]\nclient_id = 404\ntax_code_id = "5"\n')
    refused = runner.invoke(app, ["qbo", "tax", "import", str(tmp_path / "bad.toml")])
    assert refused.exit_code == 1 and "no Halo client 404" in refused.stderr


async def test_tax_codes_go_to_a_file_and_back_all_or_nothing(store, tmp_path):
    await canadian_store(store)
    tc.accept_tax_codes(store.db)
    toml = tmp_path / "tax.toml"
    assert export_tax_codes(store.db, toml) == 2
    text = toml.read_text()
    assert '[[tax_codes]]\nclient_id = 7\nclient = "Acme Dental"\ntax_code_id = "5"' in text
    assert export_tax_codes(store.db, tmp_path / "tax.json") == 2
    tc.unset_tax_code(store.db, 7)
    toml.write_text(text + '\n[[tax_codes]]\nclient_id = 9\ntax_code_id = "3"\n')
    assert import_tax_codes(store.db, toml) == 3
    with store.db.read() as conn:
        assert tc.live_tax_codes(conn) == {7: "5", 8: "3", 9: "3"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tax_codes]]\nclient_id = 10\ntax_code_id = "9"\n'
                   '[[tax_codes]]\nclient_id = 404\ntax_code_id = "5"\n'
                   '[[tax_codes]]\nclient_id = "7"\n')  # fmt: skip
    with pytest.raises(MappingImportError) as refused:
        import_tax_codes(store.db, bad)
    assert refused.value.problems == [
        "tax_codes #1: QuickBooks tax code 9 is inactive",
        "tax_codes #2: no Halo client 404",
        "tax_codes #3: needs client_id (a number) and tax_code_id (text)",
    ]
    with store.db.read() as conn:
        assert 10 not in tc.live_tax_codes(conn)  # nothing written


async def test_a_client_listed_twice_refuses_the_tax_file(store, tmp_path):
    """Two codes for one client (a merge that kept both sides): the last one was set and the
    import said '2 tax codes set', a client's every line taxed by whichever came last."""
    await canadian_store(store)
    twice = tmp_path / "twice.toml"
    twice.write_text('[[tax_codes]]\nclient_id = 7\ntax_code_id = "5"\n'
                     '[[tax_codes]]\nclient_id = 8\ntax_code_id = "3"\n'
                     '[[tax_codes]]\nclient_id = 7\ntax_code_id = "3"\n')  # fmt: skip
    with pytest.raises(MappingImportError) as refused:
        import_tax_codes(store.db, twice)
    assert refused.value.problems == ["tax_codes #3: Halo client 7 is listed twice (also #1)"]
    with store.db.read() as conn:
        assert tc.live_tax_codes(conn) == {}  # nothing written
