"""`leakscan ci` range logic on real repositories, for every GitHub event case."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scanner.ci_range import ZERO_SHA, ScanPlan, load_event, plan
from scanner.errors import SourceError, UsageError
from tests.conftest import git


def _commit(repo: Path, name: str, text: str = "x\n") -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    return git(repo, "rev-parse", "HEAD").strip()


def _selected(repo: Path, p: ScanPlan) -> set[str]:
    if p.full:
        return set(git(repo, "rev-list", "--all").split())
    if not p.revs:
        return set()
    return set(git(repo, "rev-list", *p.revs, "--").split())


@pytest.fixture
def history(make_repo):  # type: ignore[no-untyped-def]
    """main: m1 - m2 - m3; feature (from m2): f1 - f2."""
    repo = make_repo()
    m1 = _commit(repo, "a")
    m2 = _commit(repo, "b")
    git(repo, "checkout", "-q", "-b", "feature")
    f1 = _commit(repo, "f1")
    f2 = _commit(repo, "f2")
    git(repo, "checkout", "-q", "main")
    m3 = _commit(repo, "c")
    return repo, dict(m1=m1, m2=m2, m3=m3, f1=f1, f2=f2)


def test_push_scans_before_to_after(history) -> None:  # type: ignore[no-untyped-def]
    repo, c = history
    p = plan(repo, "push", {"before": c["m1"], "after": c["m3"], "ref": "refs/heads/main"})
    assert _selected(repo, p) == {c["m2"], c["m3"]}


def test_push_of_new_branch_scans_commits_not_on_default_branch(history) -> None:  # type: ignore[no-untyped-def]
    repo, c = history
    payload = {"before": ZERO_SHA, "after": c["f2"], "ref": "refs/heads/feature",
               "repository": {"default_branch": "main"}}
    assert _selected(repo, plan(repo, "push", payload)) == {c["f1"], c["f2"]}


def test_force_push_falls_back_to_listed_commits(history) -> None:  # type: ignore[no-untyped-def]
    repo, c = history
    gone = "1234567890abcdef1234567890abcdef12345678"
    payload = {"before": gone, "after": c["f2"], "ref": "refs/heads/feature", "forced": True,
               "commits": [{"id": c["f1"]}, {"id": c["f2"]}]}
    p = plan(repo, "push", payload)
    assert _selected(repo, p) == {c["f1"], c["f2"]}
    assert "force-push" in p.reason


def test_pull_request_scans_from_merge_base_to_head(history) -> None:  # type: ignore[no-untyped-def]
    repo, c = history
    payload = {"pull_request": {"base": {"sha": c["m3"], "ref": "main"}, "head": {"sha": c["f2"], "ref": "feature"}}}
    assert _selected(repo, plan(repo, "pull_request", payload)) == {c["f1"], c["f2"]}


@pytest.mark.parametrize("event", ["push", "pull_request"])
def test_base_equal_to_head_scans_that_commit(history, event) -> None:  # type: ignore[no-untyped-def]
    repo, c = history
    payload = ({"before": c["m3"], "after": c["m3"]} if event == "push"
               else {"pull_request": {"base": {"sha": c["m3"]}, "head": {"sha": c["m3"]}}})
    assert _selected(repo, plan(repo, event, payload)) == {c["m3"]}


def test_base_equal_to_head_on_a_root_commit(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    root = _commit(repo, "only")
    assert _selected(repo, plan(repo, "push", {"before": root, "after": root})) == {root}


@pytest.mark.parametrize("event", ["schedule", "workflow_dispatch"])
def test_scheduled_and_manual_runs_scan_full_history(history, event) -> None:  # type: ignore[no-untyped-def]
    repo, _c = history
    assert plan(repo, event, {}).full


def test_shallow_clone_without_the_range_fails_loudly(history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, c = history
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "main", f"file://{repo}", str(shallow)], check=True)
    with pytest.raises(SourceError, match="fetch-depth: 0"):
        plan(shallow, "push", {"before": c["m1"], "after": c["m3"], "ref": "refs/heads/main"})
    with pytest.raises(SourceError, match="fetch-depth: 0"):
        plan(shallow, "pull_request", {"pull_request": {"base": {"sha": c["m1"]}, "head": {"sha": c["m3"]}}})


def test_deleted_branch_push_scans_nothing(history) -> None:  # type: ignore[no-untyped-def]
    repo, c = history
    p = plan(repo, "push", {"before": c["f2"], "after": ZERO_SHA})
    assert not p.full and _selected(repo, p) == set()


def test_event_payload_is_read_from_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": "a", "after": "b"}))
    name, payload = load_event({"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event)})
    assert (name, payload["after"]) == ("push", "b")
    with pytest.raises(UsageError):
        load_event({})
