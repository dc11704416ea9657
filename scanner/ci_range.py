"""Which commits a CI run should scan, from a GitHub Actions event: the range logic behind `leakscan ci`.

The answer is a list of `git rev-list` arguments, so every case (a range, a branch's own commits, a
list of single commits) is one shape. Peers' actions fail here in known ways (gitleaks-action passes
when `git log` fails on a shallow clone, breaks on pull-request ranges; TruffleHog's errors when base
and head are the same commit): each case below has a test built on a real repository.
"""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SourceError, UsageError

ZERO_SHA = "0" * 40
SHALLOW_HINT = "the checkout is shallow and does not contain the commits to scan; use actions/checkout with fetch-depth: 0"


@dataclass(frozen=True)
class ScanPlan:
    """What to scan: ``full`` history, or the commits selected by ``revs`` (git rev-list arguments;
    an exact list of commits is ``("--no-walk", sha, ...)``)."""

    full: bool
    revs: tuple[str, ...] = ()
    reason: str = ""


class _Git:
    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True, text=True)

    def has_commit(self, sha: str) -> bool:
        return self.run("cat-file", "-e", f"{sha}^{{commit}}").returncode == 0

    def is_shallow(self) -> bool:
        out = self.run("rev-parse", "--is-shallow-repository")
        return out.returncode == 0 and out.stdout.strip() == "true"

    def merge_base(self, a: str, b: str) -> str | None:
        out = self.run("merge-base", a, b)
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None

    def is_ancestor(self, a: str, b: str) -> bool:
        return self.run("merge-base", "--is-ancestor", a, b).returncode == 0

    def resolve(self, ref: str) -> str | None:
        out = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return out.stdout.strip() if out.returncode == 0 else None


def load_event(env: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """The event name and payload from GITHUB_EVENT_NAME / GITHUB_EVENT_PATH."""
    env = os.environ if env is None else env
    name = env.get("GITHUB_EVENT_NAME", "")
    if not name:
        raise UsageError("GITHUB_EVENT_NAME is not set: `leakscan ci` runs inside GitHub Actions (or set it by hand)")
    path = env.get("GITHUB_EVENT_PATH", "")
    payload: dict[str, Any] = {}
    if path:
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the event payload {path}: {exc}") from None
    return name, payload


def plan(repo: Path, event: str, payload: Mapping[str, Any], env: Mapping[str, str] | None = None) -> ScanPlan:
    """Decide what to scan. Raises SourceError (exit 3) when the checkout cannot answer honestly."""
    env = os.environ if env is None else env
    git = _Git(repo)
    if event == "push":
        return _push(git, payload, env)
    if event in ("pull_request", "pull_request_target"):
        return _pull_request(git, payload)
    if event in ("schedule", "workflow_dispatch", "merge_group", "release"):
        return ScanPlan(full=True, reason=f"{event}: full history")
    head = env.get("GITHUB_SHA") or "HEAD"
    return _single(git, head, f"{event}: the event's commit")


def _need(git: _Git, sha: str) -> None:
    if not git.has_commit(sha):
        if git.is_shallow():
            raise SourceError(f"commit {sha[:12]} is not in the checkout: {SHALLOW_HINT}")
        raise SourceError(f"commit {sha[:12]} is not in the checkout; fetch it (actions/checkout fetch-depth: 0)")


def _single(git: _Git, sha: str, reason: str) -> ScanPlan:
    _need(git, sha)
    return ScanPlan(full=False, revs=("--no-walk", sha), reason=reason)


def _push(git: _Git, payload: Mapping[str, Any], env: Mapping[str, str]) -> ScanPlan:
    after = str(payload.get("after") or env.get("GITHUB_SHA") or "")
    before = str(payload.get("before") or "")
    if not after or after == ZERO_SHA:
        return ScanPlan(full=False, revs=(), reason="push deleted a branch: nothing to scan")
    _need(git, after)
    if before == after:
        return _single(git, after, "push: before equals after, scanning that commit")
    if not before or before == ZERO_SHA:
        return _new_branch(git, payload, after)
    if git.has_commit(before):
        if git.is_shallow() and not git.merge_base(before, after):
            raise SourceError(f"cannot connect {before[:12]} to {after[:12]}: {SHALLOW_HINT}")
        return ScanPlan(full=False, revs=(f"{before}..{after}",), reason="push: before..after")
    if git.is_shallow():
        raise SourceError(f"commit {before[:12]} is not in the checkout: {SHALLOW_HINT}")
    # A force-push: `before` is gone, so scan the commits the event lists (those we have).
    listed = [str(c.get("id", "")) for c in payload.get("commits") or [] if isinstance(c, Mapping)]
    present = [sha for sha in listed if sha and git.has_commit(sha)]
    if not present:
        present = [after]
    return ScanPlan(full=False, revs=("--no-walk", *present),
                    reason="force-push: before is unreachable, scanning the commits listed in the event")


def _new_branch(git: _Git, payload: Mapping[str, Any], after: str) -> ScanPlan:
    repository = payload.get("repository") or {}
    default = str(repository.get("default_branch") or "") if isinstance(repository, Mapping) else ""
    ref = str(payload.get("ref") or "")
    if default and ref != f"refs/heads/{default}":
        for candidate in (f"refs/remotes/origin/{default}", f"refs/heads/{default}"):
            base = git.resolve(candidate)
            if base is not None:
                return ScanPlan(full=False, revs=(after, f"^{base}"),
                                reason=f"new branch: commits not reachable from {default}")
        if git.is_shallow():
            raise SourceError(f"the default branch {default!r} is not in the checkout: {SHALLOW_HINT}")
    if git.is_shallow():
        raise SourceError(f"a new branch needs its whole history: {SHALLOW_HINT}")
    return ScanPlan(full=False, revs=(after,), reason="new branch with no default branch to compare: all its history")


def _pull_request(git: _Git, payload: Mapping[str, Any]) -> ScanPlan:
    pr = payload.get("pull_request") or {}
    try:
        base = str(pr["base"]["sha"])
        head = str(pr["head"]["sha"])
    except (KeyError, TypeError):
        raise UsageError("the pull_request event payload has no base.sha / head.sha") from None
    _need(git, head)
    if base == head:
        return _single(git, head, "pull request: base equals head, scanning that commit")
    _need(git, base)
    mb = git.merge_base(base, head)
    if mb is None:
        if git.is_shallow():
            raise SourceError(f"no merge base for {base[:12]} and {head[:12]}: {SHALLOW_HINT}")
        raise SourceError(f"{base[:12]} and {head[:12]} have no common history")
    if mb == head:
        return _single(git, head, "pull request: head is already in base, scanning the head commit")
    return ScanPlan(full=False, revs=(f"{mb}..{head}",), reason="pull request: merge-base(base, head)..head")
