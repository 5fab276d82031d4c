"""`trueup connect pax8|halo|qbo|xero`: save a connection and test it.

URLs and ids go to the config file; the secret to the OS keyring, or to the encrypted file the
user opted into (`--secrets encrypted-file`). Each value comes from a flag (scripts) or, on a
terminal, a prompt; secrets are asked hidden or read from stdin and are never echoed.
Pax8, HaloPSA, a Xero Custom Connection and an imported QuickBooks refresh token are tested
before anything is saved; a QuickBooks or Xero PKCE consent after it, as its refresh token must
be stored the moment it is issued.
"""

from __future__ import annotations

import asyncio
import os
import sys
from secrets import token_urlsafe
from typing import Annotated

import click
import typer

from trueup.cli import handles_errors, render, state
from trueup.cli.secret_places import FLAG, say_where_secrets_live
from trueup.core.settings import qbo_consent
from trueup.core.settings.clients import QBO_URL
from trueup.core.settings.config import (
    XERO_DEFAULT_IDENTITY_URL as XERO_IDENTITY_URL,
)
from trueup.core.settings.config import XERO_DEFAULT_URL as XERO_URL
from trueup.core.settings.config import (
    XERO_STATUSES,
    Settings,
    check_writable,
    in_clear_urls,
    load_settings,
    qbo_realm,
    save_settings,
    url_problem,
)
from trueup.core.settings.connections import SERVICE_NAMES, WORKS, CheckResult, Connections
from trueup.core.settings.qbo_consent import DEFAULT_REDIRECT_URI, Consent, read_pasted
from trueup.core.settings.secret_backends import StoreLockedError
from trueup.core.settings.secrets import (
    PASSPHRASE_ENV,
    SecretError,
    Secrets,
    locked_file,
    secret_env,
)
from trueup.core.settings.xero_consent import (
    CALLBACK_PATH,
    Pkce,
    authorize_url,
    code_from,
    exchange_code,
    loopback_listener,
)
from trueup.core.values.text import visible

BACKENDS = ("keyring", "encrypted-file")

connect_app = typer.Typer(
    help="Save a connection to Pax8, HaloPSA, QuickBooks Online or Xero and test it: ids in the "
    "config file, secrets in the OS keyring (or an encrypted file you opt into with `--secrets "
    "encrypted-file`; or TRUEUP_*_CLIENT_SECRET in the environment, which wins). Prompts for "
    f"what no flag gives when run on a terminal. The encrypted file's passphrase is read from "
    f"{PASSPHRASE_ENV}, else asked for.",
    no_args_is_help=True,
)

ClientId = Annotated[str | None, typer.Option(help="The API client id.", show_default=False)]
ClientSecret = Annotated[
    str | None,
    typer.Option(
        help="The client secret. Asked for (hidden) when not given; in scripts prefer "
        "--client-secret-stdin or TRUEUP_*_CLIENT_SECRET, as a flag shows in `ps`.",
        show_default=False,
    ),
]
SecretStdin = Annotated[
    bool, typer.Option("--client-secret-stdin", help="Read the client secret from stdin.")
]
Backend = Annotated[
    str | None,
    typer.Option(
        "--secrets",
        help="Where every connection's secrets are kept from now on, not only this one's: "
        '"keyring" (the OS keyring) or "encrypted-file" (one file under a passphrase from '
        "the environment or a prompt: `trueup connect --help`). Saved in the config as "
        "[secrets] backend; a secret "
        "kept in the other store is no longer read, so each connection is listed with where "
        "its secrets now are, and one to connect again is named.",
        show_default=False,
    ),
]
NoTest = Annotated[bool, typer.Option("--no-test", help="Save without testing the connection.")]


@connect_app.command("pax8")
@handles_errors
def connect_pax8(
    ctx: typer.Context,
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
    client_secret_stdin: SecretStdin = False,
    url: Annotated[
        str | None, typer.Option(help="The API base, with /v1.", show_default=False)
    ] = None,
    secrets_backend: Backend = None,
    no_test: NoTest = False,
) -> None:
    """Connect to Pax8: a client id and secret from Pax8 > Settings > Integrations."""
    settings = _settings(ctx, secrets_backend)
    _given(settings, "pax8", "url", url or None, "--url")
    _asked(settings, "pax8", "client_id", client_id, "Pax8 client id", "--client-id")
    secret = _client_secret(settings, "pax8", client_secret, client_secret_stdin)
    _save(settings, "pax8", secret, test=not no_test)


@connect_app.command("halo")
@handles_errors
def connect_halo(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(help="Your tenant, e.g. https://acme.halopsa.com", show_default=False),
    ] = None,
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
    client_secret_stdin: SecretStdin = False,
    auth_url: Annotated[
        str | None,
        typer.Option(
            help="The authorisation server (default: discovered from the tenant).",
            show_default=False,
        ),
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant name, for Halo-hosted auth.", show_default=False)
    ] = None,
    secrets_backend: Backend = None,
    no_test: NoTest = False,
) -> None:
    """Connect to HaloPSA: an API application (Configuration > Integrations > HaloPSA API) with
    client credentials and the read permissions a sync needs."""
    settings = _settings(ctx, secrets_backend)
    _asked(settings, "halo", "url", url, "HaloPSA tenant URL (https://TENANT.halopsa.com)", "--url")
    _asked(settings, "halo", "client_id", client_id, "HaloPSA client id", "--client-id")
    _given(settings, "halo", "auth_url", auth_url, "--auth-url")
    _given(settings, "halo", "tenant", tenant, "--tenant")
    secret = _client_secret(settings, "halo", client_secret, client_secret_stdin)
    _save(settings, "halo", secret, test=not no_test)


# Long addresses go in the description, full width: the options' column would cut them.
QBO_SANDBOX_URL = "https://sandbox-quickbooks.api.intuit.com"
_QBO_HELP = f"""Connect to QuickBooks Online: consent in any browser, then paste the address it
lands on. The refresh token Intuit issues (and each one it rotates in later) is stored before
use.

The redirect URI is {DEFAULT_REDIRECT_URI} (Intuit's OAuth Playground) unless --redirect-uri
says otherwise. The API host is {QBO_URL}; a sandbox company's is {QBO_SANDBOX_URL} (--url).
"""


@connect_app.command("qbo", help=_QBO_HELP)
@handles_errors
def connect_qbo(
    ctx: typer.Context,
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
    client_secret_stdin: SecretStdin = False,
    realm: Annotated[
        str | None,
        typer.Option(help="The company id (realmId); the consent gives it.", show_default=False),
    ] = None,
    refresh_token: Annotated[
        str | None,
        typer.Option(
            help="Import a refresh token obtained elsewhere (Intuit's OAuth Playground) instead "
            "of consenting here; needs --realm. Tested before it is stored; in scripts prefer "
            "--refresh-token-stdin, as a flag shows in `ps`.",
            show_default=False,
        ),
    ] = None,
    refresh_token_stdin: Annotated[
        bool,
        typer.Option(
            "--refresh-token-stdin",
            help="Read that refresh token from stdin (the line after the client secret's, "
            "with --client-secret-stdin).",
        ),
    ] = False,
    code: Annotated[
        str | None,
        typer.Option(
            help="The authorization code, for scripts (with --realm); else it is pasted.",
            show_default=False,
        ),
    ] = None,
    redirect_uri: Annotated[
        str,
        typer.Option(
            help="A redirect URI registered on your Intuit app (default: below).",
            show_default=False,
        ),
    ] = DEFAULT_REDIRECT_URI,
    url: Annotated[
        str | None,
        typer.Option(help="The API host (default and sandbox: below).", show_default=False),
    ] = None,
    secrets_backend: Backend = None,
    no_test: NoTest = False,
) -> None:
    settings = _settings(ctx, secrets_backend)
    qbo = settings.qbo
    _given(settings, "qbo", "url", url or None, "--url")
    _asked(settings, "qbo", "client_id", client_id, "QuickBooks client id", "--client-id")
    secret = _client_secret(settings, "qbo", client_secret, client_secret_stdin)
    if refresh_token_stdin:
        if refresh_token:
            raise typer.BadParameter(
                "give the refresh token once: here or on stdin", param_hint="--refresh-token"
            )
        refresh_token = _stdin_line("--refresh-token-stdin", "the refresh token")
    if refresh_token:
        refresh_token = _pasted("the refresh token", refresh_token, "QuickBooks")
    secrets = _secrets(settings)
    # Before a code is spent: its refresh token must be kept.
    secrets.check_store("qbo", refresh_token=True)
    trial = _with_secret_in_use(settings, secrets, "qbo", secret)
    tested = None
    if refresh_token:
        _asked(settings, "qbo", "realm_id", realm, "QuickBooks company id (realmId)", "--realm")
        if not no_test:  # before anything is kept: a wrong token must not replace one that works
            tested = _tried_refresh_token(settings, trial, refresh_token)
    else:
        consent = read_pasted(code, state="") if code else _consent(qbo.client_id, redirect_uri)
        if consent.realm_id:
            qbo.realm_id = consent.realm_id
            settings.origins["qbo.realm_id"] = "the company chosen in the consent"
        else:
            _asked(settings, "qbo", "realm_id", realm, "QuickBooks company id (realmId)", "--realm")
        asyncio.run(qbo_consent.exchange_code(settings, trial, consent.code, redirect_uri))
    if secret is not None:  # proven by the exchange or the token's test, or --no-test
        secrets.save_client_secret("qbo", qbo.client_id, secret)
    if refresh_token and tested is None:  # --no-test: kept untried, as asked
        secrets.refresh_tokens(qbo.realm_id).save(refresh_token)
    save_settings(settings)
    where = secrets.refresh_tokens(qbo.realm_id).locate().where
    render.stderr.print(
        f"QuickBooks company {qbo.realm_id} saved: settings in {settings.path}, "
        f"the refresh token in the {where}",
        markup=False,
        soft_wrap=True,
    )
    say_where_secrets_live(settings, secrets)
    if tested is not None:
        _report(tested)
    elif not no_test:
        _report(asyncio.run(Connections(settings, secrets=secrets).check("qbo")))


def _tried_refresh_token(settings: Settings, trial: Secrets, token: str) -> CheckResult:
    """The token's test; on a failure, exit 1 saying what (if anything) was kept."""
    result, stored = asyncio.run(qbo_consent.try_refresh_token(settings, trial, token))
    if result.ok:
        return result
    kept = (
        f"QuickBooks spent the token given and issued another, stored for company "
        f"{settings.qbo.realm_id}; nothing else was saved"
        if stored
        else "nothing was saved"
    )
    render.fail(f"{result.message} ({kept})")
    raise typer.Exit(1)


_XERO_HELP = f"""Connect to Xero: a Custom Connection (client id and secret; one organisation;
for unattended runs), or with --pkce a consent in a browser, whose refresh token (single use:
each new one) is stored before use. Invoices post with `trueup post ... --to xero`.

With --pkce the Xero app's redirect URI must be http://localhost:PORT/callback. The API host
is {XERO_URL} and the identity host {XERO_IDENTITY_URL} unless --url and --identity-url say
otherwise. The test names the organisation that answered, its country and base currency.

A line's sales account and tax type come from its Xero item; for an item that names none, the
config's [xero] account_code (200) and tax_type (empty: the account's default). A contact's own
default sales tax (an overseas client's no VAT, GST free exports) comes before the item's tax
type and tax_type.
"""


@connect_app.command("xero", help=_XERO_HELP)
@handles_errors
def connect_xero(
    ctx: typer.Context,
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
    client_secret_stdin: SecretStdin = False,
    pkce: Annotated[
        bool,
        typer.Option(
            "--pkce",
            help="Consent in a browser instead (Auth Code with PKCE: no client secret; the "
            "app's redirect URI: below).",
        ),
    ] = False,
    port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="With --pkce: the loopback port the consent redirects to (0: a free one; "
            "register the same on the Xero app).",
        ),
    ] = 0,
    paste: Annotated[
        bool,
        typer.Option(
            "--paste",
            help="With --pkce: do not wait for the browser here; paste the address it lands "
            "on (a host with no browser).",
        ),
    ] = False,
    tenant: Annotated[
        str | None,
        typer.Option(
            help="The organisation (tenant id), when the app reaches more than one.",
            show_default=False,
        ),
    ] = None,
    invoice_status: Annotated[
        str | None,
        typer.Option(
            help='Create invoices as "authorised" (posted to the ledger) or "draft".',
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="The API host (default: below).", show_default=False)
    ] = None,
    identity_url: Annotated[
        str | None,
        typer.Option(help="The identity host (default: below).", show_default=False),
    ] = None,
    secrets_backend: Backend = None,
    no_test: NoTest = False,
) -> None:
    settings = _settings(ctx, secrets_backend)
    xero = settings.xero
    _given(settings, "xero", "url", url or None, "--url")
    _given(settings, "xero", "identity_url", identity_url or None, "--identity-url")
    _given(settings, "xero", "tenant", tenant, "--tenant")
    if invoice_status is not None:
        if invoice_status not in XERO_STATUSES:
            raise typer.BadParameter(
                f"must be one of {', '.join(XERO_STATUSES)}", param_hint="--invoice-status"
            )
        xero.invoice_status = invoice_status
    _asked(settings, "xero", "client_id", client_id, "Xero client id", "--client-id")
    if not pkce:
        xero.auth = "custom"
        secret = _client_secret(settings, "xero", client_secret, client_secret_stdin)
        _save(settings, "xero", secret, test=not no_test)
        return
    xero.auth = "pkce"
    secrets = _secrets(settings)
    # Before a code is spent: its refresh token must be kept.
    secrets.check_store("xero", refresh_token=True)
    attempt = Pkce.new()
    if paste:
        redirect = f"http://localhost:{port or 8421}{CALLBACK_PATH}"
        _say_link(xero.identity_url, xero.client_id, redirect, attempt)
        code = code_from(
            _ask("Paste that address (or just the code)", "--paste", ""), attempt.state
        )
    else:
        with loopback_listener(port) as (redirect, arrived, addresses):
            _say_link(xero.identity_url, xero.client_id, redirect, attempt)
            render.stderr.print("Waiting for the consent (Ctrl+C to stop)…", markup=False)
            while not arrived.wait(0.5):
                pass
            code = code_from(addresses[0], attempt.state)
    tenants = asyncio.run(exchange_code(settings, secrets, code, redirect, attempt))
    xero.tenant = _chosen_tenant(xero.tenant, tenants)
    save_settings(settings)
    where = secrets.refresh_tokens(xero.client_id, "xero").locate().where
    render.stderr.print(
        f"Xero organisation {xero.tenant} saved: settings in {settings.path}, the refresh "
        f"token in the {where}",
        markup=False,
        soft_wrap=True,
    )
    say_where_secrets_live(settings, secrets)
    if not no_test:
        _report(asyncio.run(Connections(settings, secrets=secrets).check("xero")))


def _say_link(identity_url: str, client_id: str, redirect: str, attempt: Pkce) -> None:
    say = render.stderr.print
    say("Open this link in a browser, sign in and allow access:", markup=False, soft_wrap=True)
    say(authorize_url(identity_url, client_id, redirect, attempt), markup=False, soft_wrap=True)


def _chosen_tenant(given: str, tenants: list[dict[str, object]]) -> str:
    """The organisation asked for, else the only one, else one the operator picks."""
    ids = [str(t.get("tenantId")) for t in tenants]
    if given:
        if given not in ids:
            raise SecretError(
                f"the consent does not reach organisation {given}: it reaches "
                + (
                    ", ".join(f"{t.get('tenantName')} ({t.get('tenantId')})" for t in tenants)
                    or "none"
                )
            )
        return given
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise SecretError("the consent reached no organisation: connect again and choose one")
    for number, t in enumerate(tenants, 1):  # Xero's text: its control characters shown
        said = visible(f"{t.get('tenantName')} ({t.get('tenantId')})")
        render.stderr.print(f"{number}. {said}", markup=False)
    picked = _ask("Which organisation (number)", "--tenant", "")
    if not picked.isdigit() or not 1 <= int(picked) <= len(ids):
        raise SecretError(f"choose a number from 1 to {len(ids)}, or give --tenant")
    return ids[int(picked) - 1]


def _consent(client_id: str, redirect_uri: str) -> Consent:
    """Print the consent link and read back what the operator pastes."""
    state = token_urlsafe(16)
    say = render.stderr.print
    say(
        "Open this link in any browser, sign in and choose the company to connect:",
        markup=False,
        soft_wrap=True,
    )
    say(qbo_consent.authorize_url(client_id, redirect_uri, state), markup=False, soft_wrap=True)
    say(
        "The browser then lands on an address with code=... and realmId=... in it (the page "
        "itself may fail to load: that is fine).",
        markup=False,
        soft_wrap=True,
    )
    return read_pasted(_ask("Paste that address (or just the code)", "--code", ""), state)


# -- shared steps --------------------------------------------------------------------------


def _settings(ctx: typer.Context, backend: str | None) -> Settings:
    settings = load_settings(state(ctx).config_path)
    check_writable(settings)  # before anything is asked, tested, stored or spent
    if backend is not None:
        if backend not in BACKENDS:
            raise typer.BadParameter(
                f"must be one of {', '.join(BACKENDS)}", param_hint="--secrets"
            )
        settings.secrets.backend = backend
        settings.origins["secrets.backend"] = FLAG
    return settings


def _secrets(settings: Settings) -> Secrets:
    return Secrets(settings, passphrase=_passphrase)


def _passphrase(creating: bool) -> str:
    """TRUEUP_SECRETS_PASSPHRASE, else asked on the terminal (twice for a new file)."""
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not _interactive():
        raise StoreLockedError(locked_file("or run this on a terminal to be asked for it"))
    label = "New passphrase for the secrets file" if creating else "Passphrase of the secrets file"
    return str(typer.prompt(label, hide_input=True, confirmation_prompt=creating))


def _client_secret(settings: Settings, source: str, given: str | None, stdin: bool) -> str | None:
    """The secret to store, or None when the environment provides it (nothing is stored)."""
    env_name = secret_env(source)
    said = "--client-secret"  # where it came from, for the messages (settings/value_names.py)
    if stdin:
        given = _stdin_line("--client-secret-stdin", "the secret")
        said = "the client secret read from stdin"
    if os.environ.get(env_name):
        if given:  # the test would run on the environment's: the one given would go untested
            raise SecretError(
                f"{env_name} is set, and wins over the client secret given: unset it to test "
                "and store this one (nothing was saved)"
            )
        render.stderr.print(
            f"The client secret comes from {env_name}; nothing is stored.",
            markup=False,
            soft_wrap=True,
        )
        return None
    if not given:
        said = "the client secret you typed"
        given = _ask(
            f"{SERVICE_NAMES[source]} client secret", "--client-secret-stdin", "", hide=True
        )
    settings.origins[f"{source}.client_secret"] = said
    return _pasted("the client secret", given, SERVICE_NAMES[source])


def _pasted(what: str, value: str, service: str) -> str:
    """A secret as pasted, without the spaces and line end a copy brings along (a client
    secret never ends in one: kept, it failed every sign-in as a wrong secret); one holding a
    control or invisible character (a tab, a zero-width space from a web page) is refused,
    saying where, never what: stored, it could only fail."""
    value = value.strip()
    hidden = next((at for at, c in enumerate(value, 1) if visible(c) != c), None)
    if hidden is not None or not value:
        where = f"a control or invisible character (character {hidden})" if hidden else "nothing"
        raise SecretError(f"{what} holds {where}: copy it again from {service} (nothing was saved)")
    return value


def _stdin_line(flag: str, what: str) -> str:
    """One line of stdin, for a secret a flag would show in `ps` and shell history."""
    line = sys.stdin.readline().strip()
    if not line:
        raise SecretError(f"{flag} read an empty line: pipe {what} in")
    return line


def _save(settings: Settings, source: str, secret: str | None, *, test: bool) -> None:
    """Check the URLs given, test with what will be used, then store the secret and write the
    config: a URL no client can use is never written, where it would stop the next command."""
    for key, value in vars(getattr(settings, source)).items():
        problem = url_problem(value) if key.endswith("url") and value else None
        if problem is not None:
            flag = "--" + key.replace("_", "-")
            raise typer.BadParameter(f"{problem} (nothing was saved)", param_hint=flag)
    for _, key, why in in_clear_urls(settings, source):  # typed, or the config's already
        flag = "--" + key.replace("_", "-")
        raise typer.BadParameter(f"{why} (nothing was saved)", param_hint=flag)
    secrets = _secrets(settings)
    if secret is not None:
        secrets.check_store(source)
    if test:
        trial = _with_secret_in_use(settings, secrets, source, secret)
        result = asyncio.run(Connections(settings, secrets=trial).check(source))
        if not result.ok:
            render.fail(f"{result.message} (nothing was saved)")
            raise typer.Exit(1)
        _report(result)
    client_id = getattr(settings, source).client_id
    if secret is not None:
        secrets.save_client_secret(source, client_id, secret)
    save_settings(settings)
    where = f"the {secrets.store.where}" if secret is not None else secret_env(source)
    render.stderr.print(
        f"{SERVICE_NAMES[source]} saved: settings in {settings.path}, the secret in {where}",
        markup=False,
        soft_wrap=True,
    )
    say_where_secrets_live(settings, secrets)


def _with_secret_in_use(
    settings: Settings, secrets: Secrets, source: str, secret: str | None
) -> Secrets:
    """Secrets that read the client secret a run would use (the environment's, else the one
    given) before it is stored: a failed attempt leaves the stored one as it was."""
    name = secret_env(source)
    in_use = os.environ.get(name) or secret or ""
    return Secrets(settings, env={**os.environ, name: in_use}, store=secrets.store)


def _report(result: CheckResult) -> None:
    name = SERVICE_NAMES[result.source]
    if not result.ok:
        render.fail(result.message)
        raise typer.Exit(1)
    account = f": {result.account}" if result.account else ""
    render.stderr.print(f"{name}: {WORKS}{account}", markup=False, soft_wrap=True)


def _given(settings: Settings, source: str, key: str, value: str | None, flag: str) -> None:
    """[source] key from its flag, when given; noted, so messages name the flag. A URL no
    client can use (or one carrying a password, never repeated) is bad usage before anything
    is asked, tested, spent or saved: written to the config, it stopped every later command,
    this one included, and kept the password in a plain file. So is plain http:// to a host
    not on loopback, which every client refuses (it would send the secret in clear)."""
    if value is not None:
        problem = url_problem(value) if key.endswith("url") and value else None
        if problem is not None:
            raise typer.BadParameter(f"{problem} (nothing was saved)", param_hint=flag)
        setattr(getattr(settings, source), key, qbo_realm(value) if key == "realm_id" else value)
        settings.origins[f"{source}.{key}"] = flag
        for _, url_key, why in in_clear_urls(settings, source):  # plain http:// off loopback
            if url_key == key:
                raise typer.BadParameter(f"{why} (nothing was saved)", param_hint=flag)


def _asked(
    settings: Settings, source: str, key: str, value: str | None, label: str, flag: str
) -> None:
    """[source] key from its flag, else asked on a terminal (the config's as the default)."""
    if value:
        _given(settings, source, key, value, flag)
        return
    section = getattr(settings, source)
    value = _ask(label, flag, getattr(section, key))
    setattr(section, key, qbo_realm(value) if key == "realm_id" else value)
    if _interactive():
        settings.origins[f"{source}.{key}"] = f"the {flag[2:].replace('-', ' ')} you typed"


def _ask(label: str, flag: str, default: str, *, hide: bool = False) -> str:
    """A value from the terminal; without one, an error naming the flag that gives it."""
    if not _interactive():
        if default:
            return default
        raise SecretError(f"{label} is needed: give {flag} (no terminal to ask on)")
    try:
        value = typer.prompt(label, default=default or None, hide_input=hide)
    except click.exceptions.Abort:
        raise SecretError(f"{label} is needed: give {flag}") from None
    return str(value).strip()


def _interactive() -> bool:
    return sys.stdin.isatty()
