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


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pa55w0rd@[::1/v1",  # too broken to parse: its password was quoted
        "https://:pa55w0rd@api.pax8.com:http/v1",  # a port that is no number, likewise
        "https://user:pa55w0rd@api.pax8.com/v1",
    ],
)
def test_a_url_with_a_password_is_refused_and_the_password_never_said(tmp_path, url):
    """From a boundary review: a URL too broken to parse was not seen to carry a password, so
    `trueup config show` printed it, and doctor and sync quoted it in 'is not a URL like'."""
    from typer.testing import CliRunner

    from trueup.cli import app

    path = tmp_path / "config.toml"
    path.write_text(f'[pax8]\nurl = "{url}"\nclient_id = "x"\n')
    with pytest.raises(ConfigError, match=r"\[pax8\] url carries a user name or password"):
        load_settings(path)
    for args in (["config", "show"], ["doctor", "--offline"]):
        said = CliRunner().invoke(
            app, ["--db", str(tmp_path / "t.db"), "--config", str(path), *args]
        )
        assert said.exit_code == 1 and "pa55w0rd" not in said.output
        assert "url carries a user name or password" in said.output
    assert url_problem(url) == "carries a user name or password: give the host alone (https://host)"


def test_a_url_variable_with_a_password_too_broken_to_parse_is_refused_unsaid(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("TRUEUP_HALO_URL", "https://u:pa55w0rd@[acme.halopsa.com")
    with pytest.raises(ConfigError) as refused:
        load_settings(tmp_path / "config.toml")
    assert str(refused.value).startswith("TRUEUP_HALO_URL carries a user name or password")
    assert "pa55w0rd" not in str(refused.value)


def test_plain_http_off_loopback_is_flagged_by_config_show_and_doctor_offline(
    tmp_path, monkeypatch
):
    """From a boundary review: a config holding http://api.pax8.com/v1 (saved by `connect
    --no-test`, or written by hand) was refused only by the next sync or doctor online: config
    show printed it as fine and doctor --offline skipped it. Loopback stays fine (the demo)."""
    import json

    from typer.testing import CliRunner

    from trueup.cli import app
    from trueup.core.settings.config import ENV_OVERRIDES

    for variable in ENV_OVERRIDES.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TRUEUP_XERO_IDENTITY_URL", "http://identity.example")
    path = tmp_path / "config.toml"
    path.write_text(
        '[pax8]\nurl = "http://api.pax8.com/v1"\nclient_id = "x"\n'
        '[halo]\nurl = "http://127.0.0.1:8080"\nclient_id = "h"\n'
    )
    rule = "must be an https:// URL (plain http:// only on loopback: 127.0.0.1, ::1, localhost)"
    run = ["--db", str(tmp_path / "t.db"), "--config", str(path)]
    shown = CliRunner().invoke(app, [*run, "config", "show"])
    assert shown.exit_code == 0, shown.output
    pax8 = next(line for line in shown.stdout.splitlines() if line.startswith("url = "))
    assert pax8.startswith('url = "http://api.pax8.com/v1"  # ')
    assert pax8.endswith(f"# file {path}; refused: {rule}")
    assert "refused" not in shown.stdout.split("[halo]")[1].split("[mapping]")[0]
    assert shown.stderr.splitlines() == [
        f"warning: {path}: [pax8] url = 'http://api.pax8.com/v1' {rule}",
        f"warning: environment: TRUEUP_XERO_IDENTITY_URL = 'http://identity.example' {rule}",
    ]
    doctor = CliRunner().invoke(app, [*run, "doctor", "--offline", "--json"])
    assert doctor.exit_code == 1
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["connection pax8"] == {
        "name": "connection pax8",
        "status": "fail",
        "message": f"{path}: [pax8] url = 'http://api.pax8.com/v1' {rule}",
        "fix": "trueup connect pax8 --url https://…",
    }
    assert checks["connection halo"]["status"] == "skip"  # loopback: not tested, offline
    assert checks["connection xero"]["status"] == "warn"  # not configured: not used yet
    assert checks["connection xero"]["fix"] == (
        "set TRUEUP_XERO_IDENTITY_URL to an https:// URL, or unset it"
    )
