"""Which commits a history scan covers: all refs, one branch, a range or a date, checked for shallowness.

This is the importable API CI integrations build on::

    from scanner.sources.git_common import open_repo
    from scanner.sources.git_range import Selection, list_commits
    commits = list_commits(open_repo("."), Selection(range="origin/main..HEAD")).commits
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from ..errors import SourceError, UsageError
from .git_common import GitRepo, first_line, git_env, run_git

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

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
    return CommitStream(repo, args, warnings, allow_shallow=sel.allow_shallow).resolved()


def resolve_args(repo: GitRepo, args: Sequence[str], warnings: Sequence[str] = (), *,
                 allow_shallow: bool = False, hint: str = "fetch it with git fetch --unshallow") -> Resolved:
    """The commits rev-list ``args`` (object ids and fixed options only) select, checked for shallowness."""
    return CommitStream(repo, args, warnings, allow_shallow=allow_shallow, hint=hint).resolved()


# A message (%B) never holds a NUL (git ends it at one), so NUL-separated fields cannot be forged by one.
_REV_LIST = ["rev-list", "--no-commit-header", "--encoding=UTF-8", "--format=%H%x00%B%x00"]
_OBJECT_ID = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
CHUNK_COMMITS = 4096  # commits per chunk handed on while rev-list still walks
_PIPE_SIZE = 1 << 20  # Linux's default limit for an unprivileged pipe


def _widen(pipe: IO[bytes] | None) -> None:
    """Give the pipe room for _PIPE_SIZE bytes where the system lets us (Linux), else leave it."""
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if pipe is not None and setpipe is not None:
        try:
            fcntl.fcntl(pipe.fileno(), setpipe, _PIPE_SIZE)
        except OSError:
            pass  # above the system's limit: a smaller pipe only means more, smaller reads


class CommitStream:
    """The commits rev-list ``args`` select, newest first, with their messages, read while it walks.

    ``chunks()`` hands the commits on a chunk at a time as rev-list prints them, so work on the first
    ones (a history scan lists their changes) starts before the walk ends (on ipython the walk takes
    0.2 s); ``resolved()`` reads to the end and checks the shallow boundary. Messages come from the same
    rev-list (UTF-8, as git re-encodes them).
    """

    def __init__(self, repo: GitRepo, args: Sequence[str], warnings: Sequence[str] = (), *,
                 allow_shallow: bool = False, hint: str = "fetch it with git fetch --unshallow") -> None:
        self.repo = repo
        self.args = tuple(args)
        self._warnings = list(warnings)
        self._allow_shallow = allow_shallow
        self._hint = hint
        self._shas: list[str] = []
        self._texts: list[bytes] = []
        self._resolved: Resolved | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        if self.args:
            cmd = ["git", "--git-dir", repo.git_dir, *_REV_LIST, *self.args, "--"]
            try:
                self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env())
            except OSError as exc:
                raise SourceError(f"cannot run git: {exc.strerror or exc}") from None
            _widen(self._proc.stdout)

    def chunks(self) -> Iterator[list[str]]:
        """The commits, newest first, in chunks of CHUNK_COMMITS (the last may be smaller) as rev-list prints them."""
        proc = self._proc
        if proc is None or proc.stdout is None:
            return
        self._proc = None  # read once
        fd = proc.stdout.fileno()
        rest = b""
        handed = 0
        try:
            while True:
                block = os.read(fd, _PIPE_SIZE)
                if 0 < len(block) < _PIPE_SIZE // 16:
                    # rev-list writes a few KB at a time: read as each came, every piece cost a context
                    # switch on each side (10k on ipython). A short pause lets the pipe fill instead.
                    time.sleep(0.002)
                fields = (rest + block).split(b"\x00")
                rest = fields.pop()  # unfinished: its NUL has not come yet
                if len(fields) % 2:
                    rest = fields.pop() + b"\x00" + rest  # an id whose message has not come yet
                self._add(fields)
                while len(self._shas) - handed >= CHUNK_COMMITS:
                    yield self._shas[handed : handed + CHUNK_COMMITS]
                    handed += CHUNK_COMMITS
                if not block:
                    if len(self._shas) > handed:
                        yield self._shas[handed:]
                    break
        finally:
            proc.stdout.close()
            err = b""
            if proc.stderr is not None:
                err = proc.stderr.read()
                proc.stderr.close()
            code = proc.wait()
        if code != 0:
            raise SourceError(f"git rev-list failed: {first_line(err)}")
        if rest.strip():
            raise SourceError("git rev-list printed something unexpected")

    def close(self) -> None:
        """Stop rev-list if the stream is not read (an error came first)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.communicate()

    def __enter__(self) -> CommitStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _add(self, fields: list[bytes]) -> None:
        for i in range(0, len(fields), 2):
            sha = fields[i].strip()
            if _OBJECT_ID.fullmatch(sha) is None:
                raise SourceError("git rev-list printed something unexpected")
            self._shas.append(sha.decode("ascii"))
            self._texts.append(fields[i + 1].rstrip(b"\n"))

    def resolved(self) -> Resolved:
        """Every commit and message, after rev-list ends; fails (exit 3) at a shallow boundary."""
        if self._resolved is None:
            for _chunk in self.chunks():
                pass
            self._resolved = self._check()
        return self._resolved

    def _check(self) -> Resolved:
        found = list(self._warnings)
        commits = tuple(self._shas)
        boundary = self.repo.shallow_commits()
        if boundary:
            cut = sorted(boundary.intersection(commits))
            if cut:
                msg = (f"this is a shallow clone and the scan reaches its boundary at {cut[0][:12]}"
                       f"{f' (and {len(cut) - 1} more)' if len(cut) > 1 else ''}: older history is missing"
                       f" ({self._hint})")
                if not self._allow_shallow:
                    raise SourceError(msg + ", or pass --allow-shallow to scan what is there")
                found.append(msg + "; the boundary commit is scanned as if it added every file")
        return Resolved(args=self.args, commits=commits, warnings=tuple(found), messages=tuple(self._texts))
