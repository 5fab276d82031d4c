"""The QuickBooks mapping: suggestions for Halo clients and items (pure), then the store: rows,
set/unset, accept, the poster's lookup and what it lacks, and the bundled demo."""

import json
import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update

from test_mapping_synced import sync_into
from trueup.cli.syncing import BUNDLED_DEMO
from trueup.core.mapping import engine as mp
from trueup.core.mapping.books import engine as qm
from trueup.core.mapping.books.match import (
    CUSTOMER_NAMES,
    ITEM_NAMES,
    BookTarget,
    HaloSource,
    suggest,
)
from trueup.core.store import tables as m
from trueup.core.store.database import open_database

# --- suggestions, pure ------------------------------------------------------------------------


def client(halo_id, name, accounts_id=None):
    links = (("Id", accounts_id, f"Halo accounts id {accounts_id}"),) if accounts_id else ()
    return HaloSource(halo_id, name, links)


def customer(qbo_id, name, company=None, unusable=""):
    names = (("DisplayName", name),) + ((("QuickBooks CompanyName", company),) if company else ())
    return BookTarget(qbo_id, names, (("Id", qbo_id),), unusable)


def customers_for(sources, targets, taken=(), threshold=90):
    return suggest(sources, targets, set(taken), CUSTOMER_NAMES, threshold)


def test_an_accounts_id_links_exactly_whatever_the_names():
    found = customers_for([client(12, "Acme Dental", "5")], [customer("5", "ACD Holdings")])[12]
    assert found.offered == qm.BookCandidate("5", "ACD Holdings", 100, "Halo accounts id 5")
    # An exact link is offered at any threshold; a name at 100 never is.
    assert customers_for([client(12, "X", "5")], [customer("5", "Y")], threshold=100)[12].offered
    same_name = customers_for([client(12, "Acme")], [customer("5", "Acme")], threshold=100)[12]
    assert same_name.offered is None and same_name.candidates[0].score == 99


def test_normalised_names_explain_what_they_forgave():
    targets = [customer("1", "Bear Creek Winery LLC"), customer("2", "Harbor Light Food Bank")]
    found = customers_for(
        [client(14, "Bear Creek Winery"), client(17, "Harbor Light Food Bank")], targets
    )
    assert (found[14].offered.id, found[14].offered.score) == ("1", 98)
    assert found[14].offered.reason == "same name without 'LLC'"
    assert (found[17].offered.score, found[17].offered.reason) == (99, "same name")


def test_company_name_matches_and_says_which_field():
    targets = [customer("7", "BCW (billing)", company="Bear Creek Winery LLC")]
    offered = customers_for([client(14, "Bear Creek Winery")], targets)[14].offered
    assert (offered.id, offered.name, offered.score) == ("7", "BCW (billing)", 98)
    assert offered.reason == "same name without 'LLC' (QuickBooks CompanyName)"


def test_fuzzy_names_carry_their_score_and_kind_and_meet_the_threshold():
    typo = customers_for(
        [client(1, "Harbour Light Food Bank")], [customer("3", "Harbor Light Food Bank")]
    )
    best = typo[1].candidates[0]
    assert 90 <= best.score <= 97 and best.reason == f"fuzzy {best.score} (spelling)"
    assert typo[1].offered == best
    extra = customers_for([client(2, "Cedar Hollow")], [customer("4", "Cedar Hollow Realty Group")])
    best = extra[2].candidates[0]
    assert best.reason == f"fuzzy {best.score} (extra words)"
    strict = customers_for(
        [client(1, "Harbour Light Food Bank")],
        [customer("3", "Harbor Light Food Bank")],
        threshold=best.score + 20,
    )
    assert strict[1].offered is None and strict[1].candidates


def test_one_to_one_the_stronger_claim_wins_and_ties_go_to_neither():
    target = [customer("1", "Foothills Eye Care")]
    found = customers_for(
        [client(1, "Foothills Eye Care"), client(2, "Foothills Eye Care LLC")], target
    )
    assert found[1].offered.id == "1"
    assert found[2].offered is None
    assert found[2].held_back == "'Foothills Eye Care' is suggested for 'Foothills Eye Care'"

    rivals = customers_for([client(1, "Acme Inc"), client(2, "Acme LLC")], [customer("1", "Acme")])
    assert rivals[1].offered is None and rivals[2].offered is None
    assert "fits" in rivals[1].held_back and "as well" in rivals[1].held_back

    alike = customers_for(
        [client(1, "Acme")], [customer("1", "Acme Inc"), customer("2", "Acme LLC")]
    )
    assert alike[1].offered is None
    assert alike[1].held_back == "'Acme Inc' and 'Acme LLC' score 98 alike: choose one"


def test_inactive_or_taken_customers_are_never_candidates():
    targets = [customer("1", "Acme", unusable="is inactive"), customer("2", "Bear")]
    found = customers_for(
        [client(1, "Acme", accounts_id="1"), client(2, "Bear")], targets, taken={"2"}
    )
    assert found[1].candidates == () and found[1].offered is None
    assert found[2].candidates == ()


def item(halo_id, name, **codes):
    labels = {
        "supplier_part_code": "supplier part code",
        "internal_reference": "internal reference",
    }
    links = tuple(("Sku", code, f"Sku match ({labels[k]})") for k, code in codes.items())
    return HaloSource(halo_id, name, links)


def qbo_item(qbo_id, name, sku=None, unusable=""):
    links = (("Id", qbo_id),) + ((("Sku", sku),) if sku else ())
    return BookTarget(qbo_id, (("Name", name),), links, unusable)


def test_items_match_a_sku_exactly_then_names_with_catalogue_abbreviations():
    sources = [
        item(1004, "Business Standard seat", supplier_part_code="mst-365-bus-std"),
        item(1007, "M365 Business Premium"),
    ]
    targets = [
        qbo_item("2", "Standard", sku="MST-365-BUS-STD"),
        qbo_item("3", "Microsoft 365 Business Premium"),
        qbo_item("4", "M365 Business Premium", unusable="is a category"),
    ]
    found = suggest(sources, targets, set(), ITEM_NAMES, 90)
    assert found[1004].offered == qm.BookCandidate(
        "2", "Standard", 100, "Sku match (supplier part code)"
    )
    premium = found[1007].offered
    assert (premium.id, premium.score) == ("3", 98)
    assert premium.reason == "same name apart from 'M365' read as 'microsoft 365'"
    assert [c.id for c in found[1007].candidates] == ["3"]  # the category never is


# --- the store --------------------------------------------------------------------------------


class Store:
    """Halo, billing and QuickBooks rows written straight into the tables."""

    def __init__(self, path):
        self.db = open_database(path)

    def add(self, model, **values):
        with self.db.write() as conn:
            conn.execute(insert(m.table_of(model)).values(**values))
        return self

    def client(self, client_id, name, accounts_id=None, billed=True):
        self.add(m.HaloClient, id=client_id, name=name, accounts_id=accounts_id, raw="{}")
        if billed:  # a Pax8 company is billed to it
            self.add(
                m.CompanyMapping,
                company_id=f"company-{client_id}",
                client_id=client_id,
                created_at=datetime.now(UTC),
                created_by="test",
            )
        return self

    def item(self, item_id, name, billed=True, raw="{}", **codes):
        self.add(m.HaloItem, id=item_id, name=name, raw=raw, **codes)
        if billed:
            self.add(
                m.ProductMapping,
                product_id=f"product-{item_id}",
                item_id=item_id,
                created_at=datetime.now(UTC),
                created_by="test",
            )
        return self

    def customer(self, qbo_id, name, active=True, **raw):
        body = json.dumps({"Id": qbo_id, "DisplayName": name, "Active": active, **raw})
        return self.add(m.QboCustomer, id=qbo_id, name=name, active=active, raw=body)

    def qbo_item(self, qbo_id, name, sku=None, type="Service", active=True):
        body = json.dumps({"Id": qbo_id, "Name": name, "Sku": sku, "Type": type})
        return self.add(
            m.QboItem, id=qbo_id, name=name, sku=sku, type=type, active=active, raw=body
        )

    def rows(self, **options):
        clients, items = qm.book_rows(self.db, qm.QBO, **options)
        return {r.halo_id: r for r in clients}, {r.halo_id: r for r in items}

    def saved_customers(self):
        with self.db.read() as conn:
            return {r.client_id: r for r in conn.execute(select(m.table_of(m.QboCustomerMapping)))}


@pytest.fixture
def store(tmp_path):
    built = Store(tmp_path / "trueup.sqlite")
    yield built
    built.db.dispose()


def test_rows_are_the_billed_clients_and_items_needing_the_operator_first(store):
    store.client(12, "Acme Dental", accounts_id="5").client(14, "Bear Creek Winery")
    store.client(15, "Not billed", billed=False).client(16, "Zephyr Yoga")
    store.customer("5", "Acme Dental PC").customer("6", "Bear Creek Winery LLC")
    store.item(1004, "M365 Business Standard").qbo_item("2", "M365 Business Standard")
    clients, items = qm.book_rows(store.db, qm.QBO)
    assert [(r.halo_id, r.status) for r in clients] == [
        (16, "unmapped"),
        (12, "suggested"),
        (14, "suggested"),
    ]
    assert (clients[0].reason, clients[0].candidates) == ("no candidate", ())
    assert (clients[1].target_id, clients[1].score, clients[1].source) == ("5", 100, None)
    assert (clients[2].target_name, clients[2].reason) == (
        "Bear Creek Winery LLC",
        "same name without 'LLC'",
    )
    assert [(r.kind, r.halo_id, r.target_id, r.score) for r in items] == [("item", 1004, "2", 99)]


def test_a_halo_item_names_its_quickbooks_item_in_its_own_fields(store):
    raw = json.dumps({"id": 1050, "accountsid": "24"})
    store.item(1050, "Azure", raw=raw).qbo_item("24", "Microsoft Azure (consumption)")
    store.item(1062, "Photoshop", internal_reference="ADB-PS-TMS").qbo_item(
        "28", "PS", sku="ADB-PS-TMS"
    )
    _, items = store.rows()
    assert (items[1050].target_id, items[1050].reason) == ("24", "Halo accounts id 24")
    assert (items[1062].target_id, items[1062].reason) == ("28", "Sku match (internal reference)")


def test_set_by_hand_keeps_who_and_when_and_wins_over_suggestions(store, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "billing-anna")
    store.client(12, "Acme Dental").customer("5", "Acme Dental").customer("9", "Acme Holdings")
    said = qm.map_customer(store.db, qm.QBO, 12, "9")
    assert said == "mapped Halo client 12 (Acme Dental) to QuickBooks customer 9 (Acme Holdings)"
    saved = store.saved_customers()[12]
    assert (saved.customer_id, saved.source, saved.score, saved.reason) == ("9", "manual", None, "")
    assert saved.created_by == "billing-anna" and saved.created_at is not None
    row = store.rows()[0][12]
    assert (row.status, row.target_id, row.source, row.reason) == (
        "mapped",
        "9",
        "manual",
        "set by hand",
    )
    assert qm.book_targets(store.db, qm.QBO) == ({12: "9"}, {})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((99, "5"), "unknown Halo client 99: sync, or check the id"),
        (
            (12, "77"),
            "unknown QuickBooks customer 77: refresh with `trueup qbo refresh`, or check the id",
        ),
        ((12, "6"), "QuickBooks customer 6 (Old Acme) is inactive; choose another"),
    ],
)
def test_set_refuses_unknown_or_inactive_ids_naming_them(store, args, message):
    store.client(12, "Acme").customer("5", "Acme").customer("6", "Old Acme", active=False)
    with pytest.raises(qm.BookMappingError) as refused:
        qm.map_customer(store.db, qm.QBO, *args)
    assert str(refused.value) == message
    assert store.saved_customers() == {}


def test_items_refuse_categories_and_unknown_halo_items(store):
    store.item(1004, "M365").qbo_item("1", "Microsoft", type="Category").qbo_item("2", "M365")
    with pytest.raises(
        qm.BookMappingError, match="QuickBooks item 1 \\(Microsoft\\) is a category"
    ):
        qm.map_item(store.db, qm.QBO, 1004, "1")
    with pytest.raises(qm.BookMappingError, match="unknown Halo item 4242"):
        qm.map_item(store.db, qm.QBO, 4242, "2")
    assert qm.map_item(store.db, qm.QBO, 1004, "2").startswith("mapped Halo item 1004 (M365)")
    assert qm.book_targets(store.db, qm.QBO) == ({}, {1004: "2"})


def test_unset_removes_once_and_names_an_unknown_id(store):
    store.client(12, "Acme").customer("5", "Acme")
    qm.map_customer(store.db, qm.QBO, 12, "5")
    assert qm.unmap_customer(store.db, qm.QBO, 12) is True
    assert qm.unmap_customer(store.db, qm.QBO, 12) is False
    assert store.rows()[0][12].status == "suggested"
    with pytest.raises(qm.BookMappingError, match="unknown Halo client 404"):
        qm.unmap_customer(store.db, qm.QBO, 404)
    with pytest.raises(qm.BookMappingError, match="unknown Halo item 404"):
        qm.unmap_item(store.db, qm.QBO, 404)


def test_accept_maps_what_scores_at_or_above_and_says_how(store):
    store.client(12, "Acme Dental", accounts_id="5").client(14, "Bear Creek Winery")
    store.client(16, "Harbour Light Food Bank")
    store.customer("5", "ACD").customer("6", "Bear Creek Winery LLC").customer(
        "7", "Harbor Light Food Bank"
    )
    store.item(1004, "M365 Business Standard").qbo_item("2", "M365 Business Standard")
    clients, items = qm.accept_book_suggestions(store.db, qm.QBO, min_score=98)
    assert sorted(r.halo_id for r in clients) == [12, 14] and [r.halo_id for r in items] == [1004]
    saved = store.saved_customers()
    assert (saved[12].source, saved[12].score, saved[12].reason) == (
        "exact",
        100,
        "Halo accounts id 5",
    )
    assert (saved[14].source, saved[14].score) == ("suggestion", 98)
    assert 16 not in saved  # the fuzzy match scores below 98
    rows = store.rows()[0]
    assert (rows[16].status, rows[12].status, rows[12].source) == ("suggested", "mapped", "exact")
    assert qm.accept_book_suggestions(store.db, qm.QBO, min_score=90)[0][0].halo_id == 16
    assert qm.accept_book_suggestions(store.db, qm.QBO) == ([], [])


def test_a_customer_taken_by_one_client_is_not_suggested_to_another_but_can_be_shared(store):
    store.client(12, "Acme Dental").client(13, "Acme Dental Inc").customer("5", "Acme Dental")
    qm.map_customer(store.db, qm.QBO, 12, "5")
    rows = store.rows()[0]
    assert (rows[13].status, rows[13].candidates) == ("unmapped", ())
    qm.map_customer(store.db, qm.QBO, 13, "5")  # two Halo clients billed to one QuickBooks customer
    reason = store.rows()[0][13].reason
    assert reason == "set by hand; also the QuickBooks customer of 'Acme Dental'"


def test_a_mapping_to_a_customer_gone_or_inactive_is_stale_and_never_posted_to(store):
    store.client(12, "Acme").client(14, "Bear").customer("5", "Acme").customer("6", "Bear")
    qm.accept_book_suggestions(store.db, qm.QBO)
    with store.db.write() as conn:
        conn.execute(
            update(m.table_of(m.QboCustomer))
            .where(m.table_of(m.QboCustomer).c.id == "5")
            .values(active=False)
        )
        conn.execute(
            m.table_of(m.QboCustomer).delete().where(m.table_of(m.QboCustomer).c.id == "6")
        )
    rows = store.rows()[0]
    assert (rows[12].status, rows[12].target_id, rows[12].target_name) == ("stale", "5", "Acme")
    assert rows[12].reason == "QuickBooks customer 5 is inactive: map it again"
    assert rows[14].reason == "QuickBooks customer 6 no longer exists: map it again"
    assert qm.book_targets(store.db, qm.QBO) == ({}, {})
    gaps = qm.missing_book_targets(store.db, qm.QBO)
    assert [(g.halo_id, g.reason) for g in gaps.clients] == [
        (12, "QuickBooks customer 5 is inactive"),
        (14, "QuickBooks customer 6 no longer exists"),
    ]


def test_missing_names_what_posting_lacks_in_one_line(store):
    for n in range(1, 8):
        store.client(n, f"Client {n}")
    store.item(1004, "M365").customer("3", "Client 3").qbo_item("2", "M365")
    qm.map_customer(store.db, qm.QBO, 3, "3")
    qm.map_item(store.db, qm.QBO, 1004, "2")
    gaps = qm.missing_book_targets(store.db, qm.QBO)
    assert [g.halo_id for g in gaps.clients] == [1, 2, 4, 5, 6, 7] and gaps.items == ()
    assert gaps.message() == (
        "6 clients have no QuickBooks customer: Client 1 (1), Client 2 (2), Client 4 (4), "
        "Client 5 (5), Client 6 (6) and 1 more; run `trueup qbo map suggest`"
    )
    asked = qm.missing_book_targets(store.db, qm.QBO, client_ids=[3, 4], item_ids=[1004, 1005])
    assert asked.message() == (
        "1 client has no QuickBooks customer: Client 4 (4); "
        "1 item has no QuickBooks item: item 1005 (1005); run `trueup qbo map suggest`"
    )
    done = qm.missing_book_targets(store.db, qm.QBO, client_ids=[3], item_ids=[1004])
    assert not done and done.message() == ""


# --- the bundled demo -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synced_demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    sync_into(path, json.loads(BUNDLED_DEMO.read_text()))
    return path


@pytest.fixture
def demo(synced_demo, tmp_path):
    """The demo synced, its Pax8 suggestions accepted, and its QuickBooks rows as QBO sends them."""
    shutil.copy(synced_demo, tmp_path / "trueup.sqlite")
    db = open_database(tmp_path / "trueup.sqlite")
    mp.accept_suggestions(db)
    qbo = json.loads(BUNDLED_DEMO.read_text())["qbo"]
    with db.write() as conn:
        for c in qbo["customers"]:
            conn.execute(
                insert(m.table_of(m.QboCustomer)).values(
                    id=c["Id"],
                    name=c["DisplayName"],
                    active=c.get("Active", True),
                    raw=json.dumps(c),
                )
            )
        for i in qbo["items"]:
            conn.execute(
                insert(m.table_of(m.QboItem)).values(
                    id=i["Id"],
                    name=i["Name"],
                    sku=i.get("Sku"),
                    type=i["Type"],
                    active=True,
                    raw=json.dumps(i),
                )
            )
    yield db
    db.dispose()


def test_the_demo_links_every_billed_client_and_item_by_halo_accounts_id(demo):
    clients, items = qm.book_rows(demo, qm.QBO)
    assert len(clients) >= 55 and len(items) >= 40
    for row in clients + items:
        assert (row.status, row.score, row.reason) == (
            "suggested",
            100,
            f"Halo accounts id {row.target_id}",
        )
    accepted_clients, accepted_items = qm.accept_book_suggestions(demo, qm.QBO)
    assert (len(accepted_clients), len(accepted_items)) == (len(clients), len(items))
    customer_by_client, item_by_halo_item = qm.book_targets(demo, qm.QBO)
    assert set(customer_by_client) == {r.halo_id for r in clients}
    assert set(item_by_halo_item) == {r.halo_id for r in items}
    assert not qm.missing_book_targets(demo, qm.QBO)


def test_the_demo_names_alone_are_confident_suggestions(demo):
    with demo.write() as conn:
        conn.execute(update(m.table_of(m.HaloClient)).values(accounts_id=None))
        conn.execute(update(m.table_of(m.HaloItem)).values(raw="{}"))
    clients, items = qm.book_rows(demo, qm.QBO)
    confident = [r for r in clients + items if r.status == "suggested" and r.score >= 98]
    assert len(confident) >= 0.9 * len(clients + items)
    bear = next(r for r in clients if r.halo_name == "Bear Creek Winery LLC")
    assert (bear.target_name, bear.score, bear.reason) == ("Bear Creek Winery LLC", 99, "same name")
