"""The core never imports Textual; the TUI never touches SQL or httpx directly."""

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app" / "trueup"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_import_no_textual_or_tui():
    offenders = {
        str(path.relative_to(APP)): sorted(_imports(path) & {"textual"})
        for path in (APP / "core").rglob("*.py")
        if _imports(path) & {"textual"}
    }
    tui_users = [
        str(p.relative_to(APP))
        for p in (APP / "core").rglob("*.py")
        if "trueup.tui" in p.read_text(encoding="utf-8")
    ]
    assert offenders == {} and tui_users == []


def test_importing_every_core_module_leaves_textual_unloaded():
    modules = [
        ".".join(("trueup", *p.relative_to(APP).with_suffix("").parts)).removesuffix(".__init__")
        for p in (APP / "core").rglob("*.py")
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tui_never_touches_sql_or_http():
    forbidden = {"sqlalchemy", "sqlmodel", "sqlite3", "httpx"}
    offenders = {
        str(path.relative_to(APP)): sorted(_imports(path) & forbidden)
        for path in (APP / "tui").rglob("*.py")
        if _imports(path) & forbidden
    }
    assert offenders == {}
