"""XeroSink against the Xero simulator: invoices and credit notes created many per request and
read back through the API, a refused one rejected alone, void by status, the day's allowance
checked before anything is sent, and no duplicate whatever a lossy network does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from trueup.core.posting.sink import Document, DocumentLine, Posted, Refused
from trueup.core.posting.xero import XeroSink
from trueup.core.sources.http import ApiError, RetryPolicy, Row
from trueup.core.sources.xero import XeroClient
from trueup.sandbox.common import FaultSpec
from trueup.sandbox.scenario import Scenario
from trueup.sandbox.transport import SandboxTransport
from trueup.sandbox.xero import XeroRateLimit, create_xero_app

TENANT = "0f5c3a8e-1b2d-4e6f-8a9b-7c6d5e4f3a21"
ACME = "9d1c6b7e-2f4a-4b8c-9e3d-1a2b3c4d5e6f"
FAST = RetryPolicy(max_attempts=8, backoff_base=0.001, backoff_cap=0.01, max_retry_after=0.01)
WORLD = {
    "organisation": {"tenant_id": TENANT, "name": "Northwind MSP", "base_currency": "USD",
                     "currencies": ["GBP"]},
    "accounts": [
        {"AccountID": "a-200", "Code": "200", "Name": "Sales", "Type": "REVENUE",
         "Status": "ACTIVE", "TaxType": "NONE"},
        {"AccountID": "a-400", "Code": "400", "Name": "Advertising", "Type": "EXPENSE",
         "Status": "ACTIVE", "TaxType": "INPUT"},
        {"AccountID": "a-090", "Code": "090", "Name": "Business Bank", "Type": "BANK",
         "Status": "ACTIVE", "TaxType": "NONE"},
    ],
    "tax_rates": [
        {"TaxType": "NONE", "Name": "Tax Exempt", "Status": "ACTIVE", "EffectiveRate": 0,
         "CanApplyToRevenue": True, "CanApplyToExpenses": True},
        {"TaxType": "INPUT", "Name": "Tax on Purchases", "Status": "ACTIVE", "EffectiveRate": 0,
         "CanApplyToRevenue": False, "CanApplyToExpenses": True},
    ],
    "contacts": [{"ContactID": ACME, "Name": "Acme Dental", "ContactStatus": "ACTIVE",
                  "IsCustomer": True}],
    "items": [{"ItemID": "i-1", "Code": "MS-SEAT", "Name": "Managed seat", "IsSold": True,
               "SalesDetails": {"UnitPrice": 50, "AccountCode": "200", "TaxType": "NONE"}}],
}  # fmt: skip


def scenario() -> Scenario:
    return Scenario(as_of=datetime(2026, 11, 21, tzinfo=UTC), xero=WORLD)


def document(reference: str, total: str = "1350.00", **changes: object) -> Document:
    amount = Decimal(total) - Decimal(100)
    lines = (
        DocumentLine("subscription", "Managed seats", amount / 50, Decimal(50), amount,
                     xero_item_code="MS-SEAT", xero_account_code="200", xero_tax_type="NONE"),
        DocumentLine("manual", "Onsite visit", Decimal(1), Decimal(100), Decimal(100),
                     xero_item_code="MS-SEAT", xero_account_code="200"),
    )  # fmt: skip
    base = Document(
        reference=reference, client_id=7, client_name="Acme Dental", month="2026-11",
        invoice_date=date(2026, 11, 30), currency="USD", subtotal=Decimal(total),
        tax=Decimal(0), total=Decimal(total), note="trueup batch 42", lines=lines,
        xero_contact_id=ACME, due_date=date(2026, 12, 30),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def credit(reference: str) -> Document:
    back = DocumentLine("adjustment", "Seats removed", Decimal(-2), Decimal(50), Decimal(-100),
                        xero_item_code="MS-SEAT", xero_account_code="200")  # fmt: skip
    return document(reference, "-100", lines=(back,), subtotal=Decimal(-100))


def client(app: object) -> XeroClient:
    return XeroClient(
        "http://xero.test",
        "http://xero.test/identity",
        "sandbox",
        client_secret="sandbox",
        transport=SandboxTransport(app=app),  # type: ignore[arg-type]
        rate=None,
        retry=FAST,
    )


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def app():
    return create_xero_app(scenario(), rate_limit=None)


def test_invoices_go_many_per_request_and_read_back_as_sent(app) -> None:
    async def go() -> tuple[list, list, int]:
        async with client(app) as xero:
            sink = XeroSink(xero)
            posted = await sink.create([document("TU2611-7"), document("TU2611-8", "600.00")])
            rows = await xero.invoices_by_number(["TU2611-7", "TU2611-8"])
            return posted, rows, xero.stats.requests

    posted, rows, requests = run(go())
    assert all(isinstance(p, Posted) for p in posted)
    by_number = {r["InvoiceNumber"]: r for r in rows}
    assert {n: (r["Status"], r["Total"], r["Type"]) for n, r in by_number.items()} == {
        "TU2611-7": ("AUTHORISED", Decimal("1350.00"), "ACCREC"),
        "TU2611-8": ("AUTHORISED", Decimal("600.00"), "ACCREC"),
    }
    assert [p.remote_id for p in posted] == [by_number[n]["InvoiceID"] for n in by_number]
    assert by_number["TU2611-7"]["Reference"] == "2026-11"
    assert requests == 4  # the token, /connections (the tenant), one PUT for both, one read


def test_one_refused_document_is_rejected_alone(app) -> None:
    wrong = document("TU2611-9")
    # A purchases tax type on a sales line: Xero takes it only where CanApplyToRevenue.
    wrong = replace(wrong, lines=tuple(replace(x, xero_tax_type="INPUT") for x in wrong.lines))

    async def go() -> tuple[list, dict]:
        async with client(app) as xero:
            sink = XeroSink(xero)
            outcomes = await sink.create([wrong, document("TU2611-10")])
            return outcomes, await sink.lookup([wrong, document("TU2611-10")])

    outcomes, found = run(go())
    assert isinstance(outcomes[0], Refused) and isinstance(outcomes[1], Posted)
    assert "Xero refused it" in outcomes[0].reason and "INPUT" in outcomes[0].reason
    assert set(found) == {"TU2611-10"}


def test_sending_a_posted_document_again_finds_it_instead_of_a_second(app) -> None:
    async def go() -> tuple[list, list]:
        async with client(app) as xero:
            sink = XeroSink(xero)
            first = await sink.create([document("TU2611-7")])
            again = await sink.create([replace(document("TU2611-7"), note="a new run")])
            return first + again, await xero.invoices_by_number(["TU2611-7"])

    outcomes, rows = run(go())
    assert len(rows) == 1, "Xero holds the invoice once"
    assert isinstance(outcomes[1], Posted) and outcomes[1].remote_id == rows[0]["InvoiceID"]


def test_void_voids_an_authorised_invoice_and_deletes_a_draft_once(app) -> None:
    async def go() -> tuple[dict, dict, dict]:
        async with client(app) as xero:
            sink = XeroSink(xero)
            live, draft = document("TU2611-7"), document("TU2611-8", draft=True)
            posted = await sink.create([live, draft])
            for doc, where in zip((live, draft), posted, strict=True):
                assert isinstance(where, Posted)
                await sink.void(doc, where)
                await sink.void(doc, where)  # voiding again is no error
            rows = await xero.invoices_by_number(["TU2611-7", "TU2611-8"])
            found = await sink.lookup([live, draft])
            return {r["InvoiceNumber"]: r["Status"] for r in rows}, found, {}

    statuses, found, _ = run(go())
    assert statuses == {"TU2611-7": "VOIDED", "TU2611-8": "DELETED"}
    assert found == {}


def test_a_credit_is_a_credit_note_found_and_voided_by_its_number(app) -> None:
    async def go() -> tuple[list, dict, list]:
        async with client(app) as xero:
            sink = XeroSink(xero)
            note = credit("TU2611-7-A1")
            posted = await sink.create([note, document("TU2611-8")])
            found = await sink.lookup([note])
            assert isinstance(posted[0], Posted)
            await sink.void(note, posted[0])
            return posted, found, await xero.credit_notes_by_number(["TU2611-7-A1"])

    posted, found, rows = run(go())
    assert found["TU2611-7-A1"].remote_id == posted[0].remote_id
    assert (rows[0]["Type"], rows[0]["Total"], rows[0]["Status"]) == (
        "ACCRECCREDIT",
        Decimal("100.00"),
        "VOIDED",
    )


def test_a_run_beyond_the_days_allowance_is_refused_before_sending() -> None:
    app = create_xero_app(scenario(), rate_limit=XeroRateLimit(per_day=2))

    async def go() -> list:
        async with client(app) as xero:
            sink = XeroSink(xero)
            with pytest.raises(ApiError, match=r"needs up to 2 calls .* has 1 of its") as refused:
                await sink.lookup([document("TU2611-7")])
            assert refused.value.kind == "rate_limited"
            return await xero.invoices_by_number(["TU2611-7"])  # the day's last call

    assert run(go()) == []


def test_a_spent_day_is_said_at_once_not_retried() -> None:
    app = create_xero_app(scenario(), rate_limit=XeroRateLimit(per_day=1))

    async def go() -> int:
        async with client(app) as xero:
            await xero.invoices_by_number(["TU2611-7"])
            with pytest.raises(ApiError, match="daily allowance for this organisation is used"):
                await xero.invoices_by_number(["TU2611-7"])
            return xero.stats.retries

    assert run(go()) == 0


class DaySpent(httpx.AsyncBaseTransport):
    """Xero whose day is spent, its answers' headers as given (the token calls go through)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, headers: dict[str, str]) -> None:
        self.inner, self.headers = inner, headers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith("/api.xro"):
            return await self.inner.handle_async_request(request)
        return httpx.Response(429, headers={"X-Rate-Limit-Problem": "day", **self.headers})


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({"Retry-After": "9" * 5000, "X-DayLimit-Remaining": "9" * 5000}, "366 days"),
        ({"Retry-After": "Wed, 09 Dec 2099 10:00:00 GMT"}, "366 days"),
        ({"Retry-After": "5400"}, "90 minutes"),
        ({}, "24 hours"),
    ],
)
def test_a_spent_day_says_the_wait_xero_gives_whatever_its_headers(headers, said) -> None:
    """A Retry-After past int()'s digits raised ValueError (an unexpected error); an HTTP-date
    read as a day."""
    inner = SandboxTransport(app=create_xero_app(scenario(), rate_limit=None))
    xero = XeroClient(
        "http://xero.test",
        "http://xero.test/identity",
        "sandbox",
        client_secret="sandbox",
        transport=DaySpent(inner, headers),  # type: ignore[arg-type]
        rate=None,
        retry=FAST,
    )

    async def go() -> None:
        async with xero:
            with pytest.raises(ApiError, match=f"frees up over the next {said}: post the rest"):
                await xero.invoices_by_number(["TU2611-7"])

    run(go())


def test_a_lossy_network_never_makes_a_second_invoice() -> None:
    app = create_xero_app(scenario(), rate_limit=None, faults=FaultSpec.parse("lost=0.4,seed=5"))
    documents = [document(f"TU2611-{n}") for n in range(20, 30)]

    async def go() -> list:
        async with client(app) as xero:
            sink = XeroSink(xero)
            for _ in range(10):  # as the journal does: look up, send what is not there
                found = await sink.lookup(documents)
                missing = [d for d in documents if d.reference not in found]
                if not missing:
                    break
                try:
                    await sink.create(missing[: sink.batch_size])
                except ApiError as error:
                    assert error.ambiguous or error.kind in ("network", "server", "bad_response")
        async with client(app) as xero:
            return await xero.invoices_by_number([d.reference for d in documents])

    rows = run(go())
    numbers = sorted(r["InvoiceNumber"] for r in rows)
    assert numbers == sorted(d.reference for d in documents)


class Answering(httpx.AsyncBaseTransport):
    """The simulator, except that a request `answer` matches is answered with what it returns
    (and not passed on)."""

    def __init__(self, app: object, answer: Callable[[httpx.Request], httpx.Response | None]):
        self.inner = SandboxTransport(app=app)  # type: ignore[arg-type]
        self.answer = answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.answer(request) or await self.inner.handle_async_request(request)


def answering(app: object, answer: Callable[[httpx.Request], httpx.Response | None]) -> XeroClient:
    """A client of the simulator whose requests `answer` matches it answers itself."""
    return XeroClient("http://xero.test", "http://xero.test/identity", "sandbox",
                      client_secret="sandbox", transport=Answering(app, answer), rate=None,
                      retry=FAST)  # fmt: skip


def test_a_void_answered_but_not_done_is_not_recorded_as_voided(app) -> None:
    """From a posting-answers review: Xero answering a void 200 (a refusal in it, or the
    document unchanged) while it stays AUTHORISED was taken as voided, so the month could be
    posted again beside a live invoice."""

    def unchanged(request: httpx.Request) -> httpx.Response | None:
        if request.method != "POST" or "/Invoices/" not in request.url.path:
            return None
        refusal = {"Message": "Invoice not of valid status for modification"}
        record = {"InvoiceID": request.url.path.rsplit("/", 1)[1], "Status": "AUTHORISED",
                  "ValidationErrors": [refusal]}  # fmt: skip
        return httpx.Response(200, json={"Invoices": [record]})

    async def go() -> tuple[str, ApiError]:
        async with client(app) as xero:
            [posted] = await XeroSink(xero).create([document("TU2611-7")])
        assert isinstance(posted, Posted)
        async with answering(app, unchanged) as xero:
            with pytest.raises(ApiError) as caught:
                await XeroSink(xero).void(document("TU2611-7"), posted)
            [row] = await xero.invoices_by_number(["TU2611-7"])
        return row["Status"], caught.value

    status, error = run(go())
    assert status == "AUTHORISED" and not error.ambiguous and error.kind == "bad_response"
    assert "to VOIDED but still shows it AUTHORISED (Invoice not of valid status" in str(error)


@pytest.mark.parametrize(
    "answered",
    [{"InvoiceNumber": "TU2611-99"}, {"InvoiceID": None}, {"InvoiceID": "0"},
     {"InvoiceID": "00000000-0000-0000-0000-000000000000"}, {"InvoiceID": "ab\x1b[2J"}],
    ids=["another-number", "no-id", "id-0", "zero-guid", "id-with-controls"],
)  # fmt: skip
def test_an_answer_for_another_invoice_or_without_a_usable_id_is_not_posted(answered) -> None:
    """From a posting-answers review: an element answered with another InvoiceNumber, or with
    no usable InvoiceID (missing: recorded as the id "None"), was recorded POSTED under it."""
    app = create_xero_app(scenario(), rate_limit=None)

    def other(request: httpx.Request) -> httpx.Response | None:
        if request.method != "PUT":
            return None
        record = {"InvoiceID": "3f2c1a9e-4b5d-4e6f-8a7b-9c0d1e2f3a4b", "InvoiceNumber": "TU2611-7",
                  "Status": "AUTHORISED", "StatusAttributeString": "OK",
                  "Contact": {"ContactID": ACME}, **answered}  # fmt: skip
        return httpx.Response(200, json={"Invoices": [record]})

    async def go() -> ApiError:
        async with answering(app, other) as xero:
            with pytest.raises(ApiError) as caught:
                await XeroSink(xero).create([document("TU2611-7")])
        return caught.value

    error = run(go())
    assert error.ambiguous and "settled by looking them up" in str(error)


def test_an_element_with_status_error_is_refused_not_posted() -> None:
    """From a posting-answers review: an element Xero marked `"StatusAttributeString": "ERROR"`
    without HasErrors or ValidationErrors was recorded POSTED."""
    app = create_xero_app(scenario(), rate_limit=None)

    def error(request: httpx.Request) -> httpx.Response | None:
        if request.method != "PUT":
            return None
        record = {"InvoiceID": "3f2c1a9e-4b5d-4e6f-8a7b-9c0d1e2f3a4b", "InvoiceNumber": "TU2611-7",
                  "StatusAttributeString": "ERROR"}  # fmt: skip
        return httpx.Response(200, json={"Invoices": [record]})

    async def go() -> list[Posted | Refused]:
        async with answering(app, error) as xero:
            return await XeroSink(xero).create([document("TU2611-7")])

    assert run(go()) == [Refused("Xero refused it: no reason given")]


@pytest.mark.parametrize("identifier", [None, "0", "ab\x1b[2J"])
def test_a_lookup_finding_ours_without_a_usable_id_stops(identifier: str | None) -> None:
    """From a posting-answers review: an invoice of ours answered without a usable InvoiceID
    was recorded POSTED under it (the id "None" when missing)."""
    app = create_xero_app(scenario(), rate_limit=None)

    def listed(request: httpx.Request) -> httpx.Response | None:
        if request.method != "GET" or not request.url.path.endswith("/Invoices"):
            return None
        row = {"InvoiceID": identifier, "InvoiceNumber": "TU2611-7", "Status": "AUTHORISED"}
        return httpx.Response(200, json={"Invoices": [row]})

    async def go() -> None:
        async with answering(app, listed) as xero:
            await XeroSink(xero).lookup([document("TU2611-7")])

    with pytest.raises(ApiError, match="'TU2611-7', ours but without a usable id"):
        run(go())


@pytest.mark.parametrize("status", ["DELETED", "VOIDED"])
def test_a_create_answered_gone_is_refused_not_posted(status: str) -> None:
    """From a posting-answers review: a create Xero answered with the invoice DELETED or
    VOIDED was recorded POSTED, so the month read billed while nothing was."""
    app = create_xero_app(scenario(), rate_limit=None)

    def gone(request: httpx.Request) -> httpx.Response | None:
        if request.method != "PUT":
            return None
        record = {"InvoiceID": "3f2c1a9e-4b5d-4e6f-8a7b-9c0d1e2f3a4b", "InvoiceNumber": "TU2611-7",
                  "Status": status, "StatusAttributeString": "OK",
                  "Contact": {"ContactID": ACME}}  # fmt: skip
        return httpx.Response(200, json={"Invoices": [record]})

    async def go() -> list[Posted | Refused]:
        async with answering(app, gone) as xero:
            return await XeroSink(xero).create([document("TU2611-7")])

    [outcome] = run(go())
    assert isinstance(outcome, Refused)
    assert f"TU2611-7 with it {status}: it bills nothing" in outcome.reason


def test_a_create_answered_draft_is_posted_with_a_warning(caplog) -> None:
    """An invoice sent AUTHORISED that Xero holds as a DRAFT exists (so it is posted, never
    sent again) but bills nobody until approved in Xero: said, not passed over."""
    app = create_xero_app(scenario(), rate_limit=None)

    def draft(request: httpx.Request) -> httpx.Response | None:
        if request.method != "PUT":
            return None
        record = {"InvoiceID": "3f2c1a9e-4b5d-4e6f-8a7b-9c0d1e2f3a4b", "InvoiceNumber": "TU2611-7",
                  "Status": "DRAFT", "StatusAttributeString": "OK",
                  "Contact": {"ContactID": ACME}}  # fmt: skip
        return httpx.Response(200, json={"Invoices": [record]})

    async def go() -> list[Posted | Refused]:
        async with answering(app, draft) as xero:
            return await XeroSink(xero).create([document("TU2611-7")])

    assert run(go()) == [Posted("3f2c1a9e-4b5d-4e6f-8a7b-9c0d1e2f3a4b", "TU2611-7")]
    assert "Xero holds TU2611-7 as DRAFT, not AUTHORISED as sent" in caplog.text


def test_vat_xero_adds_is_no_warning_a_net_it_changed_is(caplog) -> None:
    """A UK organisation adds 20% VAT to every invoice posted net: every post warned that
    Xero's total was not trueup's ("Total 1471.2 (its tax)"). Only a net that is not what was
    sent is worth a warning, its money written as money."""
    world = {
        **WORLD,
        "organisation": {**WORLD["organisation"], "base_currency": "GBP", "version": "UK"},
        "tax_rates": [*WORLD["tax_rates"], {
            "TaxType": "OUTPUT2", "Name": "20% (VAT on Income)", "Status": "ACTIVE",
            "EffectiveRate": 20, "CanApplyToRevenue": True}],
    }  # fmt: skip
    app = create_xero_app(Scenario(as_of=datetime(2026, 11, 21, tzinfo=UTC), xero=world))
    vat = document("TU2611-7", "1226.00", currency="GBP")
    vat = replace(vat, lines=tuple(replace(x, xero_tax_type="OUTPUT2") for x in vat.lines))
    other_net = replace(vat, reference="TU2611-8", subtotal=Decimal("1200.00"))

    async def go() -> list[Row]:
        async with client(app) as xero:
            await XeroSink(xero).create([vat, other_net])
            return await xero.invoices_by_number(["TU2611-7", "TU2611-8"])

    with caplog.at_level(logging.INFO, logger="trueup.sink.xero"):
        rows = run(go())
    held = {r["InvoiceNumber"]: (r["SubTotal"], r["TotalTax"], r["Total"]) for r in rows}
    assert held["TU2611-7"] == (Decimal("1226.00"), Decimal("245.20"), Decimal("1471.20"))
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned == [
        "Xero's TU2611-8 is 1,226.00 GBP before tax, trueup sent 1,200.00 GBP: check it in Xero"
    ]
    assert "Xero added 245.20 GBP of tax to TU2611-7" in caplog.text


def test_an_invoice_with_our_number_for_another_contact_stops_lookup() -> None:
    """An invoice with trueup's number held by another contact was taken as posted."""
    app = create_xero_app(scenario(), rate_limit=None)

    def listed(request: httpx.Request) -> httpx.Response | None:
        if request.method != "GET" or not request.url.path.endswith("/Invoices"):
            return None
        row = {"InvoiceID": "3f2c1a9e-4b5d-4e6f-8a7b-9c0d1e2f3a4b", "InvoiceNumber": "TU2611-7",
               "Status": "AUTHORISED", "Contact": {"ContactID": TENANT}}  # fmt: skip
        return httpx.Response(200, json={"Invoices": [row]})

    async def go() -> None:
        async with answering(app, listed) as xero:
            await XeroSink(xero).lookup([document("TU2611-7")])

    with pytest.raises(ApiError, match="holds invoice TU2611-7 for customer '0f5c3a8e"):
        run(go())


async def _posted(sink: XeroSink, documents: list[Document]) -> list[Posted]:
    outcomes = await sink.create(documents)
    posted = [p for p in outcomes if isinstance(p, Posted)]
    assert len(posted) == len(documents), outcomes
    return posted


async def _pay(xero: XeroClient, posted: Posted, amount: str) -> None:
    """A payment put against the invoice in Xero, as a bookkeeper records one."""
    payment = {"Invoice": {"InvoiceID": posted.remote_id}, "Account": {"Code": "090"},
               "Amount": amount, "Date": "2026-12-05"}  # fmt: skip
    await xero.request("PUT", "/api.xro/2.0/Payments", json={"Payments": [payment]})


def test_an_invoice_with_a_payment_is_not_voided_and_the_void_says_why(app) -> None:
    """Xero keeps a part-paid (AUTHORISED) or paid (PAID) invoice as it is: the void is refused
    with what to do, never sent as a DELETED, and Xero still holds the invoice with its money."""
    part, whole = document("TU2611-7"), document("TU2611-8", "600.00")

    async def go() -> tuple[list[ApiError], dict[str, Row]]:
        async with client(app) as xero:
            sink = XeroSink(xero)
            posted = await _posted(sink, [part, whole])
            await _pay(xero, posted[0], "500.00")
            await _pay(xero, posted[1], "600.00")
            # Xero's own answer to the void of a part-paid invoice.
            with pytest.raises(ApiError, match="cannot be edited as it has a payment"):
                await xero.set_status("Invoices", posted[0].remote_id, "VOIDED", "k-void-1")
            refusals = []
            for doc, where in zip((part, whole), posted, strict=True):
                with pytest.raises(ApiError) as refused:
                    await sink.void(doc, where)
                refusals.append(refused.value)
            rows = {
                r["InvoiceNumber"]: r
                for r in await xero.invoices_by_number(["TU2611-7", "TU2611-8"])
            }
            return refusals, rows

    refusals, rows = run(go())
    assert {n: (r["Status"], r["AmountPaid"]) for n, r in rows.items()} == {
        "TU2611-7": ("AUTHORISED", Decimal("500.00")),
        "TU2611-8": ("PAID", Decimal("600.00")),
    }
    assert [r.kind for r in refusals] == ["bad_request", "bad_request"]  # journaled REJECTED
    assert "(500.00 paid of 1,350.00 USD), status AUTHORISED" in str(refusals[0])
    assert "(600.00 paid of 600.00 USD), status PAID" in str(refusals[1])
    assert all("Remove the payment or credit note in Xero" in str(r) for r in refusals)


def test_a_credit_note_allocated_to_an_invoice_is_not_voided(app) -> None:
    """An allocated credit note is PAID in Xero and keeps its allocation: its void is refused
    with what to do, and the invoice it was allocated to is not voided either."""
    bill, note = document("TU2611-7"), credit("TU2611-7-A1")

    async def go() -> tuple[list[ApiError], Row, Row]:
        async with client(app) as xero:
            sink = XeroSink(xero)
            posted = await _posted(sink, [bill, note])
            path = f"/api.xro/2.0/CreditNotes/{posted[1].remote_id}/Allocations"
            allocation = {"Invoice": {"InvoiceID": posted[0].remote_id}, "Amount": "100.00",
                          "Date": "2026-12-05"}  # fmt: skip
            await xero.request("PUT", path, json={"Allocations": [allocation]})
            refusals = []
            for doc, where in ((note, posted[1]), (bill, posted[0])):
                with pytest.raises(ApiError) as refused:
                    await sink.void(doc, where)
                refusals.append(refused.value)
            invoice = await xero.get("Invoices", posted[0].remote_id)
            return refusals, invoice, await xero.get("CreditNotes", posted[1].remote_id)

    refusals, invoice, note_row = run(go())
    assert (note_row["Status"], note_row["RemainingCredit"]) == ("PAID", Decimal("0.00"))
    assert (invoice["Status"], invoice["AmountCredited"], invoice["AmountDue"]) == (
        "AUTHORISED", Decimal("100.00"), Decimal("1250.00"),
    )  # fmt: skip
    assert "(100.00 allocated or refunded of 100.00 USD), status PAID" in str(refusals[0])
    assert "Remove the allocation or refund in Xero" in str(refusals[0])
    assert "(100.00 credited of 1,350.00 USD), status AUTHORISED" in str(refusals[1])


def test_a_contact_archived_since_mapping_is_refused_alone_saying_what_to_do() -> None:
    """Xero refuses a document for an archived contact in words that name neither the contact
    nor a way out ("The contact ... has been archived. The contact must be un-archived before
    creating new invoices or credit notes."): the refusal adds which contact is mapped and what
    to do, and the other document of the request posts."""
    archived = "5e0b7a6c-3d2f-4e1a-9b8c-7d6e5f4a3b2c"
    contacts = [*WORLD["contacts"], {"ContactID": archived, "Name": "Closed Co",
                                     "ContactStatus": "ARCHIVED", "IsCustomer": True}]  # fmt: skip
    app = create_xero_app(
        Scenario(as_of=datetime(2026, 11, 21, tzinfo=UTC), xero={**WORLD, "contacts": contacts}),
        rate_limit=None,
    )
    closed = document("TU2611-9", xero_contact_id=archived, client_id=9, client_name="Closed Co")

    async def go() -> tuple[list, dict, list]:
        async with client(app) as xero:
            sink = XeroSink(xero)
            outcomes = await sink.create([closed, document("TU2611-10")])
            found = await sink.lookup([closed, document("TU2611-10")])
            return outcomes, found, await xero.invoices_by_number(["TU2611-9", "TU2611-10"])

    (refused, posted), found, rows = run(go())
    assert isinstance(refused, Refused) and isinstance(posted, Posted)
    assert "Xero refused it: The contact with the specified contact details has been archived" in (
        refused.reason
    )
    assert f"the Xero contact mapped to Closed Co, {archived}, is archived in Xero: restore it" in (
        refused.reason
    )
    assert "`trueup xero map set --client 9 --contact ID`" in refused.reason
    assert refused.reason.endswith("then `trueup xero refresh` and post again)")
    assert set(found) == {"TU2611-10"}
    assert [r["InvoiceNumber"] for r in rows] == ["TU2611-10"]


AWKWARD = (  # (quantity, unit price, the batch's amount: exact, rounded once half-up)
    ("0.5", "12.3456", "6.17"),  # 6.1728
    ("2.25", "12.3456", "27.78"),  # 27.7776
    ("0.5", "12.33", "6.17"),  # 6.165: a half cent, which Xero may round either way
    ("18.6333", "12.3456", "230.04"),  # a day-prorated quantity: 230.03926848
)


def test_awkward_quantities_and_prices_read_back_as_the_batchs_amounts(app) -> None:
    """Pins what no test covered: quantities of 0.5, 2.25 and 18.6333 at 4-decimal prices, as
    an invoice and as a credit note, read back with every LineAmount, the SubTotal and the
    Total the batch's to the cent. Xero works LineAmount out itself, to 2 places from Quantity
    (4 places) x UnitAmount (4 with unitdp=4), and says nothing of which way a half cent goes
    (developer.xero.com, Rounding in Xero): a line whose product is a half cent goes as 1 x
    its amount."""
    lines = tuple(
        DocumentLine(
            "subscription",
            f"Seats {q} x {p}",
            Decimal(q),
            Decimal(p),
            Decimal(a),
            xero_item_code="MS-SEAT",
            xero_account_code="200",
            xero_tax_type="NONE",
        )
        for q, p, a in AWKWARD
    )
    total = sum((line.amount for line in lines), Decimal(0))
    invoice = document("TU2611-7", str(total), lines=lines)
    back = tuple(replace(line, quantity=-line.quantity, amount=-line.amount) for line in lines)
    note = document("TU2611-7-A1", str(-total), lines=back)

    async def go() -> tuple[list, Row, Row]:
        async with client(app) as xero:
            posted = await XeroSink(xero).create([invoice, note])
            assert all(isinstance(p, Posted) for p in posted)
            return (
                posted,
                await xero.get("Invoices", posted[0].remote_id),
                await xero.get("CreditNotes", posted[1].remote_id),
            )

    _, got, credited = run(go())
    for record in (got, credited):
        amounts = [Decimal(str(line["LineAmount"])) for line in record["LineItems"]]
        assert amounts == [line.amount for line in lines]
        assert Decimal(str(record["SubTotal"])) == Decimal(str(record["Total"])) == total
    assert total == Decimal("270.16") and credited["Type"] == "ACCRECCREDIT"
    assert [Decimal(str(line["Quantity"])) for line in got["LineItems"]] == [
        Decimal("0.5"), Decimal("2.25"), Decimal(1), Decimal("18.6333")
    ]  # fmt: skip
