"""The scriptable surface (contract.md): exit codes, JSON keys, one-line errors."""

import json

import pytest
from typer.testing import CliRunner

from trueup.cli import app
from world import world


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    for name in (
        "TRUEUP_TODAY",
        "TRUEUP_PAX8_CLIENT_ID",
        "TRUEUP_HALO_CLIENT_ID",
        "TRUEUP_PAX8_URL",
        "TRUEUP_HALO_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_sync_json_then_status_json(env):
    result = invoke("sync", "--sandbox", str(env / "world.json"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert {s["source"]: s["status"] for s in summary["sources"]} == {"pax8": "ok", "halo": "ok"}
    assert summary["sources"][0]["counts"]["pax8_subscription"]["created"] == 4

    status = json.loads(invoke("status", "--json").stdout)
    assert status["entities"]["pax8_subscription"] == 4
    assert status["entities"]["halo_recurring_invoice_line"] == 2
    assert status["sources"]["pax8"]["age"] == "just now"
    assert status["open_batches"] == []

    log = json.loads(invoke("log", "--json").stdout)
    assert {e["event"] for e in log["entries"]} >= {"pax8 sync completed", "halo sync completed"}


def test_a_bad_scenario_is_one_line_naming_the_problem(env):
    (env / "bad.json").write_text('{"as_of": "2026-11-21T00:00:00Z", "pax8": {"companies": 7}}')
    result = invoke("sync", "--sandbox", str(env / "bad.json"))
    assert result.exit_code == 1
    assert "pax8.companies" in result.stderr and "Traceback" not in result.output
    truncated = invoke("sync", "--sandbox", str(env / "world.json")[:-2])
    assert truncated.exit_code == 1 and "cannot read scenario" in truncated.stderr


def test_unconfigured_sync_says_how_to_connect(env):
    result = invoke("sync")
    assert result.exit_code == 1
    assert "trueup connect pax8" in result.stderr


def test_a_corrupt_store_is_explained_and_left_alone(env):
    (env / "trueup.sqlite").write_bytes(b"garbage" * 500)
    result = invoke("status")
    assert result.exit_code == 1
    assert "not a usable SQLite database" in result.stderr
    assert (env / "trueup.sqlite").read_bytes() == b"garbage" * 500


def test_bad_usage_exits_2(env):
    assert invoke("status", "--nope").exit_code == 2
    assert invoke("sandbox", "generate", "--clients", "0").exit_code == 2


def test_faults_need_the_sandbox(env):
    result = invoke("sync", "--faults", "500=0.1")
    assert result.exit_code == 2 and "--sandbox" in result.stderr  # bad usage, said at parsing


def test_help_teaches(env):
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("demo", "sync", "status", "log", "sandbox", "connect"):
        assert command in result.stdout


def test_void_help_speaks_of_voiding_and_post_help_of_posting(env):
    # From a review: post's BATCH spoke of void, and void's --to of credit notes for adjustments.
    post, void = (
        " ".join(invoke(c, "--help").stdout.replace("│", " ").split()) for c in ("post", "void")
    )
    assert "for void" not in post and "whichever batches" not in post
    assert "Where the documents to void were posted" in void and "credit note" not in void


@pytest.mark.parametrize("command", [("diff",), ("post",), ("xero", "map", "suggest")])
def test_help_shows_no_type_beside_a_flag(env, command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "--help" in result.stdout and "<bool>" not in result.stdout


def test_a_failed_source_exits_1_with_its_reason_and_no_internal_noise(env, monkeypatch):
    data = world()
    data["credentials"] = {
        "pax8": {"client_id": "sandbox", "client_secret": "other"},
        "halo": {"client_id": "sandbox", "client_secret": "sandbox"},
    }
    (env / "locked.json").write_text(json.dumps(data))
    monkeypatch.setattr(
        "trueup.cli.syncing._credentials",
        lambda scenario: {
            "pax8": {"client_id": "sandbox", "client_secret": "sandbox"},
            "halo": {"client_id": "sandbox", "client_secret": "sandbox"},
        },
    )
    result = invoke("sync", "--sandbox", str(env / "locked.json"))
    assert result.exit_code == 1
    assert "Pax8 rejected the client id or secret" in result.stderr
    assert "unexpected" not in result.stderr


def test_the_log_reads_as_a_person_reads_it_and_json_keeps_the_record(env):
    from trueup.cli.render import readable

    assert readable({"USD": "7664.06", "EUR": "12.00"}) == "USD 7664.06, EUR 12.00"
    assert readable({"pax8_company": {"created": 1, "deleted": 0}}) == (
        "pax8 company (created 1, deleted 0)"
    )
    assert readable(None) == "-" and readable([]) == "none" and readable([118, 119]) == "118, 119"
    assert invoke("sync", "--sandbox", str(env / "world.json")).exit_code == 0
    shown = invoke("log", "--limit", "5").stdout
    assert (
        "{'" not in shown
        and "None" not in shown
        and "entities: pax8 company (" in " ".join(shown.split())
    )
    record = json.loads(invoke("log", "--json", "--limit", "5").stdout)["entries"]
    assert any(isinstance(e["details"].get("entities"), dict) for e in record)


@pytest.mark.parametrize("flag", ["--db", "--config"])
def test_an_empty_file_option_is_refused_not_read_as_this_folder(env, flag):
    # `--db "$UNSET"` used to open the current folder as the store.
    result = invoke(flag, "", "status")
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())
    assert f"Invalid value for '{flag}'" in said and "is empty: give a file name" in said
    assert not (env / "trueup.sqlite").exists()


def test_control_characters_in_what_the_user_gave_are_shown_never_obeyed(env):
    evil = "\x1b[31mRED\x1b]0;pwn\x07\u202e"
    assert invoke("sync", "--sandbox", str(env / "world.json")).exit_code == 0
    refused = invoke("map", "set", "--company", evil, "--client", "1")
    assert refused.exit_code == 1
    assert "\\x1b[31mRED\\x1b]0;pwn\\x07\\u202e" in refused.stderr
    (env / f"e{evil}.csv").write_text("")
    assert invoke("import", str(env / f"e{evil}.csv"), "--source", "ion").exit_code == 1
    shown = invoke("log", "--limit", "3").stdout  # the refusal, replayed from the log
    assert "\\x1b[31m" in shown
    for said in (refused.stderr, shown):
        assert not {"\x1b", "\x07", "\u202e"} & set(said)


@pytest.mark.parametrize(
    "command",
    [
        ("evidence", "--month", "2026-11"),
        ("batch", "--month", "2026-11"),
        ("approve", "2026-11"),
        ("map", "set", "--company", "c1"),
    ],
)
def test_a_client_id_no_store_can_hold_is_bad_usage(env, command):
    # evidence read 99999999999999999999 as far as SQLite, and failed with an OverflowError.
    for given in ("99999999999999999999", "0"):
        result = invoke(*command, "--client", given)
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--client'" in result.output


@pytest.mark.parametrize("command", [("status",), ("log",)])
def test_a_mistyped_store_is_said_never_made(env, command):
    missing = env / "no such folder" / "trueup.sqlite"
    result = invoke("--db", str(missing), *command)
    assert result.exit_code == 1
    assert f"no store at {missing}" in " ".join(result.stderr.split())
    assert not missing.parent.exists()


@pytest.mark.parametrize(("given", "said"), [("", "is empty"), ("-", "not standard output")])
@pytest.mark.parametrize("command", [("export",), ("evidence", "--client", "1")])
def test_an_out_that_names_no_file_is_bad_usage(env, command, given, said):
    # evidence --out '' wrote into the current folder; --out - made a file named "-".
    result = invoke(*command, "--out", given)
    assert result.exit_code == 2
    assert said in " ".join(result.output.replace("│", " ").split())


def test_a_file_error_names_the_file_first(env):
    # Not Python's "[Errno 20] Not a directory: '…'".
    assert invoke("sync", "--sandbox", str(env / "world.json")).exit_code == 0
    taken = env / "taken"
    taken.write_text("a file where a folder would go")
    result = invoke("rules", "export", str(taken / "rules.toml"))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {taken / 'rules.toml'}: Not a directory"
