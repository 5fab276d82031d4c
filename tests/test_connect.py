"""`trueup connect pax8|halo|qbo` against the simulators served on loopback: flags for scripts,
prompts on a terminal, "connection works" or exactly why not, and where the secret went."""

import json
import os
import re
import subprocess
import sys
import tomllib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from keyring.backends.null import Keyring as NullKeyring
from keyring.errors import KeyringError, NoKeyringError
from typer.testing import CliRunner

from fake_keyrings import MemoryKeyring, RaisingKeyring, using
from trueup.cli import app
from trueup.core.settings import secret_backends as secret_store
from trueup.core.settings.config import Settings
from trueup.core.settings.connections import WORKS, Connections, check_client
from trueup.core.settings.qbo_consent import (
    ConsentError,
    authorize_url,
    read_pasted,
    try_refresh_token,
)
from trueup.core.settings.secret_backends import KeyringStore
from trueup.core.settings.secrets import Secrets
from trueup.core.sources.halo import HaloClient
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports, serve_in_background
from world import world

ENV_NAMES = (
    "TRUEUP_PAX8_URL",
    "TRUEUP_HALO_URL",
    "TRUEUP_HALO_AUTH_URL",
    "TRUEUP_QBO_URL",
    "TRUEUP_QBO_TOKEN_URL",
    "TRUEUP_QBO_REALM",
    "TRUEUP_PAX8_CLIENT_ID",
    "TRUEUP_HALO_CLIENT_ID",
    "TRUEUP_QBO_CLIENT_ID",
    "TRUEUP_PAX8_CLIENT_SECRET",
    "TRUEUP_HALO_CLIENT_SECRET",
    "TRUEUP_QBO_CLIENT_SECRET",
    "TRUEUP_QBO_REFRESH_TOKEN",
    "TRUEUP_SECRETS_PASSPHRASE",
    "TRUEUP_TODAY",
)


@pytest.fixture(scope="module")
def urls():
    with serve_in_background(build_simulators(parse_scenario(world()))) as served:
        yield served


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_SECRETS_FILE", str(tmp_path / "secrets.enc"))
    monkeypatch.setattr(secret_store, "SCRYPT_N", 2**10)
    return tmp_path


@pytest.fixture
def memory_keyring():
    with using(MemoryKeyring()) as backend:
        yield backend


def invoke(*args, input=None):
    return CliRunner().invoke(app, ["connect", *args], input=input)


def config(env):
    return tomllib.loads((env / "config.toml").read_text())


# --- Pax8 and HaloPSA ---------------------------------------------------------------------------


def test_pax8_by_flags_works_and_keeps_the_secret_in_the_keyring(env, urls, memory_keyring):
    result = invoke(
        "pax8", "--url", urls.pax8, "--client-id", "sandbox", "--client-secret", "sandbox"
    )
    assert result.exit_code == 0, result.output
    assert "Pax8: connection works" in result.stderr
    assert "the secret in the OS keyring" in result.stderr
    assert config(env)["pax8"] == {"url": urls.pax8, "client_id": "sandbox"}
    assert memory_keyring.passwords == {("trueup", "pax8:sandbox"): "sandbox"}
    assert "sandbox" not in (env / "config.toml").read_text().split("client_id")[0]


def test_a_wrong_secret_says_why_and_saves_nothing(env, urls, memory_keyring):
    result = invoke("pax8", "--url", urls.pax8, "--client-id", "sandbox", "--client-secret", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: Pax8 rejected the client id or secret (401 access_denied): check "
        "--client-id / --client-secret (nothing was saved)"
    )
    assert not (env / "config.toml").exists() and memory_keyring.passwords == {}


def test_a_wrong_tenant_url_is_named(env, urls, memory_keyring):
    wrong = urls.halo + "/wrong"
    result = invoke("halo", "--url", wrong, "--client-id", "sandbox", "--client-secret", "sandbox")
    assert result.exit_code == 1
    assert f"HaloPSA at {wrong} answered GET /wrong/api/authinfo with 404" in result.stderr
    assert "check --url" in result.stderr


def test_errors_name_where_each_value_came_from(env, urls, memory_keyring, monkeypatch):
    """From an operations pass: the errors named TRUEUP_* variables nobody had set, when the
    values came from flags, stdin, the prompts or the config file."""
    piped = invoke(
        "halo", "--url", urls.halo, "--client-id", "sandbox", "--client-secret-stdin",
        input="nope\n",
    )  # fmt: skip
    assert piped.exit_code == 1
    assert "check --client-id / the client secret read from stdin (nothing" in piped.stderr
    monkeypatch.setattr("trueup.cli.connect._interactive", lambda: True)
    typed = invoke("pax8", "--url", urls.pax8, input="sandbox\nnope\n")
    assert typed.exit_code == 1
    assert "check the client id you typed / the client secret you typed" in typed.stderr
    monkeypatch.setattr("trueup.cli.connect._interactive", lambda: False)
    wrong = urls.halo + "/wrong"
    (env / "config.toml").write_text(f'[halo]\nurl = "{wrong}"\nclient_id = "sandbox"\n')
    filed = invoke("halo", "--client-secret", "sandbox")
    assert filed.exit_code == 1
    said = " ".join(filed.stderr.split())
    assert f"check [halo] url in {env / 'config.toml'} (nothing was saved)" in said
    assert not any("TRUEUP_" in r.stderr for r in (piped, typed, filed))


def test_a_url_no_client_can_use_is_refused_and_nothing_saved(env, memory_keyring):
    # Saved, it stopped every later command, `connect` with a good URL included.
    result = invoke(
        "halo", "--url", "http://[::1", "--client-id", "x", "--client-secret", "x", "--no-test"
    )
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())
    assert "Invalid value for --url: 'http://[::1' is not a URL like https://host" in said
    assert not (env / "config.toml").exists() and memory_keyring.passwords == {}


def test_halo_secret_from_stdin(env, urls, memory_keyring):
    result = invoke(
        "halo", "--url", urls.halo, "--client-id", "sandbox", "--client-secret-stdin",
        input="sandbox\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "HaloPSA: connection works" in result.stderr
    assert memory_keyring.passwords == {("trueup", "halo:sandbox"): "sandbox"}
    assert config(env)["halo"]["url"] == urls.halo


def test_a_secret_in_the_environment_is_used_and_not_stored(env, urls, memory_keyring, monkeypatch):
    monkeypatch.setenv("TRUEUP_HALO_CLIENT_SECRET", "sandbox")
    result = invoke("halo", "--url", urls.halo, "--client-id", "sandbox")
    assert result.exit_code == 0, result.output
    assert "comes from TRUEUP_HALO_CLIENT_SECRET; nothing is stored" in result.stderr
    assert "the secret in TRUEUP_HALO_CLIENT_SECRET" in result.stderr
    assert memory_keyring.passwords == {}


def test_a_secret_given_while_the_environment_has_one_is_refused_untested(
    env, urls, memory_keyring, monkeypatch
):
    """From an operations pass: the test ran on the environment's secret ("connection works")
    and the typed one, never tried, replaced the stored one that worked."""
    monkeypatch.setenv("TRUEUP_HALO_CLIENT_SECRET", "sandbox")
    result = invoke(
        "halo", "--url", urls.halo, "--client-id", "sandbox", "--client-secret-stdin",
        input="TYPO\n",
    )  # fmt: skip
    assert result.exit_code == 1 and "connection works" not in result.stderr
    assert "TRUEUP_HALO_CLIENT_SECRET is set, and wins over the client secret given" in " ".join(
        result.stderr.split()
    )
    assert memory_keyring.passwords == {} and not (env / "config.toml").exists()


def test_without_a_terminal_a_missing_value_names_its_flag(env, urls, memory_keyring):
    result = invoke("pax8", "--url", urls.pax8, "--client-secret", "sandbox")
    assert result.exit_code == 1
    assert "Pax8 client id is needed: give --client-id (no terminal to ask on)" in result.stderr


def test_prompts_on_a_terminal_keep_the_secret_hidden(env, urls, memory_keyring, monkeypatch):
    monkeypatch.setattr("trueup.cli.connect._interactive", lambda: True)
    result = invoke("pax8", "--url", urls.pax8, input="sandbox\nsandbox\n")
    assert result.exit_code == 0, result.output
    assert "Pax8 client id" in result.stdout and "Pax8 client secret" in result.stdout
    assert result.stdout.count("sandbox") == 1  # the id is echoed, the secret is not


def test_no_test_saves_without_reaching_the_service(env, memory_keyring):
    url = "http://127.0.0.1:9/v1"  # nothing listens
    result = invoke("pax8", "--url", url, "--client-id", "x", "--client-secret", "y", "--no-test")
    assert result.exit_code == 0, result.output
    assert "connection works" not in result.stderr
    assert memory_keyring.passwords == {("trueup", "pax8:x"): "y"}


def test_no_keyring_offers_the_fallbacks_then_the_encrypted_file_works(env, urls, monkeypatch):
    args = ("pax8", "--url", urls.pax8, "--client-id", "sandbox", "--client-secret", "sandbox")
    with using(RaisingKeyring(NoKeyringError())):
        refused = invoke(*args)
        assert refused.exit_code == 1
        assert refused.stderr.startswith("error: no OS keyring on this host")
        assert "set TRUEUP_PAX8_CLIENT_SECRET in the environment" in refused.stderr
        assert "--secrets encrypted-file" in refused.stderr
        assert not (env / "config.toml").exists()

        monkeypatch.setenv("TRUEUP_SECRETS_PASSPHRASE", "correct horse")
        opted = invoke(*args, "--secrets", "encrypted-file")
        assert opted.exit_code == 0, opted.output
        assert "the secret in the encrypted file" in opted.stderr
        assert config(env)["secrets"] == {"backend": "encrypted-file"}
        settings = Settings(path=env / "config.toml")
        settings.secrets.backend = "encrypted-file"
        assert Secrets(settings).client_secret("pax8", "sandbox") == "sandbox"

        monkeypatch.setenv("TRUEUP_SECRETS_PASSPHRASE", "wrong")
        again = invoke("pax8", "--url", urls.pax8, "--client-id", "sandbox", "--client-secret", "x")
        assert again.exit_code == 1
        assert "the passphrase does not open" in again.stderr


def test_choosing_the_encrypted_file_says_where_every_connection_now_lives(
    env, urls, memory_keyring, monkeypatch
):
    """From an operations pass: --secrets on one connection moved every connection to the
    encrypted file without a word, and Pax8's secret, in the keyring, was no longer read."""
    pax8 = ("pax8", "--url", urls.pax8, "--client-id", "sandbox", "--client-secret", "sandbox")
    assert invoke(*pax8).exit_code == 0
    monkeypatch.setenv("TRUEUP_SECRETS_PASSPHRASE", "correct horse")
    result = invoke(
        "halo", "--url", urls.halo, "--client-id", "sandbox", "--client-secret", "sandbox",
        "--secrets", "encrypted-file",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert (
        f"Every connection's secrets are kept in the encrypted file {env / 'secrets.enc'} from "
        "now on" in said
    )
    assert "HaloPSA: encrypted file" in said
    assert (
        "Pax8: not in the encrypted file (a copy in the OS keyring is no longer read): run "
        "`trueup connect pax8` to store it there" in said
    )
    assert "sandbox" not in said.replace("client id sandbox", "")
    helped = " ".join(invoke("halo", "--help").stdout.replace("│", " ").split())
    assert "every connection's secrets" in helped


def test_an_unknown_secrets_backend_is_bad_usage(env):
    assert invoke("pax8", "--secrets", "vault").exit_code == 2


def test_a_missing_permission_is_named():
    def deny(request):
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(403, json={"message": "denied"})

    client = HaloClient(
        "https://acme.halopsa.com", "https://acme.halopsa.com/auth", "id", "secret",
        transport=httpx.MockTransport(deny), rate=None,
    )  # fmt: skip
    result = asyncio_run(check_client("halo", client))
    assert not result.ok
    assert "give the API application the read:customers permission" in result.message


# --- QuickBooks -------------------------------------------------------------------------------


def qbo_args(urls, *more):
    return ("qbo", "--url", urls.qbo, "--client-id", "sandbox", "--client-secret", "sandbox", *more)


def test_qbo_paste_flow(env, urls, memory_keyring, monkeypatch):
    monkeypatch.setattr("trueup.cli.connect._interactive", lambda: True)
    monkeypatch.setattr("trueup.cli.connect.token_urlsafe", lambda n: "st4te")
    pasted = "https://developer.intuit.com/v2/OAuth2Playground/RedirectUrl?code=sandbox-code&state=st4te&realmId=sandbox"
    result = invoke(*qbo_args(urls), input=pasted + "\n")
    assert result.exit_code == 0, result.output
    link = re.search(r"https://appcenter\.intuit\.com/connect/oauth2\?\S+", result.stderr)
    assert link is not None
    query = parse_qs(urlsplit(link.group()).query)
    assert query == {
        "client_id": ["sandbox"],
        "response_type": ["code"],
        "scope": ["com.intuit.quickbooks.accounting"],
        "redirect_uri": ["https://developer.intuit.com/v2/OAuth2Playground/RedirectUrl"],
        "state": ["st4te"],
    }
    assert "QuickBooks Online: connection works" in result.stderr
    assert config(env)["qbo"] == {
        "url": urls.qbo, "token_url": "", "realm_id": "sandbox", "client_id": "sandbox"
    }  # fmt: skip
    stored = json.loads(memory_keyring.passwords[("trueup", "qbo:sandbox:refresh_token")])
    assert stored["token"].startswith("RT1-")
    assert memory_keyring.passwords[("trueup", "qbo:sandbox")] == "sandbox"


def test_qbo_code_for_scripts_and_the_test_rotates_the_stored_token(env, urls, memory_keyring):
    result = invoke(*qbo_args(urls, "--code", "sandbox-code", "--realm", "sandbox", "--no-test"))
    assert result.exit_code == 0, result.output
    key = ("trueup", "qbo:sandbox:refresh_token")
    first = memory_keyring.passwords[key]
    settings = Settings(path=env / "config.toml")
    settings.qbo.url, settings.qbo.realm_id, settings.qbo.client_id = urls.qbo, "sandbox", "sandbox"
    assert asyncio_run(Connections(settings).check("qbo")).message == WORKS
    assert memory_keyring.passwords[key] != first  # rotated, and kept


def test_qbo_spends_no_code_on_a_keyring_that_keeps_nothing(env, urls):
    """The code's refresh token would be lost: the keyring is found out before it is sent."""
    with using(NullKeyring()):
        result = invoke(*qbo_args(urls, "--code", "sandbox-code", "--realm", "sandbox"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the OS keyring (keyring.backends.null.Keyring)")
    assert "saved" not in result.stderr and not (env / "config.toml").exists()


def test_no_keyring_for_a_refresh_token_offers_no_environment_variable(env, urls, monkeypatch):
    """A rotating refresh token needs a store: the client secret's variable is no way out, and
    it was offered though it was set already."""
    monkeypatch.setenv("TRUEUP_QBO_CLIENT_SECRET", "sandbox")
    qbo = ("qbo", "--url", urls.qbo, "--client-id", "sandbox", "--realm", "sandbox")
    with using(RaisingKeyring(NoKeyringError())):
        refused = invoke(*qbo, "--refresh-token", "sandbox")
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-1] == (
        "error: no OS keyring on this host (no Secret Service or KWallet, as is usual over "
        "SSH): keep secrets in an encrypted file (`trueup connect qbo --secrets encrypted-file`)"
    )
    assert not (env / "config.toml").exists()


def test_qbo_refresh_token_import(env, urls, memory_keyring):
    result = invoke(*qbo_args(urls, "--realm", "sandbox", "--refresh-token", "sandbox"))
    assert result.exit_code == 0, result.output
    assert "QuickBooks Online: connection works" in result.stderr
    token = json.loads(memory_keyring.passwords[("trueup", "qbo:sandbox:refresh_token")])["token"]
    assert token.startswith("RT1-")  # the imported one was used once and replaced


def test_qbo_a_wrong_refresh_token_keeps_the_one_that_works(env, urls, memory_keyring):
    """From an operations pass: the token given was stored before the test, so a typo
    replaced the token that worked (and a wrong client secret the secret that worked)."""
    working = invoke(*qbo_args(urls, "--realm", "sandbox", "--refresh-token", "sandbox"))
    assert working.exit_code == 0, working.output
    saved = dict(memory_keyring.passwords)
    settings_before = (env / "config.toml").read_text()
    wrong_token = invoke(*qbo_args(urls, "--realm", "sandbox", "--refresh-token", "TYPO-token"))
    assert wrong_token.exit_code == 1
    said = " ".join(wrong_token.stderr.split())
    assert "QuickBooks refused the refresh token" in said and "(nothing was saved)" in said
    assert "connection works" not in said and "TYPO-token" not in wrong_token.output
    wrong_secret = invoke(
        "qbo", "--url", urls.qbo, "--client-id", "sandbox", "--client-secret", "TYPO-secret",
        "--realm", "sandbox", "--refresh-token", "sandbox",
    )  # fmt: skip
    assert wrong_secret.exit_code == 1 and "(nothing was saved)" in wrong_secret.stderr
    assert memory_keyring.passwords == saved
    assert (env / "config.toml").read_text() == settings_before


def test_qbo_refresh_token_from_stdin_after_the_client_secret(env, urls, memory_keyring):
    result = invoke(
        "qbo", "--url", urls.qbo, "--client-id", "sandbox", "--client-secret-stdin",
        "--realm", "sandbox", "--refresh-token-stdin",
        input="sandbox\nsandbox\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "QuickBooks Online: connection works" in result.stderr
    assert memory_keyring.passwords[("trueup", "qbo:sandbox")] == "sandbox"
    token = json.loads(memory_keyring.passwords[("trueup", "qbo:sandbox:refresh_token")])["token"]
    assert token.startswith("RT1-")
    empty = invoke(*qbo_args(urls, "--realm", "sandbox", "--refresh-token-stdin"), input="\n")
    assert empty.exit_code == 1 and "--refresh-token-stdin read an empty line" in empty.stderr
    helped = " ".join(invoke("qbo", "--help").stdout.split())
    assert "--refresh-token-stdin" in helped


def test_a_refresh_token_intuit_hands_back_unchanged_is_stored_once_it_worked(tmp_path):
    """Intuit answers a refresh with the same token for about a day: the one given is then
    kept only after the test read worked."""

    def same_token(request):
        if request.url.path.endswith("/tokens/bearer"):
            body = {"access_token": "a", "refresh_token": "given", "expires_in": 3600}
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={"QueryResponse": {}})

    settings = Settings(path=tmp_path / "config.toml")
    settings.qbo.url, settings.qbo.client_id, settings.qbo.realm_id = (
        "https://qbo.test", "id", "42"
    )  # fmt: skip
    secrets = Secrets(
        settings, env={"TRUEUP_QBO_CLIENT_SECRET": "s"}, store=KeyringStore(MemoryKeyring())
    )
    result, stored = asyncio_run(
        try_refresh_token(settings, secrets, "given", transport=httpx.MockTransport(same_token))
    )
    assert result.ok and stored, result.message
    assert secrets.refresh_tokens("42").load() == "given"


def test_qbo_refuses_an_address_from_another_attempt(env, urls, memory_keyring, monkeypatch):
    monkeypatch.setattr("trueup.cli.connect._interactive", lambda: True)
    pasted = "https://x/cb?code=sandbox-code&state=old&realmId=sandbox"
    result = invoke(*qbo_args(urls), input=pasted + "\n")
    assert result.exit_code == 1
    assert "comes from another attempt" in result.stderr
    assert not (env / "config.toml").exists()


def test_qbo_a_wrong_code_is_explained(env, urls, memory_keyring):
    result = invoke(*qbo_args(urls, "--code", "expired", "--realm", "sandbox"))
    assert result.exit_code == 1
    assert "QuickBooks refused the refresh token or authorization code" in result.stderr


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("AB11-code", ("AB11-code", None)),
        ("https://x/cb?code=C1&state=s&realmId=42", ("C1", "42")),
        ("code=C2&realmId=7", ("C2", "7")),
    ],
)
def test_reading_what_was_pasted(pasted, expected):
    consent = read_pasted(pasted, "s")
    assert (consent.code, consent.realm_id) == expected


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "nothing was pasted"),
        ("https://x/cb?error=access_denied&state=s", "did not give consent (access_denied)"),
        ("https://x/cb?state=s&realmId=1", "no code in what was pasted"),
    ],
)
def test_pasted_addresses_that_are_no_consent(pasted, message):
    with pytest.raises(ConsentError, match=re.escape(message)):
        read_pasted(pasted, "s")


def test_the_authorize_url_asks_for_accounting_only():
    url = authorize_url("id", "https://example.com/cb", "xyz")
    assert url.startswith("https://appcenter.intuit.com/connect/oauth2?")
    assert "scope=com.intuit.quickbooks.accounting&" in url


def test_checks_run_in_process_against_the_simulators(tmp_path):
    sims = build_simulators(parse_scenario(world()))
    settings = Settings(path=tmp_path / "config.toml")
    settings.pax8.url, settings.pax8.client_id = "http://pax8.sandbox/v1", "sandbox"
    settings.halo.url, settings.halo.client_id = "http://halo.sandbox", "sandbox"
    settings.halo.auth_url = "http://halo.sandbox/auth"
    env = {"TRUEUP_PAX8_CLIENT_SECRET": "sandbox", "TRUEUP_HALO_CLIENT_SECRET": "wrong"}
    with using(MemoryKeyring()):
        connections = Connections(
            settings, secrets=Secrets(settings, env=env), transports=in_process_transports(sims)
        )
        assert asyncio_run(connections.check("pax8")).message == WORKS
        halo = asyncio_run(connections.check("halo"))
        qbo = asyncio_run(connections.check("qbo"))
    assert not halo.ok and "HaloPSA rejected the client id or secret" in halo.message
    assert not qbo.ok and "QuickBooks is not configured: run `trueup connect qbo`" in qbo.message


def asyncio_run(awaitable):
    import asyncio

    return asyncio.run(awaitable)


def test_a_failed_reconnect_keeps_the_stored_secret(env, urls, memory_keyring):
    good = ("pax8", "--url", urls.pax8, "--client-id", "sandbox", "--client-secret", "sandbox")
    assert invoke(*good).exit_code == 0
    assert invoke(*good[:-1], "wrong").exit_code == 1
    assert memory_keyring.passwords == {("trueup", "pax8:sandbox"): "sandbox"}


class RecordingKeyring(MemoryKeyring):
    def __init__(self, events, fail=False):
        super().__init__()
        self.events, self.fail = events, fail

    def set_password(self, service, username, password):
        if self.fail:
            raise KeyringError("the keyring went away")
        self.events.append(("stored", password))
        super().set_password(service, username, password)


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner, events):
        self.inner, self.events = inner, events

    async def handle_async_request(self, request):
        self.events.append(("sent", request.url.path))
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/tokens/bearer"):
            await response.aread()
            self.events.append(("issued", json.loads(response.content)["refresh_token"]))
        return response


def qbo_connections(tmp_path, keyring_backend, events):
    settings = Settings(path=tmp_path / "config.toml")
    settings.qbo.url, settings.qbo.client_id, settings.qbo.realm_id = (
        "http://qbo.sandbox", "sandbox", "sandbox"
    )  # fmt: skip
    env = {"TRUEUP_QBO_CLIENT_SECRET": "sandbox", "TRUEUP_QBO_REFRESH_TOKEN": "sandbox"}
    qbo = in_process_transports(build_simulators(parse_scenario(world())))["qbo"]
    secrets = Secrets(settings, env=env, store=KeyringStore(keyring_backend))
    return Connections(
        settings, secrets=secrets, transports={"qbo": RecordingTransport(qbo, events)}
    )


def test_a_rotated_refresh_token_is_stored_before_it_is_used(tmp_path):
    events = []
    connections = qbo_connections(tmp_path, RecordingKeyring(events), events)
    result = asyncio_run(connections.check("qbo"))
    assert result.ok
    issued = events[1][1]
    # Its CompanyInfo and Preferences: whose company answered (CheckResult.account).
    assert [kind for kind, _ in events] == ["sent", "issued", "stored", "sent", "sent"]
    assert events[0][1] == "/oauth2/v1/tokens/bearer" and events[3][1].endswith("/query")
    assert result.account.startswith("company ") and "home currency USD" in result.account
    assert json.loads(events[2][1])["token"] == issued
    assert connections.secrets.refresh_tokens("sandbox").load() == issued


def test_a_refresh_token_that_cannot_be_stored_is_never_used(tmp_path):
    events = []
    connections = qbo_connections(tmp_path, RecordingKeyring(events, fail=True), events)
    result = asyncio_run(connections.check("qbo"))
    assert not result.ok
    assert "storing it failed" in result.message and "nothing was sent with it" in result.message
    assert "RT1-" not in result.message
    assert [kind for kind, _ in events] == ["sent", "issued"]  # no data request followed


@pytest.mark.parametrize("service", ["qbo", "xero", "pax8", "halo"])
def test_connect_help_at_80_columns_cuts_no_address_or_name(service):
    """From a review: the options' column cut what a user must copy, "http://localhost:PORT/…",
    "https://sandbox-quickbooks.api.intuit.c…", "TRUEUP_SECRETS_PASSPHR…"."""
    shown = subprocess.run(
        [sys.executable, "-m", "trueup", "connect", service, "--help"],
        env={**os.environ, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "…" not in shown and max(len(line) for line in shown.splitlines()) <= 80
    if service == "qbo":
        assert "https://sandbox-quickbooks.api.intuit.com" in shown


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("pax8", "--url", "https://user:pa55w0rd@api.pax8.com/v1"), "--url"),
        (("pax8", "--url", "https://user:pa55w0rd@[::1/v1"), "--url"),
        (("qbo", "--url", "https://u:pa55w0rd@quickbooks.api.intuit.com"), "--url"),
        (("xero", "--identity-url", "https://u:pa55w0rd@identity.xero.com"), "--identity-url"),
    ],
)
def test_a_url_with_a_password_is_bad_usage_never_saved_nor_said(env, memory_keyring, args, flag):
    """From a boundary review: `connect pax8 --url https://user:pass@...` wrote the password
    into the config file, and every later command, `connect` included, refused that file."""
    result = invoke(*args, "--client-id", "x", "--client-secret", "y", "--no-test")
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())
    assert f"Invalid value for {flag}: carries a user name or password" in said
    assert "pa55w0rd" not in result.output
    assert not (env / "config.toml").exists() and memory_keyring.passwords == {}


def test_a_pasted_secret_loses_its_line_end_and_spaces(env, memory_keyring):
    """From a boundary review: a secret given with the space or line end a copy brings along
    was stored as it was, and failed every sign-in as a wrong secret."""
    result = invoke(
        "pax8", "--url", "http://127.0.0.1:9/v1", "--client-id", "x",
        "--client-secret", " s3cret-Vq81\r\n", "--no-test",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert memory_keyring.passwords == {("trueup", "pax8:x"): "s3cret-Vq81"}


@pytest.mark.parametrize("secret", ["s3c\tret-Vq81", "s3c\x01ret-Vq81", "s3c\u200bret-Vq81"])
def test_a_secret_with_a_control_character_is_refused_unsaid(env, memory_keyring, secret):
    result = invoke(
        "halo", "--url", "https://acme.halopsa.com", "--client-id", "x",
        "--client-secret-stdin", "--no-test", input=f"{secret}\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: the client secret holds a control or invisible character (character 4): "
        "copy it again from HaloPSA (nothing was saved)"
    )
    assert "ret-Vq81" not in result.output
    assert not (env / "config.toml").exists() and memory_keyring.passwords == {}


def test_a_config_that_cannot_be_written_is_said_before_anything_is_stored(
    env, memory_keyring, monkeypatch
):
    """From a boundary review: on a read-only home `connect` tested, stored the secret in the
    keyring, then failed writing the config ('Read-only file system'): the secret kept under a
    client id no config named, and the next command said Pax8 was not configured."""
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(env / "config.toml")):
            raise OSError(30, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    result = invoke("pax8", "--url", "http://127.0.0.1:9/v1", "--client-id", "x",
                    "--client-secret", "y", "--no-test")  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot write the config {env / 'config.toml'}: Read-only file system: give "
        "--config (or TRUEUP_CONFIG) a file in a folder you can write (nothing was saved)\n"
    )
    assert memory_keyring.passwords == {}


@pytest.mark.parametrize(
    ("args", "flag", "key"),
    [
        (("pax8", "--url", "http://api.pax8.com/v1"), "--url", "[pax8] url"),
        (("halo", "--url", "http://10.0.0.5"), "--url", "[halo] url"),
        (
            ("halo", "--url", "https://acme.halopsa.com", "--auth-url", "http://acme.halopsa.com"),
            "--auth-url",
            "[halo] auth_url",
        ),
        (("qbo", "--url", "HTTP://quickbooks.api.intuit.com"), "--url", "[qbo] url"),
        (("xero", "--identity-url", "http://localhost.evil.com"), "--identity-url", "[xero]"),
    ],
)
def test_plain_http_off_loopback_is_bad_usage_before_anything_is_saved(
    env, memory_keyring, args, flag, key
):
    """From a boundary review: `connect pax8 --no-test --url http://api.pax8.com/v1` was
    saved, and only the next sync or doctor refused it (the rule every client applies)."""
    result = invoke(*args, "--client-id", "x", "--client-secret", "y", "--no-test")
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.replace("│", " ").split())
    assert f"Invalid value for {flag}: {key}" in said
    assert "must be an https:// URL (plain http:// only on loopback: 127.0.0.1, ::1, " in said
    assert not (env / "config.toml").exists() and memory_keyring.passwords == {}


def test_plain_http_the_config_already_holds_is_refused_on_reconnect(env, memory_keyring):
    (env / "config.toml").write_text('[halo]\nauth_url = "http://acme.halopsa.com/auth"\n')
    result = invoke(
        "halo", "--url", "https://acme.halopsa.com", "--client-id", "x", "--client-secret", "y",
        "--no-test",
    )  # fmt: skip
    assert result.exit_code == 2
    # The path is as long as pytest's folder: the box folds it anywhere, spaces aside.
    said = "".join(result.output.replace("│", "").split())
    expected = (
        f"Invalid value for --auth-url: {env / 'config.toml'}: [halo] auth_url = "
        "'http://acme.halopsa.com/auth' must be an https:// URL"
    )
    assert "".join(expected.split()) in said
    assert memory_keyring.passwords == {}
    assert "client_id" not in (env / "config.toml").read_text()


def test_in_process_transports_are_exempt_as_the_client_exempts_them(tmp_path):
    """The sandbox's and the tests' http://pax8.sandbox never leaves the process: nothing is
    refused there, as the client refuses nothing on such a transport; on the network it is."""
    sims = build_simulators(parse_scenario(world()))
    settings = Settings(path=tmp_path / "config.toml")
    settings.pax8.url, settings.pax8.client_id = "http://pax8.sandbox/v1", "sandbox"
    assert Connections(settings, transports=in_process_transports(sims)).in_clear("pax8") == []
    assert [key for _, key, _ in Connections(settings).in_clear("pax8")] == ["url"]
