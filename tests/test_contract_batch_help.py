"""contract.md §2: `BATCH` in approve, post, void and journal is a batch id or a month, and each
command's --help says what a month means there."""

import pytest
from typer.testing import CliRunner

from trueup.cli import app


def argument_help(command: str) -> str:
    """The Arguments panel's words, its lines joined (folded at whatever width help has)."""
    shown = CliRunner().invoke(app, [command, "--help"])
    assert shown.exit_code == 0
    panel = shown.stdout.split("Arguments", 1)[1].split("Options", 1)[0]
    return " ".join(panel.replace("│", "").replace("─", "").split())


@pytest.mark.parametrize(
    ("command", "meaning"),
    [
        ("approve", "that month's current batch"),
        ("post", "that month's current batch"),
        ("void", "whichever batches posted the month there"),
        # It said "that month's current batch", though `journal 2026-11` lists every batch's
        # documents of the month ("Journal of 2026-11, every batch").
        ("journal", "every batch of that month"),
    ],
)
def test_batch_says_what_a_month_means_for_each_command(command, meaning):
    said = argument_help(command)
    assert "A batch id, or a month YYYY-MM" in said and meaning in said
