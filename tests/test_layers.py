"""At run time, the core never loads Textual. The import directions themselves (stages, fronts,
the pure engine) are import-linter contracts in pyproject.toml, checked by `lint-imports` in CI."""

import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app" / "trueup"


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
