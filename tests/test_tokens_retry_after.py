"""A Retry-After longer than trueup waits: the wait is capped, and said while waiting and when
giving up; an absurd one, or an absurd token lifetime, is read at once."""

from __future__ import annotations

import logging
import subprocess
import sys

import httpx
import pytest

from test_http_client import Sleeps, Wire, client_for
from trueup.core.sources.http import ApiError


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


async def test_a_retry_after_past_the_cap_is_said_and_named_on_giving_up(
    sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    wire = Wire(*[httpx.Response(429, headers={"Retry-After": "86400"})] * 6)
    with caplog.at_level(logging.WARNING, logger="trueup.http"):
        async with client_for(wire, sleeps) as pax8:
            with pytest.raises(ApiError) as caught:
                await pax8.request("GET", "/companies")
    assert sleeps.waits == [300.0] * 5  # capped
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [  # once, not at every retry
        "Pax8 asks to wait 24 hours before the next request (Retry-After); trueup waits "
        "5 minutes, its longest, then tries again"
    ]
    assert str(caught.value) == (
        "Pax8 kept rate-limiting after 6 attempts (429): it asks to wait 24 hours "
        "(Retry-After): try again then"
    )


async def test_a_retry_after_within_the_cap_is_waited_unsaid(
    sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    wire = Wire(*[httpx.Response(429, headers={"Retry-After": "60"})] * 6)
    with caplog.at_level(logging.WARNING, logger="trueup.http"):
        async with client_for(wire, sleeps) as pax8:
            with pytest.raises(ApiError) as caught:
                await pax8.request("GET", "/companies")
    assert all(60 <= wait <= 60.5 for wait in sleeps.waits)
    assert not caplog.records
    assert str(caught.value).endswith("(429): wait a few minutes and try again")


def test_an_absurd_retry_after_is_read_at_once() -> None:
    # 1e99999999 seconds was made an int of a hundred million digits: minutes of CPU per answer.
    script = (
        "import httpx\n"
        "from trueup.core.sources.http import retry_after\n"
        "print(retry_after(httpx.Response(429, headers={'Retry-After': '1e99999999'})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == str(366 * 86400)


def test_an_absurd_token_lifetime_is_read_at_once() -> None:
    # A token endpoint's expires_in "1e99999999" was made an int before the first request.
    script = (
        "import asyncio, httpx\n"
        "from trueup.core.sources.pax8 import Pax8Client\n"
        "def answer(request):\n"
        "    if request.url.path.endswith('/token'):\n"
        "        body = {'access_token': 'a', 'expires_in': '1e99999999'}\n"
        "        return httpx.Response(200, json=body)\n"
        "    return httpx.Response(200, json={'id': 'c1'})\n"
        "async def main():\n"
        "    async with Pax8Client('https://api.pax8.test/v1', 'id', 'secret', rate=None,\n"
        "                          transport=httpx.MockTransport(answer)) as pax8:\n"
        "        print(await pax8.request('GET', '/companies/c1'))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == "{'id': 'c1'}"
