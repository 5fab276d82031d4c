"""The command line loads a command's module only when that command is asked for, and still
shows every command in help, typo suggestions and its errors."""

import subprocess
import sys

from typer.testing import CliRunner

from trueup.cli import app
from trueup.cli.commands import LAZY_COMMANDS
from trueup.core.store.database import open_database


def modules_after(*args: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `trueup ARGS` (in-process)."""
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from trueup.cli import app\n"
        f"result = CliRunner().invoke(app, {list(args)!r})\n"
        "assert result.exit_code == 0, result.output\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_a_command_loads_its_own_module_alone():
    loaded = modules_after("batch", "--help")
    assert "trueup.cli.batch" in loaded
    others = {module for module, _ in LAZY_COMMANDS.values()} - {"trueup.cli.batch"}
    assert not others & loaded
    # nor what only other commands need: HTTP clients, the secret store, the sandbox servers
    assert not {"httpx", "trueup.core.settings.secrets", "starlette", "rapidfuzz"} & loaded


def test_help_alone_needs_no_store():
    assert "trueup.core.store.database" not in modules_after("--version")


def test_help_lists_every_command_and_suggests_lazy_ones():
    listed = CliRunner().invoke(app, ["--help"])
    assert listed.exit_code == 0
    assert all(f" {name} " in listed.stdout for name in LAZY_COMMANDS)
    typo = CliRunner().invoke(app, ["jurnal"])
    assert typo.exit_code == 2 and "Did you mean 'journal'?" in typo.output


def test_an_error_of_a_lazily_loaded_module_is_one_line(tmp_path, monkeypatch):
    open_database(tmp_path / "trueup.sqlite").dispose()  # map import reads a store
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    result = CliRunner().invoke(app, ["map", "import", str(tmp_path / "missing.toml")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "missing.toml" in result.stderr
