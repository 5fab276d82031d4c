"""QboSink: the invoice it sends, lookup by DocNumber, 6140 as "already there", void, and no
duplicate whatever faults a run of attempts meets."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal

import httpx
import pytest

from qbo_fixtures import Recorder, faults, qbo_app, qbo_client
from trueup.core.posting.qbo import QboSink, invoice_body, is_voided, request_id
from trueup.core.posting.sink import Document, DocumentLine, Posted
from trueup.core.sources.http import ApiError, RetryPolicy, encode_json
from trueup.core.sources.qbo import QboClient
from trueup.sandbox.transport import SandboxTransport


def document(reference: str = "HB42-0007", **changes: object) -> Document:
    lines = (
        DocumentLine("subscription", "Managed seats, Oct 2026", Decimal(25), Decimal("50.00"),
                     Decimal("1250.00"), qbo_item_id="21"),
        DocumentLine("manual", "Onsite visit", Decimal(3), Decimal("33.333"), Decimal("100.00")),
    )  # fmt: skip
    base = Document(
        reference=reference, client_id=7, client_name="Acme Dental", month="2026-10",
        invoice_date=date(2026, 10, 31), currency="USD", subtotal=Decimal("1350.00"),
        tax=Decimal(0), total=Decimal("1350.00"), note="trueup batch 42, 2026-10, Acme Dental",
        lines=lines, qbo_customer_id="58",
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


async def invoices(client: QboClient, *numbers: str) -> list[dict]:
    return await client.invoices_by_doc_number(numbers)


# --- the invoice sent -----------------------------------------------------------------------


def test_invoice_body_maps_the_document() -> None:
    assert invoice_body(document()) == {
        "CustomerRef": {"value": "58"}, "DocNumber": "HB42-0007", "TxnDate": "2026-10-31",
        "CurrencyRef": {"value": "USD"}, "PrivateNote": "trueup batch 42, 2026-10, Acme Dental",
        "Line": [
            {"DetailType": "SalesItemLineDetail", "Amount": Decimal("1250.00"),
             "Description": "Managed seats, Oct 2026",
             "SalesItemLineDetail": {"ItemRef": {"value": "21"}, "Qty": Decimal(25),
                                     "UnitPrice": Decimal("50.00")}},
            {"DetailType": "SalesItemLineDetail", "Amount": Decimal("100.00"),
             "Description": "Onsite visit",
             "SalesItemLineDetail": {"Qty": Decimal(3), "UnitPrice": Decimal("33.333")}},
        ],
    }  # fmt: skip


def test_a_document_without_a_customer_or_with_a_long_reference_is_refused() -> None:
    with pytest.raises(ApiError, match="Acme Dental has no QuickBooks customer"):
        invoice_body(document(qbo_customer_id=None))
    with pytest.raises(ApiError, match="too long for a QuickBooks DocNumber"):
        invoice_body(document("X" * 22))


def test_request_id_follows_the_reference_and_the_body() -> None:
    body = invoice_body(document())
    same = request_id("HB42-0007", invoice_body(document()))
    changed = request_id("HB42-0007", invoice_body(document(note="another note")))
    assert request_id("HB42-0007", body) == same and same != changed
    assert same.startswith("HB42-0007-") and len(same) == len(changed) == 50
    assert request_id("X" * 21, body).startswith("X" * 21 + "-")


@pytest.mark.parametrize(
    ("invoice", "voided"),
    [({"PrivateNote": "Voided", "TotalAmt": 0}, True),
     ({"PrivateNote": " voided ", "TotalAmt": 0.0}, True),
     ({"PrivateNote": "Voided", "TotalAmt": 12.5}, False),
     ({"PrivateNote": "Voided - trueup batch 42, 2026-10", "TotalAmt": 0}, True),
     ({"PrivateNote": "trueup batch 42", "TotalAmt": 0}, False),
     ({"TotalAmt": 0}, False)],
)  # fmt: skip
def test_what_counts_as_voided(invoice: dict, voided: bool) -> None:
    assert is_voided(invoice) is voided


# --- create and lookup ----------------------------------------------------------------------


async def test_create_posts_one_invoice_and_lookup_finds_it(caplog) -> None:
    caplog.set_level(logging.WARNING, "trueup.sink.qbo")
    async with qbo_client(qbo_app()) as client:
        sink = QboSink(client)
        before = await sink.lookup([document()])
        [posted] = await sink.create([document()])
        after = await sink.lookup([document(), document("HB42-0008")])
        [invoice] = await invoices(client, "HB42-0007")
    assert before == {} and posted == Posted(invoice["Id"], "HB42-0007")
    assert after == {"HB42-0007": posted}
    assert invoice["TotalAmt"] == Decimal("1350") and invoice["PrivateNote"].startswith("trueup")
    assert caplog.records == []
    assert (sink.destination, sink.batch_size) == ("qbo", 1)


async def test_a_total_that_differs_from_the_document_is_logged(caplog) -> None:
    caplog.set_level(logging.WARNING, "trueup.sink.qbo")
    taxed = document(tax=Decimal("27.00"), total=Decimal("1377.00"))
    async with qbo_client(qbo_app()) as client:
        [posted] = await QboSink(client).create([taxed])
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert f"invoice {posted.remote_id} (HB42-0007)" in record.getMessage()
    assert "TotalAmt 1350.0 (expected 1377.00)" in record.getMessage()
    assert "line amounts" not in record.getMessage()


async def test_a_taken_doc_number_means_already_posted() -> None:
    async with qbo_client(qbo_app()) as client:
        sink = QboSink(client)
        [first] = await sink.create([document()])
        # Another body (so another requestid): QuickBooks answers 6140, naming the invoice.
        [second] = await sink.create([document(note="posted again after a crash")])
        [same] = await sink.create([document()])  # same body: requestid replay
        found = await invoices(client, "HB42-0007")
    assert first == second == same and len(found) == 1


async def test_a_doc_number_held_by_a_voided_invoice_needs_a_new_number() -> None:
    async with qbo_client(qbo_app()) as client:
        sink = QboSink(client)
        [posted] = await sink.create([document()])
        await sink.void(document(), posted)
        with pytest.raises(ApiError) as caught:
            await sink.create([document(note="again")])
    message = str(caught.value)
    assert f"DocNumber HB42-0007 (transaction {posted.remote_id}) on a voided invoice" in message
    assert not caught.value.ambiguous


async def test_create_takes_one_document_a_call() -> None:
    async with qbo_client(qbo_app()) as client:
        with pytest.raises(ValueError, match="one document per call"):
            await QboSink(client).create([document(), document("HB42-0008")])


# --- void -----------------------------------------------------------------------------------


async def test_void_is_idempotent_and_hides_the_invoice_from_lookup() -> None:
    async with qbo_client(qbo_app()) as client:
        sink = QboSink(client)
        [posted] = await sink.create([document()])
        await sink.void(document(), posted)
        await sink.void(document(), posted)
        [invoice] = await invoices(client, "HB42-0007")
        assert await sink.lookup([document()]) == {}
    assert invoice["SyncToken"] == "1"  # voided once
    assert is_voided(invoice) and invoice["DocNumber"] == "HB42-0007"
    # As QuickBooks voids: "Voided" before the note it had, amounts and quantities zeroed.
    assert invoice["PrivateNote"] == "Voided - trueup batch 42, 2026-10, Acme Dental"
    items = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert [(line["Amount"], line["SalesItemLineDetail"]["Qty"]) for line in items] == [(0, 0)] * 2


async def test_void_reads_again_after_a_stale_sync_token() -> None:
    app = qbo_app()
    async with qbo_client(app) as client:
        [posted] = await QboSink(client).create([document()])
        current = await client.get_invoice(posted.remote_id)
    transport = Recorder(SandboxTransport(app=app))
    # The first read is an old copy: its SyncToken is stale by the time the void is sent.
    stale = encode_json({"Invoice": {**current, "SyncToken": "9"}}).encode()
    transport.script = [httpx.Response(200, content=stale)]
    async with qbo_client(None, transport=transport) as client:
        await QboSink(client).void(document(), posted)
        voided = await client.get_invoice(posted.remote_id)
    assert is_voided(voided) and voided["SyncToken"] == "1"


async def test_void_refuses_an_invoice_that_is_not_the_documents() -> None:
    async with qbo_client(qbo_app()) as client:
        sink = QboSink(client)
        [posted] = await sink.create([document()])
        with pytest.raises(ApiError, match="has DocNumber 'HB42-0007', not HB42-0099"):
            await sink.void(document("HB42-0099"), posted)
        untouched = await client.get_invoice(posted.remote_id)
    assert not is_voided(untouched)


# --- exactly once under faults --------------------------------------------------------------

PATIENT = RetryPolicy(max_attempts=10, backoff_base=0.001, backoff_cap=0.005, max_retry_after=0.005)


async def post_once(sink: QboSink, doc: Document) -> Posted:
    """What the posting journal does: look up before every create, never resend blindly."""
    for _ in range(60):
        try:
            found = await sink.lookup([doc])
            if doc.reference in found:
                return found[doc.reference]
            [posted] = await sink.create([doc])
            return posted
        except ApiError:
            continue  # ambiguous or not, the next round starts with a lookup
    raise AssertionError(f"{doc.reference} never settled")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_no_duplicate_across_faulty_attempts(seed: int) -> None:
    app = qbo_app()
    documents = [document(f"HB42-{n:04}") for n in range(1, 16)]
    timeout = httpx.Timeout(5.0, read=0.05)
    transport = Recorder(SandboxTransport(app=app))
    async with qbo_client(None, transport=transport, retry=PATIENT, timeout=timeout) as client:
        sink = QboSink(client)
        rates = {"429": 0.08, "500": 0.08, "reset": 0.08, "malformed": 0.05, "lost": 0.12,
                 "late": 0.08, "lost_500": 0.1}  # fmt: skip
        with faults(app, slow_seconds=0.2, seed=seed, **rates):
            posted = [await post_once(sink, doc) for doc in documents]
        stored = await invoices(client, *(doc.reference for doc in documents))
    assert sorted(invoice["DocNumber"] for invoice in stored) == [d.reference for d in documents]
    assert {(p.remote_id, p.remote_number) for p in posted} == {
        (invoice["Id"], invoice["DocNumber"]) for invoice in stored
    }
    assert all(app.injected.get(kind, 0) > 0 for kind in ("lost", "late", "lost-500"))
    # Lookups settled every doubt: QuickBooks' own duplicate check (6140) never had to.
    assert not any(b'"6140"' in body for _, _, body in transport.answers)


async def test_a_credit_is_a_credit_memo_found_again_and_deleted_to_undo() -> None:
    taken_back = tuple(
        replace(line, quantity=-line.quantity, amount=-line.amount) for line in document().lines
    )
    credit = document("HB42-0007-A1", lines=taken_back, subtotal=Decimal("-1350.00"),
                      total=Decimal("-1350.00"), adjusts=("HB42-0007",))  # fmt: skip
    body = invoice_body(credit)
    assert [(line["Amount"], line["SalesItemLineDetail"]["Qty"]) for line in body["Line"]] == [
        (Decimal("1250.00"), Decimal(25)),
        (Decimal("100.00"), Decimal(3)),
    ]  # what the memo credits, as QuickBooks takes it
    async with qbo_client(qbo_app()) as client:
        sink = QboSink(client)
        (posted,) = await sink.create([credit])
        (memo,) = await client.invoices_by_doc_number(["HB42-0007-A1"], "CreditMemo")
        assert memo["Id"] == posted.remote_id and Decimal(str(memo["TotalAmt"])) == Decimal(1350)
        assert await invoices(client, "HB42-0007-A1") == []  # not an invoice
        assert await sink.lookup([credit]) == {"HB42-0007-A1": posted}
        assert await sink.create([credit]) == [posted]  # 6140: already there
        await sink.void(credit, posted)
        await sink.void(credit, posted)  # deleted already: nothing to do
        assert await client.invoices_by_doc_number(["HB42-0007-A1"], "CreditMemo") == []
        assert await sink.lookup([credit]) == {}


async def test_a_line_whose_amount_is_not_qty_times_price_goes_as_one_times_the_amount() -> None:
    prorated = DocumentLine("subscription", "M365 BP", Decimal("1.4"), Decimal("26.40"),
                            Decimal("36.97"), qbo_item_id="21")  # fmt: skip
    doc = document(lines=(prorated,), subtotal=Decimal("36.97"), total=Decimal("36.97"))
    (line,) = invoice_body(doc)["Line"]
    assert line["Amount"] == Decimal("36.97")
    assert line["SalesItemLineDetail"]["Qty"] == 1
    assert line["SalesItemLineDetail"]["UnitPrice"] == Decimal("36.97")
    assert line["Description"] == "M365 BP (1.4 x 26.4)"
    async with qbo_client(qbo_app()) as client:
        (posted,) = await QboSink(client).create([doc])
        sent = invoice_body(doc)
        sent["Line"] = [
            {
                **line,
                "Description": "as it was",
                "SalesItemLineDetail": {
                    **line["SalesItemLineDetail"],
                    "Qty": Decimal("1.4"),
                    "UnitPrice": Decimal("26.40"),
                },
            }
        ]
        sent["DocNumber"] = "HB42-0008"
        with pytest.raises(ApiError, match="Amount is not equal to UnitPrice \\* Qty"):
            await client.create_invoice(sent, "HB42-0008-x")  # as QuickBooks refuses it
    assert posted.remote_number == "HB42-0007"
