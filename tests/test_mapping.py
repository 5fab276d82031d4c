"""The mapping engine on small hand-built stores: matching, thresholds, one-to-one, overrides,
stale targets, persistence and undo."""

from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from trueup.core.mapping import engine as mp
from trueup.core.mapping.index import load_mapping_index
from trueup.core.mapping.match import Match, assign
from trueup.core.store import tables as m
from trueup.core.store.database import open_database


class Store:
    """A store filled straight through its tables (the sync is tested elsewhere)."""

    def __init__(self, path):
        self.db = open_database(path)

    def add(self, model, **values):
        with self.db.write() as conn:
            conn.execute(insert(m.table_of(model)).values(raw="{}", **values))
        return self

    def company(self, company_id, name, external_id=None):
        return self.add(m.Pax8Company, id=company_id, name=name, external_id=external_id)

    def client(self, client_id, name, inactive=False):
        return self.add(m.HaloClient, id=client_id, name=name, inactive=inactive)

    def link(self, client_id, company_id, link_id=None):
        return self.add(
            m.HaloExternalLink,
            id=link_id or 9000 + client_id,
            table_id=1,
            halo_id=client_id,
            third_party_id=company_id,
        )

    def product(self, product_id, name, sku=None, vendor_sku=None, vendor="Microsoft"):
        return self.add(
            m.Pax8Product,
            id=product_id,
            name=name,
            sku=sku,
            vendor_sku=vendor_sku,
            vendor_name=vendor,
        )

    def item(self, item_id, name, inactive=False, **codes):
        return self.add(m.HaloItem, id=item_id, name=name, inactive=inactive, **codes)

    def subscription(self, sub_id, company_id, product_id, qty, price, **more):
        values = {"status": "Active", "currency": "USD", **more}
        return self.add(
            m.Pax8Subscription,
            id=sub_id,
            company_id=company_id,
            product_id=product_id,
            quantity=Decimal(qty),
            price=Decimal(price),
            **values,
        )

    def changes(self):
        with self.db.read() as conn:
            return conn.execute(select(m.table_of(m.MappingChange))).all()

    def index(self):
        with self.db.read() as conn:
            return load_mapping_index(conn)


@pytest.fixture
def store(tmp_path):
    built = Store(tmp_path / "trueup.sqlite")
    yield built
    built.db.dispose()


def rows_by_id(store, **options):
    return {r.company_id: r for r in mp.company_rows(store.db, **options)}


def products_by_id(store, **options):
    return {r.product_id: r for r in mp.product_rows(store.db, **options)}


# --- companies --------------------------------------------------------------------------------


def test_exact_links_come_first_and_names_explain_themselves(store):
    store.company("a", "Acme Dental", external_id="12").company("b", "Bear Creek Winery")
    store.company("c", "Copper Kettle").company("d", "Delta Dental Group")
    store.client(12, "Acme Dental Care").client(14, "Bear Creek Winery LLC")
    store.client(20, "Copper Ketle").client(30, "Delta Dental Group").link(30, "d")
    rows = rows_by_id(store)
    assert (rows["a"].status, rows["a"].client_id, rows["a"].score) == ("suggested", 12, 100)
    assert rows["a"].reason == "Pax8 externalId 12"
    assert (rows["d"].client_id, rows["d"].reason) == (30, "Halo external link")
    assert (rows["b"].client_id, rows["b"].score) == (14, 98)
    assert rows["b"].reason == "same name without 'LLC'"
    assert rows["c"].candidates[0].client_id == 20
    assert rows["c"].candidates[0].reason.startswith("fuzzy ")
    assert all(r.source is None for r in rows.values())  # nothing is mapped yet


def test_an_identical_name_scores_above_a_normalised_one(store):
    store.company("a", "Acme Dental").client(1, "Acme Dental").client(2, "ACME DENTAL")
    row = rows_by_id(store)["a"]
    assert [(c.client_id, c.score) for c in row.candidates] == [(1, 99), (2, 98)]
    assert (row.status, row.client_id) == ("suggested", 1)


def test_the_threshold_decides_what_is_offered(store):
    store.company("a", "Bear Crek Winery").client(14, "Bear Creek Winery")
    score = rows_by_id(store)["a"].candidates[0].score
    assert 60 <= score < 98  # fuzzy: below any name match
    assert rows_by_id(store, threshold=score)["a"].status == "suggested"
    below = rows_by_id(store, threshold=score + 1)["a"]
    assert (below.status, below.client_id) == ("unmapped", None)
    assert below.reason.startswith(f"below {score + 1}: fuzzy {score}")
    assert mp.accept_company_suggestions(store.db, min_score=score + 1) == []
    assert [r.company_id for r in mp.accept_company_suggestions(store.db, min_score=score)] == ["a"]


@pytest.mark.parametrize(
    ("score", "threshold", "offered"), [(89, 90, False), (90, 90, True), (100, 101, True)]
)
def test_offers_start_at_the_threshold_and_exact_links_always_qualify(score, threshold, offered):
    match = Match(7, "Seven", score, "why", exact=score == 100)
    offers = assign({"a": (match,)}, threshold, {})
    assert (offers.get("a") is not None and offers["a"].match == match) is offered


def test_equal_claims_cancel_and_the_stronger_claim_wins(store):
    store.company("a", "Foothills Eye Care").company("b", "Foothills Eye Care LLC")
    store.client(1, "Foothills Eye Care")
    rows = rows_by_id(store)
    # "a" spells it identically (99), "b" only once normalised (98): "a" gets it.
    assert (rows["a"].status, rows["a"].client_id) == ("suggested", 1)
    assert rows["b"].status == "unmapped"
    assert "is suggested for 'Foothills Eye Care'" in rows["b"].reason

    store.company("c", "Harbor Point").client(2, "Harbor Point Brewing").client(
        3, "Harbor Point CPA"
    )
    row = rows_by_id(store)["c"]
    assert row.status == "unmapped" and "alike: choose one" in row.reason


def test_a_client_mapped_to_one_company_is_not_suggested_for_another(store):
    store.company("a", "Acme Dental").company("b", "Acme Dental Inc").client(1, "Acme Dental")
    mp.map_company(store.db, "a", 1)
    row = rows_by_id(store)["b"]
    assert row.status == "unmapped" and row.candidates == ()
    # By hand it is allowed (two Pax8 tenants, one Halo customer), and said.
    mp.map_company(store.db, "b", 1)
    rows = rows_by_id(store)
    assert rows["b"].status == "mapped" and "also bills 'Acme Dental'" in rows["b"].reason
    assert "already bills" in mp.client_choices(store.db, "acme")[0].reason


def test_a_mapping_persists_with_source_time_and_user(store, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "billing-anna")
    store.company("b", "Bear Creek Winery").client(14, "Bear Creek Winery LLC")
    accepted = mp.accept_company_suggestions(store.db)
    assert [(r.company_id, r.client_id) for r in accepted] == [("b", 14)]
    with store.db.read() as conn:
        saved = conn.execute(select(m.table_of(m.CompanyMapping))).one()
    assert (saved.client_id, saved.source, saved.score) == (14, "suggestion", 98)
    assert saved.created_by == "billing-anna" and saved.created_at is not None
    row = rows_by_id(store)["b"]
    assert (row.status, row.source, row.reason) == ("mapped", "suggestion", accepted[0].reason)
    assert store.index().companies == {"b": 14}
    change = store.changes()[0]
    assert (change.action, change.before, change.by) == ("accept", None, "billing-anna")


def test_the_os_user_falls_back_to_unknown(store, monkeypatch):
    def no_user():
        raise OSError("no login")

    monkeypatch.setattr("getpass.getuser", no_user)
    store.company("a", "Acme").client(1, "Acme")
    mp.map_company(store.db, "a", 1)
    assert store.changes()[0].by == "unknown"


def test_exact_links_are_accepted_with_source_exact(store):
    store.company("a", "Acme", external_id="1").client(1, "Acme Holdings")
    mp.accept_company_suggestions(store.db)
    assert rows_by_id(store)["a"].source == "exact"


def test_a_mapping_to_a_client_gone_or_inactive_is_stale(store):
    store.company("a", "Acme").company("b", "Bear").client(1, "Acme").client(2, "Bear")
    mp.map_company(store.db, "a", 1)
    mp.map_company(store.db, "b", 2)
    with store.db.write() as conn:
        clients = m.table_of(m.HaloClient)
        conn.execute(clients.update().where(clients.c.id == 1).values(inactive=True))
        conn.execute(clients.delete().where(clients.c.id == 2))
    rows = rows_by_id(store)
    assert (rows["a"].status, rows["a"].client_id) == ("stale", 1)
    assert "Halo client 1 is inactive" in rows["a"].reason
    assert rows["b"].status == "stale" and "Halo client 2 no longer exists" in rows["b"].reason
    with pytest.raises(mp.MappingError, match="inactive"):
        mp.map_company(store.db, "a", 1)


def test_ignored_companies_get_no_suggestions(store):
    store.company("a", "Acme").client(1, "Acme")
    mp.ignore_company(store.db, "a")
    row = rows_by_id(store)["a"]
    assert (row.status, row.client_id, row.candidates) == ("ignored", None, ())
    assert mp.accept_company_suggestions(store.db) == []
    assert store.index().ignored_companies == {"a"}


def test_unknown_ids_are_refused_by_name(store):
    store.company("a", "Acme").client(1, "Acme").product("p", "Thing")
    with pytest.raises(mp.MappingError, match="unknown Pax8 company nope"):
        mp.map_company(store.db, "nope", 1)
    with pytest.raises(mp.MappingError, match="unknown Halo client 99"):
        mp.map_company(store.db, "a", 99)
    with pytest.raises(mp.MappingError, match="unknown Halo item 5"):
        mp.map_product(store.db, "p", 5)
    with pytest.raises(mp.MappingError, match="unknown Pax8 product q"):
        mp.unmap_product(store.db, "q")
    assert store.changes() == []


def test_rows_carry_billable_subscriptions_and_their_value(store):
    store.company("a", "Acme").product("p", "M365").client(1, "Zeta")
    store.subscription("s1", "a", "p", "18", "12.50")
    store.subscription("s2", "a", "p", "2", "12.50", status="PendingCancel")
    store.subscription("s3", "a", "p", "5", "12.50", status="Cancelled")
    store.subscription("s4", "a", "p", "5", "12.50", status="Trial")
    store.subscription("s5", "a", "p", "1", "9.99", currency="EUR")
    row = rows_by_id(store)["a"]
    assert (row.subscriptions, row.monthly_value, row.currency) == (3, Decimal("250.00"), "USD")
    # From a month-end pass: the count held the EUR one, and no sum showed its money.
    assert row.other_values == {"EUR": Decimal("9.99")}


def test_client_choices_search_active_clients(store):
    store.client(1, "Bear Creek Winery LLC").client(2, "Acme Dental").client(3, "Old", True)
    assert [c.client_id for c in mp.client_choices(store.db)] == [2, 1]  # alphabetical
    assert mp.client_choices(store.db, "bear creek")[0].client_id == 1
    assert mp.client_choices(store.db, "2")[0].client_id == 2  # an id typed
    assert all(c.client_id != 3 for c in mp.client_choices(store.db, "old"))


# --- products ---------------------------------------------------------------------------------


def test_products_match_items_by_sku_then_name(store):
    store.product("p1", "Microsoft 365 Business Standard", sku="MST-365-BUS-STD")
    store.product("p2", "Microsoft 365 Business Premium", vendor_sku="CFQ7TTC0LCHC:0002")
    store.product("p3", "Visio Plan 2").product("p4", "Microsoft Teams Essentials")
    store.product("p5", "Keeper Business", vendor="Keeper")
    store.item(1, "M365 Business Standard", supplier_part_code="mst-365-bus-std ")
    store.item(2, "M365 Business Premium", internal_reference="CFQ7TTC0LCHC:0002")
    store.item(3, "Visio Plan 2").item(4, "Teams Essentials").item(5, "Backup", inactive=True)
    rows = products_by_id(store)
    assert (rows["p1"].item_id, rows["p1"].reason) == (1, "SKU match (supplier part code)")
    assert (rows["p2"].item_id, rows["p2"].reason) == (2, "vendor SKU match (internal reference)")
    assert (rows["p3"].item_id, rows["p3"].score) == (3, 99)
    assert rows["p4"].item_id == 4 and rows["p4"].reason.startswith("fuzzy")
    assert rows["p5"].status == "unmapped"
    assert next(iter(rows)) == "p5"  # what needs the operator comes first
    assert {r.product_id for r in mp.accept_product_suggestions(store.db)} == {
        "p1",
        "p2",
        "p3",
        "p4",
    }
    assert products_by_id(store)["p1"].source == "exact"
    assert [i.item_id for i in mp.item_choices(store.db, "CFQ7TTC0LCHC")][:1] == [2]


def test_a_per_client_override_beats_the_mapping_for_every_client(store):
    store.product("p", "M365 E3").item(1, "M365 E3").item(2, "M365 E3 (nonprofit)")
    store.client(14, "Bear Creek").client(15, "Acme")
    mp.map_product(store.db, "p", 1)
    mp.map_product(store.db, "p", 2, client_id=14)
    index = store.index()
    assert index.item_for("p", 14) == 2 and index.item_for("p", 15) == 1
    assert products_by_id(store)["p"].overrides == 1
    mp.unmap_product(store.db, "p", client_id=14)
    assert store.index().item_for("p", 14) == 1


def test_a_mapping_to_an_inactive_item_is_stale(store):
    store.product("p", "Thing").item(1, "Thing")
    mp.map_product(store.db, "p", 1)
    with store.db.write() as conn:
        items = m.table_of(m.HaloItem)
        conn.execute(items.update().values(inactive=True))
    row = products_by_id(store)["p"]
    assert (row.status, row.item_id) == ("stale", 1) and "Halo item 1 is inactive" in row.reason


# --- undo -------------------------------------------------------------------------------------


def test_undo_takes_back_one_change_at_a_time(store):
    store.company("b", "Bear Creek Winery").client(14, "Bear Creek Winery LLC").client(9, "Nine")
    assert mp.undo_last(store.db) is None
    mp.map_company(store.db, "b", 14)
    mp.map_company(store.db, "b", 9)
    assert mp.undo_last(store.db) == "mapped Bear Creek Winery to Bear Creek Winery LLC again"
    assert store.index().companies == {"b": 14}
    assert mp.undo_last(store.db) == "unmapped Bear Creek Winery"  # undo after undo
    assert store.index().companies == {}
    assert mp.undo_last(store.db) is None
    actions = [(c.action, c.undone) for c in store.changes()]
    assert actions == [("map", True), ("map", True), ("undo", False), ("undo", False)]


def test_undo_restores_an_unmap_and_an_ignore(store):
    store.company("a", "Acme").client(1, "Acme")
    mp.map_company(store.db, "a", 1)
    mp.unmap_company(store.db, "a")
    assert mp.undo_last(store.db) == "mapped Acme to Acme again"
    mp.ignore_company(store.db, "a")
    assert mp.undo_last(store.db) == "mapped Acme to Acme again"
    mp.unmap_company(store.db, "a")
    mp.ignore_company(store.db, "a")
    assert mp.undo_last(store.db) == "stopped ignoring Acme"


def test_undo_takes_back_a_whole_accept(store):
    for n in range(3):
        store.company(f"c{n}", f"Company {n}").client(n + 1, f"Company {n} LLC")
    store.product("p", "Thing", sku="T-1").item(7, "Thing", supplier_part_code="T-1")
    mp.map_company(store.db, "c0", 1)
    companies, products = mp.accept_suggestions(store.db)
    assert len(companies) == 2 and len(products) == 1
    assert mp.undo_last(store.db) == "undid accept of 3 suggestions"
    assert store.index().companies == {"c0": 1} and store.index().products == {}


def test_mapping_the_same_target_again_writes_nothing(store):
    store.company("a", "Acme").client(1, "Acme")
    mp.map_company(store.db, "a", 1)
    mp.map_company(store.db, "a", 1)
    mp.unmap_company(store.db, "a")
    mp.unmap_company(store.db, "a")
    assert [c.action for c in store.changes()] == ["map", "unmap"]


def test_undo_asks_about_an_outside_change_even_after_undoing_its_own(store):
    """Only the journal entries a workbench wrote are its own: after it undoes its own change,
    the older one another `trueup` made is still announced before it is undone (it was taken
    for its own, by id, once the workbench had written anything newer)."""
    from trueup.core.service.mappings import Mappings

    store.company("c1", "Acme").company("c2", "Birch").client(1, "Acme").client(2, "Birch")
    outside, workbench = Mappings(store.db), Mappings(store.db)
    outside.map_company("c1", 1)
    workbench.map_company("c2", 2)
    assert workbench.undo_note() is None  # its own
    workbench.undo_last()
    note = workbench.undo_note()
    assert note is not None and outside.undo_note() is None
