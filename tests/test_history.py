"""`leakscan history` on real repositories built with the git CLI: what is found, where, and when."""
from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.errors import SourceError, UsageError
from scanner.sources.git_common import open_repo
from scanner.sources.git_range import Selection, list_commits
from tests.conftest import git
from tests.gitrepo import AWS, GITHUB, SLACK, commit, leakscan

MakeRepo = Callable[..., Path]
KEY_LINE = f"aws_access_key_id = {AWS}\n"


def test_secret_added_then_removed_is_found_at_the_commit_that_added_it(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"app.py": "print('hi')\n"})
    added = commit(repo, "add config\n\nlonger body", {"app.py": "print('hi')\n" + KEY_LINE})
    commit(repo, "remove key", {"app.py": "print('hi')\n"})
    run = leakscan(capsys, "history", str(repo))
    assert run.code == 1, run.stderr
    (f,) = run.findings
    assert (f["path"], f["line"], f["column"], f["commit"]) == ("app.py", 2, 21, added)
    assert (f["author"], f["email"], f["message"]) == ("Test Author", "author@example.com", "add config")
    assert f["date"].endswith("+02:00") and f["date"][:4] == "2023"


def test_secret_in_a_deleted_file_is_found(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    added = commit(repo, "add", {"deploy/.env": "A=1\n" + KEY_LINE})
    commit(repo, "delete", {"deploy/.env": None})
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["line"], f["commit"]) for f in run.findings] == [("deploy/.env", 2, added)]


def test_secret_kept_through_later_edits_is_reported_once_with_its_original_line(make_repo: MakeRepo,
                                                                                  capsys) -> None:
    repo = make_repo()
    added = commit(repo, "add", {"a.py": "x = 1\n" + KEY_LINE})
    commit(repo, "edit above", {"a.py": "# header\n# more\nx = 1\n" + KEY_LINE})
    commit(repo, "edit below", {"a.py": "# header\n# more\nx = 1\n" + KEY_LINE + "y = 2\n"})
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["line"], f["commit"]) for f in run.findings] == [("a.py", 2, added)]


def test_secret_only_on_a_side_branch_is_found(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    git(repo, "checkout", "-q", "-b", "side")
    side = commit(repo, "side", {"b.txt": KEY_LINE})
    git(repo, "checkout", "-q", "main")
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["commit"]) for f in run.findings] == [("b.txt", side)]


def test_secret_only_in_a_tag_and_in_a_tag_message_is_found(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    git(repo, "checkout", "-q", "--detach")
    tagged = commit(repo, "release", {"release.cfg": f"token = {GITHUB}\n"})
    git(repo, "tag", "v1", tagged)
    git(repo, "tag", "-a", "v1-notes", "-m", f"release notes\n\nslack {SLACK}\n", tagged)
    git(repo, "checkout", "-q", "main")
    run = leakscan(capsys, "history", str(repo))
    got = {(f["path"], f["rule_id"], f["line"]) for f in run.findings}
    assert got == {("release.cfg", "github-pat", 1), ("(tag v1-notes message)", "slack-bot-token", 3)}
    tag_finding = next(f for f in run.findings if f["rule_id"] == "slack-bot-token")
    assert tag_finding["author"] == "Test Committer" and tag_finding["message"] == "release notes"


def test_secret_only_in_a_merge_conflict_resolution_is_found_at_the_merge(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"conf.py": "a = 1\nb = 2\n"})
    git(repo, "checkout", "-q", "-b", "side")
    commit(repo, "side edit", {"conf.py": "a = 1\nb = 'side'\n"})
    git(repo, "checkout", "-q", "main")
    commit(repo, "main edit", {"conf.py": "a = 1\nb = 'main'\n"})
    with pytest.raises(Exception):
        git(repo, "merge", "-q", "side")
    (repo / "conf.py").write_text("a = 1\nb = 'merged'\n" + KEY_LINE)
    git(repo, "add", "conf.py")
    git(repo, "commit", "-q", "--no-edit")
    merge = git(repo, "rev-parse", "HEAD").strip()
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["line"], f["commit"]) for f in run.findings] == [("conf.py", 3, merge)]


def test_merge_of_a_branch_does_not_report_its_leak_again(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    git(repo, "checkout", "-q", "-b", "side")
    side = commit(repo, "leak", {"s.txt": KEY_LINE})
    git(repo, "checkout", "-q", "main")
    commit(repo, "other", {"b.txt": "b\n"})
    git(repo, "merge", "-q", "--no-edit", "side")
    run = leakscan(capsys, "history", str(repo))
    assert [f["commit"] for f in run.findings] == [side]


@pytest.mark.parametrize("edit", [False, True], ids=["pure-rename", "rename-with-edit"])
def test_renamed_file_is_reported_once_at_the_original_commit(make_repo: MakeRepo, capsys, edit: bool) -> None:
    repo = make_repo()
    added = commit(repo, "add", {"old/name.py": "x = 1\n" + KEY_LINE})
    git(repo, "mv", "old/name.py", "new_name.py")
    if edit:
        (repo / "new_name.py").write_text("x = 2\n" + KEY_LINE + "y = 3\n")
        git(repo, "add", "new_name.py")
    commit(repo, "move")
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["commit"]) for f in run.findings] == [("old/name.py", added)]


@pytest.mark.parametrize("edit", [False, True], ids=["pure-move", "move-with-edit"])
def test_moved_file_with_an_encoded_secret_is_reported_once_at_the_original_commit(make_repo: MakeRepo,
                                                                                    capsys, edit: bool) -> None:
    # The secret is the decoded text, which the moved file's old copy does not hold byte for byte.
    encoded = base64.b64encode(KEY_LINE.encode()).decode()
    repo = make_repo()
    added = commit(repo, "add", {"k8s/secret.yaml": f"data:\n  credentials: {encoded}\n"})
    (repo / "deploy").mkdir()
    git(repo, "mv", "k8s/secret.yaml", "deploy/secret.yaml")
    if edit:
        (repo / "deploy/secret.yaml").write_text(f"kind: Secret\ndata:\n  credentials: {encoded}\n")
        git(repo, "add", "deploy/secret.yaml")
    commit(repo, "move")
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["commit"], f["decoded"]) for f in run.findings] == [("k8s/secret.yaml", added, "base64")]


def test_secret_copied_into_several_files_is_reported_at_each_with_one_fingerprint(make_repo: MakeRepo,
                                                                                  capsys) -> None:
    repo = make_repo()
    first = commit(repo, "one", {"a.py": KEY_LINE})
    second = commit(repo, "copies", {"b.py": KEY_LINE, "sub/c.py": "# c\n" + KEY_LINE})
    run = leakscan(capsys, "history", str(repo))
    got = {(f["path"], f["line"], f["commit"]) for f in run.findings}
    assert got == {("a.py", 1, first), ("b.py", 1, second), ("sub/c.py", 2, second)}
    assert len({f["fingerprint"] for f in run.findings}) == 1


def test_commit_message_is_scanned(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    leaky = commit(repo, f"fix deploy\n\nused {GITHUB} to test", {"a.txt": "b\n"})
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["line"], f["commit"], f["message"]) for f in run.findings] == [
        ("(commit message)", 3, leaky, "fix deploy")]


def test_commit_message_in_a_legacy_encoding_is_scanned_as_utf8(make_repo: MakeRepo, capsys,
                                                                 tmp_path: Path) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    git(repo, "config", "i18n.commitEncoding", "ISO-8859-1")
    git(repo, "config", "i18n.logOutputEncoding", "ISO-8859-1")  # what git would print without --encoding
    message = tmp_path / "message.txt"
    message.write_bytes(f"d\xe9ploiement\n\ncl\xe9 {GITHUB}\n".encode("latin-1"))
    git(repo, "commit", "-q", "--allow-empty", "-F", str(message))
    leaky = git(repo, "rev-parse", "HEAD").strip()
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["line"], f["column"], f["commit"], f["message"]) for f in run.findings] == [
        ("(commit message)", 3, 5, leaky, "d\xe9ploiement")]


def test_clean_history_exits_zero(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    commit(repo, "more", {"b.txt": "AKIA is a prefix, not a key\n"})
    run = leakscan(capsys, "history", str(repo))
    assert (run.code, run.findings) == (0, [])


def test_repository_without_commits_scans_nothing(make_repo: MakeRepo, capsys) -> None:
    run = leakscan(capsys, "history", str(make_repo()))
    assert (run.code, run.findings) == (0, [])


def test_bare_repository_is_scanned(make_repo: MakeRepo, capsys, tmp_path: Path) -> None:
    repo = make_repo()
    added = commit(repo, "add", {"a.py": KEY_LINE})
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    run = leakscan(capsys, "history", str(bare))
    assert [(f["path"], f["commit"]) for f in run.findings] == [("a.py", added)]


def test_non_repository_is_a_usage_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "plain").mkdir()
    run = leakscan(capsys, "history", str(tmp_path / "plain"))
    assert run.code == 2
    assert run.stderr.strip() == f"error: {tmp_path / 'plain'}: not a git repository"


def test_sha256_repository_history_is_a_one_line_runtime_error_and_staged_still_works(tmp_path: Path,
                                                                                     capsys) -> None:
    repo = tmp_path / "s256"
    git(tmp_path, "init", "-q", "--object-format=sha256", str(repo))
    commit(repo, "base", {"a.txt": "a\n"})
    (repo / "b.py").write_text(f"token = '{GITHUB}'\n")
    git(repo, "add", "b.py")
    run = leakscan(capsys, "history", str(repo))
    assert (run.code, len(run.stderr.strip().splitlines())) == (3, 1)
    assert "unknown object format 'sha256'" in run.stderr
    staged = leakscan(capsys, "staged", str(repo))
    assert (staged.code, [(f["path"], f["rule_id"]) for f in staged.findings]) == (1, [("b.py", "github-pat")])


@pytest.mark.parametrize("args", [["--range", "nope..HEAD"], ["--since", "v9.9"], ["--branch", "missing"],
                                  ["--range", "HEAD"]], ids=["range", "since", "branch", "malformed"])
def test_unknown_or_malformed_range_exits_2_naming_it(make_repo: MakeRepo, capsys, args: list[str]) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    run = leakscan(capsys, "history", str(repo), *args)
    assert run.code == 2
    assert run.stderr.startswith("error: --") and args[1].split("..")[0] in run.stderr


def test_range_and_since_cover_only_their_commits(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    old = commit(repo, "old leak", {"a.py": KEY_LINE})
    base = commit(repo, "base", {"b.txt": "b\n"})
    new = commit(repo, "new leak", {"c.py": f"t = '{GITHUB}'\n"})
    for args in (["--range", f"{base}..HEAD"], ["--since", base]):
        run = leakscan(capsys, "history", str(repo), *args)
        assert [(f["path"], f["commit"]) for f in run.findings] == [("c.py", new)], args
    run = leakscan(capsys, "history", str(repo), "--range", f"{old}..{base}")
    assert run.findings == []


def test_range_does_not_report_a_leak_older_than_its_start_when_the_file_changes(make_repo: MakeRepo,
                                                                                    capsys) -> None:
    repo = make_repo()
    commit(repo, "old leak", {"a.py": KEY_LINE})
    base = commit(repo, "base", {"b.txt": "b\n"})
    commit(repo, "edit the leaky file", {"a.py": KEY_LINE + "x = 1\n"})
    run = leakscan(capsys, "history", str(repo), "--since", base)
    assert (run.code, run.findings) == (0, [])


def test_branch_limits_the_scan_to_one_ref(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    git(repo, "checkout", "-q", "-b", "side")
    side = commit(repo, "side leak", {"s.py": KEY_LINE})
    git(repo, "checkout", "-q", "main")
    assert leakscan(capsys, "history", str(repo), "--branch", "main").findings == []
    run = leakscan(capsys, "history", str(repo), "--branch", "side")
    assert [f["commit"] for f in run.findings] == [side]


@pytest.mark.parametrize("flag, found", [([], True), (["--stashes"], True), (["--no-stashes"], False)],
                         ids=["default", "on", "off"])
def test_stashes_are_scanned_unless_turned_off(make_repo: MakeRepo, capsys, flag: list[str], found: bool) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.py": "x = 1\n"})
    (repo / "a.py").write_text("x = 1\n" + KEY_LINE)
    git(repo, "stash", "-q")
    (repo / "a.py").write_text("x = 1\n" + f"t = '{GITHUB}'\n")
    git(repo, "stash", "-q")  # the older stash is only in refs/stash's reflog now
    run = leakscan(capsys, "history", str(repo), *flag)
    got = {(f["path"], f["line"], f["rule_id"]) for f in run.findings}
    want = {("a.py", 2, "aws-access-key-id"), ("a.py", 2, "github-pat")}
    assert got == (want if found else set())


def test_since_date_skips_older_commits(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "old leak", {"a.py": KEY_LINE}, when=1_600_000_000)  # 2020-09-13
    new = commit(repo, "new leak", {"b.py": f"t = '{GITHUB}'\n"}, when=1_700_000_000)  # 2023-11-14
    run = leakscan(capsys, "history", str(repo), "--since-date", "2022-01-01")
    assert [(f["path"], f["commit"]) for f in run.findings] == [("b.py", new)]


def _shallow_clone(make_repo: MakeRepo, tmp_path: Path) -> tuple[Path, list[str]]:
    repo = make_repo()
    shas = [commit(repo, "leak", {"a.py": KEY_LINE})]
    shas += [commit(repo, f"c{i}", {f"f{i}.txt": f"{i}\n"}) for i in range(3)]
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(clone))
    return clone, shas


def test_shallow_clone_with_a_range_past_its_boundary_fails_with_exit_3(make_repo: MakeRepo, capsys,
                                                                       tmp_path: Path) -> None:
    clone, shas = _shallow_clone(make_repo, tmp_path)
    for args in (["--range", f"{shas[0]}..HEAD"], ["--since", shas[1]], []):
        run = leakscan(capsys, "history", str(clone), *args)
        assert run.code == 3, args
        assert "shallow" in run.stderr and "--allow-shallow" in run.stderr


def test_allow_shallow_turns_the_failure_into_a_warning(make_repo: MakeRepo, capsys, tmp_path: Path) -> None:
    clone, shas = _shallow_clone(make_repo, tmp_path)
    run = leakscan(capsys, "history", str(clone), "--since", shas[0], "--allow-shallow")
    # The boundary commit stands for everything before it: its files count as added there.
    assert [(f["path"], f["commit"]) for f in run.findings] == [("a.py", shas[2])]
    assert "warning:" in run.stderr and "shallow" in run.stderr


def test_shallow_clone_range_inside_the_clone_passes(make_repo: MakeRepo, capsys, tmp_path: Path) -> None:
    clone, shas = _shallow_clone(make_repo, tmp_path)
    run = leakscan(capsys, "history", str(clone), "--range", f"{shas[2]}..{shas[3]}")
    assert (run.code, run.findings) == (0, [])


def test_submodule_is_not_followed_and_a_warning_says_so(make_repo: MakeRepo, capsys) -> None:
    inner = make_repo("inner")
    commit(inner, "inner leak", {"k.py": KEY_LINE})
    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "vendor/inner")
    commit(repo, "add submodule")
    run = leakscan(capsys, "history", str(repo))
    assert run.findings == []
    assert "warning: vendor/inner: a submodule; its own history is not scanned" in run.stderr


def test_list_commits_api_returns_the_range(make_repo: MakeRepo) -> None:
    repo = make_repo()
    a = commit(repo, "a", {"a.txt": "a\n"})
    b = commit(repo, "b", {"b.txt": "b\n"})
    c = commit(repo, "c", {"c.txt": "c\n"})
    git_repo = open_repo(str(repo))
    assert list_commits(git_repo, Selection(range=f"{a}..{c}")).commits == (c, b)
    assert list_commits(git_repo, Selection()).commits == (c, b, a)
    with pytest.raises(UsageError):
        list_commits(git_repo, Selection(range="a..b..c"))
    with pytest.raises(UsageError):
        list_commits(git_repo, Selection(since="--output=/tmp/x"))


def test_secret_never_appears_in_errors_or_warnings(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"a.py": KEY_LINE})
    run = leakscan(capsys, "history", str(repo), "--range", f"{AWS}..HEAD")
    assert run.code == 2
    # the user typed it, so it is named; what the scan finds is never echoed on stderr
    run = leakscan(capsys, "history", str(repo), "--redact")
    assert AWS not in run.stderr and all(AWS not in str(v) for f in run.findings for v in f.values())


def test_source_error_type_for_shallow(make_repo: MakeRepo, tmp_path: Path) -> None:
    clone, shas = _shallow_clone(make_repo, tmp_path)
    with pytest.raises(SourceError):
        list_commits(open_repo(str(clone)), Selection(range=f"{shas[0]}..HEAD"))


def test_utf16_file_edited_later_is_found_once_at_its_line(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    (repo / "w.txt").write_bytes(("a = 1\r\n" + KEY_LINE).encode("utf-16"))
    git(repo, "add", "w.txt")
    added = commit(repo, "utf-16 file")
    (repo / "w.txt").write_bytes(("a = 1\r\n" + KEY_LINE + "b = 2\r\n").encode("utf-16"))
    git(repo, "add", "w.txt")
    commit(repo, "edit it")
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["line"], f["commit"]) for f in run.findings] == [("w.txt", 2, added)]


def test_progress_is_shown_only_on_a_terminal_and_never_with_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from scanner.cli.git_progress import history_progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    with history_progress(True) as update:  # pytest captures stderr: not a terminal
        assert update is None
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    with history_progress(False) as update:
        assert update is None
    with history_progress(True) as update:
        assert update is not None
        update(12, 3, 10, 2_000_000)
    assert "history" in tty.getvalue() and AWS not in tty.getvalue()


def test_secret_added_between_two_distant_edits_keeps_its_real_line(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    lines = [f"line_{i} = {i}\n" for i in range(1, 61)]
    commit(repo, "base", {"big.py": "".join(lines)})
    edited = lines[:]
    edited[4] = "line_5 = 'changed'\n"
    edited[39] = KEY_LINE
    edited[54] = "line_55 = 'changed'\n"
    added = commit(repo, "three edits", {"big.py": "".join(edited)})
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["line"], f["column"], f["commit"]) for f in run.findings] == [("big.py", 40, 21, added)]


PEM_BODY = (
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n"
    "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d\n"
)


def test_second_private_key_in_a_file_is_found_though_its_begin_and_end_lines_are_not_new(make_repo: MakeRepo,
                                                                                           capsys) -> None:
    repo = make_repo()
    first = "-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY + "-----END RSA PRIVATE KEY-----\n"
    other = first.replace("3Tz2", "9Qx7").replace("q0a8", "Zr5k")
    a = commit(repo, "one key", {"keys.pem": first})
    b = commit(repo, "another key", {"keys.pem": first + "\n" + other})
    run = leakscan(capsys, "history", str(repo))
    got = sorted((f["rule_id"], f["line"], f["commit"]) for f in run.findings)
    assert got == sorted([("private-key", 1, a), ("private-key", 6, b)])


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_unreadable_version_is_one_warning_and_the_rest_of_the_history_is_still_reported(
        make_repo: MakeRepo, capsys, damage: str) -> None:
    repo = make_repo()
    first = commit(repo, "add", {"a.py": KEY_LINE})
    commit(repo, "edit", {"a.py": KEY_LINE + f"token = '{GITHUB}'\n"})
    blob = git(repo, "rev-parse", "HEAD:a.py").strip()
    loose = repo / ".git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    if damage == "missing":
        loose.unlink()
    else:
        loose.write_bytes(b"x\x9cnot zlib at all")
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["commit"]) for f in run.findings] == [("a.py", first)]  # nothing found is lost
    assert f"a.py: object {blob} could not be read (missing or corrupt)" in run.stderr
    assert run.code == 1 and "Traceback" not in run.stderr and GITHUB not in run.stderr


def test_partial_clone_blobs_are_fetched_from_its_remote_and_scanned(make_repo: MakeRepo, capsys,
                                                                     tmp_path: Path) -> None:
    origin = make_repo("origin")
    added = commit(origin, "add", {"a.py": KEY_LINE})
    commit(origin, "edit", {"a.py": KEY_LINE + "x = 1\n"})
    git(origin, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial.git"
    git(tmp_path, "clone", "-q", "--bare", "--filter=blob:none", f"file://{origin}", str(clone))
    assert git(clone, "config", "remote.origin.promisor").strip() == "true"
    run = leakscan(capsys, "history", str(clone))
    assert [(f["path"], f["line"], f["commit"]) for f in run.findings] == [("a.py", 1, added)]
    assert run.code == 1 and "could not be read" not in run.stderr


def test_commit_message_with_separator_bytes_cannot_forge_or_hide_commits(make_repo: MakeRepo, capsys,
                                                                          tmp_path: Path) -> None:
    # Control bytes a listing might use as separators, a fake commit id and non-ASCII text.
    repo = make_repo()
    base = commit(repo, "base", {"a.txt": "a\n"})
    message = tmp_path / "message.txt"
    message.write_bytes(b"odd \x1e\x1f\xc3\xa9 \x1e" + base.encode() + b"\x1f fake\n\nkey " + GITHUB.encode() + b"\n")
    git(repo, "commit", "-q", "--allow-empty", "-F", str(message))
    odd = git(repo, "rev-parse", "HEAD").strip()
    added = commit(repo, "add", {"b.py": KEY_LINE})
    run = leakscan(capsys, "history", str(repo))
    assert run.code == 1 and "Traceback" not in run.stderr, run.stderr
    assert sorted((f["path"], f["line"], f["commit"]) for f in run.findings) == sorted(
        [("(commit message)", 3, odd), ("b.py", 1, added)])


def test_history_listed_in_many_chunks_finds_the_same(make_repo: MakeRepo, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.sources import git_history, git_range

    repo = make_repo()
    commit(repo, "base", {"a.txt": "a\n"})
    expected = set()
    for i in range(7):
        sha = commit(repo, f"step {i}", {f"f{i}.py": f"x = {i}\n" + (KEY_LINE if i % 2 else "")})
        if i % 2:
            expected.add((f"f{i}.py", 2, sha))
    git(repo, "checkout", "-q", "-b", "side", "HEAD~3")
    side = commit(repo, "side", {"side.py": KEY_LINE})
    expected.add(("side.py", 1, side))
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-edit", "side")
    added: list[int] = []
    real_add = git_history._Shares.add
    monkeypatch.setattr(git_history._Shares, "add", lambda self, commits: (added.append(len(commits)),
                                                                            real_add(self, commits))[1])
    monkeypatch.setattr(git_range, "CHUNK_COMMITS", 3)
    run = leakscan(capsys, "history", str(repo))
    assert {(f["path"], f["line"], f["commit"]) for f in run.findings} == expected
    assert len(added) >= 3 and sum(added) == 10  # every commit listed once, over several diff-tree runs


def test_listing_starts_git_only_from_the_main_thread_without_pipes_to_write(make_repo: MakeRepo, capsys,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Worker processes fork from the main thread while the listing runs. A fork taken while another
    # thread was starting git, or while we held a pipe git reads, left git's pipes open in the worker:
    # the scan then waited forever. So each diff-tree starts from the main thread and reads a file.
    import subprocess
    import threading

    from scanner.sources import git_history, git_range

    repo = make_repo()
    for i in range(6):
        commit(repo, f"step {i}", {f"f{i}.py": f"x = {i}\n"})
    seen: list[tuple[bool, object, object]] = []
    real_popen = subprocess.Popen

    def popen(cmd, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "diff-tree" in cmd:
            seen.append((threading.current_thread() is threading.main_thread(), kwargs.get("stdin"),
                         kwargs.get("stdout")))
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(git_history.subprocess, "Popen", popen)
    monkeypatch.setattr(git_range, "CHUNK_COMMITS", 2)
    run = leakscan(capsys, "history", str(repo))
    assert run.code == 0 and len(seen) == 3
    assert all(main and stdin is not subprocess.PIPE and stdout is not subprocess.PIPE for main, stdin, stdout in seen)
