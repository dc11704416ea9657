"""mypy, configured in pyproject.toml (strict on scanner/), passes: a type error fails CI."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

# Inside the venv: warm after the first run, and gone with the venv (the CI builds a fresh one).
CACHE = Path(sys.prefix) / ".mypy_cache"


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(CACHE), *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, check=False)


def test_scanner_type_checks_strictly() -> None:
    done = _mypy()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues found" in done.stdout


def test_project_config_rejects_an_unannotated_function(tmp_path: Path) -> None:
    module = tmp_path / "loose.py"
    module.write_text("def double(x):\n    return x * 2\n")
    done = _mypy("--config-file", str(REPO_ROOT / "pyproject.toml"), str(module))
    assert done.returncode == 1 and "[no-untyped-def]" in done.stdout
