"""Transport hardening of the API clients: https only off loopback, TLS verified, bodies bounded."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from trueup.cli import app
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiError, RetryPolicy
from trueup.core.sources.pax8 import Pax8Client
from trueup.core.values.urls import in_clear

FAST = RetryPolicy(max_attempts=2, backoff_base=0.001, backoff_cap=0.01)
APP = Path(__file__).resolve().parent.parent / "app"


@pytest.mark.parametrize(
    "url", ["http://api.pax8.com/v1", "http://10.0.0.5/v1", "http://localhost.evil.com/v1"]
)
def test_plain_http_off_loopback_is_refused_naming_the_variable(url):
    with pytest.raises(ApiError) as caught:
        Pax8Client(url, "id", "secret")
    assert caught.value.kind == "config"
    assert "TRUEUP_PAX8_URL must be an https:// URL" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/v1",
        "http://127.9.9.9/v1",
        "http://[::1]:9000/v1",
        "http://localhost:8000/v1",
        "https://api.pax8.com/v1",
    ],
)
def test_loopback_http_and_any_https_are_accepted(url):
    assert Pax8Client(url, "id", "secret").base_url == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://api.pax8.com/v1", True),
        ("HTTP://api.pax8.com/v1", True),
        (" http://10.0.0.5/v1 ", True),
        ("http://localhost.evil.com/v1", True),
        ("http://127.9.9.9/v1", False),
        ("http://[::1]:9000/v1", False),
        ("http://LOCALHOST:8000", False),
        ("https://api.pax8.com/v1", False),
        ("http://[::1", False),  # too broken to read: url_problem says so
    ],
)
def test_one_rule_for_the_clients_and_the_settings(url, refused):
    """values.urls.in_clear: what every client refuses off an in-process transport, and
    `trueup connect`, `config show` and `doctor` with it."""
    assert in_clear(url) is refused


def test_the_halo_token_server_is_held_to_the_same_rule():
    with pytest.raises(ApiError, match="TRUEUP_HALO_AUTH_URL must be an https:// URL"):
        HaloClient("https://acme.halopsa.com", "http://acme.halopsa.com/auth", "id", "secret")


def test_credentials_in_a_url_are_refused_without_being_echoed():
    with pytest.raises(ApiError) as caught:
        Pax8Client("https://me:hunter2@api.pax8.com/v1", "id", "secret")
    assert "user name or password" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_sync_refuses_a_plain_http_url_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    for name, value in {
        "TRUEUP_PAX8_URL": "http://api.pax8.example/v1",
        "TRUEUP_PAX8_CLIENT_ID": "id",
        "TRUEUP_PAX8_CLIENT_SECRET": "secret",
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == 1
    assert "TRUEUP_PAX8_URL must be an https:// URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_nothing_turns_tls_verification_off():
    offenders = [
        path
        for path in APP.rglob("*.py")
        if "verify=False" in path.read_text(encoding="utf-8")
        or "CERT_NONE" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


@pytest.fixture
def self_signed(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def test_a_certificate_the_system_does_not_trust_is_refused(self_signed):
    answered = []

    async def serve(reader, writer):
        await reader.read(65536)
        answered.append(True)
        body = b'{"access_token": "t", "expires_in": 3600}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=self_signed)
    port = server.sockets[0].getsockname()[1]
    async with server:
        client = Pax8Client(f"https://127.0.0.1:{port}/v1", "id", "secret", retry=FAST)
        async with client:
            with pytest.raises(ApiError, match="TLS handshake failed"):
                await client.check_credentials()
    assert answered == []  # no request ever reached the server


def _client(handler, limit=1000):
    client = Pax8Client(
        "https://api.pax8.test/v1", "id", "secret", transport=httpx.MockTransport(handler)
    )
    client.max_response_bytes = limit
    return client


def _token_or(body_for_data):
    def handle(request):
        if request.url.path == "/v1/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return body_for_data(request)

    return handle


async def test_a_body_announced_too_large_is_refused_before_reading():
    class NeverRead(httpx.AsyncByteStream):
        async def __aiter__(self):
            raise AssertionError("the body was read")
            yield b""

    def big(request):
        return httpx.Response(200, headers={"Content-Length": "5000"}, stream=NeverRead())

    async with _client(_token_or(big)) as client:
        with pytest.raises(ApiError, match="Pax8 sent more than 1000 bytes for GET /v1/companies"):
            await client.request("GET", "/companies")


async def test_an_endless_body_is_cut_off_at_the_limit():
    sent = []

    class Endless(httpx.AsyncByteStream):
        async def __aiter__(self):
            while True:
                sent.append(100)
                yield b" " * 100

    def endless(request):
        return httpx.Response(200, stream=Endless())

    async with _client(_token_or(endless)) as client:
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "/companies")
    assert caught.value.kind == "bad_response"
    assert sum(sent) <= 1100  # stopped at the limit, not at the end (there is none)


async def test_bodies_under_the_limit_are_read_whole_even_compressed():
    rows = {"content": [{"id": str(n)} for n in range(20)]}
    packed = gzip.compress(json.dumps(rows).encode())

    def compressed(request):
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=packed)

    async with _client(_token_or(compressed), limit=100_000) as client:
        assert await client.request("GET", "/companies") == rows
