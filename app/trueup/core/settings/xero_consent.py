"""Connecting Xero with a PKCE consent (no client secret): trueup makes a code verifier, prints
Xero's consent link and listens on a loopback port for the redirect (Xero allows
`http://localhost` redirects for PKCE apps); on a host with no browser the operator opens the
link elsewhere and pastes back the address the browser lands on.

The code is traded for tokens with the verifier; the refresh token is stored before anything
else happens, then the organisation (tenant) is chosen from `/connections`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from trueup.core.settings.config import Settings
from trueup.core.settings.secrets import SecretError, Secrets
from trueup.core.sources.http import Row
from trueup.core.sources.xero import XERO_IDENTITY_URL, XeroClient

XERO_AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
# offline_access gives the refresh token; the granular scopes apps made since 2026-03-02 must
# use (accounting-and-reliability.md §2.1): invoices and credit notes, contacts, the settings
# (accounts, tax rates, items).
SCOPES = (
    "offline_access accounting.invoices accounting.contacts accounting.settings "
    "accounting.invoices.read accounting.contacts.read accounting.settings.read"
)
CALLBACK_PATH = "/callback"


class ConsentError(SecretError):
    """The consent did not come back usable; the message says what to do."""


@dataclass(frozen=True)
class Pkce:
    """One consent attempt: its verifier (kept here), challenge and state (sent)."""

    verifier: str
    state: str

    @classmethod
    def new(cls) -> Pkce:
        return cls(secrets.token_urlsafe(64)[:96], secrets.token_urlsafe(16))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_url(identity_url: str, client_id: str, redirect_uri: str, pkce: Pkce) -> str:
    """Xero's consent page (login.xero.com for Xero's identity host; a sandbox serves its own
    under its identity root)."""
    base = identity_url.rstrip("/")
    page = XERO_AUTHORIZE_URL if base == XERO_IDENTITY_URL else base + "/connect/authorize"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "state": pkce.state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    return f"{page}?{urlencode(query)}"


def code_from(address: str, state: str) -> str:
    """The code in the address the consent redirected to (or the code alone)."""
    text = address.strip()
    if not text:
        raise ConsentError("nothing was pasted: paste the address your browser landed on")
    if "=" not in text:
        return text
    query = parse_qs(urlsplit(text).query if "?" in text else text)

    def first(name: str) -> str:
        return query.get(name, [""])[0].strip()

    if first("error"):
        raise ConsentError(f"Xero did not give consent ({first('error')}): open the link again")
    if first("state") != state:
        raise ConsentError(
            "that address comes from another attempt (its state does not match): open the link "
            "printed this time"
        )
    if not first("code"):
        raise ConsentError("no code in what was pasted: paste the whole address, code=... and all")
    return first("code")


@contextmanager
def loopback_listener(port: int = 0) -> Iterator[tuple[str, threading.Event, list[str]]]:
    """Listen on 127.0.0.1 for the consent's redirect: yields (the redirect URI, an event set
    when it arrives, a list that then holds the address it came to)."""
    arrived = threading.Event()
    addresses: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path != CALLBACK_PATH:
                self.send_error(404)
                return
            addresses.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"trueup has the consent: you can close this window.\n")
            arrived.set()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the address holds the code."""

    server = HTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="trueup-consent", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}{CALLBACK_PATH}", arrived, addresses
    finally:
        server.shutdown()
        server.server_close()


async def exchange_code(
    settings: Settings,
    secrets_: Secrets,
    code: str,
    redirect_uri: str,
    pkce: Pkce,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Row]:
    """Trade the code for tokens (the refresh token stored before this goes on); return the
    organisations the consent connected."""
    xero = settings.xero
    store = secrets_.refresh_tokens(xero.client_id, "xero")
    client = XeroClient(
        xero.url,
        xero.identity_url,
        xero.client_id,
        on_refresh_token=store.save,
        transport=transport,
    )
    async with client:
        await client.exchange_authorization_code(code, redirect_uri, pkce.verifier)
        return [c for c in await client.connections() if c.get("tenantType") == "ORGANISATION"]
