"""`leakscan staged`: only what the index adds compared with HEAD, numbered as in the staged file."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.sources import Notes
from scanner.sources.git_staged import added_lines
from tests.conftest import git
from tests.gitrepo import AWS, GITHUB, commit, leakscan, where

MakeRepo = Callable[..., Path]
KEY_LINE = f"aws_access_key_id = {AWS}\n"


def test_staged_secret_is_found_at_its_line_in_the_staged_file(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"app.py": "a = 1\nb = 2\nc = 3\n"})
    (repo / "app.py").write_text("a = 1\nb = 2\n" + KEY_LINE + "c = 3\n")
    git(repo, "add", "app.py")
    run = leakscan(capsys, "staged", str(repo))
    assert run.code == 1
    assert [(f["path"], f["line"], f["column"], f["commit"]) for f in run.findings] == [("app.py", 3, 21, None)]


def test_unstaged_edit_is_ignored(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"app.py": "a = 1\n"})
    (repo / "app.py").write_text("a = 1\n" + KEY_LINE)
    (repo / "untracked.py").write_text(KEY_LINE)
    run = leakscan(capsys, "staged", str(repo))
    assert (run.code, run.findings) == (0, [])


def test_staged_content_wins_over_a_later_unstaged_edit(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"app.py": "a = 1\n"})
    (repo / "app.py").write_text(f"t = '{GITHUB}'\n")
    git(repo, "add", "app.py")
    (repo / "app.py").write_text("a = 1\n")  # the working tree no longer has it; the index still does
    run = leakscan(capsys, "staged", str(repo))
    assert where(run) == {("app.py", 1, "github-pat")}


def test_deleted_lines_are_never_reported(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "leak", {"app.py": "a = 1\n" + KEY_LINE, "old.py": KEY_LINE})
    (repo / "app.py").write_text("a = 1\n")
    git(repo, "add", "app.py")
    git(repo, "rm", "-q", "old.py")
    run = leakscan(capsys, "staged", str(repo))
    assert (run.code, run.findings) == (0, [])


def test_committed_secret_in_an_edited_file_is_not_reported_again(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "leak", {"app.py": KEY_LINE})
    (repo / "app.py").write_text("x = 0\n" + KEY_LINE + "y = 1\n")
    git(repo, "add", "app.py")
    run = leakscan(capsys, "staged", str(repo))
    assert run.findings == []


def test_unborn_head_scans_everything_staged(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    (repo / "first.py").write_text("# first\n" + KEY_LINE)
    git(repo, "add", "first.py")
    run = leakscan(capsys, "staged", str(repo))
    assert where(run) == {("first.py", 2, "aws-access-key-id")}


def test_staged_rename_does_not_report_moved_lines(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "leak", {"a.py": "x = 1\n" * 5 + KEY_LINE})
    git(repo, "mv", "a.py", "b.py")
    run = leakscan(capsys, "staged", str(repo))
    assert run.findings == []


def test_bare_repository_has_nothing_staged(make_repo: MakeRepo, capsys, tmp_path: Path) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.py": "x\n"})
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(tmp_path / "b.git"))
    run = leakscan(capsys, "staged", str(tmp_path / "b.git"))
    assert run.code == 2 and "bare repository" in run.stderr


def test_non_repository_is_a_usage_error(tmp_path: Path, capsys) -> None:
    run = leakscan(capsys, "staged", str(tmp_path))
    assert run.code == 2 and "not a git repository" in run.stderr


def test_diff_parser_numbers_added_lines_and_unquotes_paths() -> None:
    diff = (
        b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,0 +2,2 @@\n+two\n+three\n@@ -9 +10,0 @@\n-gone\n"
        b'diff --git "a/t\\tab" "b/t\\tab"\n--- /dev/null\n+++ "b/t\\tab"\n@@ -0,0 +1 @@\n+\xc3\xa9\n'
    )
    items = added_lines(diff, Notes())
    assert [(i.path, i.data, i.line_numbers, i.added) for i in items] == [
        ("x", b"two\nthree\n", (2, 3), {2, 3}), ("t\tab", "é\n".encode(), (1,), {1})]


def test_diff_parser_keeps_context_lines_apart_from_added_lines() -> None:
    diff = (b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -4,4 +4,6 @@\n above\n-old\n+++ new\n+--- two\n"
            b" between\n\n+last\n\\ No newline at end of file\n")
    [item] = added_lines(diff, Notes())
    assert (item.path, item.data, item.line_numbers, item.added) == (
        "x", b"above\n++ new\n--- two\nbetween\n\nlast\n", (4, 5, 6, 7, 8, 9), {5, 6, 9})


MARKER = "# leakscan:allow-next-line\n"
SUPPRESSION_CASES = {
    # (committed in HEAD, staged afterwards): the key is always a newly staged line
    "marker-in-head-above-staged-secret": ("a = 1\n" + MARKER + "b = 2\n", "a = 1\n" + MARKER + KEY_LINE + "b = 2\n"),
    "marker-staged-with-secret": ("a = 1\nb = 2\n", "a = 1\n" + MARKER + KEY_LINE + "b = 2\n"),
    "marker-in-head-two-lines-up": ("a = 1\n" + MARKER + "b = 2\n", "a = 1\n" + MARKER + "b = 2\n" + KEY_LINE),
    "no-marker": ("a = 1\nb = 2\n", "a = 1\n" + KEY_LINE + "b = 2\n"),
}


@pytest.mark.parametrize(("head", "staged_text"), SUPPRESSION_CASES.values(), ids=SUPPRESSION_CASES.keys())
def test_staged_history_and_scan_agree_on_inline_markers(make_repo: MakeRepo, capsys, head: str,
                                                         staged_text: str) -> None:
    repo = make_repo()
    commit(repo, "base", {"app.py": head})
    (repo / "app.py").write_text(staged_text)
    git(repo, "add", "app.py")
    staged = where(leakscan(capsys, "staged", str(repo)))
    scanned = {(Path(path).name, line, rule) for path, line, rule in where(leakscan(capsys, "scan", str(repo / "app.py")))}
    commit(repo, "add key")
    history = where(leakscan(capsys, "history", str(repo)))
    reported = MARKER + KEY_LINE not in staged_text
    expected = {("app.py", staged_text.splitlines(keepends=True).index(KEY_LINE) + 1, "aws-access-key-id")}
    assert staged == scanned == history == (expected if reported else set())


@pytest.mark.parametrize(
    "staged_text",
    ["x = 0\n" + KEY_LINE + "y = 1\n", "x = 0\n" + KEY_LINE, KEY_LINE + "y = 1\n", f"a = '{GITHUB}'\n" + KEY_LINE],
    ids=["between-two-added-lines", "below-an-added-line", "above-an-added-line", "next-to-another-new-secret"],
)
def test_secret_on_a_context_line_is_never_reported(make_repo: MakeRepo, capsys, staged_text: str) -> None:
    repo = make_repo()
    commit(repo, "leak", {"app.py": KEY_LINE})
    (repo / "app.py").write_text(staged_text)
    git(repo, "add", "app.py")
    run = leakscan(capsys, "staged", str(repo))
    assert {rule for _path, _line, rule in where(run)} == ({"github-pat"} if GITHUB in staged_text else set())
