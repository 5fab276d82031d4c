"""Files and flags no one should hand trueup, each refused in one line naming the file, key or
value and what to do, never 'unexpected ...' and never a traceback; nothing written."""

import pytest
from typer.testing import CliRunner

from trueup.cli import app
from trueup.core.store.database import open_database

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def env(tmp_path, monkeypatch):
    open_database(tmp_path / "trueup.sqlite").dispose()  # commands but sync read a store
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-11-21")
    return tmp_path


def said(result) -> str:
    assert "Traceback" not in result.output and "unexpected" not in result.output
    return " ".join(result.stderr.replace("│", " ").split())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(128, 256)), "is not UTF-8 text: is it the config file?"),
        (f"a = {DEEP}\n".encode(), "nests arrays or tables deeper than a config has"),
        (b"[sync]\nmin_interval_minutes = 99999999999999999999\n",
         "[sync] min_interval_minutes must be between 0 and 527040"),
    ],
)  # fmt: skip
def test_a_config_no_one_wrote_is_one_line(env, content, message):
    (env / "config.toml").write_bytes(content)
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 1 and message in said(result)


def test_a_log_limit_past_reason_is_a_usage_error(env):
    result = CliRunner().invoke(app, ["log", "--limit", "99999999999999999999"])
    assert result.exit_code == 2 and "less than or equal to 100000" in said(result)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"version": 1, "companies": [{"client_id": ' + "9" * 5000 + "}]}",
         "a number of thousands of digits, which no id has"),
        ('{"version": 1, "companies": ' + DEEP + "}", "nested deeper than a mapping file is"),
    ],
)  # fmt: skip
def test_a_mapping_file_no_one_wrote_is_refused_whole(env, text, message):
    (env / "maps.json").write_text(text)
    result = CliRunner().invoke(app, ["map", "import", str(env / "maps.json")])
    assert result.exit_code == 1 and "import refused, nothing written" in said(result)
    assert message in said(result)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"[defaults]\nmarkup_percent = {DEEP}\n", "nested deeper than any rule is"),
        ("[defaults]\nmarkup_percent = " + "9" * 5000 + "\n", "a number of thousands of digits"),
    ],
)
def test_a_rules_file_no_one_wrote_is_refused_whole(env, text, message):
    (env / "rules.toml").write_text(text)
    result = CliRunner().invoke(app, ["rules", "import", str(env / "rules.toml")])
    assert result.exit_code == 1 and "was not imported" in said(result)
    assert message in said(result)


def test_a_secrets_backend_trueup_lacks_is_refused(env):
    (env / "config.toml").write_text('[secrets]\nbackend = "plaintext"\n')
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 1
    assert "[secrets] backend = 'plaintext' is not one trueup has" in said(result)


def test_a_url_with_a_password_is_refused_without_repeating_it(env):
    (env / "config.toml").write_text('[halo]\nurl = "https://ops:hunter2@acme.halopsa.com"\n')
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 1 and "[halo] url carries a user name or password" in said(result)
    assert "hunter2" not in result.output


def test_a_url_with_a_password_from_the_environment_is_refused_too(env, monkeypatch):
    """From an operations pass: `config show` printed TRUEUP_HALO_URL's password."""
    monkeypatch.setenv("TRUEUP_HALO_URL", "https://admin:HUNTER2pw@acme.halopsa.com")
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 1 and "TRUEUP_HALO_URL carries a user name" in said(result)
    assert "HUNTER2pw" not in result.output
