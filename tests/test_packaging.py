"""The built wheel carries the rules and works outside the checkout (a forgotten data file fails here)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO_ROOT)],
        check=True, capture_output=True, cwd=out,
    )
    (whl,) = out.glob("leakscan-*.whl")
    return whl


def test_wheel_ships_every_rule_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for rule_file in (REPO_ROOT / "rules").glob("*.yaml"):
        assert f"scanner/rules/{rule_file.name}" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_wheel_ships_the_finding_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "scanner/schemas/finding.schema.json" in names


def test_installed_wheel_scans_a_fixture(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "app.env").write_text("AWS_ACCESS_KEY_ID=AKIAZ5GMHYJKLOPQRS7T\n")
    env = {**os.environ, "PYTHONPATH": str(target), "LEAKSCAN_NO_CACHE": "1"}
    where = subprocess.run([sys.executable, "-c", "import scanner; print(scanner.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))  # the wheel, not the checkout
    done = subprocess.run([sys.executable, "-m", "scanner", "scan", ".", "-f", "json"],
                          cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert [r["rule_id"] for r in json.loads(done.stdout)] == ["aws-access-key-id"]
