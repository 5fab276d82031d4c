"""Through the product: the demo's Partner Center sample imported beside its Pax8 data. A client
billed from Pax8 and Partner Center gets one invoice, whose Partner Center lines name their
distributor where the Pax8 ones name Pax8."""

from datetime import date

from sqlalchemy import text

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from test_import_partner_center import GENERATED
from trueup.core.batch.build import build_batch
from trueup.core.diff.seats import seat_diff
from trueup.core.service.batches import Batches
from trueup.core.service.imports import Imports
from trueup.core.service.mappings import Mappings

TODAY = date(2026, 11, 21)
HARBOR_POINT = 41  # the Halo client, billed by Pax8 already


def imported_and_mapped(db):
    Imports(db).run(GENERATED, "partner-center")
    with db.read() as conn:
        company = conn.execute(
            text(
                "SELECT id FROM pax8_company WHERE name = 'Harbor Point Wealth Advisors' "
                "AND distributor = 'partner-center'"
            )
        ).scalar_one()
        item = conn.execute(text("SELECT id FROM halo_item WHERE name = 'Project Plan 3'")).scalar()
    mappings = Mappings(db)
    mappings.map_company(company, HARBOR_POINT)
    mappings.map_product("pc:CFQ7TTC0HDCW:0001", item)
    return company


def invoices_of(batch, client_id):
    return [i for i in batch.body["invoices"] if i["client_id"] == client_id]


def test_a_client_billed_from_pax8_and_partner_center_gets_one_invoice(db):
    before = invoices_of(build_batch(db, "2026-10", today=TODAY), HARBOR_POINT)
    assert len(before) == 1
    pax8_lines = [line["subscription_id"] for line in before[0]["lines"]]
    imported_and_mapped(db)
    (invoice,) = invoices_of(build_batch(db, "2026-10", today=TODAY), HARBOR_POINT)
    subscriptions = [line["subscription_id"] for line in invoice["lines"]]
    assert set(pax8_lines) < set(subscriptions)
    direct = [
        line for line in invoice["lines"] if (line["subscription_id"] or "").startswith("pc:")
    ]
    assert sorted(line["description"] for line in direct) == ["Power BI Pro", "Project Plan 3"]
    project = next(line for line in direct if line["description"] == "Project Plan 3")
    assert (project["quantity"], project["amount"], project["cost"]) == (
        "22.0000",
        "792.00",
        "792.00",
    )
    assert "cost 792.00 (Partner Center invoice pc:G311776353, 1 item)" in project["explanation"]
    assert "Partner Center price, Partner Center history" in project["explanation"]
    power_bi = next(line for line in direct if line["description"] == "Power BI Pro")
    messages = {a["code"]: a["message"] for a in power_bi["anomalies"]}
    assert messages["UNMAPPED_SKU"].startswith("Power BI Pro (CFQ7TTC0L3PB:0001) maps to no Halo")
    assert messages["QTY_MISMATCH"].endswith("Partner Center charges 6 seats on 31 Oct")
    # Pax8's lines still say Pax8.
    pax8 = [line for line in invoice["lines"] if line["subscription_id"] in pax8_lines]
    assert all("Partner Center" not in line["explanation"] for line in pax8)
    assert any("Pax8 invoice" in line["explanation"] for line in pax8)


def test_the_next_month_estimates_the_cost_from_partner_centers_seats(db):
    imported_and_mapped(db)
    (invoice,) = invoices_of(build_batch(db, "2026-11", today=TODAY), HARBOR_POINT)
    project = next(line for line in invoice["lines"] if line["description"] == "Project Plan 3")
    estimated = next(a for a in project["anomalies"] if a["code"] == "COST_ESTIMATED")
    assert estimated["message"] == (
        "cost 792.00 USD estimated from Partner Center partner cost: no Partner Center invoice "
        "item for the month yet"
    )


def test_an_import_that_changed_nothing_keeps_the_stored_batch(db):
    imported_and_mapped(db)
    first = build_batch(db, "2026-10", today=TODAY).batch_id
    assert not Imports(db).run(GENERATED, "partner-center").changed
    assert build_batch(db, "2026-10", today=TODAY).batch_id == first


def test_tenants_and_skus_are_suggested_to_what_pax8_already_bills(db):
    Imports(db).run(GENERATED, "partner-center")
    mappings = Mappings(db)
    companies = {
        r.company_name: (r.status, r.client_id, r.score)
        for r in mappings.company_rows()
        if r.company_id.startswith("pc:")
    }
    # One-to-one holds within a distributor: the client Pax8's company holds is still offered.
    assert companies["Harbor Point Wealth Advisors"] == ("suggested", HARBOR_POINT, 99)
    products = {
        r.name: (r.status, r.item_name)
        for r in mappings.product_rows()
        if r.product_id.startswith("pc:")
    }
    assert products["Project Plan 3"] == ("suggested", "Project Plan 3")
    accepted, _ = mappings.accept_suggestions()
    assert {r.company_name for r in accepted} >= set(companies)
    harbor_point = [r for r in mappings.company_rows() if r.client_id == HARBOR_POINT]
    assert sorted((r.company_id[:3] == "pc:", r.status) for r in harbor_point) == [
        (False, "mapped"),
        (True, "mapped"),
    ]


def test_an_unmapped_tenant_is_a_batch_error_naming_partner_center(db):
    Imports(db).run(GENERATED, "partner-center")
    anomalies = build_batch(db, "2026-10", today=TODAY).body["anomalies"]
    unmapped = [a for a in anomalies if a["code"] == "UNMAPPED_CLIENT"]
    assert sorted(a["message"] for a in unmapped if a["company_id"].startswith("pc:"))[0] == (
        "Harbor Point Wealth Advisors has 2 billable Partner Center subscriptions and no Halo "
        "client: map it or ignore it"
    )


def test_the_seat_diff_names_each_rows_distributor(db):
    imported_and_mapped(db)
    rows = [r for r in seat_diff(db, "2026-10", today=TODAY) if r.client_id == HARBOR_POINT]
    by_distributor = {r.distributor for r in rows if r.subscription_id}
    assert by_distributor == {"Pax8", "Partner Center"}
    direct = [r for r in rows if (r.subscription_id or "").startswith("pc:")]
    assert direct and all(r.distributor == "Partner Center" for r in direct)


def test_an_invoice_line_names_its_distributor_for_the_items_behind_its_cost(db):
    imported_and_mapped(db)
    batches = Batches(db, today=TODAY)
    overview = batches.overview(batches.current_id("2026-10"))
    row = next(r for r in overview.invoices if r.client_id == HARBOR_POINT)
    lines = batches.invoice(overview.batch_id, row).lines
    named = {(line.subscription_id or "").startswith("pc:"): line.distributor for line in lines}
    assert named == {True: "Partner Center", False: "Pax8"}
