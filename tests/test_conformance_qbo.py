"""The QuickBooks simulator judged by code nobody here wrote: Intuit's intuit-oauth and the
community's python-quickbooks, driving it over loopback HTTP through every call trueup makes
(token grants and revoke, queries, invoice create/read/update/void/delete, credit memo
create/delete, the batch endpoint through python-quickbooks' BatchManager, the company, its
preferences and tax codes), and trueup's own sink reading back what the libraries wrote.

Pointing them at loopback, the ways a user of each library can: intuit-oauth takes a discovery
document URL in place of 'sandbox'/'production'; python-quickbooks builds every URL from its
`api_url_v3` attribute (set here on the instance); requests-oauthlib refuses plain http unless
oauthlib's documented OAUTHLIB_INSECURE_TRANSPORT switch is set.

python-quickbooks' batch (0.9.12, quickbooks/batch.py), as read, and not imitated here: it sends
no requestid (`QuickBooks.batch_operation` takes none), so a batch through it cannot be replayed
safely; its bIds are uuid4 strings (36 characters), past the 10 Intuit allows a bId when a
requestid is given; `batch_results_to_list` matches answers to items by bId but never checks
that each item got one, so an item QuickBooks left unanswered is silently in neither
`successes` nor `faults`; and `save` cuts the list with `item not in temp_list`, quadratic, and
an object listed twice is sent once.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.batch import BatchManager, batch_create
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.taxcode import TaxCode

from qbo_fixtures import (
    CANADA,
    CANADIAN_CUSTOMERS,
    CREDENTIALS,
    CUSTOMERS,
    ITEMS,
    REALM,
    qbo_client,
)
from trueup.core.posting.qbo import QboSink, is_voided
from trueup.core.posting.sink import Document
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background

REDIRECT = "http://localhost:8765/callback"


@pytest.fixture(scope="module")
def served():
    data = {"as_of": "2026-11-21T00:00:00Z", "credentials": {"qbo": CREDENTIALS},
            "qbo": {"customers": CUSTOMERS, "items": ITEMS, "invoices": []}}  # fmt: skip
    with serve_in_background(build_simulators(parse_scenario(data))) as urls:
        yield urls.qbo


@pytest.fixture(scope="module")
def served_in_canada():
    qbo = {"customers": CANADIAN_CUSTOMERS, "items": ITEMS, "invoices": [], **CANADA}
    data = {"as_of": "2026-11-21T00:00:00Z", "credentials": {"qbo": CREDENTIALS}, "qbo": qbo}
    with serve_in_background(build_simulators(parse_scenario(data))) as urls:
        yield urls.qbo


@pytest.fixture
def auth(served, monkeypatch):
    return _auth(served, monkeypatch)


def _auth(served: str, monkeypatch: pytest.MonkeyPatch) -> AuthClient:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    discovery = f"{served}/.well-known/openid_sandbox_configuration"
    return AuthClient(CREDENTIALS["client_id"], CREDENTIALS["client_secret"], REDIRECT, discovery)


@pytest.fixture
def qb(auth, served):
    return _quickbooks(auth, served)


def _quickbooks(auth: AuthClient, served: str) -> QuickBooks:
    client = QuickBooks(auth_client=auth, refresh_token=CREDENTIALS["refresh_token"],
                        company_id=REALM, minorversion=75)  # fmt: skip
    client.api_url_v3 = f"{served}/v3"
    return client


def invoice(doc_number: str, qty: str = "3", price: str = "50.00", amount: str | None = None,
            kind: type = Invoice):  # fmt: skip
    line = SalesItemLine()
    line.Amount = Decimal(amount) if amount else Decimal(qty) * Decimal(price)
    line.Description = "Managed seats"
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = "21"
    line.SalesItemLineDetail.Qty = Decimal(qty)
    line.SalesItemLineDetail.UnitPrice = Decimal(price)
    made = kind()
    made.CustomerRef = Ref()
    made.CustomerRef.value = "58"
    made.DocNumber = doc_number
    made.PrivateNote = "trueup batch B, November 2026, Acme Dental"
    made.Line = [line]
    return made


def test_intuit_oauth_refreshes_rotates_exchanges_a_code_and_revokes(auth):
    auth.refresh(refresh_token=CREDENTIALS["refresh_token"])
    first = auth.refresh_token
    assert auth.access_token and first != CREDENTIALS["refresh_token"]
    assert auth.expires_in == 3600 and auth.x_refresh_token_expires_in == 8726400
    auth.get_bearer_token("sandbox-code", realm_id=REALM)
    assert auth.refresh_token not in (first, None)
    assert auth.revoke(token=first) is True
    with pytest.raises(AuthClientError) as refused:
        auth.refresh(refresh_token=first)
    assert refused.value.status_code == 400 and b"invalid_grant" in refused.value.content


def test_python_quickbooks_queries_as_trueup_does(qb):
    everyone = Customer.query("SELECT * FROM Customer WHERE Active IN (true, false)", qb=qb)
    assert sorted(c.Id for c in everyone) == sorted(c["Id"] for c in CUSTOMERS)
    active = Customer.all(qb=qb)  # inactive ones are left out unless asked for
    assert "60" not in {c.Id for c in active}
    by_name = Item.all(order_by="Name", qb=qb)  # "ORDER BY", two words; "SELECT *, Sku"
    assert "MS-SEAT" in {i.Sku for i in by_name}
    assert {i.Sku for i in Item.query("SELECT * FROM Item", qb=qb)} == {None}  # as QuickBooks
    assert [i.Name for i in by_name] == sorted(i["Name"] for i in ITEMS if i["Active"])
    assert [i.Name for i in Item.where("Active = true", order_by="Name DESC", qb=qb)] == sorted(
        (i["Name"] for i in ITEMS if i["Active"]), reverse=True
    )
    assert Item.count("Active IN (true, false)", qb=qb) == len(ITEMS)


def test_python_quickbooks_creates_reads_and_voids_an_invoice_trueup_reads_back(qb, served):
    saved = invoice("TU2611-58").save(qb=qb, request_id="TU2611-58-conformance")
    again = invoice("TU2611-58").save(qb=qb, request_id="TU2611-58-conformance")
    assert again.Id == saved.Id  # the same requestid: QuickBooks answers the first answer
    read = Invoice.get(saved.Id, qb=qb)
    assert (read.DocNumber, read.TotalAmt, read.CustomerRef.value) == ("TU2611-58", 150, "58")
    (found,) = Invoice.query("SELECT * FROM Invoice WHERE DocNumber IN ('TU2611-58')", qb=qb)
    assert found.Id == saved.Id
    sink_sees = asyncio.run(_lookup(served, "TU2611-58"))
    assert sink_sees["TU2611-58"].remote_id == saved.Id
    with pytest.raises(QuickbooksException) as duplicate:
        invoice("TU2611-58").save(qb=qb)
    assert duplicate.value.error_code == 6140
    read.void(qb=qb)
    voided = Invoice.get(saved.Id, qb=qb)
    assert voided.TotalAmt == 0 and voided.PrivateNote.startswith("Voided")
    assert voided.PrivateNote.endswith("trueup batch B, November 2026, Acme Dental")
    assert is_voided(voided.to_dict()) and asyncio.run(_lookup(served, "TU2611-58")) == {}


def test_python_quickbooks_pays_an_invoice_which_then_is_not_voided(qb):
    """A payment applied to an invoice (python-quickbooks' Payment, a line linked to the
    invoice) leaves its balance and a LinkedTxn on it, and the void is refused: QuickBooks will
    not void an invoice a payment is applied to (LanternOps/breeze issue 5180)."""
    saved = invoice("TU2611-61").save(qb=qb)
    linked = LinkedTxn()
    linked.TxnId, linked.TxnType = saved.Id, "Invoice"
    line = PaymentLine()
    line.Amount = 100
    line.LinkedTxn.append(linked)
    payment = Payment()
    payment.TotalAmt, payment.CustomerRef = 100, saved.CustomerRef
    payment.Line.append(line)
    payment.save(qb=qb)
    paid = Invoice.get(saved.Id, qb=qb)
    assert (paid.TotalAmt, paid.Balance) == (150, 50)
    assert [(t.TxnId, t.TxnType) for t in paid.LinkedTxn] == [(payment.Id, "Payment")]
    with pytest.raises(QuickbooksException) as refused:
        paid.void(qb=qb)
    assert refused.value.error_code == 6000 and "cannot be voided" in refused.value.detail
    assert not is_voided(Invoice.get(saved.Id, qb=qb).to_dict())


def test_python_quickbooks_updates_and_deletes_an_invoice(qb):
    """A full update (python-quickbooks' save of an object with an Id posts the whole object,
    read-only fields and all) at the current SyncToken, a stale one refused, then a delete."""
    saved = invoice("TU2611-60").save(qb=qb)
    saved.PrivateNote = "checked by the accountant"
    saved.TotalAmt = 9999  # read-only: QuickBooks keeps its own sum
    updated = saved.save(qb=qb)
    assert (updated.SyncToken, updated.PrivateNote, updated.TotalAmt) == (
        "1", "checked by the accountant", 150)  # fmt: skip
    saved.SyncToken = "0"
    with pytest.raises(QuickbooksException) as stale:
        saved.save(qb=qb)
    assert stale.value.error_code == 5010
    updated.delete(qb=qb)
    assert not Invoice.filter(DocNumber="TU2611-60", qb=qb)
    with pytest.raises(QuickbooksException) as long_id:
        invoice("TU2611-61").save(qb=qb, request_id="r" * 51)
    assert long_id.value.error_code == 6000


def test_a_line_whose_amount_is_not_qty_times_price_is_refused_as_quickbooks_does(qb):
    with pytest.raises(QuickbooksException) as refused:
        invoice("TU2611-59", qty="1.4", price="26.40", amount="36.97").save(qb=qb)
    assert refused.value.error_code == 6070
    assert "Amount is not equal to UnitPrice * Qty" in refused.value.message


def test_python_quickbooks_creates_and_deletes_a_credit_memo(qb, served):
    saved = invoice("TU2611-58-A1", kind=CreditMemo).save(qb=qb)
    (found,) = CreditMemo.query("SELECT * FROM CreditMemo WHERE DocNumber = 'TU2611-58-A1'", qb=qb)
    assert found.Id == saved.Id and found.TotalAmt == 150
    found.delete(qb=qb)
    assert CreditMemo.filter(DocNumber="TU2611-58-A1", qb=qb) == []


def test_python_quickbooks_batch_create_goes_30_a_request_with_faults_per_item(qb, served):
    invoices = [invoice(f"TU2611-B{n:02}") for n in range(30)]
    taken = invoice("TU2611-B03")  # a number the first batch takes: 6140 for it alone
    memo = invoice("TU2611-B00-A1", kind=CreditMemo)
    done = batch_create([*invoices, taken, memo], qb=qb)  # 30, then 2
    assert len(done.batch_responses) == 32 and len(done.successes) == 31
    [fault] = done.faults
    assert fault.original_object is taken and fault.type == "ValidationFault"
    assert fault.Error[0].code == "6140" and "DocNumber=TU2611-B03" in fault.Error[0].Detail
    by_number = {s.DocNumber: s for s in done.successes}
    assert isinstance(by_number["TU2611-B00-A1"], CreditMemo)
    assert by_number["TU2611-B00"].TotalAmt == 150
    numbers = [f"TU2611-B{n:02}" for n in range(30)]
    found = asyncio.run(_lookup(served, *numbers, "TU2611-B00-A1"))
    assert {number: posted.remote_id for number, posted in found.items()} == {
        number: success.Id for number, success in by_number.items()
    }
    # And undone the same way: the credit memo deleted in a batch of its own.
    deleted = BatchManager("delete").save([by_number["TU2611-B00-A1"]], qb=qb)
    assert deleted.faults == [] and asyncio.run(_lookup(served, "TU2611-B00-A1")) == {}


def test_more_than_30_in_one_batch_is_refused_whole(qb):
    manager = BatchManager("create", max_request_items=31)
    with pytest.raises(QuickbooksException) as refused:
        manager.save([invoice(f"TU2611-C{n:02}") for n in range(31)], qb=qb)
    assert "at most 30" in refused.value.detail
    assert Invoice.filter(DocNumber="TU2611-C00", qb=qb) == []


async def _lookup(served: str, *references: str) -> dict:
    """What trueup's QuickBooks sink finds for `references` (invoices; "-A1": credit memos)."""
    documents = [_document(reference) for reference in references]
    async with qbo_client(None, base=served) as client:
        return await QboSink(client).lookup(documents)


def _document(reference: str) -> Document:
    total = Decimal(-150 if reference.endswith("-A1") else 150)
    return Document(
        reference=reference, client_id=1, client_name="Acme", month="2026-11",
        invoice_date=date(2026, 11, 30), currency="USD", subtotal=total, tax=Decimal(0),
        total=total, note="", lines=(), qbo_customer_id="58",
    )  # fmt: skip


def test_python_quickbooks_reads_the_company_its_tax_codes_and_a_taxed_invoice(
    served_in_canada, monkeypatch
):
    """What `trueup qbo refresh` reads of a company outside the US, and an invoice whose line
    names a tax code, through python-quickbooks' own objects."""
    qb = _quickbooks(_auth(served_in_canada, monkeypatch), served_in_canada)
    assert CompanyInfo.get(REALM, qb=qb).Country == "CA"
    [company] = CompanyInfo.all(qb=qb)  # the query trueup sends
    assert company.Country == "CA"
    currencies = Preferences.get(qb=qb).CurrencyPrefs
    assert (currencies.HomeCurrency.value, currencies.MultiCurrencyEnabled) == ("CAD", True)
    codes = TaxCode.query("SELECT * FROM TaxCode WHERE Active IN (true, false)", qb=qb)
    assert {c.Id: c.Name for c in codes}["5"] == "HST ON" and len(codes) == 3
    untaxed = invoice("TU2611-CA1")
    with pytest.raises(QuickbooksException) as refused:
        untaxed.save(qb=qb)
    assert refused.value.error_code == 6000 and "GST/HST rate" in refused.value.detail
    taxed = invoice("TU2611-CA2")
    taxed.Line[0].SalesItemLineDetail.TaxCodeRef = Ref()
    taxed.Line[0].SalesItemLineDetail.TaxCodeRef.value = "5"
    saved = taxed.save(qb=qb)
    assert saved.TxnTaxDetail.TotalTax == 19.5 and saved.TotalAmt == 169.5  # 13% of 150.00
