"""More of the Xero simulator judged by xero-python, the official SDK (see
tests/test_conformance_xero.py for how the SDK is pointed at loopback): a credit note allocated
to an invoice, a DRAFT invoice deleted, an idempotency key reused for another body,
If-Modified-Since, `where` on Reference with a quote and an ampersand, pageSize, the rate limit's
headers and its 429, and the tenant header left out."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from xero_python.accounting import (
    AccountingApi,
    Allocation,
    Allocations,
    Contact,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
)
from xero_python.api_client import ApiClient
from xero_python.api_client.oauth2 import TokenApi
from xero_python.exceptions import AccountingBadRequestException, ApiException

from test_conformance_xero import _api_client, sdk_invoice, value
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import SandboxUrls, build_simulators, serve_in_background
from trueup.sandbox.xero import XeroRateLimit, create_xero_app
from xero_fixtures import ACME, CREDENTIALS, TENANT, xero_world


@pytest.fixture(scope="module")
def served() -> Iterator[SandboxUrls]:
    with serve_in_background(build_simulators(parse_scenario(xero_world()))) as urls:
        yield urls


def _accounting(urls: SandboxUrls, monkeypatch: pytest.MonkeyPatch) -> AccountingApi:
    token_url = f"{urls.xero_identity}/connect/token"
    monkeypatch.setattr(TokenApi, "client_credentials_token_url", token_url)
    client: ApiClient = _api_client(CREDENTIALS["client_id"], CREDENTIALS["client_secret"])
    client.get_client_credentials_token()
    return AccountingApi(client, base_url=f"{urls.xero}/api.xro/2.0")


@pytest.fixture
def accounting(served: SandboxUrls, monkeypatch: pytest.MonkeyPatch) -> AccountingApi:
    return _accounting(served, monkeypatch)


def _created(accounting: AccountingApi, invoice: Invoice) -> Invoice:
    (one,) = accounting.create_invoices(
        TENANT, Invoices(invoices=[invoice]), summarize_errors=False, unitdp=4
    ).invoices
    assert not one.has_errors, one.validation_errors
    return one


def test_a_credit_note_allocated_to_an_invoice(accounting: AccountingApi) -> None:
    invoice = _created(accounting, sdk_invoice("TU2611-70"))
    line = LineItem(description="Seats returned", quantity=Decimal(2), unit_amount=Decimal("22"),
                    account_code="200", tax_type="NONE")  # fmt: skip
    (note,) = accounting.create_credit_notes(TENANT, CreditNotes(credit_notes=[CreditNote(
        type="ACCRECCREDIT", contact=Contact(contact_id=ACME), credit_note_number="TU2611-70-A1",
        date=date(2026, 11, 30), status="AUTHORISED",
        line_amount_types=LineAmountTypes.EXCLUSIVE, line_items=[line])]),
        summarize_errors=False).credit_notes  # fmt: skip
    allocation = Allocation(invoice=Invoice(invoice_id=invoice.invoice_id),
                            amount=Decimal("30.00"), date=date(2026, 12, 1))  # fmt: skip
    (made,) = accounting.create_credit_note_allocation(
        TENANT, note.credit_note_id, Allocations(allocations=[allocation])
    ).allocations
    assert made.amount == Decimal("30.00")
    read = accounting.get_credit_note(TENANT, note.credit_note_id).credit_notes[0]
    assert read.remaining_credit == Decimal("14.00")
    billed = accounting.get_invoice(TENANT, invoice.invoice_id).invoices[0]
    assert (billed.amount_credited, billed.amount_due) == (Decimal("30.00"), Decimal("382.23"))
    with pytest.raises(AccountingBadRequestException) as refused:
        accounting.update_credit_note(TENANT, note.credit_note_id, CreditNotes(credit_notes=[
            CreditNote(credit_note_id=note.credit_note_id, status="VOIDED")]))  # fmt: skip
    assert "payment or credit note allocated" in refused.value.reason


def test_a_draft_invoice_is_deleted_not_voided(accounting: AccountingApi) -> None:
    draft = _created(accounting, sdk_invoice("TU2611-71", status="DRAFT"))
    with pytest.raises(AccountingBadRequestException) as refused:
        accounting.update_invoice(TENANT, draft.invoice_id, Invoices(invoices=[
            Invoice(invoice_id=draft.invoice_id, status="VOIDED")]))  # fmt: skip
    assert refused.value.reason == "Invoice not of valid status for modification"
    deleted = accounting.update_invoice(TENANT, draft.invoice_id, Invoices(invoices=[
        Invoice(invoice_id=draft.invoice_id, status="DELETED")]))  # fmt: skip
    assert value(deleted.invoices[0].status) == "DELETED"
    again = accounting.create_invoices(TENANT, Invoices(invoices=[sdk_invoice("TU2611-71")]),
                                       summarize_errors=False)  # fmt: skip
    assert again.invoices[0].has_errors  # a deleted invoice keeps its number


def test_an_idempotency_key_reused_for_another_body_is_refused(accounting: AccountingApi) -> None:
    key = "trueup-TU2611-72-1"
    first = accounting.create_invoices(TENANT, Invoices(invoices=[sdk_invoice("TU2611-72")]),
                                       summarize_errors=False, idempotency_key=key)  # fmt: skip
    assert not first.invoices[0].has_errors
    with pytest.raises(AccountingBadRequestException) as refused:
        accounting.create_invoices(TENANT, Invoices(invoices=[sdk_invoice("TU2611-73")]),
                                   summarize_errors=False, idempotency_key=key)  # fmt: skip
    assert refused.value.status == 400
    assert accounting.get_invoices(TENANT, invoice_numbers=["TU2611-73"]).invoices == []


def test_if_modified_since_and_page_size(accounting: AccountingApi) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    for number in ("TU2611-74", "TU2611-75", "TU2611-76"):
        _created(accounting, sdk_invoice(number))
    fresh = accounting.get_invoices(TENANT, if_modified_since=before.replace(tzinfo=None)).invoices
    assert {"TU2611-74", "TU2611-75", "TU2611-76"} <= {i.invoice_number for i in fresh}
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert (
        accounting.get_invoices(TENANT, if_modified_since=later.replace(tzinfo=None)).invoices == []
    )
    numbers = ["TU2611-74", "TU2611-75", "TU2611-76"]
    one = accounting.get_invoices(TENANT, invoice_numbers=numbers, page=1, page_size=2)
    two = accounting.get_invoices(TENANT, invoice_numbers=numbers, page=2, page_size=2)
    assert [len(one.invoices), len(two.invoices)] == [2, 1]
    assert (two.pagination.page, two.pagination.page_count, two.pagination.item_count) == (2, 2, 3)


def test_where_on_a_reference_with_a_quote_and_an_ampersand(accounting: AccountingApi) -> None:
    """Xero's `where` is Dynamic LINQ's: a quote in a string is doubled, a backslash is just a
    character, and `\\"` ends the string ("Syntax error", XeroAPI/Xero-Java issue 347)."""
    invoice = sdk_invoice("TU2611-77")
    invoice.reference = 'PO "7" & C:\\more'
    _created(accounting, invoice)
    found = accounting.get_invoices(TENANT, where='Reference=="PO ""7"" & C:\\more"').invoices
    assert [i.invoice_number for i in found] == ["TU2611-77"]
    with pytest.raises(AccountingBadRequestException) as refused:
        accounting.get_invoices(TENANT, where='Reference=="PO \\"7\\" & C:\\more"')
    assert refused.value.error_data["Type"] == "QueryParseException"
    by_number = accounting.get_invoices(TENANT, where='InvoiceNumber=="TU2611-77"').invoices
    assert [i.reference for i in by_number] == ['PO "7" & C:\\more']


def test_rate_limit_headers_and_the_429(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer carries the remaining allowances; a call over the minute's limit is 429
    with X-Rate-Limit-Problem and Retry-After in seconds. The SDK raises it for a POST; a GET
    (or a PUT) its urllib3 retries after Retry-After, as urllib3 does by default for 429, so
    the header must be seconds that a client can wait out (Xero's "Retry-After: 60")."""
    skew = [0.0]
    scenario = parse_scenario(xero_world())
    sims = dataclasses.replace(build_simulators(scenario), xero=create_xero_app(
        scenario, rate_limit=XeroRateLimit(per_minute=2),
        clock=lambda: time.monotonic() + skew[0]))  # fmt: skip
    with serve_in_background(sims) as urls:
        accounting = _accounting(urls, monkeypatch)
        _, status, headers = accounting.get_organisations(TENANT, _return_http_data_only=False)
        assert status == 200 and headers["X-MinLimit-Remaining"] == "1"
        assert (headers["X-DayLimit-Remaining"], headers["X-AppMinLimit-Remaining"]) == (
            "4999", "9999")  # fmt: skip
        accounting.get_organisations(TENANT)
        with pytest.raises(ApiException) as limited:
            accounting.update_or_create_invoices(
                TENANT, Invoices(invoices=[sdk_invoice("TU2611-78")]), summarize_errors=False
            )
        assert limited.value.status == 429
        assert limited.value.headers["X-Rate-Limit-Problem"] == "minute"
        assert 59 <= int(limited.value.headers["Retry-After"]) <= 60
        skew[0] = 59.5  # the first call frees up in half a second: Retry-After: 1
        waited = time.monotonic()
        (org,) = accounting.get_organisations(TENANT).organisations
        assert 1 <= time.monotonic() - waited < 10 and value(org.base_currency) == "USD"


def test_the_tenant_header_left_out(accounting: AccountingApi) -> None:
    (org,) = accounting.get_organisations("").organisations  # a Custom Connection needs none
    assert value(org.base_currency) == "USD"
    with pytest.raises(ApiException) as refused:
        accounting.get_organisations("00000000-0000-0000-0000-000000000001")
    assert refused.value.status == 403
