"""The config file and the environment over it."""

import pytest

from trueup.core.settings.config import (
    ConfigError,
    check_urls,
    load_settings,
    save_settings,
    url_problem,
)


def test_environment_overrides_the_file_and_secrets_never_land_in_it(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('[pax8]\nclient_id = "from-file"\n[mapping]\nthreshold = 95\n')
    monkeypatch.setenv("TRUEUP_PAX8_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("TRUEUP_PAX8_CLIENT_SECRET", "s3cret")
    settings = load_settings(path)
    assert (settings.pax8.url, settings.pax8.client_id) == ("http://127.0.0.1:9/v1", "from-file")
    assert settings.mapping.threshold == 95
    save_settings(settings)
    assert "s3cret" not in path.read_text()
    assert load_settings(path).mapping.threshold == 95


def test_saving_keeps_the_files_values_under_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('[halo]\nurl = "https://acme.halopsa.com"\n')
    monkeypatch.setenv("TRUEUP_HALO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("TRUEUP_PAX8_URL", "http://127.0.0.1:8/v1")
    settings = load_settings(path)
    settings.halo.client_id = "typed"  # what `trueup connect halo` changes
    settings.pax8.url = "https://pax8.example/v1"  # a value given on purpose, not the variable's
    save_settings(settings)
    monkeypatch.delenv("TRUEUP_HALO_URL")
    monkeypatch.delenv("TRUEUP_PAX8_URL")
    saved = load_settings(path)
    assert saved.halo.url == "https://acme.halopsa.com"  # not the test server of this run
    assert saved.halo.client_id == "typed"
    assert saved.pax8.url == "https://pax8.example/v1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[pax8\n", "not valid TOML"),
        ('[pax8]\nsecret = "x"\n', "unknown key 'secret' in [pax8]"),
        ('[mapping]\nthreshold = "high"\n', "[mapping] threshold must be a whole number"),
        ("[sync]\nmax_shrink_percent = 50.5\n", "max_shrink_percent must be a whole number"),
        ("[mapping]\nthreshold = 120\n", "between 0 and 100"),
        ("[halo]\nurl = 5\n", "[halo] url must be a string"),
        ("[billing]\nclose_day = 32\n", "[billing] close_day must be between 0 and 31"),
    ],
)
def test_a_bad_config_names_the_key(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(path)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("http://[::1", "http://[::1"),  # a crash in the client, before: ValueError
        ("http://127.0.0.1/\x1b[31m", "http://127.0.0.1/\\x1b[31m"),  # InvalidURL, raw on stderr
        ("http://127.0.0.1:port/v1", "http://127.0.0.1:port/v1"),
    ],
)
def test_a_url_from_the_environment_is_checked_before_a_client_uses_it(
    tmp_path, monkeypatch, value, shown
):
    monkeypatch.setenv("TRUEUP_PAX8_URL", value)
    settings = load_settings(tmp_path / "config.toml")  # a stray variable blocks no command...
    with pytest.raises(ConfigError) as refused:
        check_urls(settings, "pax8")  # ...but the client that would use it
    assert str(refused.value) == (
        f"environment: TRUEUP_PAX8_URL = '{shown}' is not a URL like https://host"
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[halo]\nurl = "acme.halopsa.com"\n', "[halo] url = 'acme.halopsa.com' is not a URL"),
        ('[xero]\nurl = "ftp://api.xero.com"\n', "[xero] url = 'ftp://api.xero.com' is not"),
    ],
)
def test_a_url_in_the_file_is_named_with_its_key(tmp_path, text, said):
    path = tmp_path / "config.toml"
    path.write_text(text)
    section = text[1:5]
    with pytest.raises(ConfigError, match=said.replace("[", r"\[").replace("]", r"\]")):
        check_urls(load_settings(path), section)


@pytest.mark.parametrize(
    "url", ["https://acme.halopsa.com", "http://[::1]:8080/v1", "https://h.example/api?x=1"]
)
def test_a_real_url_passes(url):
    assert url_problem(url) is None


def test_a_value_with_control_characters_is_saved_and_shown_escaped(tmp_path):
    """From a boundary review: JSON leaves DEL, C1 and bidi marks as they are, so a saved
    config holding one no longer read (TOML refuses DEL written out), and `trueup config show`
    printed them to the terminal."""
    from typer.testing import CliRunner

    from trueup.cli import app

    path = tmp_path / "config.toml"
    path.write_text('[halo]\ntenant = "a\\u007fb\\u0085c\\u202e"\n')
    save_settings(load_settings(path))
    assert load_settings(path).halo.tenant == "a\x7fb\x85c\u202e"
    shown = CliRunner().invoke(app, ["--config", str(path), "config", "show"])
    assert shown.exit_code == 0, shown.output
    assert 'tenant = "a\\u007fb\\u0085c\\u202e"' in shown.stdout
    assert not {"\x7f", "\x85", "\u202e"} & set(shown.stdout)
