"""Which commits a history scan covers: all refs, one branch, a range or a date, checked for shallowness.

This is the importable API CI integrations build on::

    from scanner.sources.git_common import open_repo
    from scanner.sources.git_range import Selection, list_commits
    commits = list_commits(open_repo("."), Selection(range="origin/main..HEAD")).commits
"""
from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import SourceError, UsageError
from .git_common import GitRepo, git_env, run_git

STASH_REF = "refs/stash"


@dataclass(frozen=True)
class Selection:
    """What to scan. Empty means every commit reachable from any ref (stashes included unless off)."""

    since: str | None = None  # commits after this revision, up to the branch (default HEAD)
    range: str | None = None  # "A..B": commits reachable from B and not from A
    since_date: str | None = None  # only commits committed at or after this date (git date syntax)
    branch: str | None = None  # one ref instead of all refs
    stashes: bool = True  # with all refs: include refs/stash and its reflog (older stashes)
    allow_shallow: bool = False  # a shallow boundary inside the selection warns instead of failing

    @property
    def full(self) -> bool:
        return not (self.since or self.range or self.branch)


@dataclass(frozen=True)
class Resolved:
    """The rev-list arguments for a selection (resolved object ids only) and what checking found."""

    args: tuple[str, ...]
    commits: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    # Each commit's message (UTF-8 as git re-encodes it), in the order of ``commits``: the same rev-list
    # gives both, so a history scan needs no ``git log`` of its own. Messages may hold secrets: no repr.
    messages: tuple[bytes, ...] = field(default=(), repr=False)


def resolve_commit(repo: GitRepo, rev: str, what: str) -> str | None:
    """The commit id ``rev`` names, or None when it names nothing. Never passes ``rev`` as an option."""
    if not rev or rev.startswith("-"):
        raise UsageError(f"{what}: {rev!r} is not a revision")
    cmd = ["git", "--git-dir", repo.git_dir, "rev-parse", "--verify", "--quiet", "--end-of-options",
           f"{rev}^{{commit}}"]
    done = subprocess.run(cmd, capture_output=True, env=git_env(), check=False)
    out = done.stdout.decode("ascii", "replace").strip()
    return out if done.returncode == 0 and out else None


def _require(repo: GitRepo, rev: str, what: str, warnings: list[str], allow_shallow: bool) -> str | None:
    sha = resolve_commit(repo, rev, what)
    if sha is not None:
        return sha
    if repo.shallow:
        # In a shallow clone an unknown revision may simply be older than the boundary: never guess.
        msg = (f"{what}: revision {rev!r} is not in this shallow clone; the range may reach past the "
               "shallow boundary (fetch more history, e.g. git fetch --unshallow)")
        if not allow_shallow:
            raise SourceError(msg + ", or pass --allow-shallow")
        warnings.append(msg + "; scanning what the clone holds")
        return None
    raise UsageError(f"{what}: unknown revision {rev!r}")


def _stash_tips(repo: GitRepo) -> list[str]:
    if resolve_commit(repo, STASH_REF, "stash") is None:
        return []
    out = run_git(repo, ["reflog", "show", "--format=%H", STASH_REF, "--"])
    return sorted(set(out.decode("ascii").split()))


def rev_args(repo: GitRepo, sel: Selection) -> tuple[list[str], list[str]]:
    """rev-list arguments (object ids and fixed options only) and warnings for a selection."""
    if sel.since and sel.range:
        raise UsageError("--since and --range cannot be combined")
    if sel.range and sel.branch:
        raise UsageError("--range names its own end: drop --branch")
    warnings: list[str] = []
    args: list[str] = []
    if sel.range:
        if "..." in sel.range or ".." not in sel.range:
            raise UsageError(f"--range: expected A..B, got {sel.range!r}")
        lo, hi = sel.range.split("..", 1)
        tip = _require(repo, hi or "HEAD", "--range", warnings, sel.allow_shallow)
        if tip is None:
            raise SourceError(f"--range: cannot scan: the end {hi or 'HEAD'!r} is not in this clone")
        base = _require(repo, lo or "HEAD", "--range", warnings, sel.allow_shallow)
        args += [tip] + ([f"^{base}"] if base else [])
    elif sel.since or sel.branch:
        what = "--branch" if sel.branch else "--since"
        tip = _require(repo, sel.branch or "HEAD", what, warnings, sel.allow_shallow)
        if tip is None:
            raise SourceError(f"{what}: {sel.branch or 'HEAD'!r} is not in this clone")
        args.append(tip)
        if sel.since:
            base = _require(repo, sel.since, "--since", warnings, sel.allow_shallow)
            if base:
                args.append(f"^{base}")
    else:
        if not sel.stashes:
            args.append(f"--exclude={STASH_REF}")
        args.append("--all")
        if sel.stashes:
            args += _stash_tips(repo)
    if sel.since_date:
        if sel.since_date.startswith("-"):
            raise UsageError(f"--since-date: {sel.since_date!r} is not a date")
        args.append(f"--since-as-filter={sel.since_date}")
    return args, warnings


def list_commits(repo: GitRepo, sel: Selection) -> Resolved:
    """Every commit the selection covers, newest first; fails (exit 3) at a shallow boundary.

    Unknown revisions give a UsageError (exit 2). A shallow clone whose boundary lies inside the
    selection gives a SourceError (exit 3), or a warning with ``allow_shallow``: a scan that silently
    covers less than was asked for is the failure this guards against.
    """
    args, warnings = rev_args(repo, sel)
    return resolve_args(repo, args, warnings, allow_shallow=sel.allow_shallow)


def resolve_args(repo: GitRepo, args: Sequence[str], warnings: Sequence[str] = (), *,
                 allow_shallow: bool = False, hint: str = "fetch it with git fetch --unshallow") -> Resolved:
    """The commits rev-list ``args`` (object ids and fixed options only) select, checked for shallowness."""
    found = list(warnings)
    commits, messages = commits_and_messages(repo, args) if args else ((), ())
    boundary = repo.shallow_commits()
    if boundary:
        cut = sorted(boundary.intersection(commits))
        if cut:
            msg = (f"this is a shallow clone and the scan reaches its boundary at {cut[0][:12]}"
                   f"{f' (and {len(cut) - 1} more)' if len(cut) > 1 else ''}: older history is missing"
                   f" ({hint})")
            if not allow_shallow:
                raise SourceError(msg + ", or pass --allow-shallow to scan what is there")
            found.append(msg + "; the boundary commit is scanned as if it added every file")
    return Resolved(args=tuple(args), commits=commits, warnings=tuple(found), messages=messages)


def commits_and_messages(repo: GitRepo, args: Sequence[str]) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
    """The commits rev-list ``args`` select, newest first, and their messages: one rev-list does both
    (0.03 s more than the list alone on ipython's 30k commits, where a ``git log`` took 0.15 s)."""
    out = run_git(repo, ["rev-list", "--no-commit-header", "--encoding=UTF-8", "--format=%x1e%H%x1f%B", *args, "--"])
    shas: list[str] = []
    texts: list[bytes] = []
    for record in out.split(b"\x1e")[1:]:
        sha, _, text = record.partition(b"\x1f")
        shas.append(sha.decode("ascii"))
        texts.append(text.rstrip(b"\n"))
    return tuple(shas), tuple(texts)
