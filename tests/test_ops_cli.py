"""`trueup config show`, `trueup paths` and `trueup --version`."""

import json
import tomllib
from importlib.metadata import version

import keyring
import pytest
from keyring.backends.fail import Keyring as NoKeyring
from typer.testing import CliRunner

from trueup.cli import app
from trueup.core.settings import secret_backends
from trueup.core.settings.config import ENV_OVERRIDES, load_settings
from trueup.core.settings.secrets import Secrets

SECRET = "pax8-Sup3r-s3cret-value"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "data" / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in (*ENV_OVERRIDES.values(), "TRUEUP_QBO_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for source in ("PAX8", "HALO", "QBO"):
        monkeypatch.delenv(f"TRUEUP_{source}_CLIENT_SECRET", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    yield tmp_path
    keyring.set_keyring(previous)


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_config_show_says_where_each_value_comes_from_and_never_prints_a_secret(env, monkeypatch):
    (env / "config.toml").write_text(
        '[pax8]\nclient_id = "from-file"\n[halo]\nurl = "https://acme.halopsa.com"\n'
        "[sync]\nmin_interval_minutes = 30\n"
    )
    monkeypatch.setenv("TRUEUP_PAX8_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("TRUEUP_PAX8_CLIENT_SECRET", SECRET)
    result = invoke("config", "show")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    shown = tomllib.loads(result.stdout)  # the effective config, as TOML
    assert shown["pax8"] == {
        "url": "http://127.0.0.1:9/v1",
        "client_id": "from-file",
        "client_secret": "(set)",
    }
    assert shown["halo"]["client_secret"] == "(not set)"
    assert shown["sync"]["min_interval_minutes"] == 30
    assert shown["log"]["retention_days"] == 90
    assert shown["backup"]["keep"] == 20
    origins, section = {}, ""
    for line in result.stdout.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif "#" in line and "=" in line:
            origins[section, line.split("=")[0].strip()] = line.split("# ", 1)[1]
    assert origins["pax8", "url"] == "env TRUEUP_PAX8_URL"
    assert origins["pax8", "client_id"] == f"file {env / 'config.toml'}"
    assert origins["pax8", "client_secret"] == "environment (TRUEUP_PAX8_CLIENT_SECRET)"
    assert origins["halo", "url"] == f"file {env / 'config.toml'}"
    assert origins["log", "retention_days"] == "default"


def test_config_show_says_a_locked_secrets_file_is_locked_and_how_to_unlock(env, monkeypatch):
    """From an operations pass: with no passphrase every secret in the encrypted file read
    "(not set)", as if it were missing."""
    monkeypatch.setattr(secret_backends, "SCRYPT_N", 2**10)
    monkeypatch.setenv("TRUEUP_SECRETS_FILE", str(env / "secrets.enc"))
    (env / "config.toml").write_text(
        '[pax8]\nclient_id = "p"\n[secrets]\nbackend = "encrypted-file"\n'
    )
    monkeypatch.setenv("TRUEUP_SECRETS_PASSPHRASE", "correct horse")
    Secrets(load_settings(env / "config.toml")).save_client_secret("pax8", "p", SECRET)
    monkeypatch.delenv("TRUEUP_SECRETS_PASSPHRASE")
    result = invoke("config", "show")
    assert result.exit_code == 0, result.output
    assert tomllib.loads(result.stdout)["pax8"]["client_secret"] == "(locked)"
    line = next(x for x in result.stdout.splitlines() if x.startswith('client_secret = "(locked'))
    assert "encrypted file: the encrypted secrets file is locked" in line
    assert "set TRUEUP_SECRETS_PASSPHRASE to its passphrase" in line
    assert SECRET not in result.output


def test_config_show_names_a_xero_consents_refresh_token_not_a_client_secret(env):
    """It read client_secret "(not set)", "not configured", for a connected Xero PKCE app, and
    never said whether its refresh token (the one thing a post needs) could be read."""
    (env / "config.toml").write_text('[xero]\nclient_id = "app"\nauth = "pkce"\n')
    result = invoke("config", "show")
    assert result.exit_code == 0, result.output
    assert "client_secret" not in tomllib.loads(result.stdout)["xero"]
    xero = result.stdout.split("[xero]")[1].split("\n[")[0]
    line = next(x for x in xero.splitlines() if x.startswith("refresh_token"))
    assert line.startswith('refresh_token = "(not set)"') and "no OS keyring" in line


def test_config_show_of_a_bad_config_is_one_line(env):
    (env / "config.toml").write_text("[sync]\nmin_interval_minutes = -5\n")
    result = invoke("config", "show")
    assert result.exit_code == 1
    assert "[sync] min_interval_minutes must be between 0 and 527040" in result.stderr


def test_paths_one_per_line_and_as_json(env, monkeypatch):
    monkeypatch.delenv("TRUEUP_SECRETS_FILE", raising=False)
    result = invoke("paths")
    assert result.exit_code == 0
    rows = dict(line.split(maxsplit=1) for line in result.stdout.splitlines())
    database = env / "data" / "trueup.sqlite"
    assert rows == {
        "config": str(env / "config.toml"),
        "database": str(database),
        "data": str(env / "xdg" / "trueup"),
        "backups": str(env / "data" / "backups"),
        "log": str(database),
        "secrets": str(env / "xdg" / "trueup" / "secrets.enc"),
    }
    assert json.loads(invoke("paths", "--json").stdout) == rows


def test_paths_name_the_encrypted_secrets_file_where_it_is_moved(env, monkeypatch):
    """From an operations pass: `trueup paths` left out the encrypted secrets file."""
    monkeypatch.setenv("TRUEUP_SECRETS_FILE", str(env / "vault" / "trueup.enc"))
    rows = json.loads(invoke("paths", "--json").stdout)
    assert rows["secrets"] == str(env / "vault" / "trueup.enc")
    assert f"secrets   {env / 'vault' / 'trueup.enc'}" in invoke("paths").stdout.splitlines()


def test_paths_follow_the_db_option(env):
    other = env / "elsewhere" / "books.sqlite"
    rows = json.loads(invoke("--db", str(other), "paths", "--json").stdout)
    assert rows["database"] == str(other)
    assert rows["backups"] == str(other.parent / "backups")


def test_version_comes_from_the_package_metadata():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"trueup {version('trueup')}\n"
