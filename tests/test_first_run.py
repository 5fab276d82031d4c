"""A new user's first commands on the sandbox: a bad --faults, port, --month or scenario file is
said in one line naming what to change, with the contract's exit codes (2 for bad usage), never
an 'unexpected' error or a traceback."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueup.cli import app
from trueup.sandbox.common import FaultSpec, FaultSpecError
from trueup.sandbox.scenario import ScenarioError, load_scenario
from trueup.sandbox.serve import urls_for


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    # The error box's lines as one, its frame left out.
    return result.exit_code, " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("429", "fault '429' needs a value"),
        ("foo=0.1", "unknown fault 'foo'"),
        ("429=2", "rate must be between 0 and 1"),
        ("seed=1e999", "'seed': '1e999' is not a whole number"),  # was OverflowError, exit 1
    ],
)
@pytest.mark.parametrize(
    "command", [("sandbox", "serve"), ("demo",), ("sync", "--sandbox", "world.json")]
)
def test_a_bad_fault_spec_is_a_usage_error(spec: str, said: str, command: tuple[str]) -> None:
    code, output = run(*command, "--faults", spec)
    assert code == 2  # was 1, as if the user had something to fix elsewhere
    assert said in output
    assert "unexpected" not in output


def test_faults_without_a_sandbox_to_sync_are_a_usage_error() -> None:
    code, output = run("sync", "--faults", "429=0.1")
    assert code == 2 and "Invalid value for --faults: --faults works only with --sandbox" in output


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_help_prints_on_a_terminal_that_cannot_write_every_character(encoding: str) -> None:
    """'•' and '…' in a help raised UnicodeEncodeError, with a traceback, under an ASCII or
    Latin-1 locale (an old jump box); they print as '?' there."""
    for command in (["sync", "--help"], ["connect", "halo", "--help"]):
        shown = subprocess.run(
            [sys.executable, "-m", "trueup", *command],
            env={**os.environ, "PYTHONIOENCODING": encoding, "COLUMNS": "80"},
            capture_output=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        assert b"Traceback" not in shown.stderr and b"Usage:" in shown.stdout


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("seed=nan", "'seed': 'nan' is not a whole number"),
        ("slow_seconds=inf", "'slow_seconds': 'inf' is not a number of seconds"),  # held forever
        ("slow_seconds=-5", "'slow_seconds': '-5' is not a number of seconds from 0 to 3,600"),
        ("retry_after_seconds=1e30", "'retry_after_seconds': '1e30' is not a whole number"),
    ],
)
def test_a_fault_option_out_of_range_is_refused(spec: str, said: str) -> None:
    with pytest.raises(FaultSpecError, match=re.escape(said)):
        FaultSpec.parse(spec)


def test_a_port_out_of_range_or_shared_is_a_usage_error() -> None:
    assert run("sandbox", "serve", "--pax8-port", "99999")[0] == 2
    code, output = run("sandbox", "serve", "--pax8-port", "18766", "--halo-port", "18766")
    assert (code, output) == (
        2,
        "error: two simulators cannot share a port: give each its own, or 0 for a free one "
        "(see --help)",
    )


def test_a_port_in_use_is_named_with_what_to_do() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        ran = subprocess.run(
            [sys.executable, "-m", "trueup", "sandbox", "serve", "--halo-port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        taken.close()
    # It read 'the sandbox could not start on 127.0.0.1: 3' (uvicorn's exit status), after
    # uvicorn's own ERROR line and 'Task exception was never retrieved: SystemExit: 3'.
    assert (ran.returncode, ran.stdout, ran.stderr) == (
        1,
        "",
        f"error: 127.0.0.1:{port}, the sandbox's HaloPSA port, is in use (another program, or "
        "a sandbox still serving): give another port, or 0 for a free one\n",
    )


def test_an_ipv6_host_is_bracketed_in_the_urls() -> None:
    assert urls_for("::1", 1, 2, 3, 4).pax8 == "http://[::1]:1/v1"


@pytest.mark.parametrize(
    ("month", "said"),
    [
        ("0000-01", "'0000-01' is outside the years trueup bills (2000-9998)"),
        ("9999-11", "'9999-11' is outside the years trueup bills (2000-9998)"),
        ("9997-01", "give a month from 2000-01 to 9995-12"),
    ],
)
def test_generate_refuses_a_month_its_scenario_cannot_hold(month: str, said: str) -> None:
    code, output = run("sandbox", "generate", "--clients", "1", "--month", month)
    assert code == 2  # was 'unexpected ValueError: year 0 is out of range', exit 1
    assert said in output


def test_generate_says_a_bad_trueup_today_as_every_command_does(monkeypatch) -> None:
    monkeypatch.setenv("TRUEUP_TODAY", "garbage")
    code, output = run("sandbox", "generate", "--clients", "1")
    assert (code, output) == (1, "error: TRUEUP_TODAY='garbage' is not a date like 2026-11-21")


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\xff\xfe{}", "is not UTF-8 text (byte 1 is not): save it as UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nests its lists or objects too deep"),
        (b'{"as_of": "2026-11-21T00:00:00Z", "halo": {"sites": [{"id": 1, "client_id": 1e400}]}}',
         ": the number 1e400 is out of range"),  # served as Infinity, refused by the client
        (b'{"as_of": "2026-11-21T00:00:00Z", "x": NaN}', ": NaN is not JSON (no number is)"),
    ],
)  # fmt: skip
def test_a_hostile_scenario_file_is_said_not_unexpected(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "scenario.json"
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match=r"^scenario ") as caught:
        load_scenario(path)
    assert str(caught.value) == f"scenario {path}{'' if said[0] == ':' else ' '}{said}"
    code, output = run("--db", str(tmp_path / "s.sqlite"), "sync", "--sandbox", str(path))
    assert code == 1
    assert "unexpected" not in output


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00:00", "9999-12-31T23:59:59"])
def test_a_scenario_outside_the_years_billed_is_refused(tmp_path: Path, as_of: str) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"as_of": as_of}))
    with pytest.raises(ScenarioError, match="is outside the years trueup bills"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{\n", "is not valid JSON (line 2, column 1)"),
        ("[]", "the top level must be a JSON object"),
    ],
)
def test_a_distributors_file_of_a_scenario_not_one_is_said(
    tmp_path: Path, content: str, said: str
) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(content)
    for command in ("partner-center", "ion", "ingram", "sherweb"):
        code, output = run("sandbox", command, "--scenario", str(path))
        assert code == 1  # an unexpected JSONDecodeError or TypeError
        assert said in output
        assert "unexpected" not in output


def test_a_scenario_with_no_client_linked_has_no_distributors_file_to_write(tmp_path: Path):
    """sherweb's was 'unexpected IndexError' (the others wrote a file naming nobody)."""
    from trueup.sandbox.generate import DEMO_PATH

    scenario = json.loads(DEMO_PATH.read_text())
    for company in scenario["pax8"]["companies"]:
        company.pop("externalId", None)
    path = tmp_path / "unlinked.json"
    path.write_text(json.dumps(scenario))
    for command in ("partner-center", "ion", "ingram", "sherweb"):
        out = tmp_path / f"{command}.csv"
        code, output = run("sandbox", command, "--scenario", str(path), "--out", str(out))
        assert code == 1, (command, output)
        assert "no Pax8 company of the scenario names a Halo client of it" in output, command
        assert "unexpected" not in output and not out.exists()
