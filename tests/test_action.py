"""action.yml and .pre-commit-hooks.yaml: the shapes GitHub and pre-commit rely on, and no injection holes."""
from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO_ROOT

ACTION = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]


def test_action_is_composite() -> None:
    assert ACTION["runs"]["using"] == "composite"


@pytest.mark.parametrize("name", sorted(ACTION["inputs"]))
def test_every_input_is_used(name: str) -> None:
    text = (REPO_ROOT / "action.yml").read_text()
    assert f"inputs.{name}" in text.split("runs:", 1)[1], f"input {name} is declared but never used"


@pytest.mark.parametrize("step", [s for s in STEPS if "run" in s], ids=lambda s: s.get("name", "?"))
def test_no_expression_inside_run_blocks(step: dict) -> None:  # type: ignore[type-arg]
    assert "${{ inputs." not in step["run"] and "${{ github.event" not in step["run"]
    assert "${{" not in step["run"], "values reach scripts only through env:"


@pytest.mark.parametrize("step", [s for s in STEPS if "uses" in s], ids=lambda s: s["uses"].split("@")[0])
def test_third_party_actions_are_pinned_by_full_sha(step: dict) -> None:  # type: ignore[type-arg]
    assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_action_installs_from_its_own_checkout_and_uploads_sarif() -> None:
    runs = " ".join(s.get("run", "") for s in STEPS)
    assert '"$GITHUB_ACTION_PATH"' in runs
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in STEPS)


def test_pre_commit_hooks_are_declared() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["leakscan"]["entry"] == "leakscan staged"
    assert hooks["leakscan"]["language"] == "python"
    assert hooks["leakscan"]["pass_filenames"] is False
    assert hooks["leakscan"]["stages"] == ["pre-commit"]
    assert hooks["leakscan-push"]["stages"] == ["pre-push"]
