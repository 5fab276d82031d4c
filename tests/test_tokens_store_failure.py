"""A Xero refresh token that could not be stored: the message says how long there is to mend
it, and within that time the token stored before still connects (Xero's 30-minute grace)."""

from __future__ import annotations

import pytest

from halo_fixtures import FakeClock
from trueup.core.sources.http import ApiError
from trueup.core.sources.xero import XeroClient
from trueup.sandbox.transport import SandboxTransport
from xero_fixtures import BASE, TENANT, xero_app


async def test_a_failed_store_says_the_time_left_to_mend_it() -> None:
    clock = FakeClock()
    app = xero_app(clock=clock)
    stored = {"token": "RT-seed"}

    def failing(new: str) -> None:
        raise OSError("No space left on device")

    def client(on_refresh_token) -> XeroClient:
        return XeroClient(
            BASE, f"{BASE}/identity", "PKCE-client", refresh_token=stored["token"],
            on_refresh_token=on_refresh_token, reload_refresh_token=lambda: stored["token"],
            tenant_id=TENANT, transport=SandboxTransport(app=app), rate=None,
        )  # fmt: skip

    async with client(failing) as broken:
        with pytest.raises(ApiError) as caught:
            await broken.organisation()
    assert str(caught.value) == (
        "Xero issued a new refresh token but storing it failed (OSError: No space left on "
        "device); nothing was sent with it: fix that and run again within 30 minutes, while "
        "Xero still takes the one stored before (later, connect again)"
    )
    clock.now += 29 * 60  # mended in time: the token stored before still connects
    async with client(lambda new: stored.update(token=new)) as mended:
        await mended.organisation()
    assert stored["token"] != "RT-seed"
