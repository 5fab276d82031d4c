"""Connecting QuickBooks: the authorization-code flow with a paste step, for hosts with no
browser. trueup prints Intuit's consent link; the operator opens it anywhere, consents, and
pastes back the address the browser lands on (its code, state and realmId), or just the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from trueup.core.settings.clients import qbo_from_settings
from trueup.core.settings.config import ConfigError, Settings
from trueup.core.settings.connections import CheckResult, check_client
from trueup.core.settings.secrets import SecretError, Secrets
from trueup.core.sources.http import ApiError
from trueup.core.sources.qbo import QboClient, token_url_for

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
SCOPE = "com.intuit.quickbooks.accounting"
# Intuit's OAuth Playground page: https, so production keys accept it, and it shows the code.
DEFAULT_REDIRECT_URI = "https://developer.intuit.com/v2/OAuth2Playground/RedirectUrl"


class ConsentError(SecretError):
    """What was pasted is not a usable consent; the message says what to do."""


@dataclass(frozen=True)
class Consent:
    code: str
    realm_id: str | None  # None when only the code was pasted


def authorize_url(client_id: str, redirect_uri: str, state: str) -> str:
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def read_pasted(text: str, state: str) -> Consent:
    """The consent in what the operator pasted: the whole address, or the code alone."""
    text = text.strip()
    if not text:
        raise ConsentError("nothing was pasted: paste the address your browser landed on")
    if "=" not in text:
        return Consent(text, None)
    query = parse_qs(urlsplit(text).query if "?" in text else text)

    def first(name: str) -> str:
        return query.get(name, [""])[0].strip()

    if first("error"):
        raise ConsentError(
            f"QuickBooks did not give consent ({first('error')}): open the link again and "
            "choose Connect"
        )
    if first("state") and first("state") != state:
        raise ConsentError(
            "that address comes from another attempt (its state does not match): "
            "open the link printed this time"
        )
    if not first("code"):
        raise ConsentError("no code in what was pasted: paste the whole address, code=... and all")
    return Consent(first("code"), first("realmId") or None)


async def exchange_code(
    settings: Settings,
    secrets: Secrets,
    code: str,
    redirect_uri: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Trade the code for tokens; the refresh token is stored before this returns."""
    qbo = settings.qbo
    store = secrets.refresh_tokens(qbo.realm_id)
    client = QboClient(
        qbo.url,
        qbo.realm_id,
        qbo.client_id,
        secrets.client_secret("qbo", qbo.client_id),
        None,
        store.save,
        token_url=qbo.token_url or token_url_for(qbo.url),
        transport=transport,
    )
    async with client:
        await client.exchange_authorization_code(code, redirect_uri)


async def try_refresh_token(
    settings: Settings,
    secrets: Secrets,
    token: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[CheckResult, bool]:
    """Test a refresh token obtained elsewhere (the OAuth Playground) before keeping it: a
    fresh access token and one read; the result, and whether a token was stored. A refused
    one stores nothing, so the token that worked stays. Intuit's successor is stored the
    moment it is issued (the given one is spent then, whatever the read does); the given one,
    handed back unchanged, once the read worked."""
    try:
        client = qbo_from_settings(settings, secrets, transport=transport, refresh_token=token)
    except (ConfigError, SecretError, ApiError) as exc:
        return CheckResult("qbo", False, str(exc)), False
    result = await check_client("qbo", client)
    store = secrets.refresh_tokens(settings.qbo.realm_id)
    if result.ok:
        if client.refresh_token == token:
            store.save(token)
        return result, True
    successor = client.refresh_token
    try:  # Intuit issued one before the read failed, and storing it did not fail
        kept = successor not in (token, None) and store.load() == successor
    except SecretError:
        kept = False
    return result, kept
