"""`trueup demo` with no terminal (scripts, CI): the bundled Partner Center file imported beside
the Pax8 sync, once (a second demo changes nothing), and the status counting it apart."""

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueup.cli import app


def test_the_demo_imports_its_partner_center_file_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    store = str(tmp_path / "demo.sqlite")
    first = CliRunner().invoke(app, ["--db", store, "demo"])
    assert first.exit_code == 0, first.output
    assert "Imported demo-partner-center.csv (Partner Center): 10 rows" in first.stderr
    assert re.search(
        r"^Sandbox serving Pax8 at http://\S+ and HaloPSA at http://\S+$", first.stderr, re.M
    )
    again = CliRunner().invoke(app, ["--db", store, "demo"])
    assert "Imported demo-partner-center.csv (Partner Center): nothing changed" in again.stderr
    # The store's path on one line, whole, however long (a table's title cut it mid-name).
    assert f"trueup store {store}\n" in first.stdout
    status = CliRunner().invoke(app, ["--db", store, "status", "--json"])
    imported = json.loads(status.stdout)["imported"]
    assert imported and "partner-center" in json.dumps(imported)


def test_the_demo_never_writes_into_the_store_trueup_db_names(tmp_path, monkeypatch):
    # TRUEUP_DB is set for the real store: the demo keeps to its own file (--db alone moves it).
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "real.sqlite"))
    done = CliRunner().invoke(app, ["demo"])
    assert done.exit_code == 0, done.output
    assert "The demo keeps to its own store; TRUEUP_DB is left alone." in done.stderr
    assert not (tmp_path / "real.sqlite").exists()
    assert (tmp_path / "data" / "trueup" / "demo.sqlite").exists()


def test_an_empty_trueup_db_is_refused_not_read_as_the_default_store(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("TRUEUP_DB", "")
    refused = CliRunner().invoke(app, ["status"])
    assert refused.exit_code == 2
    assert "TRUEUP_DB: is set but empty" in " ".join(refused.output.replace("│", " ").split())
    assert not (tmp_path / "data").exists()


def _stub_checkout(tmp_path: Path, *, installed: bool) -> Path:
    """The repository's .ci/ beside a pyproject.toml and a .venv whose python and trueup are
    stubs: python (what would run pip) says so and succeeds, trueup prints its arguments and
    the directory it runs in."""
    root = tmp_path / "checkout"
    shutil.copytree(Path(__file__).resolve().parent.parent / ".ci", root / ".ci")
    (root / "pyproject.toml").write_text("")
    os.utime(root / "pyproject.toml", (1_000_000_000, 1_000_000_000))
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in (("python", 'echo "pip $*" >&2'), ("trueup", 'echo "trueup $*"; pwd')):
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    if installed:
        (root / ".venv" / ".installed").touch()
    return root


def test_ci_demo_hands_its_arguments_to_the_demo_in_the_folder_it_was_run_from(tmp_path):
    # `source venv` with no argument of its own handed venv the demo's: `.ci/demo --faults ...`
    # asked pip for the extra "[--faults]" (a traceback, exit 1), and venv's cd moved a relative
    # --scenario to the checkout.
    root = _stub_checkout(tmp_path, installed=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ["--faults", "429=0.1", "--scenario", "mine.json"]
    ran = subprocess.run(
        [root / ".ci" / "demo", *args], cwd=elsewhere, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""  # installed already: no pip, nothing said
    assert ran.stdout.splitlines() == [f"trueup demo {' '.join(args)}", str(elsewhere)]


def test_ci_demo_says_what_the_first_wait_is_for(tmp_path):
    # pip runs --quiet: the first run was a silent wait of half a minute or more.
    root = _stub_checkout(tmp_path, installed=False)
    ran = subprocess.run(
        [root / ".ci" / "demo"], cwd=root, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    said = ran.stderr.splitlines()
    assert said[0] == "Installing trueup into .venv (a minute or two on first use)..."
    assert said[1:3] == [
        "pip -m pip install --quiet --upgrade pip",
        f"pip -m pip install --quiet -e {root}",
    ]
    assert said[3].startswith(".venv ready in ")
    assert (root / ".venv" / ".installed").exists()


@pytest.mark.parametrize(
    ("term", "stderr_on_pty", "why"),
    [
        ("dumb", True, "TERM=dumb cannot draw the workbench"),
        ("xterm-256color", False, "stderr is not a terminal, and the workbench draws there"),
    ],
)
def test_a_terminal_the_workbench_cannot_use_gets_the_status(tmp_path, term, stderr_on_pty, why):
    # TERM=dumb (Emacs' shell, a serial console) cannot move the cursor, and Textual draws on
    # stderr: the demo drew the workbench's escapes on the first, into the file of
    # `trueup demo 2>demo.log` on the second (a blank screen, keys acting unseen). A real pty.
    env = {**os.environ, "TERM": term, "XDG_DATA_HOME": str(tmp_path / "data")}
    env.update(TRUEUP_CONFIG=str(tmp_path / "config.toml"), HOME=str(tmp_path))
    env.pop("TRUEUP_DB", None)
    main, other = pty.openpty()
    with (tmp_path / "stderr").open("w+") as log:
        demo = subprocess.Popen(
            [sys.executable, "-m", "trueup", "demo"],
            stdin=subprocess.DEVNULL,
            stdout=other,
            stderr=other if stderr_on_pty else log,
            env=env,
        )
        os.close(other)
        shown = b""
        deadline = time.monotonic() + 120  # the workbench, had it opened, waits for a key
        try:
            while time.monotonic() < deadline and (chunk := _read_some(main)) is not None:
                shown += chunk
            exited = demo.wait(timeout=max(deadline - time.monotonic(), 5))
            assert exited == 0, shown.decode() + (tmp_path / "stderr").read_text()
        finally:
            os.close(main)
            demo.kill()
            demo.wait()
    said = shown.decode() + (tmp_path / "stderr").read_text()
    assert f"{why}: printing what the store holds instead" in said
    assert "Pax8 subscriptions" in said and "No open batch" in said
    assert "\x1b[?1049h" not in said  # the workbench's alternate screen
    if term == "dumb":
        assert "\x1b[" not in said  # nor any other escape: no colour, no live progress


def _read_some(fd: int) -> bytes | None:
    """What the pty has (b"" if nothing yet), None once the demo has exited and all is read."""
    if not select.select([fd], [], [], 0.5)[0]:
        return b""
    try:
        return os.read(fd, 65536) or None
    except OSError:  # EIO: the other side is closed and drained
        return None


@pytest.mark.parametrize(
    ("term", "on_pty", "why"),
    [
        ("dumb", True, "TERM=dumb cannot draw the workbench"),
        ("xterm-256color", False, "stdout is not a terminal"),
    ],
)
def test_the_workbench_where_it_cannot_be_drawn_says_why_and_what_to_run(
    tmp_path, term, on_pty, why
):
    # `trueup tui` drew its escapes on TERM=dumb, and into a pipe; the demo's check is shared.
    env = {**os.environ, "TERM": term, "TRUEUP_DB": str(tmp_path / "store.sqlite")}
    env.update(TRUEUP_CONFIG=str(tmp_path / "config.toml"), HOME=str(tmp_path))
    main, other = pty.openpty()
    try:
        ran = subprocess.run(
            [sys.executable, "-m", "trueup", "tui"],
            stdin=subprocess.DEVNULL,
            stdout=other if on_pty else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
        os.close(other)
        shown = b""
        while on_pty and (chunk := _read_some(main)):
            shown += chunk
    finally:
        os.close(main)
    said = ran.stderr.decode() + shown.decode()
    assert ran.returncode == 1, said
    assert f"{why}: `trueup status` prints what the store holds instead" in said
    assert "\x1b[?1049h" not in said  # the workbench's alternate screen
