"""The command line as a billing person reads it at 80 columns, and as scripts hold it to
contract.md: every word of help and of the log shown, conflicting flags refused."""

import io
import json
import os
import sys
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from test_cli_diff import map_world
from trueup.cli import app, posting
from world import world


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("TRUEUP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-12-07")
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), terminal_width=80)


def squeezed(text: str) -> str:
    """The text without its table borders and whitespace: a word folded over lines reads whole."""
    return "".join(text.replace("│", "").split())


def approved(env) -> str:
    """A store synced, mapped and its November batch approved: the batch id."""
    assert invoke("sync", "--sandbox", str(env / "world.json")).exit_code == 0
    assert invoke("map", "accept").exit_code == 0
    batch = json.loads(invoke("batch", "--month", "2026-11", "--json").stdout)
    assert invoke("approve", batch["batch_id"]).exit_code == 0
    return str(batch["batch_id"])


def test_the_log_at_80_columns_shows_every_id_whole(env):
    # The details column cut a batch id and a fingerprint with '…' (as it cut
    # POSSIBLE_DOUBLE_BILL in an override): what the log said could not be read back.
    batch_id = approved(env)
    shown = invoke("log", "--limit", "1")
    assert shown.exit_code == 0
    assert "…" not in shown.stdout
    (entry,) = json.loads(invoke("log", "--json", "--limit", "1").stdout)["entries"]
    assert f"batchid:{batch_id};" in squeezed(shown.stdout)
    assert entry["details"]["after"]["fingerprint"] in squeezed(shown.stdout)


def every_command(group=None, path=()):
    """Every command's words, the group's own included, as `trueup ... --help` takes them."""
    import typer.main

    group = group or typer.main.get_command(app)
    yield path
    for name in getattr(group, "list_commands", lambda _: [])(None):
        yield from every_command(group.get_command(None, name), (*path, name))


def test_every_help_fits_80_columns_with_every_word(monkeypatch):
    # sandbox serve's --faults was cut to `429=0.05,429-bare=0.02,500=0.0…` (the fault kinds
    # after it never shown), and every --client carried `<list[int]>
    # [1<=x<=9223372036854775807]`, squeezing its help into a third of the line.
    monkeypatch.setenv("COLUMNS", "80")
    commands = list(every_command())
    assert len(commands) > 70
    for command in commands:
        shown = invoke(*command, "--help")
        assert shown.exit_code == 0, command
        lines = shown.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, command
        assert "…" not in shown.stdout, command
        assert "9223372036854775807" not in shown.stdout and "list[" not in shown.stdout, command
    faults = " ".join(invoke("sandbox", "serve", "--help").stdout.replace("│", " ").split())
    assert "malformed, lost, late, lost-500" in faults


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_summary_refuses_json_and_a_format_together(env, fmt):
    # `summary --json --format md` printed JSON and dropped the Markdown unsaid.
    assert invoke("sync", "--sandbox", str(env / "world.json")).exit_code == 0
    map_world(env / "trueup.sqlite")  # a month with clients: one with none has no summary
    result = invoke("summary", "--month", "2026-11", "--json", "--format", fmt)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"--json and --format {fmt} are two outputs" in result.stderr
    assert invoke("summary", "--month", "2026-11", "--json", "--format", "text").exit_code == 0


@pytest.mark.parametrize(
    "command",
    [
        ("diff",),
        ("month",),
        ("summary",),
        ("approve", "2026-11"),
        ("import", "x.csv", "--source", "ion"),
    ],
)
def test_an_unreadable_trueup_today_is_said_alike_with_or_without_a_month(env, command):
    # With --month 2026-11 it read "Invalid value for '--month': TRUEUP_TODAY='garbage' ..."
    # (exit 2), blaming the month the user typed right; without it, exit 1 and the one line.
    assert invoke("sync", "--sandbox", str(env / "world.json")).exit_code == 0
    (env / "x.csv").write_text("")
    env_today = {"TRUEUP_TODAY": "garbage"}
    month = () if command[0] == "approve" else ("--month", "2026-11")
    given = CliRunner().invoke(app, [*command, *month], env=env_today)
    said = "error: TRUEUP_TODAY='garbage' is not a date like 2026-11-21\n"
    assert (given.exit_code, given.stderr) == (1, said)
    if command[0] in ("diff", "month", "summary"):
        alone = CliRunner().invoke(app, list(command), env=env_today)
        assert (alone.exit_code, alone.stderr) == (1, said)


def test_export_says_it_keeps_the_batch_it_builds(env):
    # Its help said "nothing in the store changes", and `trueup batches` then listed a batch
    # nobody had built.
    assert invoke("sync", "--sandbox", str(env / "world.json")).exit_code == 0
    map_world(env / "trueup.sqlite")  # a month with clients: one with none has no export
    assert json.loads(invoke("batches", "--json").stdout)["batches"] == []
    out = env / "november.xlsx"
    assert invoke("export", "--month", "2026-11", "--out", str(out)).exit_code == 0
    (kept,) = json.loads(invoke("batches", "--json").stdout)["batches"]
    assert kept["month"] == "2026-11"
    said = " ".join(invoke("export", "--help").stdout.replace("│", " ").split())
    assert "kept as trueup batch keeps it" in said and "nothing in the store changes" not in said


def test_the_typed_confirmation_is_asked_on_stderr_not_into_the_json(monkeypatch, capsys):
    """From the CLI review: `trueup post ... --json > out.json` at a terminal wrote its "Type
    2026-11 to post" prompt to stdout, so the user saw no prompt (the command seemed to hang)
    and the file began with it instead of JSON."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("2026-11\n"))
    posting._confirm("2026-11", "post 3 invoice(s)")
    said = capsys.readouterr()
    # Click hands input() the prompt's last space, to stdout: JSON reads past it.
    assert said.out.strip() == "" and "Type 2026-11 to post 3 invoice(s)" in said.err


def test_an_interrupted_post_counts_only_what_it_left_posted(capsys):
    """From the month-ledger walk: Ctrl-C in a re-post after a whole month's void said "57 still
    to send (57 done)", the done being the earlier invoices, voided since."""
    entries = [SimpleNamespace(state=s) for s in ["VOIDED"] * 57 + ["PENDING"] * 56 + ["POSTED"]]
    report = SimpleNamespace(entries=entries)
    with pytest.raises(typer.Exit):
        posting._interrupted(report, "post", "trueup post 2026-11")  # type: ignore[arg-type]
    assert "post stopped with 56 still to send (1 done)" in " ".join(
        capsys.readouterr().err.split()
    )
