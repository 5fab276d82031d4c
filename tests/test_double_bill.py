"""Issue 22, "an override can bill a client twice": a subscription with no Halo item and a
manual Halo line that look like the same service are flagged POSSIBLE_DOUBLE_BILL, by the
mapping engine's evidence (docs/billing-decisions.md), so letting UNMAPPED_SKU through is not
enough to bill both.

The demo's Bluebird Dermatology pays Pax8 for 8 seats of Duo Essentials (unmapped) and Halo
bills it 8 × 2.70 as "Duo MFA", the item `trueup unmapped` suggests below the threshold.
"""

from dataclasses import replace
from datetime import date

from billing_builders import D, bill, client, codes, manual, snap, sub
from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.alike import look_alikes
from trueup.core.batch.approval import approve
from trueup.core.batch.build import build_batch
from trueup.core.billing.facts import LookAlike
from trueup.core.mapping.engine import map_product, product_rows
from trueup.core.mapping.rows import best_item_candidates

TODAY = date(2026, 11, 21)
DUO_MFA = 1093  # the demo's Halo item


def one(db, sql, *args):
    with db.read() as conn:
        return conn.exec_driver_sql(sql, args).one()[0]


def bluebird(db):
    client_id = one(db, "SELECT id FROM halo_client WHERE name = 'Bluebird Dermatology (Billing)'")
    batch = build_batch(db, "2026-11", clients=[client_id], today=TODAY, by="test")
    (invoice,) = batch.body["invoices"]
    return client_id, batch.batch_id, invoice


def lines_named(invoice, name):
    return [line for line in invoice["lines"] if line["description"] == name]


def test_the_mapping_engine_gives_the_suggestion_trueup_unmapped_shows(db):
    rows = product_rows(db)
    (row,) = [r for r in rows if r.name == "Duo Essentials"]
    with db.read() as conn:
        best = best_item_candidates(conn, [row.product_id])
    assert best == {row.product_id: row.candidates[0]}
    assert (row.candidates[0].item_id, row.candidates[0].score) == (DUO_MFA, 84)
    assert row.reason == f"below 90: {row.candidates[0].reason}"
    # Reading only the licences of the products asked about changes no candidate.
    shown = {r.product_id: r.candidates[0] for r in rows if r.status != "mapped" and r.candidates}
    with db.read() as conn:
        assert best_item_candidates(conn, {r.product_id for r in rows}) == shown


def test_bluebird_duo_essentials_and_the_duo_mfa_line_are_flagged(db):
    _, _, invoice = bluebird(db)
    (duo,) = lines_named(invoice, "Duo Essentials")
    (halo,) = lines_named(invoice, "Duo MFA")
    assert (duo["amount"], halo["kind"], halo["amount"]) == ("24.00", "manual", "21.60")
    (flag,) = [a for a in duo["anomalies"] if a["code"] == "POSSIBLE_DOUBLE_BILL"]
    assert flag["severity"] == "error"
    message = flag["message"]
    assert message.startswith("Duo Essentials (8 × 3.00) has no Halo item, and Halo line ")
    assert '"Duo MFA" bills 8 × 2.70, likely the same service' in message
    assert '"Duo MFA", is the best Halo match for Duo Essentials (84: seats match on 8 of 9 ' in (
        message
    )
    assert message.endswith(
        f"Letting UNMAPPED_SKU through bills both: map Duo Essentials to Halo item {DUO_MFA}, "
        "or keep only one of the two lines"
    )
    assert "POSSIBLE_DOUBLE_BILL" in {a["code"] for a in invoice["anomalies"]}


def test_letting_unmapped_sku_through_no_longer_bills_both(db):
    client_id, batch_id, invoice = bluebird(db)
    errors = {a["code"] for a in invoice["anomalies"] if a["severity"] == "error"}
    assert errors == {"UNMAPPED_SKU", "POSSIBLE_DOUBLE_BILL"}
    first = approve(db, batch_id, [client_id], overrides=[("UNMAPPED_SKU", "new product")])
    assert first.approved == [] and "POSSIBLE_DOUBLE_BILL" in first.skipped[0].reason
    both = [("POSSIBLE_DOUBLE_BILL", "Duo MFA is the phone licence, not Duo Essentials")]
    assert approve(db, batch_id, [client_id], overrides=both).approved == [client_id]


def test_mapping_the_product_to_the_suggested_item_bills_it_once(db):
    product_id = one(db, "SELECT id FROM pax8_product WHERE name = 'Duo Essentials'")
    map_product(db, product_id, DUO_MFA)
    _, _, invoice = bluebird(db)
    assert lines_named(invoice, "Duo MFA") == []  # the Halo line is the subscription's now
    (duo,) = lines_named(invoice, "Duo Essentials")
    assert duo["amount"] == "24.00" and duo["anomalies"] == []


def test_a_free_text_line_alike_by_name_and_seats(db):
    """No item to go by: the mapping engine's fuzzy name search, and the same seats."""
    backup = sub(
        snap("2026-10-01", 12, "4.00"),
        sid="s-backup",
        item_id=None,
        product_id="not-in-pax8",
        name="Acme Cloud Backup Pro",
    )
    alike = manual("ACME Cloud-Backup Pro", "12", "3.50", line_id=501)
    other_seats = manual("ACME Cloud-Backup Pro", "11", "3.50", line_id=502)
    unlike = manual("Managed services", "12", "80.00", line_id=503)
    with db.read() as conn:
        found = look_alikes(conn, {7: [backup]}, {7: [alike, other_seats, unlike]}, TODAY)
    (look,) = found[7]
    assert (look.subscription_id, look.line_id) == ("s-backup", 501)
    assert look.evidence.startswith("the names are alike, fuzzy ")
    assert look.evidence.endswith(", and both bill 12 seats")


def test_a_mapped_store_does_not_read_the_mapping_engine():
    """No unmapped subscription on a client with manual lines: nothing to look at."""
    mapped = sub(snap("2026-10-01", 3))
    assert look_alikes(None, {7: [mapped]}, {7: [manual("Labour", "1", "90")]}, TODAY) == {}


# --- the engine -----------------------------------------------------------------------------


def facts_with(subscription, *lines, evidence="names alike"):
    looks = tuple(LookAlike(subscription.subscription_id, line.line_id, evidence) for line in lines)
    return replace(client(subscription, manual_lines=lines), look_alikes=looks)


def test_the_engine_flags_an_unmapped_line_and_its_look_alike():
    unmapped = sub(snap("2025-05-01", 8, "3.00"), item_id=None, name="Duo Essentials")
    line = replace(manual("Duo MFA", "8", "2.70", line_id=77), item_id=1093)
    invoice = bill(facts_with(unmapped, line), "2025-06")
    duo = next(li for li in invoice.lines if li.kind == "subscription")
    assert {"UNMAPPED_SKU", "POSSIBLE_DOUBLE_BILL"} <= codes(duo)
    assert invoice.subtotal == D("45.60")  # both still counted, as UNMAPPED_SKU lines are
    (flag,) = [a for a in duo.anomalies if a.code == "POSSIBLE_DOUBLE_BILL"]
    assert "line 77" in flag.message and "likely the same service: names alike." in flag.message
    assert "map Duo Essentials to Halo item 1093, or keep" in flag.message


def test_a_free_text_look_alike_is_not_offered_as_an_item_to_map():
    unmapped = sub(snap("2025-05-01", 8, "3.00"), item_id=None, name="Duo Essentials")
    invoice = bill(facts_with(unmapped, manual("Duo", "8", "2.70")), "2025-06")
    (flag,) = [a for line in invoice.lines for a in line.anomalies if a.code.startswith("POSS")]
    assert flag.message.endswith(
        "Letting UNMAPPED_SKU through bills both: keep only one of the two lines"
    )


def test_no_double_bill_without_an_unmapped_line_or_without_two_charges():
    mapped = sub(snap("2025-05-01", 8, "3.00"))
    free = sub(snap("2025-05-01", 8, "0"), item_id=None)
    unmapped = sub(snap("2025-05-01", 8, "3.00"), item_id=None)
    for facts in (
        facts_with(mapped, manual("Duo", "8", "2.70")),  # mapped: no error to let through
        facts_with(free, manual("Duo", "8", "2.70")),  # Pax8's line bills nothing
        facts_with(unmapped, manual("Duo", "8", "0")),  # the Halo line bills nothing
    ):
        invoice = bill(facts, "2025-06")
        assert "POSSIBLE_DOUBLE_BILL" not in codes(invoice)
