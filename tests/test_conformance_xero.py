"""The Xero simulator judged by code nobody here wrote: Xero's official SDK, xero-python, driving it
over loopback HTTP through every call trueup's Xero client makes (a Custom Connection's token,
the connections, contacts by page, items, accounts, tax rates, invoices created under an
idempotency key and read back by number, a void, credit notes found with `where` and voided or
deleted, a refused invoice, a refresh token rotated).

Pointing the SDK at loopback, the ways a user of it can: the identity calls take their URLs from
`TokenApi`'s class attributes (`client_credentials_token_url`, `refresh_token_url`), set here with
monkeypatch; `IdentityApi` and `AccountingApi` take a `base_url` (the API host root, and the root
plus `/api.xro/2.0`). The SDK sends plain http as it is.

Where the SDK and the simulator disagree, what the real API does decides:
- xero-python refreshes only with a client secret (`OAuth2Token.can_refresh_access_token`), so a
  PKCE app (no secret) cannot refresh through it; Xero's PKCE refresh takes `client_id` alone
  (developer.xero.com, "PKCE flow"), which is what trueup's client sends. The SDK's refresh is
  driven here with a placeholder secret, which the PKCE client's refresh ignores.
- The SDK's `xero_tenant_id` is a required argument even for a Custom Connection, which Xero's
  FAQ says needs no tenant header; the simulator takes it either way.
- `Configuration(...)` returns a copy of the first Configuration the process made (OpenAPI
  Generator's TypeWithDefault metaclass), so a second app's credentials are silently the first
  one's; a library quirk, worked around below by setting the token on the copy.
- The OpenAPI (and so the SDK) says `summarizeErrors` defaults to false; Xero's documentation, and
  the simulator, treat a request without it as summarized (a 400 for any refused element). The
  SDK sends it only when asked, so the refused invoice below comes back as the 400 Xero gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import Account as SdkAccount
from xero_python.accounting import (
    AccountingApi,
    Contact,
    CreditNote,
    CreditNotes,
    CurrencyCode,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException
from xero_python.identity import IdentityApi

from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import SandboxUrls, build_simulators, serve_in_background
from xero_fixtures import ACME, BETA, CREDENTIALS, TENANT, xero_world


@pytest.fixture(scope="module")
def served() -> Iterator[SandboxUrls]:
    with serve_in_background(build_simulators(parse_scenario(xero_world()))) as urls:
        yield urls


@pytest.fixture
def sdk(served: SandboxUrls, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    """xero-python's ApiClient holding a Custom Connection's token, fetched by the SDK itself."""
    token_url = f"{served.xero_identity}/connect/token"
    monkeypatch.setattr(TokenApi, "client_credentials_token_url", token_url)
    monkeypatch.setattr(TokenApi, "refresh_token_url", token_url)
    client = _api_client(CREDENTIALS["client_id"], CREDENTIALS["client_secret"])
    client.get_client_credentials_token()
    return client


def _api_client(client_id: str, client_secret: str) -> ApiClient:
    stored: dict[str, Any] = {}
    # Configuration(...) hands out copies of the first Configuration ever made (its metaclass,
    # OpenAPI Generator's TypeWithDefault), arguments ignored and OAuth2Token shared: set the
    # token on the copy instead, or every client would use the first one's credentials.
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id=client_id, client_secret=client_secret)
    client = ApiClient(configuration, pool_threads=1)
    client.oauth2_token_getter(lambda: stored)
    client.oauth2_token_saver(lambda token: stored.update(token))
    return client


@pytest.fixture
def accounting(sdk: ApiClient, served: SandboxUrls) -> AccountingApi:
    return AccountingApi(sdk, base_url=f"{served.xero}/api.xro/2.0")


def value(field: Any) -> Any:
    """The SDK's enums (AccountType, CurrencyCode, ...) as the text on the wire."""
    return getattr(field, "value", field)


def sdk_invoice(number: str, *, contact: str = ACME, quantity: str = "18.6333",
                unit: str = "22.1234", status: str = "AUTHORISED") -> Invoice:  # fmt: skip
    line = LineItem(description="M365 Business Premium, November", quantity=Decimal(quantity),
                    unit_amount=Decimal(unit), item_code="MST-365-BUS-PRM", account_code="200",
                    tax_type="NONE")  # fmt: skip
    return Invoice(type="ACCREC", contact=Contact(contact_id=contact), invoice_number=number,
                   reference="2026-11", date=date(2026, 11, 30), due_date=date(2026, 12, 30),
                   currency_code=CurrencyCode.USD, status=status,
                   line_amount_types=LineAmountTypes.EXCLUSIVE,
                   line_items=[line])  # fmt: skip


def test_a_custom_connection_token_and_the_connections(sdk: ApiClient, served: SandboxUrls) -> None:
    token = sdk.get_oauth2_token()
    assert token["expires_in"] == 1800 and token["token_type"] == "Bearer"
    assert "refresh_token" not in token
    (connection,) = IdentityApi(sdk, base_url=served.xero).get_connections()
    assert (connection.tenant_id, connection.tenant_type) == (TENANT, "ORGANISATION")
    assert connection.tenant_name == "Trailhead Technology Partners"
    assert connection.created_date_utc.year == 2026  # Xero's 7-digit fractions, parsed


def test_contacts_by_page_items_accounts_and_tax_rates(accounting: AccountingApi) -> None:
    pages = [accounting.get_contacts(TENANT, page=n) for n in (1, 2, 3)]
    assert [len(p.contacts) for p in pages] == [100, 100, 4]
    assert pages[2].pagination.item_count == 204
    acme = accounting.get_contacts(TENANT, i_ds=[ACME, BETA])
    assert {c.name for c in acme.contacts} == {"Acme Dental LLC", "Beta Logistics"}
    items = accounting.get_items(TENANT).items
    assert {i.code for i in items} == {"MST-365-BUS-PRM", "MSP-USER"}
    assert items[0].sales_details.unit_price == 22.0
    accounts = {a.code: a for a in accounting.get_accounts(TENANT).accounts}
    assert value(accounts["200"].type) == "REVENUE"
    assert value(accounts["610"].system_account) == "DEBTORS"
    rates = {r.tax_type: r for r in accounting.get_tax_rates(TENANT).tax_rates}
    assert rates["TAX001"].effective_rate == 8.875 and rates["INPUT"].can_apply_to_revenue is False
    (org,) = accounting.get_organisations(TENANT).organisations
    assert (value(org.base_currency), value(org.version)) == ("USD", "US")


def test_an_invoice_created_under_a_key_read_back_and_voided(accounting: AccountingApi) -> None:
    created = accounting.create_invoices(TENANT, Invoices(invoices=[sdk_invoice("TU2611-58")]),
                                         summarize_errors=False, unitdp=4,
                                         idempotency_key="trueup-TU2611-58-1")  # fmt: skip
    again = accounting.create_invoices(TENANT, Invoices(invoices=[sdk_invoice("TU2611-58")]),
                                       summarize_errors=False, unitdp=4,
                                       idempotency_key="trueup-TU2611-58-1")  # fmt: skip
    (invoice,) = created.invoices
    assert not invoice.has_errors and invoice.status_attribute_string == "OK"
    assert again.invoices[0].invoice_id == invoice.invoice_id  # the first answer, again
    assert invoice.total == Decimal("412.23") and invoice.date == date(2026, 11, 30)
    (found,) = accounting.get_invoices(TENANT, invoice_numbers=["TU2611-58"], page=1,
                                       unitdp=4).invoices  # fmt: skip
    assert found.invoice_id == invoice.invoice_id
    assert found.line_items[0].unit_amount == Decimal("22.1234")
    assert found.line_items[0].line_amount == Decimal("412.23")
    voided = accounting.update_invoice(TENANT, invoice.invoice_id, Invoices(invoices=[
        Invoice(invoice_id=invoice.invoice_id, status="VOIDED")]))  # fmt: skip
    assert voided.invoices[0].status == "VOIDED"
    read = accounting.get_invoice(TENANT, invoice.invoice_id).invoices[0]
    assert (value(read.status), read.amount_due, read.total) == ("VOIDED", 0, Decimal("412.23"))
    still_listed = accounting.get_invoices(TENANT, invoice_numbers=["TU2611-58"], page=1)
    assert [i.status for i in still_listed.invoices] == ["VOIDED"]


def test_a_part_paid_invoice_is_not_voided(accounting: AccountingApi) -> None:
    """A payment through the SDK's create_payment (one Payment, unwrapped) lowers the invoice's
    AmountDue and lists it in Payments; the void is then refused as Xero refuses it ("This
    document cannot be edited as it has a payment or credit note allocated to it": Expedo's and
    WorkGuru's tables of Xero errors), and the invoice stays AUTHORISED."""
    (invoice,) = accounting.create_invoices(
        TENANT, Invoices(invoices=[sdk_invoice("TU2611-59")]), summarize_errors=False, unitdp=4
    ).invoices
    payment = Payment(invoice=Invoice(invoice_id=invoice.invoice_id),
                      account=SdkAccount(code="090"), amount=Decimal("100.00"),
                      date=date(2026, 12, 5))  # fmt: skip
    (paid,) = accounting.create_payment(TENANT, payment).payments
    assert (paid.amount, value(paid.status)) == (Decimal("100.00"), "AUTHORISED")
    read = accounting.get_invoice(TENANT, invoice.invoice_id).invoices[0]
    assert (read.amount_paid, read.amount_due) == (Decimal("100.00"), Decimal("312.23"))
    assert [p.payment_id for p in read.payments] == [paid.payment_id]
    with pytest.raises(AccountingBadRequestException) as refused:
        accounting.update_invoice(TENANT, invoice.invoice_id, Invoices(invoices=[
            Invoice(invoice_id=invoice.invoice_id, status="VOIDED")]))  # fmt: skip
    assert refused.value.status == 400 and refused.value.reason == (
        "This document cannot be edited as it has a payment or credit note allocated to it."
    )
    after = accounting.get_invoice(TENANT, invoice.invoice_id).invoices[0]
    assert (value(after.status), after.amount_due) == ("AUTHORISED", Decimal("312.23"))


def test_credit_notes_found_with_where_then_voided_and_deleted(accounting: AccountingApi) -> None:
    line = LineItem(description="Seats returned", quantity=Decimal(2), unit_amount=Decimal("22"),
                    account_code="200", tax_type="NONE")  # fmt: skip
    notes = [
        CreditNote(
            type="ACCRECCREDIT",
            contact=Contact(contact_id=ACME),
            credit_note_number=number,
            reference="2026-11",
            date=date(2026, 11, 30),
            status=status,
            line_amount_types=LineAmountTypes.EXCLUSIVE,
            line_items=[line],
        )
        for number, status in (("TU2611-58-A1", "AUTHORISED"), ("TU2611-58-A2", "DRAFT"))
    ]
    created = accounting.create_credit_notes(TENANT, CreditNotes(credit_notes=notes),
                                             summarize_errors=False, unitdp=4,
                                             idempotency_key="trueup-cn-1")  # fmt: skip
    assert [c.status_attribute_string for c in created.credit_notes] == ["OK", "OK"]
    where = 'CreditNoteNumber=="TU2611-58-A1" OR CreditNoteNumber=="TU2611-58-A2"'
    found = accounting.get_credit_notes(TENANT, where=where, page=1).credit_notes
    by_number = {c.credit_note_number: c for c in found}
    assert set(by_number) == {"TU2611-58-A1", "TU2611-58-A2"}
    assert by_number["TU2611-58-A1"].total == Decimal(44)
    approved, draft = by_number["TU2611-58-A1"], by_number["TU2611-58-A2"]
    voided = accounting.update_credit_note(
        TENANT,
        approved.credit_note_id,
        CreditNotes(
            credit_notes=[CreditNote(credit_note_id=approved.credit_note_id, status="VOIDED")]
        ),
    )
    deleted = accounting.update_credit_note(
        TENANT,
        draft.credit_note_id,
        CreditNotes(
            credit_notes=[CreditNote(credit_note_id=draft.credit_note_id, status="DELETED")]
        ),
    )
    assert voided.credit_notes[0].status == "VOIDED"
    assert deleted.credit_notes[0].status == "DELETED"
    assert accounting.get_credit_note(TENANT, approved.credit_note_id).credit_notes[0].status == (
        "VOIDED"
    )


def test_a_refused_invoice_is_the_sdks_bad_request_with_xeros_body(
    accounting: AccountingApi,
) -> None:
    with pytest.raises(AccountingBadRequestException) as refused:
        accounting.create_invoices(TENANT, Invoices(invoices=[
            sdk_invoice("TU2611-61", quantity="-2")]))  # fmt: skip
    body = refused.value.error_data
    assert refused.value.status == 400
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    message = "The quantity value '-2.0000' is invalid. Quantity must not be less than zero."
    assert refused.value.reason == message  # the SDK reads the first element's first message
    assert {"Message": message} in body["Elements"][0]["ValidationErrors"]
    assert accounting.get_invoices(TENANT, invoice_numbers=["TU2611-61"]).invoices == []
    partial = accounting.create_invoices(TENANT, Invoices(invoices=[
        sdk_invoice("TU2611-62"), sdk_invoice("TU2611-63", contact=TENANT)]),
        summarize_errors=False, unitdp=4)  # fmt: skip
    ok, error = partial.invoices
    assert (ok.has_errors, error.has_errors) == (False, True)
    assert error.validation_errors[0].message == (
        "The Contact with the specified ContactID could not be found"
    )


def test_the_sdk_rotates_a_refresh_token(
    served: SandboxUrls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{served.xero_identity}/connect/token")
    client = _api_client(CREDENTIALS["pkce_client_id"], "unused-by-a-pkce-app")
    client.set_oauth2_token(
        {
            "access_token": "expired",
            "refresh_token": CREDENTIALS["refresh_token"],
            "scope": ["offline_access", "accounting.transactions"],
            "expires_in": 1800,
            "token_type": "Bearer",
            "expires_at": 0.0,
        }
    )
    first = dict(client.refresh_oauth2_token())  # the SDK answers its own stored dict
    second = dict(client.refresh_oauth2_token())
    assert first["refresh_token"] not in (None, CREDENTIALS["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"] and second["expires_in"] == 1800
    (connection,) = IdentityApi(client, base_url=served.xero).get_connections()
    assert connection.tenant_id == TENANT
