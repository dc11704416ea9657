"""`leakscan ci` through the action's own scan step, `leakscan pre-push`, and the pre-commit hook, on real repos."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scanner.cli.ci import push_revs
from tests.conftest import REPO_ROOT, git

SECRET = "AKIAZ5GMHYJKLOPQRS7T"
BIN = str(Path(sys.executable).parent)


def _commit(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    return git(repo, "rev-parse", "HEAD").strip()


def _scan_step() -> dict:  # type: ignore[type-arg]
    steps = yaml.safe_load((REPO_ROOT / "action.yml").read_text())["runs"]["steps"]
    return next(s for s in steps if s.get("id") == "scan")


def _run_action(repo: Path, tmp: Path, event: str, payload: dict, **inputs: str) -> dict:  # type: ignore[type-arg]
    """Run the action's scan step with bash, as the runner would: inputs reach it only through env."""
    step = _scan_step()
    defaults = {k: str(v.get("default", "")) for k, v in yaml.safe_load((REPO_ROOT / "action.yml").read_text())["inputs"].items()}
    values = {**defaults, **inputs}
    env = dict(os.environ)
    for key, expr in step["env"].items():  # "${{ inputs.mode }}" -> the input's value
        env[key] = values[expr.split("inputs.", 1)[1].split("}", 1)[0].strip()]
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(payload))
    files = {name: tmp / name for name in ("output", "summary", "env")}
    for f in files.values():
        f.write_text("")
    env.update(GITHUB_EVENT_NAME=event, GITHUB_EVENT_PATH=str(event_path), GITHUB_OUTPUT=str(files["output"]),
               GITHUB_STEP_SUMMARY=str(files["summary"]), GITHUB_ENV=str(files["env"]), PATH=f"{BIN}:{env['PATH']}")
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # the step itself never fails: the last step does
    status = dict(line.split("=", 1) for line in files["env"].read_text().split())
    sarif_path = repo / values["sarif-file"]
    return {
        "status": int(status["LEAKSCAN_STATUS"]),
        "stderr": done.stderr,
        "summary": files["summary"].read_text(),
        "outputs": files["output"].read_text(),
        "sarif": json.loads(sarif_path.read_text()) if sarif_path.exists() else None,
    }


@pytest.fixture
def pushed(make_repo):  # type: ignore[no-untyped-def]
    repo = make_repo()
    base = _commit(repo, "README.md", "hello\n")
    leak = _commit(repo, "settings.py", f"KEY = '{SECRET}'\n")
    clean = _commit(repo, "app.py", "print('ok')\n")
    return repo, base, leak, clean


def test_push_with_a_leak_fails_writes_sarif_and_a_secret_free_summary(pushed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, base, leak, clean = pushed
    res = _run_action(repo, tmp_path, "push", {"before": base, "after": clean, "ref": "refs/heads/main"})
    assert res["status"] == 1
    (result,) = res["sarif"]["runs"][0]["results"]
    assert result["ruleId"] == "aws-access-key-id"
    assert "findings=1" in res["outputs"]
    assert "aws-access-key-id" in res["summary"] and "settings.py" in res["summary"]
    for text in (res["summary"], res["stderr"], json.dumps(res["sarif"])):
        assert SECRET not in text


def test_push_range_without_the_leak_passes(pushed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _base, leak, clean = pushed
    res = _run_action(repo, tmp_path, "push", {"before": leak, "after": clean, "ref": "refs/heads/main"})
    assert res["status"] == 0 and res["sarif"]["runs"][0]["results"] == []


def test_fail_on_never_reports_but_passes(pushed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, base, _leak, clean = pushed
    res = _run_action(repo, tmp_path, "push", {"before": base, "after": clean}, **{"fail-on": "never"})
    assert res["status"] == 0 and "findings=1" in res["outputs"]


def test_push_of_identifiers_only_passes_and_counts_them_apart(make_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    base = _commit(repo, "README.md", "hello\n")
    head = _commit(repo, "infra.yaml", 'topic: "arn:aws:sns:us-west-2:904381276652:alarms"\n')
    res = _run_action(repo, tmp_path, "push", {"before": base, "after": head, "ref": "refs/heads/main"})
    assert res["status"] == 0
    assert [r["level"] for r in res["sarif"]["runs"][0]["results"]] == ["note"]
    assert "findings=0\nidentifiers=1\n" in res["outputs"]
    assert "1 identifier (not secrets)" in res["summary"] and "No leaks found" in res["summary"]


def test_pull_request_with_same_base_and_head_scans_that_commit(pushed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _base, leak, _clean = pushed
    payload = {"pull_request": {"base": {"sha": leak}, "head": {"sha": leak}}}
    res = _run_action(repo, tmp_path, "pull_request", payload)
    assert res["status"] == 1


def test_shallow_checkout_fails_loudly_with_fetch_depth_hint(pushed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, base, _leak, clean = pushed
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True)
    res = _run_action(shallow, tmp_path, "push", {"before": base, "after": clean})
    assert res["status"] == 3
    assert "fetch-depth: 0" in res["stderr"]


def test_dir_mode_and_extra_args(pushed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, *_ = pushed
    res = _run_action(repo, tmp_path, "push", {}, mode="dir", args="--min-confidence high -q")
    assert res["status"] == 1 and res["sarif"]["runs"][0]["results"][0]["ruleId"] == "aws-access-key-id"


def test_push_revs_from_pre_commit_environment_and_git_stdin() -> None:
    a, b = "a" * 40, "b" * 40
    assert push_revs({"PRE_COMMIT_FROM_REF": a, "PRE_COMMIT_TO_REF": b}) == [b, f"^{a}"]
    assert push_revs({"PRE_COMMIT_FROM_REF": "0" * 40, "PRE_COMMIT_TO_REF": b}) == [b, "--not", "--remotes"]
    assert push_revs({}, [f"refs/heads/x {b} refs/heads/x {a}"]) == [b, f"^{a}"]
    assert push_revs({}, [f"(delete) {'0' * 40} refs/heads/x {a}"]) == []


def test_pre_push_scans_only_the_commits_being_pushed(pushed) -> None:  # type: ignore[no-untyped-def]
    repo, base, leak, clean = pushed
    env = {**os.environ, "PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": clean}
    done = subprocess.run([sys.executable, "-m", "scanner", "pre-push"], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "SKIP=leakscan-push" in done.stderr and SECRET not in done.stdout + done.stderr
    env["PRE_COMMIT_FROM_REF"] = leak
    done = subprocess.run([sys.executable, "-m", "scanner", "pre-push"], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("pre-commit", path=BIN) is None, reason="pre-commit is a test dependency")
def test_pre_commit_hook_blocks_a_staged_secret_and_lets_a_clean_commit_through(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    hook = {"repos": [{"repo": "local", "hooks": [{
        "id": "leakscan", "name": "leakscan", "entry": f"{sys.executable} -m scanner staged",
        "language": "system", "pass_filenames": False, "stages": ["pre-commit"]}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(hook))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PRE_COMMIT_HOME": str(repo.parent / "pc-home")}
    subprocess.run([f"{BIN}/pre-commit", "install"], cwd=repo, env=env, check=True, capture_output=True)
    git(repo, "add", ".pre-commit-config.yaml")
    (repo / "ok.py").write_text("print('fine')\n")
    git(repo, "add", "ok.py")
    clean = subprocess.run(["git", "commit", "-q", "-m", "clean"], cwd=repo, env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (repo / "settings.py").write_text(f"KEY = '{SECRET}'\n")
    git(repo, "add", "settings.py")
    leaky = subprocess.run(["git", "commit", "-q", "-m", "leak"], cwd=repo, env=env, capture_output=True, text=True)
    assert leaky.returncode != 0
    assert "aws-access-key-id" in leaky.stdout + leaky.stderr and "SKIP=leakscan" in leaky.stdout + leaky.stderr
    assert SECRET not in leaky.stdout + leaky.stderr
