"""Git oddities: corrupt and missing objects, shallow, bare, submodules, worktrees, detached HEAD, many refs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..conftest import git
from .helpers import AKIA, leakscan

AKIA2 = "AKIAQYLPMN5HHHFPZAM2"


def _repo(path: Path) -> Path:
    """Three commits: a.txt (secret), b.txt (second secret), c.txt; objects stay loose."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    for name, text in (("a.txt", f"k={AKIA}\n"), ("b.txt", f"k={AKIA2}\n"), ("c.txt", "x\n")):
        (path / name).write_text(text)
        git(path, "add", name)
        git(path, "-c", "commit.gpgsign=false", "commit", "-q", "-m", f"add {name}")
    return path


def _object_file(repo: Path, rev: str) -> tuple[str, Path]:
    sha = git(repo, "rev-parse", rev).strip()
    return sha, repo / ".git" / "objects" / sha[:2] / sha[2:]


def _secrets(done: object) -> list[str]:
    return sorted(r["secret"] for r in done.rows())  # type: ignore[attr-defined]


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_unreadable_blob_is_named_and_the_rest_is_reported(tmp_path: Path, damage: str) -> None:
    repo = _repo(tmp_path / "r")
    sha, obj = _object_file(repo, "HEAD~2:a.txt")
    obj.chmod(0o644)
    if damage == "corrupt":
        obj.write_bytes(b"garbage")
    else:
        obj.unlink()
    done = leakscan("history", str(repo), "-f", "json")
    assert done.returncode == 1, done.err
    assert _secrets(done) == [AKIA2]
    assert f"object {sha} could not be read" in done.err
    strict = leakscan("history", str(repo), "-f", "json", "--strict")
    assert strict.returncode == 3 and _secrets(strict) == [AKIA2]


@pytest.mark.parametrize("rev", ["HEAD~1", "HEAD^{tree}"], ids=["commit", "tree"])
def test_missing_commit_or_tree_is_a_one_line_error_naming_it(tmp_path: Path, rev: str) -> None:
    repo = _repo(tmp_path / "r")
    sha, obj = _object_file(repo, rev)
    obj.unlink()
    done = leakscan("history", str(repo), "-f", "json")
    assert done.returncode == 3
    assert done.err.startswith("error: ") and sha in done.err and done.err.count("\n") == 1


def test_not_a_repository_is_a_one_line_error(tmp_path: Path) -> None:
    done = leakscan("history", str(tmp_path))
    assert done.returncode == 2
    assert done.err == f"error: {tmp_path}: not a git repository\n"


def test_bare_repository_is_scanned(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r")
    git(tmp_path, "clone", "-q", "--bare", str(repo), "bare.git")
    assert _secrets(leakscan("history", str(tmp_path / "bare.git"), "-f", "json")) == sorted([AKIA, AKIA2])


def test_shallow_clone_stops_with_a_way_out_or_scans_what_is_there(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r")
    git(tmp_path, "clone", "-q", "--no-local", "--depth", "1", f"file://{repo}", "shallow")
    done = leakscan("history", str(tmp_path / "shallow"), "-f", "json")
    assert done.returncode == 3 and "--allow-shallow" in done.err and done.err.count("\n") == 1
    allowed = leakscan("history", str(tmp_path / "shallow"), "-f", "json", "--allow-shallow")
    assert allowed.returncode == 1 and _secrets(allowed) == sorted([AKIA, AKIA2])


def test_detached_head_and_linked_worktree_are_scanned(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    assert _secrets(leakscan("history", str(repo), "-f", "json")) == sorted([AKIA, AKIA2])
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "main")
    assert _secrets(leakscan("history", str(tmp_path / "wt"), "-f", "json")) == sorted([AKIA, AKIA2])


def test_submodule_is_noted_not_followed_and_the_superproject_is_scanned(tmp_path: Path) -> None:
    sub = _repo(tmp_path / "sub")
    sup = tmp_path / "sup"
    sup.mkdir()
    git(sup, "init", "-q", "-b", "main")
    (sup / "top.txt").write_text(f"k={AKIA2}\n")
    git(sup, "add", "top.txt")
    git(sup, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "sub")
    git(sup, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "with submodule")
    done = leakscan("history", str(sup), "-f", "json")
    assert done.returncode == 1 and _secrets(done) == [AKIA2]
    assert "submodule" in done.err


@pytest.mark.slow
def test_many_refs_are_scanned_in_bounded_time(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r")
    head = git(repo, "rev-parse", "HEAD").strip()
    refs = "".join(f"create refs/heads/b{i:05} {head}\n" for i in range(2000))  # 50,000: benchmarks/stress_git.py
    import subprocess

    subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, input=refs.encode(), check=True)
    done = leakscan("history", str(repo), "-f", "json", "-q", timeout=120)
    assert done.returncode == 1 and done.seconds < 60


@pytest.mark.slow
def test_enormous_diff_reports_its_secret_at_the_right_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r")
    lines = 400_000
    with open(repo / "dump.sql", "w") as fh:
        fh.write("insert into t values (1);\n" * lines)
        fh.write(f"-- {AKIA}\n")
    git(repo, "add", "dump.sql")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "dump")
    done = leakscan("history", str(repo), "-f", "json", "--max-file-size", "1GB", timeout=120)
    rows = [r for r in done.rows() if r["path"] == "dump.sql"]
    assert [(r["line"], r["column"]) for r in rows] == [(lines + 1, 4)]
