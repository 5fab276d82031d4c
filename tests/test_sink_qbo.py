"""QboSink: the invoice it sends, batches of 30 through /batch, lookup by DocNumber, 6140 as
"already there", one refused alone, void, and no duplicate whatever faults a run meets."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal

import httpx
import pytest

from qbo_fixtures import Recorder, faults, qbo_app, qbo_client
from trueup.core.posting.qbo import (
    QboSink,
    batch_items,
    batch_request_id,
    invoice_body,
    is_voided,
)
from trueup.core.posting.sink import Document, DocumentLine, Posted, Refused
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


def credit_memo(reference: str) -> Document:
    taken_back = tuple(
        replace(line, quantity=-line.quantity, amount=-line.amount) for line in document().lines
    )
    return document(reference, lines=taken_back, subtotal=Decimal("-1350.00"),
                    total=Decimal("-1350.00"), adjusts=(reference.rsplit("-", 1)[0],))  # fmt: skip


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


def request_id(*documents: Document) -> str:
    return batch_request_id(documents, batch_items(documents))


def test_the_batch_request_id_follows_the_references_and_the_bodies() -> None:
    pair = [document("HB42-0007"), document("HB42-0008")]
    same = request_id(*pair)
    assert request_id(document("HB42-0007"), document("HB42-0008")) == same
    others = {
        request_id(document("HB42-0007"), document("HB42-0008", note="another note")),
        request_id(document("HB42-0008"), document("HB42-0007")),
        request_id(document("HB42-0007")),
        request_id(*pair, document("HB42-0009")),
    }
    assert same not in others and len(others) == 4
    # Intuit: a batch's requestid is at most 36 characters (its bIds then at most 10).
    assert same.startswith("HB42-0007-") and len(same) == 36
    assert len(request_id(document("X" * 21))) == 36
    items = batch_items(pair)
    assert [(item["bId"], item["operation"], list(item)[2]) for item in items] == [
        ("0", "create", "Invoice"), ("1", "create", "Invoice")]  # fmt: skip
    assert items[1]["Invoice"] == invoice_body(pair[1])


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
    assert (sink.destination, sink.batch_size) == ("qbo", 30)


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
        refused, fresh = await sink.create([document(note="again"), document("HB42-0008")])
    assert isinstance(refused, Refused) and isinstance(fresh, Posted)
    assert f"DocNumber HB42-0007 (transaction {posted.remote_id}) on a voided invoice" in (
        refused.reason
    )


async def test_thirty_documents_go_in_one_request_invoices_and_credit_memos_mixed() -> None:
    transport = Recorder(SandboxTransport(app=qbo_app()))
    docs = [document(f"HB42-{n:04}") for n in range(1, 30)] + [credit_memo("HB42-0001-A1")]
    async with qbo_client(None, transport=transport) as client:
        sink = QboSink(client)
        posted = await sink.create(docs)
        with pytest.raises(ValueError, match="at most 30 per call"):
            await sink.create([*docs, document("HB42-0031")])
        found = await sink.lookup(docs)
        stored = await invoices(client, *(d.reference for d in docs))
        (memo,) = await client.invoices_by_doc_number(["HB42-0001-A1"], "CreditMemo")
    writes = [r for r in transport.api_requests() if r.method == "POST"]
    assert [r.url.path.rsplit("/", 1)[1] for r in writes] == ["batch", "batch"]  # and lookup
    assert "requestid" in writes[0].url.params and "requestid" not in writes[1].url.params
    assert [p.remote_number for p in posted] == [d.reference for d in docs]
    assert found == {d.reference: p for d, p in zip(docs, posted, strict=True)}
    assert len(stored) == 29 and memo["Id"] == posted[-1].remote_id


async def test_one_invalid_document_among_several_is_refused_alone() -> None:
    stale = document("HB42-0008", qbo_customer_id="999", client_name="Gone Co")
    closed = document("HB42-0009", qbo_customer_id="60")  # an inactive customer
    docs = [document("HB42-0007"), stale, closed, document("HB42-0010")]
    async with qbo_client(qbo_app()) as client:
        outcomes = await QboSink(client).create(docs)
        stored = await invoices(client, *(d.reference for d in docs))
    first, refused, also_refused, last = outcomes
    assert isinstance(first, Posted) and isinstance(last, Posted)
    assert isinstance(refused, Refused) and isinstance(also_refused, Refused)
    assert refused.reason.startswith(
        "QuickBooks refused Invoice HB42-0008 for Gone Co: error 2500: Invalid Reference Id"
    )
    assert "Customer 999 not found" in refused.reason
    assert sorted(i["DocNumber"] for i in stored) == ["HB42-0007", "HB42-0010"]


async def test_a_taken_doc_number_in_a_batch_is_found_by_lookup() -> None:
    transport = Recorder(SandboxTransport(app=qbo_app()))
    async with qbo_client(None, transport=transport) as client:
        sink = QboSink(client)
        [earlier] = await sink.create([document("HB42-0008")])  # as if a lost answer's
        outcomes = await sink.create([document("HB42-0007"), document("HB42-0008", note="2nd")])
        stored = await invoices(client, "HB42-0007", "HB42-0008")
    assert outcomes[1] == earlier and isinstance(outcomes[0], Posted)
    assert len(stored) == 2
    assert sum(b'"6140"' in body for _, _, body in transport.answers) == 1


async def test_an_item_answered_with_neither_the_invoice_nor_a_refusal_is_ambiguous() -> None:
    transport = Recorder(SandboxTransport(app=qbo_app()))
    system = {"Fault": {"Error": [{"Message": "Internal", "code": "10000"}], "type": "SystemFault"}}
    async with qbo_client(None, transport=transport) as client:
        await client.customers()  # the token first
        for second in ({"bId": "1", **system}, {"bId": "1", "QueryResponse": {}}):
            ours = {"Id": "1", "DocNumber": "HB42-0007", "CustomerRef": {"value": "58"}}
            answer = {"BatchItemResponse": [{"bId": "0", "Invoice": ours}, second]}
            transport.script = [httpx.Response(200, json=answer)]
            with pytest.raises(ApiError) as caught:
                await QboSink(client).create([document("HB42-0007"), document("HB42-0008")])
            assert caught.value.ambiguous and "HB42-0008 in a batch of 2" in str(caught.value)


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


async def posted_one(*script: dict) -> tuple[Posted, dict, Recorder]:
    """One invoice created in a fresh simulator; its row; a transport to that simulator whose
    first answers are the `script` given each the invoice."""
    app = qbo_app()
    async with qbo_client(app) as client:
        [posted] = await QboSink(client).create([document()])
        current = await client.get_invoice(posted.remote_id)
    transport = Recorder(SandboxTransport(app=app))
    transport.script = [
        httpx.Response(200, content=encode_json({"Invoice": {**current, **changes}}).encode())
        for changes in script
    ]
    return posted, current, transport


async def test_void_reads_again_after_a_stale_sync_token() -> None:
    # The first read is an old copy: its SyncToken is stale by the time the void is sent.
    posted, _, transport = await posted_one({"SyncToken": "9"})
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


async def post_all(sink: QboSink, docs: list[Document]) -> tuple[dict[str, Posted], int]:
    """What the posting journal does: look up first, send what is not there in batches, and
    after a failure look up again, never resend blindly. Returns what posted and how many
    calls were ambiguous."""
    posted: dict[str, Posted] = {}
    ambiguous = 0
    for _ in range(60):
        try:
            posted |= await sink.lookup([d for d in docs if d.reference not in posted])
            left = [d for d in docs if d.reference not in posted]
            if not left:
                return posted, ambiguous
            for start in range(0, len(left), sink.batch_size):
                part = left[start : start + sink.batch_size]
                for doc, outcome in zip(part, await sink.create(part), strict=True):
                    assert isinstance(outcome, Posted), outcome
                    posted[doc.reference] = outcome
        except ApiError as error:
            ambiguous += error.ambiguous  # the next round starts with a lookup
    raise AssertionError(f"{len(docs) - len(posted)} never settled")


@pytest.mark.parametrize("seed", [1, 6, 10])  # seeds that lose answers in all three ways
async def test_no_duplicate_across_faulty_attempts(seed: int) -> None:
    app = qbo_app()
    documents = [document(f"HB42-{n:04}") for n in range(1, 46)]  # two batches
    timeout = httpx.Timeout(5.0, read=0.05)
    transport = Recorder(SandboxTransport(app=app))
    async with qbo_client(None, transport=transport, retry=PATIENT, timeout=timeout) as client:
        sink = QboSink(client)
        rates = {"429": 0.08, "500": 0.08, "reset": 0.08, "malformed": 0.05, "lost": 0.12,
                 "late": 0.08, "lost_500": 0.1}  # fmt: skip
        with faults(app, slow_seconds=0.2, seed=seed, **rates):
            posted, _ = await post_all(sink, documents)
        stored = await invoices(client, *(doc.reference for doc in documents))
    assert sorted(invoice["DocNumber"] for invoice in stored) == [d.reference for d in documents]
    assert {(p.remote_id, p.remote_number) for p in posted.values()} == {
        (invoice["Id"], invoice["DocNumber"]) for invoice in stored
    }
    assert all(app.injected.get(kind, 0) > 0 for kind in ("lost", "late", "lost-500"))
    # Lookups settled every doubt: QuickBooks' own duplicate check (6140) never had to.
    assert not any(b'"6140"' in body for _, _, body in transport.answers)


@pytest.mark.parametrize("fault", ["lost", "late", "lost_500"])
async def test_a_lost_answer_to_a_batch_leaves_each_invoice_exactly_once(fault: str) -> None:
    app = qbo_app()
    docs = [document(f"HB42-{n:04}") for n in range(1, 31)] + [credit_memo("HB42-0001-A1")]
    timeout = httpx.Timeout(5.0, read=0.1)
    transport = Recorder(SandboxTransport(app=app))
    async with qbo_client(None, transport=transport, timeout=timeout) as client:
        sink = QboSink(client)
        await sink.lookup(docs)  # the token first: then every batch's answer is lost
        with faults(app, slow_seconds=0.3, **{fault: 1.0}), pytest.raises(ApiError) as lost:
            await sink.create(docs[:30])
        assert lost.value.ambiguous  # the journal's UNKNOWN: settled by lookup
        posted, ambiguous = await post_all(sink, docs)  # the journal's next round
        stored = await invoices(client, *(d.reference for d in docs))
        memos = await client.invoices_by_doc_number(["HB42-0001-A1"], "CreditMemo")
    assert sorted(i["DocNumber"] for i in stored) == [d.reference for d in docs[:30]]
    assert len(memos) == 1 and ambiguous == 0
    assert {p.remote_id for p in posted.values()} == {i["Id"] for i in [*stored, *memos]}
    batches = [r for r in transport.api_requests() if "requestid" in r.url.params]
    assert len(batches) == 2  # the lost one, then the credit memo alone: nothing sent twice


async def test_a_credit_is_a_credit_memo_found_again_and_deleted_to_undo() -> None:
    credit = credit_memo("HB42-0007-A1")
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
    assert line["Description"] == "M365 BP (1.4 x 26.4, rounded)"  # 1.4 x 26.40 is 36.96
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


async def test_a_void_answered_but_not_done_is_not_recorded_as_voided() -> None:
    """From a posting-answers review: QuickBooks answering the void 200 with the invoice still
    live was taken as voided, so the month could be posted again beside a live invoice."""
    posted, _, transport = await posted_one({}, {"SyncToken": "1"})  # the read, the void's answer
    async with qbo_client(None, transport=transport) as client:
        with pytest.raises(ApiError) as caught:
            await QboSink(client).void(document(), posted)
        still = await client.get_invoice(posted.remote_id)
    assert not is_voided(still) and not caught.value.ambiguous
    assert f"void of invoice {posted.remote_id} (HB42-0007) but still shows it live" in str(
        caught.value
    )


@pytest.mark.parametrize(
    "answered",
    [[{"Id": "7", "DocNumber": "HB42-0099"}, {"Id": "8", "DocNumber": "HB42-0008"}],
     [{"Id": "0", "DocNumber": "HB42-0007"}, {"Id": "8", "DocNumber": "HB42-0008"}],
     [{"Id": "7\x1b[2J", "DocNumber": "HB42-0007"}, {"Id": "8", "DocNumber": "HB42-0008"}],
     [{"Id": "7", "DocNumber": "HB42-0007"}, {"Id": "7", "DocNumber": "HB42-0008"}]],
    ids=["another-doc-number", "id-0", "id-with-controls", "one-id-for-two"],
)  # fmt: skip
async def test_an_answer_for_another_invoice_or_without_a_usable_id_is_not_posted(
    answered: list[dict],
) -> None:
    """From a posting-answers review: an item answered with another DocNumber, an Id that is
    none (0, control characters) or one Id for two invoices was recorded POSTED under it."""
    transport = Recorder(SandboxTransport(app=qbo_app()))
    items = [
        {"bId": str(n), "Invoice": {"CustomerRef": {"value": "58"}, **invoice}}
        for n, invoice in enumerate(answered)
    ]
    transport.script = [httpx.Response(200, json={"BatchItemResponse": items})]
    async with qbo_client(None, transport=transport) as client:
        with pytest.raises(ApiError) as caught:
            await QboSink(client).create([document("HB42-0007"), document("HB42-0008")])
    assert caught.value.ambiguous and "settled by look" in str(caught.value)


@pytest.mark.parametrize("identifier", [None, "0", "7\x1b[2J"])
async def test_a_lookup_finding_ours_without_a_usable_id_stops(identifier: str | None) -> None:
    """From a posting-answers review: an invoice of ours answered without an Id ended in
    KeyError; one with a null Id was recorded POSTED as the id "None"."""
    transport = Recorder(SandboxTransport(app=qbo_app()))
    row = {"Id": identifier, "DocNumber": "HB42-0007", "TotalAmt": 1350}
    transport.script = [httpx.Response(200, json={"QueryResponse": {"Invoice": [row]}})]
    async with qbo_client(None, transport=transport) as client:
        with pytest.raises(ApiError, match="'HB42-0007', ours but without a usable id"):
            await QboSink(client).lookup([document()])


@pytest.mark.parametrize("deleted_meanwhile", [False, True])
async def test_a_credit_memo_delete_answered_without_deleted_is_read_back(
    deleted_meanwhile: bool,
) -> None:
    """Left by the posting-answers review: the answer to a credit memo's delete was not read,
    so one QuickBooks answered 200 but kept was recorded voided (and the credit could be
    posted again beside it). Now an answer without `"status": "Deleted"` is done only if the
    memo is gone when read back."""
    credit = credit_memo("HB42-0007-A1")
    app = qbo_app()
    async with qbo_client(app) as client:
        (posted,) = await QboSink(client).create([credit])
        memo = await client.get_credit_memo(posted.remote_id)
        if deleted_meanwhile:
            await client.delete_credit_memo(posted.remote_id, str(memo["SyncToken"]))
    transport = Recorder(SandboxTransport(app=app))
    transport.script = [
        httpx.Response(200, content=encode_json({"CreditMemo": memo}).encode()),  # the read
        httpx.Response(200, content=encode_json({"CreditMemo": memo}).encode()),  # the delete
    ]
    async with qbo_client(None, transport=transport) as client:
        if deleted_meanwhile:
            await QboSink(client).void(credit, posted)
        else:
            with pytest.raises(ApiError, match=r"delete of credit memo .* but still has it"):
                await QboSink(client).void(credit, posted)
        left = await client.invoices_by_doc_number(["HB42-0007-A1"], "CreditMemo")
    assert len(left) == (0 if deleted_meanwhile else 1)
    assert transport.api_requests()[2].method == "GET"  # read back after the answer


async def test_an_invoice_with_our_doc_number_for_another_customer_stops_lookup() -> None:
    """An invoice with trueup's DocNumber held by another customer was taken as posted."""
    async with qbo_client(qbo_app()) as client:
        await QboSink(client).create([document(qbo_customer_id="58")])
        with pytest.raises(ApiError, match="for customer '58', not Acme Dental's \\(59\\)"):
            await QboSink(client).lookup([document(qbo_customer_id="59")])


async def test_an_invoice_a_payment_is_applied_to_is_not_voided_and_the_void_says_why() -> None:
    """QuickBooks will not void an invoice a payment settles (LanternOps/breeze#5180): the void
    is refused before it is sent, naming the payment and what to do, and QuickBooks still holds
    the invoice live with its balance."""
    async with qbo_client(qbo_app()) as client:
        sink = QboSink(client)
        [posted] = await sink.create([document()])
        assert isinstance(posted, Posted)
        payment = {
            "CustomerRef": {"value": "58"},
            "TotalAmt": 500,
            "Line": [
                {"Amount": 500, "LinkedTxn": [{"TxnId": posted.remote_id, "TxnType": "Invoice"}]}
            ],
        }
        answer = await client.request(
            "POST", f"/v3/company/{client.realm_id}/payment", json=payment
        )
        paid = await client.get_invoice(posted.remote_id)
        # QuickBooks' own refusal of the void, sent anyway.
        with pytest.raises(ApiError, match=r"has payment \d+ applied to it and cannot be voided"):
            await client.void_invoice(posted.remote_id, str(paid["SyncToken"]))
        with pytest.raises(ApiError) as refused:
            await sink.void(document(), posted)
        [invoice] = await invoices(client, "HB42-0007")
        found = await sink.lookup([document()])
    payment_id = answer["Payment"]["Id"]
    assert refused.value.kind == "bad_request"  # the journal's REJECTED, with these words
    assert str(refused.value).startswith(
        f"QuickBooks invoice {posted.remote_id} (HB42-0007) has payment {payment_id} applied "
        "(balance 850.00 of 1,350.00 USD): QuickBooks does not void an invoice a payment is "
        "applied to. Unapply or delete the payment in QuickBooks"
    )
    assert not is_voided(invoice) and Decimal(str(invoice["Balance"])) == Decimal(850)
    assert found["HB42-0007"].remote_id == posted.remote_id


async def test_a_customer_made_inactive_since_mapping_is_refused_alone_saying_what_to_do() -> None:
    """QuickBooks refuses a sale for an inactive customer with 2500 "Something you're trying to
    use has been made inactive" (QuickBooks-V3-PHP-SDK issue 110), naming neither: the refusal
    names the mapped customer and what to do, and the other document of the batch posts."""
    async with qbo_client(qbo_app()) as client:
        sink = QboSink(client)
        outcomes = await sink.create([document("HB42-0008", qbo_customer_id="60"), document()])
        found = await sink.lookup([document("HB42-0008", qbo_customer_id="60"), document()])
    refused, posted = outcomes
    assert isinstance(refused, Refused) and isinstance(posted, Posted)
    assert "has been made inactive" in refused.reason
    assert "the customer mapped to Acme Dental, 60, or an item of its lines is inactive" in (
        refused.reason
    )
    assert "`trueup qbo refresh` and post again" in refused.reason
    assert set(found) == {"HB42-0007"}


def _not_found(detail: str) -> httpx.Response:
    fault = {"Error": [{"Message": "Object Not Found", "Detail": detail, "code": "610"}],
             "type": "ValidationFault"}  # fmt: skip
    return httpx.Response(400, json={"Fault": fault, "time": "2026-11-30T10:00:00.000-08:00"})


@pytest.mark.parametrize("answered_at", ["read", "delete"])
async def test_a_credit_memo_delete_answered_610_is_read_back_not_taken_as_deleted(
    answered_at: str,
) -> None:
    """QuickBooks answers 610 "Object Not Found" for a memo gone, and also for "Something
    you're trying to use has been made inactive" (QuickBooks-V3-DotNET-SDK issue 353): trueup
    took every 610 as deleted already and recorded the void of a memo QuickBooks still had.
    Now the memo is read back first: still there, the void is refused saying why and what to
    do; gone, it is done."""
    credit = credit_memo("HB42-0007-A1")
    app = qbo_app()
    async with qbo_client(app) as client:
        (posted,) = await QboSink(client).create([credit])
        assert isinstance(posted, Posted)
        memo = await client.get_credit_memo(posted.remote_id)
    inactive = _not_found(
        "Object Not Found : Something you're trying to use has been made inactive. Check the "
        "fields with accounts, customers, items, vendors or employees."
    )
    transport = Recorder(SandboxTransport(app=app))
    read = httpx.Response(200, content=encode_json({"CreditMemo": memo}).encode())
    transport.script = [inactive] if answered_at == "read" else [read, inactive]
    async with qbo_client(None, transport=transport) as client:
        with pytest.raises(ApiError) as caught:
            await QboSink(client).void(credit, posted)
        left = await client.invoices_by_doc_number(["HB42-0007-A1"], "CreditMemo")
    assert [row["Id"] for row in left] == [posted.remote_id]  # QuickBooks still has it
    assert caught.value.kind == "bad_request" and not caught.value.ambiguous
    said = str(caught.value)
    assert "610: Object Not Found (Object Not Found : Something you're trying" in said
    assert f"on deleting credit memo {posted.remote_id} (HB42-0007-A1) but still has it" in said
    assert "make it active in QuickBooks (or delete the memo there)" in said
    assert said.endswith("then run `trueup void` again to record it")

    # Gone for real: the same 610 is the memo deleted already, and the void is done.
    async with qbo_client(app) as client:
        await client.delete_credit_memo(posted.remote_id, str(memo["SyncToken"]))
    transport.script = [_not_found(f"Object Not Found : CreditMemo {posted.remote_id} not found.")]
    async with qbo_client(None, transport=transport) as client:
        await QboSink(client).void(credit, posted)
        assert await client.invoices_by_doc_number(["HB42-0007-A1"], "CreditMemo") == []


AWKWARD = (  # (quantity, unit price, the batch's amount: exact, rounded once half-up)
    ("0.5", "12.3456", "6.17"),  # 6.1728
    ("2.25", "12.3456", "27.78"),  # 27.7776
    ("0.5", "12.33", "6.17"),  # 6.165: a half cent, which QuickBooks may round either way
    ("2.25", "0.0222", "0.05"),  # 0.04995: no half cent, so it goes as it is
)


async def test_awkward_quantities_and_prices_read_back_as_the_batchs_amounts() -> None:
    """Pins what no test covered: quantities of 0.5 and 2.25 at 4-decimal prices, as an
    invoice and as a credit memo, read back with every line's Amount and the TotalAmt the
    batch's to the cent, and each line's Qty x UnitPrice rounding to its Amount whichever way a
    half cent goes (QuickBooks refuses an Amount that is not Qty x UnitPrice)."""
    lines = tuple(
        DocumentLine(
            "subscription", f"Seats {q} x {p}", Decimal(q), Decimal(p), Decimal(a), qbo_item_id="21"
        )
        for q, p, a in AWKWARD
    )
    total = sum((line.amount for line in lines), Decimal(0))
    invoice = document(lines=lines, subtotal=total, total=total)
    back = tuple(replace(line, quantity=-line.quantity, amount=-line.amount) for line in lines)
    memo = document("HB42-0007-A1", lines=back, subtotal=-total, total=-total)
    async with qbo_client(qbo_app()) as client:
        outcomes = await QboSink(client).create([invoice, memo])
        assert all(isinstance(o, Posted) for o in outcomes)
        (got,) = await invoices(client, "HB42-0007")
        (credited,) = await client.invoices_by_doc_number(["HB42-0007-A1"], "CreditMemo")
    for record in (got, credited):
        items = [line for line in record["Line"] if line["DetailType"] == "SalesItemLineDetail"]
        assert [Decimal(str(line["Amount"])) for line in items] == [line.amount for line in lines]
        for line in items:
            detail = line["SalesItemLineDetail"]
            product = Decimal(str(detail["Qty"])) * Decimal(str(detail["UnitPrice"]))
            for rounding in ("ROUND_HALF_UP", "ROUND_HALF_EVEN"):
                assert product.quantize(Decimal("0.01"), rounding) == Decimal(str(line["Amount"]))
        assert Decimal(str(record["TotalAmt"])) == total == Decimal("40.17")
    # As they are where any rounding of the product gives the amount; the half cent as 1 x it.
    details = [line["SalesItemLineDetail"] for line in got["Line"][:4]]
    assert [(detail["Qty"], detail["UnitPrice"]) for detail in details] == [
        (Decimal("0.5"), Decimal("12.3456")), (Decimal("2.25"), Decimal("12.3456")),
        (1, Decimal("6.17")), (Decimal("2.25"), Decimal("0.0222")),
    ]  # fmt: skip
    assert got["Line"][2]["Description"] == "Seats 0.5 x 12.33 (0.5 x 12.33, rounded)"
