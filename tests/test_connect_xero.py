"""`trueup connect xero` against the Xero simulator on loopback: a Custom Connection by flags,
a PKCE consent through the loopback listener (a stand-in browser follows the consent page's
redirect) or pasted, the organisation chosen, and the single-use refresh token stored before
use."""

import json
import threading
import tomllib

import httpx
import pytest
from typer.testing import CliRunner

from fake_keyrings import MemoryKeyring, using
from test_cli_xero import DEMO
from trueup.cli import app
from trueup.cli.connect import _chosen_tenant
from trueup.core.settings.secrets import SecretError
from trueup.core.settings.xero_consent import ConsentError, Pkce, authorize_url, code_from
from trueup.sandbox.scenario import load_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background

TENANT = load_scenario(DEMO).xero["organisation"]["tenant_id"]


@pytest.fixture(scope="module")
def urls():
    with serve_in_background(build_simulators(load_scenario(DEMO))) as served:
        yield served


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("URL", "IDENTITY_URL", "CLIENT_ID", "CLIENT_SECRET", "TENANT"):
        monkeypatch.delenv(f"TRUEUP_XERO_{name}", raising=False)
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    return tmp_path


@pytest.fixture
def keyring():
    with using(MemoryKeyring()) as backend:
        yield backend


def invoke(urls, *args, input=None):
    hosts = ("--url", urls.xero, "--identity-url", urls.xero_identity, "--client-id", "sandbox")
    return CliRunner().invoke(app, ["connect", "xero", *hosts, *args], input=input)


def config(env):
    return tomllib.loads((env / "config.toml").read_text())["xero"]


def test_a_custom_connection_by_flags_works_and_keeps_the_secret(env, urls, keyring):
    result = invoke(urls, "--client-secret", "sandbox")
    assert result.exit_code == 0, result.output
    # Whose organisation answered, so a connection to the wrong one shows at once.
    said = " ".join(result.stderr.split())
    assert "Xero: connection works: organisation " in said and ", US, base currency USD" in said
    assert config(env)["auth"] == "custom" and config(env)["client_id"] == "sandbox"
    assert keyring.passwords == {("trueup", "xero:sandbox"): "sandbox"}


def test_a_wrong_secret_says_why_and_saves_nothing(env, urls, keyring):
    result = invoke(urls, "--client-secret", "nope")
    assert result.exit_code == 1
    assert "Xero rejected the client id or secret" in result.stderr
    assert "(nothing was saved)" in result.stderr
    assert not (env / "config.toml").exists() and keyring.passwords == {}


def test_a_pkce_consent_through_the_loopback_listener(env, urls, keyring, monkeypatch):
    def browser(identity_url, client_id, redirect, attempt):
        link = authorize_url(identity_url, client_id, redirect, attempt)
        # The consent page redirects to our listener, as a browser would follow it.
        threading.Thread(target=httpx.get, args=(link,), kwargs={"follow_redirects": True}).start()

    monkeypatch.setattr("trueup.cli.connect._say_link", browser)
    result = invoke(urls, "--pkce")
    assert result.exit_code == 0, result.output
    assert "Xero: connection works" in result.stderr
    assert config(env)["auth"] == "pkce" and config(env)["tenant"] == TENANT
    stored = json.loads(keyring.passwords[("trueup", "xero:sandbox:refresh_token")])
    assert stored["token"] and ("trueup", "xero:sandbox") not in keyring.passwords


def test_a_pasted_consent_and_the_token_rotates_on_use(env, urls, keyring, monkeypatch):
    attempt = Pkce("v" * 60, "st4te")
    monkeypatch.setattr("trueup.cli.connect.Pkce.new", lambda: attempt)
    monkeypatch.setattr("trueup.cli.connect._interactive", lambda: True)
    redirect = "http://localhost:8421/callback"
    page = httpx.get(authorize_url(urls.xero_identity, "sandbox", redirect, attempt))
    assert page.status_code == 302
    result = invoke(urls, "--pkce", "--paste", "--no-test", input=page.headers["location"] + "\n")
    assert result.exit_code == 0, result.output
    first = json.loads(keyring.passwords[("trueup", "xero:sandbox:refresh_token")])["token"]
    tested = CliRunner().invoke(app, ["xero", "refresh"])
    assert tested.exit_code == 0, tested.output
    rotated = json.loads(keyring.passwords[("trueup", "xero:sandbox:refresh_token")])["token"]
    assert rotated != first  # used once, replaced, and the new one kept before use


def test_an_address_from_another_attempt_is_refused():
    with pytest.raises(ConsentError, match="another attempt"):
        code_from("http://localhost:8421/callback?code=abc&state=other", "mine")
    with pytest.raises(ConsentError, match="did not give consent"):
        code_from("http://localhost:8421/callback?error=access_denied&state=mine", "mine")
    assert code_from("http://localhost:8421/callback?code=abc&state=mine", "mine") == "abc"


def test_the_consent_link_asks_for_pkce_and_offline_access():
    link = authorize_url(
        "https://identity.xero.com", "app", "http://localhost:1/callback", Pkce.new()
    )
    assert link.startswith("https://login.xero.com/identity/connect/authorize?")
    assert "code_challenge_method=S256" in link and "offline_access" in link


def test_organisations_to_choose_from_are_printed_with_their_control_characters_shown(capsys):
    """A name is Xero's text: an escape in it was sent to the terminal as it was."""
    tenants = [
        {"tenantId": "t-1", "tenantName": "Acme\x1b[2J\u202e"},
        {"tenantId": "t-2", "tenantName": "Bravo"},
    ]
    with pytest.raises(SecretError, match="Which organisation"):
        _chosen_tenant("", tenants)  # no terminal to choose on
    said = capsys.readouterr().err
    assert "1. Acme\\x1b[2J\\u202e (t-1)" in said and "\x1b" not in said
