"""The import contracts of docs/architecture.md hold, and they catch a back-import.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``); import-linter builds
the import graph of the package (every import statement, including those inside
functions and under ``TYPE_CHECKING``) and checks them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "talentplan"


def lint_imports(pythonpath: Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on the package found first on ``pythonpath``."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    script = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
    return subprocess.run(
        [sys.executable, "-c", script, "--no-cache", str(REPO / "pyproject.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )


def test_the_package_keeps_every_import_contract() -> None:
    run = lint_imports(REPO / "src")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "back_import", "contract"),
    [
        ("model/pwl.py", "import talentplan.report.result", "Layers import downward only"),
        ("data/instance.py", "import talentplan.calibrate", "Only the scenarios and the faces"),
        ("calibrate/__init__.py", "import talentplan.solver.api", "Calibration depends on"),
        ("data/schema.py", "import talentplan.data.io", "No import cycles"),
    ],
)
def test_a_back_import_breaks_a_contract(
    tmp_path: Path, module: str, back_import: str, contract: str
) -> None:
    copy = tmp_path / "talentplan"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("bundled", "__pycache__"))
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{back_import}\n", encoding="utf-8")
    run = lint_imports(tmp_path)
    assert run.returncode != 0, run.stdout
    broken = run.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, run.stdout
