"""SandboxSinks: the demo's sinks reach the simulators with the scenario's credentials, and keep
QuickBooks' rotating refresh token from one sink to the next."""

from datetime import date
from decimal import Decimal

import pytest

from trueup.core.posting.plan import PostingError
from trueup.core.posting.sandbox import SandboxSinks
from trueup.core.posting.sink import Document, DocumentLine
from trueup.sandbox.generate import DEMO_PATH
from trueup.sandbox.scenario import load_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports

URLS = {"halo": "http://halo.sandbox", "halo_auth": "http://halo.sandbox/auth",
        "qbo": "http://qbo.sandbox"}  # fmt: skip


@pytest.fixture
def sinks():
    scenario = load_scenario(DEMO_PATH)
    sims = build_simulators(scenario, rate_limits=False)
    credentials = {s: scenario.credentials_for(s) for s in ("halo", "qbo")}
    return SandboxSinks(URLS, credentials, transports=in_process_transports(sims))


def document(reference, **ids):
    line = DocumentLine("manual", "Onsite visit", Decimal(2), Decimal("50.00"), Decimal("100.00"))
    return Document(
        reference=reference, client_id=117, client_name="Albright & Mercer Architects",
        month="2026-11", invoice_date=date(2026, 11, 30), currency="USD",
        subtotal=Decimal("100.00"), tax=Decimal(0), total=Decimal("100.00"),
        note="trueup test", lines=(line,), **ids,
    )  # fmt: skip


async def test_a_halo_invoice_posts_into_the_sandbox_and_is_found_again(sinks):
    async with sinks("halo-invoice") as sink:
        assert sink.destination == "halo-invoice"
        assert await sink.lookup([document("TU2611-117")]) == {}
        [posted] = await sink.create([document("TU2611-117")])
    async with sinks("halo-invoice") as sink:
        found = await sink.lookup([document("TU2611-117")])
    assert found["TU2611-117"].remote_id == posted.remote_id


async def test_quickbooks_sinks_pass_the_rotated_refresh_token_on(sinks):
    first = sinks._refresh_token
    async with sinks("qbo") as sink:
        [posted] = await sink.create([document("TU2611-117", qbo_customer_id="1")])
    rotated = sinks._refresh_token
    assert rotated != first
    async with sinks("qbo") as sink:  # refreshes with the rotated token
        found = await sink.lookup([document("TU2611-117", qbo_customer_id="1")])
    assert found["TU2611-117"].remote_id == posted.remote_id
    assert sinks._refresh_token not in (first, rotated)


def test_an_unknown_destination_is_refused(sinks):
    with pytest.raises(PostingError, match="unknown destination"):
        sinks("sage")
