"""The halo-invoice sink through the posting journal, against the demo's Halo simulator.

A mapping gone stale (a Halo client or item deleted after it was mapped) fails as it would at a
real tenant: the entry ends REJECTED, naming what is missing. A void the tenant does not take
stays pending with what to do, and the next `trueup void` records it once done by hand.
"""

import asyncio
import json
from datetime import date

import httpx
import pytest

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.core.batch.approval import approve
from trueup.core.batch.build import build_batch
from trueup.core.posting.halo_invoice import HaloInvoiceSink
from trueup.core.posting.plan import plan_posting, queue_posting, queue_void
from trueup.core.posting.run import RunReport, run_posting
from trueup.core.posting.sink import Document
from trueup.core.sources.halo import HaloClient
from trueup.sandbox.generate import DEMO_PATH
from trueup.sandbox.halo import create_halo_app
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.transport import SandboxTransport

TODAY = date(2026, 11, 21)
MONTH = "2026-11"


def demo_halo(table: str | None = None, row_id: int | None = None) -> httpx.AsyncBaseTransport:
    """The demo's Halo, with one row of `table` ("clients", "items") deleted if asked."""
    data = json.loads(DEMO_PATH.read_text())
    if table:
        data["halo"][table] = [row for row in data["halo"][table] if row["id"] != row_id]
    return SandboxTransport(app=create_halo_app(parse_scenario(data), rate_limit=None))


def halo_client(transport: httpx.AsyncBaseTransport) -> HaloClient:
    credentials = parse_scenario(json.loads(DEMO_PATH.read_text())).credentials_for("halo")
    base = "http://halo.test"
    secrets = credentials["client_id"], credentials["client_secret"]
    return HaloClient(base, f"{base}/auth", *secrets, transport=transport, rate=None)


class VoidsNothing(httpx.AsyncBaseTransport):
    """A tenant that takes neither way of voiding: it ignores `voided` and has no /void route."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/void"):
            return httpx.Response(404, json={"Message": "No HTTP resource was found."})
        if request.method == "POST" and b'"voided"' in request.content:
            return httpx.Response(200, json={"id": json.loads(request.content)[0]["id"]})
        return await self.inner.handle_async_request(request)


@pytest.fixture
def queued(db) -> tuple[str, Document]:
    """The batch, and its first approved invoice with an item line, queued alone."""
    batch_id = build_batch(db, MONTH, today=TODAY).batch_id
    approve(db, batch_id, by="alice")
    ready = plan_posting(db, batch_id, "halo-invoice", today=TODAY).ready
    document = next(
        p.document for p in ready if p.document and any(x.halo_item_id for x in p.document.lines)
    )
    plan = plan_posting(db, batch_id, "halo-invoice", today=TODAY, clients=[document.client_id])
    queue_posting(db, plan, by="alice")
    return batch_id, document


def post(db, batch_id: str, transport: httpx.AsyncBaseTransport, action: str = "create"):
    async def run() -> RunReport:
        async with halo_client(transport) as halo:
            sink = HaloInvoiceSink(halo)
            return await run_posting(db, sink, batch_id, action=action, backup=False)

    return asyncio.run(run())


def test_a_client_gone_from_halo_is_rejected_naming_it(db, queued) -> None:
    batch_id, document = queued
    report = post(db, batch_id, demo_halo("clients", document.client_id))
    (entry,) = report.entries
    assert report.rejected == 1 and entry.state == "REJECTED"
    assert f"{document.client_name} (Halo client {document.client_id})" in (entry.error or "")
    assert f"No Client with id {document.client_id}" in (entry.error or "")
    assert "stale mapping" in (entry.error or "")


def test_an_item_gone_from_halo_is_rejected_naming_it(db, queued) -> None:
    batch_id, document = queued
    item_id = next(line.halo_item_id for line in document.lines if line.halo_item_id)
    assert item_id is not None
    report = post(db, batch_id, demo_halo("items", item_id))
    (entry,) = report.entries
    assert report.rejected == 1 and entry.state == "REJECTED"
    assert f"No Item with id {item_id}" in (entry.error or "")
    assert str(item_id) in (entry.error or "").split(":")[0]  # named before Halo's own words


def test_a_void_the_tenant_does_not_take_is_recorded_once_done_by_hand(db, queued) -> None:
    batch_id, document = queued
    halo = demo_halo()
    (posted,) = post(db, batch_id, halo).entries
    queue_void(db, batch_id, "halo-invoice", [document.client_id], by="alice")
    refused = post(db, batch_id, VoidsNothing(halo), action="void")
    (pending,) = refused.entries
    assert pending.state == "PENDING" and "did not void invoice" in (pending.error or "")
    assert refused.stopped and "trueup void" in refused.stopped

    async def void_by_hand() -> None:  # in Halo's own screens
        async with halo_client(halo) as client:
            await client.set_invoice_voided(int(posted.remote_id or 0))

    asyncio.run(void_by_hand())
    again = post(db, batch_id, VoidsNothing(halo), action="void")
    (voided,) = again.entries
    assert again.complete and voided.state == "POSTED" and voided.remote_id == posted.remote_id
