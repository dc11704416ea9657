"""Finding a repository and running the git CLI on it, with failures translated to scanner errors."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import SourceError, UsageError

NULL_SHA = "0" * 40  # where git names no object: a path absent from a parent, a file the index adds

# Never prompt, never page, never localize messages we may need to read.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}


def git_env() -> dict[str, str]:
    return {**os.environ, **_GIT_ENV}


@dataclass(frozen=True)
class GitRepo:
    """A repository located on disk: its git directory, its work tree (None when bare)."""

    git_dir: str
    work_tree: str | None

    @property
    def bare(self) -> bool:
        return self.work_tree is None

    def shallow_commits(self) -> frozenset[str]:
        """The commits whose parents were cut off by a shallow clone (empty for a full clone)."""
        try:
            with open(os.path.join(self.git_dir, "shallow"), encoding="ascii") as fh:
                return frozenset(line.strip() for line in fh if line.strip())
        except FileNotFoundError:
            return frozenset()
        except OSError as exc:
            raise SourceError(f"cannot read {self.git_dir}/shallow: {exc.strerror or exc}") from None

    @property
    def shallow(self) -> bool:
        return bool(self.shallow_commits())


def run_git(repo: GitRepo | str, args: Sequence[str], *, input: bytes | None = None) -> bytes:
    """Run git with an explicit argument list; a failure becomes a SourceError with git's first line."""
    cmd = ["git", "--git-dir", repo.git_dir, *args] if isinstance(repo, GitRepo) else ["git", "-C", repo, *args]
    try:
        done = subprocess.run(cmd, input=input, capture_output=True, env=git_env(), check=False)
    except FileNotFoundError:
        raise SourceError("git is not installed (no 'git' on PATH)") from None
    except OSError as exc:
        raise SourceError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise SourceError(f"git {args[0]} failed: {first_line(done.stderr)}")
    return done.stdout


def first_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line and not line.startswith("hint:"):
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return "no message"


def open_repo(path: str) -> GitRepo:
    """Locate the repository at or above ``path`` (work tree or bare). Not a repository: exit code 2."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file or directory")
    if not os.path.isdir(path):
        raise UsageError(f"{path}: not a directory, so not a git repository")
    cmd = ["git", "-C", path, "rev-parse", "--absolute-git-dir", "--is-bare-repository", "--show-toplevel"]
    try:
        done = subprocess.run(cmd, capture_output=True, env=git_env(), check=False)
    except FileNotFoundError:
        raise SourceError("git is not installed (no 'git' on PATH)") from None
    lines = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    if done.returncode != 0 and len(lines) < 2:
        msg = first_line(done.stderr)
        if "not a git repository" in msg:
            raise UsageError(f"{path}: not a git repository")
        raise SourceError(f"{path}: {msg}")
    git_dir, bare = lines[0], lines[1] == "true"
    # --show-toplevel fails (and prints nothing) in a bare repository: that is expected.
    work_tree = None if bare or len(lines) < 3 else lines[2]
    return GitRepo(git_dir=git_dir, work_tree=work_tree)


def has_commits(repo: GitRepo) -> bool:
    cmd = ["git", "--git-dir", repo.git_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"]
    return subprocess.run(cmd, capture_output=True, env=git_env(), check=False).returncode == 0
