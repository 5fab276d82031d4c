"""The Xero simulator's identity side: the authorize page, the token endpoint, revocation, and the
connections (`GET /connections`) of the API host.

Two kinds of app, as Xero has them:
- a **Custom Connection** (client id and secret, `credentials.xero.client_id`/`client_secret`,
  default "sandbox"/"sandbox"): `grant_type=client_credentials` with HTTP Basic client
  authentication (or the pair in the form, as xero-python sends it); no refresh token. Xero's FAQ
  (developer.xero.com/faq/custom-integration): access tokens "expire after 30 minutes", refresh
  tokens "are not required", and "the xero-tenant-id header is not required. Each custom
  connection can only make calls against one organisation".
- an **Auth Code with PKCE** app (`credentials.xero.pkce_client_id`, default the same id): the
  sandbox's authorize page consents at once and redirects (302) to
  `redirect_uri?code=...&scope=...&state=...&session_state=...`; the code is single use and
  lives 5 minutes; its exchange checks `code_verifier` against the S256 `code_challenge` given at
  authorize (base64url of the SHA-256, no padding, RFC 7636). A code issued without a challenge
  needs the client secret instead (Xero's "web app"). A refresh token comes only with the
  `offline_access` scope. `credentials.xero.refresh_token` (default "sandbox") seeds one, as a
  consent done elsewhere would; `credentials.xero.redirect_uris` (space-separated) limits the
  redirect URIs the authorize page takes (default: any http(s) URL, e.g. a loopback listener).

Refresh tokens rotate: every refresh answers a new one. Reuse follows Xero's word (Xero staff on
the developer community, threads 105714701 and 127920775): "If, for whatever reason, you don't
receive the response after performing the token refresh you can retry refreshing the old token
for a grace period of 30 minutes"; Refresh Tokens "provide a 30 minute grace period where the same
token can be used as many times as needed ... If you receive a Invalid Grant Error, the most
likely cause will be that the Refresh token ... has previously been used outside of the 30 minute
grace period." So a spent token still refreshes for 30 minutes after its first use (each time
answering a new pair), then `400 {"error": "invalid_grant"}`. Unused refresh tokens expire after
60 days (Xero's OAuth 2.0 docs; 30 days before 2021).

Identity errors are IdentityServer's: `400 {"error": "invalid_client" | "unauthorized_client" |
"invalid_grant" | "invalid_request" | "unsupported_grant_type"}` (xoauth issue 9 shows
`unauthorized_client` for client credentials on an app that is not a custom connection).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from trueup.sandbox.common import Clock, TokenStore, json_response
from trueup.sandbox.xero_wire import Json, XeroError, problem

ACCESS_TOKEN_SECONDS = 1800
CODE_SECONDS = 300
REFRESH_GRACE_SECONDS = 1800
REFRESH_TOKEN_SECONDS = 60 * 86400
CUSTOM_SCOPE = "accounting.transactions accounting.contacts accounting.settings"
Now = Callable[[], datetime]


@dataclass(frozen=True)
class Grant:
    """What an access token stands for."""

    kind: str  # "client_credentials" or "authorization_code"
    client_id: str
    auth_event_id: str
    expires_at: datetime  # wall clock, for Xero's "TokenExpired: token expired at ..."


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    expires: float


@dataclass
class _Refresh:
    client_id: str
    scope: str
    auth_event_id: str
    expires: float
    spent_at: float | None = None
    revoked: bool = False
    access_tokens: list[str] = field(default_factory=list)


class XeroIdentity:
    def __init__(
        self,
        credentials: dict[str, str],
        organisation: Json,
        *,
        clock: Clock = time.monotonic,
        now: Now = lambda: datetime.now(UTC),
    ) -> None:
        self.client_id = credentials["client_id"]
        self.client_secret = credentials["client_secret"]
        self.pkce_client_id = credentials.get("pkce_client_id", self.client_id)
        self.redirect_uris = set(filter(None, credentials.get("redirect_uris", "").split()))
        self.clock, self.now = clock, now
        self.tokens = TokenStore(ACCESS_TOKEN_SECONDS, clock)
        self.grants: dict[str, Grant] = {}
        self.codes: dict[str, _Code] = {}
        self.refresh: dict[str, _Refresh] = {}
        tenant = str(organisation["tenant_id"])
        created = str(organisation.get("connected", "2026-01-05T21:14:09.1234560"))
        self.connection: Json | None = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-connection:{tenant}")),
            "authEventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-auth-event:{tenant}")),
            "tenantId": tenant,
            "tenantType": "ORGANISATION",
            "tenantName": str(organisation["name"]),
            "createdDateUtc": created,
            "updatedDateUtc": created,
        }
        seed = credentials.get("refresh_token", "sandbox")
        self.refresh[seed] = _Refresh(
            self.pkce_client_id,
            "openid profile email accounting.transactions accounting.contacts "
            "accounting.settings offline_access",
            self.connection["authEventId"],
            clock() + REFRESH_TOKEN_SECONDS,
        )

    # -- the API host's side -------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Grant:
        """The grant behind a Bearer header, or Xero's 401."""
        scheme, _, token = (authorization or "").partition(" ")
        grant = self.grants.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None:
            raise problem(401, "AuthenticationUnsuccessful")
        if not self.tokens.valid(f"Bearer {token.strip()}"):
            stamp = grant.expires_at.strftime("%m/%d/%Y %H:%M:%S")
            raise problem(401, f"TokenExpired: token expired at {stamp}")
        return grant

    def connections(self, request: Request) -> Response:
        self.authenticate(request.headers.get("authorization"))
        wanted = request.query_params.get("authEventId")
        rows = [self.connection] if self.connection else []
        if wanted:
            rows = [c for c in rows if c["authEventId"].lower() == wanted.lower()]
        return json_response(rows)

    def delete_connection(self, request: Request, connection_id: str) -> Response:
        self.authenticate(request.headers.get("authorization"))
        if self.connection is None or self.connection["id"].lower() != connection_id.lower():
            raise XeroError(404, "")
        self.connection = None
        return Response(status_code=204)

    def tenant_connected(self, tenant_id: str) -> bool:
        return self.connection is not None and self.connection["tenantId"] == tenant_id

    # -- login.xero.com ----------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if client_id not in (self.pkce_client_id, self.client_id):
            return PlainTextResponse(
                "unauthorized_client: Unknown client or client not enabled", 400
            )
        target = urlsplit(redirect_uri)
        if target.scheme not in ("http", "https") or not target.netloc:
            return PlainTextResponse("invalid_request: Invalid redirect_uri", 400)
        if self.redirect_uris and redirect_uri not in self.redirect_uris:
            return PlainTextResponse("invalid_request: Invalid redirect_uri", 400)
        state = query.get("state")
        challenge = query.get("code_challenge")
        if query.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        if challenge and query.get("code_challenge_method", "plain") != "S256":
            return _redirect(redirect_uri, {"error": "invalid_request", "state": state})
        scope = query.get("scope", "")
        code = secrets.token_urlsafe(32)
        self.codes[code] = _Code(
            client_id, redirect_uri, scope, challenge, self.clock() + CODE_SECONDS
        )
        return _redirect(
            redirect_uri,
            {"code": code, "scope": scope, "state": state, "session_state": secrets.token_hex(16)},
        )

    # -- identity.xero.com ---------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        basic = _basic(request)
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret"))
        grant = form.get("grant_type", "")
        try:
            if grant == "client_credentials":
                return self._client_credentials(client_id, secret, form)
            if grant == "authorization_code":
                return self._authorization_code(client_id, secret, form)
            if grant == "refresh_token":
                return self._refresh_token(client_id, secret, form)
        except _Refused as refused:
            return json_response({"error": refused.error}, 400)
        error = "unsupported_grant_type" if grant else "invalid_request"
        return json_response({"error": error}, 400)

    def _client_credentials(
        self, client_id: str, secret: str | None, form: dict[str, str]
    ) -> Response:
        if client_id == self.client_id:
            if secret is None or not secrets.compare_digest(secret, self.client_secret):
                raise _Refused("invalid_client")
        elif client_id == self.pkce_client_id:
            raise _Refused("unauthorized_client")
        else:
            raise _Refused("invalid_client")
        event = self.connection["authEventId"] if self.connection else str(uuid.uuid4())
        token = self._issue("client_credentials", client_id, event)
        body = {"access_token": token, "expires_in": ACCESS_TOKEN_SECONDS,
                "token_type": "Bearer", "scope": form.get("scope") or CUSTOM_SCOPE}  # fmt: skip
        return json_response(body)

    def _authorization_code(
        self, client_id: str, secret: str | None, form: dict[str, str]
    ) -> Response:
        code = self.codes.pop(form.get("code", ""), None)  # single use, even when refused
        if not form.get("code") or not form.get("redirect_uri"):
            raise _Refused("invalid_request")
        if client_id not in (self.pkce_client_id, self.client_id):
            raise _Refused("invalid_client")
        if code is None or code.expires <= self.clock() or code.client_id != client_id:
            raise _Refused("invalid_grant")
        if code.redirect_uri != form["redirect_uri"]:
            raise _Refused("invalid_grant")
        if code.challenge:
            verifier = form.get("code_verifier", "")
            if not verifier or not secrets.compare_digest(_s256(verifier), code.challenge):
                raise _Refused("invalid_grant")
        elif secret is None or not secrets.compare_digest(secret, self.client_secret):
            raise _Refused("invalid_client")
        event = str(uuid.uuid4())
        if self.connection is not None:
            self.connection["authEventId"] = event
            self.connection["updatedDateUtc"] = self.now().strftime("%Y-%m-%dT%H:%M:%S.%f0")
        return self._token_pair(client_id, code.scope, event)

    def _refresh_token(self, client_id: str, secret: str | None, form: dict[str, str]) -> Response:
        presented = form.get("refresh_token", "")
        if not presented:
            raise _Refused("invalid_request")
        state = self.refresh.get(presented)
        now = self.clock()
        if state is None or state.revoked or state.expires <= now:
            raise _Refused("invalid_grant")
        if state.client_id != client_id:
            raise _Refused(
                "invalid_client" if client_id not in self._clients() else "invalid_grant"
            )
        if state.spent_at is not None and now - state.spent_at > REFRESH_GRACE_SECONDS:
            raise _Refused("invalid_grant")
        if state.spent_at is None:
            state.spent_at = now
        return self._token_pair(client_id, state.scope, state.auth_event_id)

    def _token_pair(self, client_id: str, scope: str, event: str) -> Response:
        access = self._issue("authorization_code", client_id, event)
        body: Json = {"access_token": access, "expires_in": ACCESS_TOKEN_SECONDS,
                      "token_type": "Bearer", "scope": scope}  # fmt: skip
        words = scope.split()
        if "openid" in words:
            body["id_token"] = "eyJhbGciOiJub25lIn0." + secrets.token_urlsafe(24) + "."
        if "offline_access" in words:
            refresh = secrets.token_hex(32)
            self.refresh[refresh] = _Refresh(
                client_id, scope, event, self.clock() + REFRESH_TOKEN_SECONDS, None, False, [access]
            )
            body["refresh_token"] = refresh
        return json_response(body)

    async def revoke(self, request: Request) -> Response:
        """`POST /connect/revocation` with `token=<refresh token>` and the client's credentials:
        the refresh token and the access tokens it gave stop working."""
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        client_id, _ = _basic(request) or (form.get("client_id", ""), None)
        if client_id not in self._clients():
            return json_response({"error": "invalid_client"}, 400)
        state = self.refresh.get(form.get("token", ""))
        if state is not None:
            state.revoked = True
            for token in state.access_tokens:
                self.tokens.revoke(token)
                self.grants.pop(token, None)
        return Response(status_code=200)

    def _issue(self, kind: str, client_id: str, event: str) -> str:
        token = self.tokens.issue()
        expires = self.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        self.grants[token] = Grant(kind, client_id, event, expires)
        return token

    def _clients(self) -> set[str]:
        return {self.client_id, self.pkce_client_id}


class _Refused(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _redirect(uri: str, params: dict[str, Any]) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=302)


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret
