"""A QuickBooks company id copied as QuickBooks shows it, in groups of digits, is the company:
`trueup connect qbo --realm "9130 3577 9999 1234"`, the config file and TRUEUP_QBO_REALM."""

from __future__ import annotations

import tomllib

import pytest
from typer.testing import CliRunner

from fake_keyrings import MemoryKeyring, using
from trueup.cli import app
from trueup.core.settings.config import load_settings
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background
from world import world

REALM = "9130357799991234"
SHOWN = "9130 3577 9999 1234"  # QuickBooks' Billing & subscription page


@pytest.fixture(scope="module")
def qbo_url():
    scenario = world()
    scenario["credentials"] = {
        "qbo": {"client_id": "sandbox", "client_secret": "sandbox", "realm_id": REALM}
    }
    with serve_in_background(build_simulators(parse_scenario(scenario))) as served:
        yield served.qbo


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("TRUEUP_QBO_REALM", "TRUEUP_QBO_CLIENT_SECRET", "TRUEUP_QBO_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    return tmp_path


def test_a_realm_in_groups_of_digits_connects_as_its_digits(env, qbo_url):
    args = ["connect", "qbo", "--url", qbo_url, "--client-id", "sandbox"]
    args += ["--client-secret", "sandbox", "--realm", SHOWN, "--refresh-token", "sandbox"]
    with using(MemoryKeyring()) as keyring:
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "connection works" in result.stderr
    saved = tomllib.loads((env / "config.toml").read_text())
    assert saved["qbo"]["realm_id"] == REALM
    assert ("trueup", f"qbo:{REALM}:refresh_token") in keyring.passwords


def test_the_config_and_the_environment_take_it_as_its_digits(env, monkeypatch):
    (env / "config.toml").write_text(f'[qbo]\nrealm_id = "{SHOWN}"\n')
    assert load_settings(env / "config.toml").qbo.realm_id == REALM
    monkeypatch.setenv("TRUEUP_QBO_REALM", " 9130 3577\t9999 1234 ")
    assert load_settings(env / "config.toml").qbo.realm_id == REALM
    monkeypatch.setenv("TRUEUP_QBO_REALM", "sandbox")  # an id of another shape: as given
    assert load_settings(env / "config.toml").qbo.realm_id == "sandbox"
