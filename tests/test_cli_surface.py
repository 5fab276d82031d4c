"""The command line as a billing person reads it at 80 columns, and as scripts hold it to
contract.md: every word of help and of the log shown, conflicting flags refused."""

import json
import os

import pytest
from typer.testing import CliRunner

from trueup.cli import app
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
