"""`leakscan history URL`: a remote cloned as a bare mirror, scanned like a local repository, then removed."""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.cli.git_progress import clone_progress
from scanner.errors import SourceError, UsageError
from scanner.sources import clone_dirs
from scanner.sources.clone_dirs import MARKER, Owner, process
from scanner.sources.git_remote import _clone_command, cloned
from scanner.sources.remote_url import is_remote, parse_remote
from tests.conftest import REPO_ROOT, git
from tests.gitrepo import AWS, GITHUB, SLACK, Run, commit, leakscan

MakeRepo = Callable[..., Path]
TOKEN = "tok3nS3cretValue42"


@pytest.fixture
def clone_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory temporary clones go to in this test (tempfile caches $TMPDIR: set its cache too)."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setenv("TMPDIR", str(where))
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@pytest.fixture
def origin(make_repo: MakeRepo) -> Path:
    """A work tree whose secrets sit on main, on a side branch only, and in a tag only."""
    repo = make_repo("work")
    commit(repo, "base", {"app.py": "print('hi')\n"})
    commit(repo, "add key", {"app.py": f"print('hi')\naws_access_key_id = {AWS}\n"})
    git(repo, "checkout", "-q", "-b", "side")
    commit(repo, "side", {"side.cfg": f"token = {GITHUB}\n"})
    git(repo, "checkout", "-q", "--detach", "main")
    commit(repo, "release", {"release.cfg": f"slack = {SLACK}\n"})
    git(repo, "tag", "v1")
    git(repo, "checkout", "-q", "main")
    commit(repo, "remove key", {"app.py": "print('hi')\n"})
    return repo


@pytest.fixture
def bare(origin: Path, tmp_path: Path) -> Path:
    git(tmp_path, "clone", "-q", "--mirror", str(origin), "origin.git")
    return tmp_path / "origin.git"


def _where(run: Run) -> set[tuple[str, int, str, str]]:
    return {(f["path"], f["line"], f["rule_id"], f["commit"]) for f in run.findings}


def _clones(where: Path) -> list[Path]:
    return sorted(where.glob("leakscan-clone-*"))


@pytest.mark.parametrize("kind", ["bare", "work-tree"])
def test_url_scan_reports_the_findings_and_commits_of_the_local_scan(kind: str, origin: Path, bare: Path,
                                                                     clone_tmp: Path, capsys) -> None:
    repo = bare if kind == "bare" else origin
    local = leakscan(capsys, "history", str(repo))
    remote = leakscan(capsys, "history", repo.as_uri())
    assert remote.code == local.code == 1, remote.stderr
    assert _where(remote) == _where(local)
    assert {f["path"] for f in remote.findings} == {"app.py", "side.cfg", "release.cfg"}  # every ref came along
    assert _clones(clone_tmp) == []  # removed after a run with findings (exit 1)


def test_clean_remote_exits_0_and_its_clone_is_removed(make_repo: MakeRepo, clone_tmp: Path, capsys) -> None:
    repo = make_repo()
    commit(repo, "clean", {"a.txt": "nothing here\n"})
    run = leakscan(capsys, "history", repo.as_uri())
    assert (run.code, run.findings) == (0, []), run.stderr
    assert _clones(clone_tmp) == []


def _selections(repo: Path) -> dict[str, list[str]]:
    revs = git(repo, "rev-list", "--reverse", "main").split()
    return {"branch": ["--branch", "side"], "since": ["--since", revs[1]], "range": ["--range", f"{revs[0]}..v1"],
            "since-date": ["--since-date", "2000-01-01"], "since-date-future": ["--since-date", "2999-01-01"]}


@pytest.mark.parametrize("option", ["branch", "since", "range", "since-date", "since-date-future"])
def test_selection_options_work_on_the_clone_as_on_the_local_repository(option: str, bare: Path, clone_tmp: Path,
                                                                          capsys) -> None:
    args = _selections(bare)[option]
    local = leakscan(capsys, "history", str(bare), *args)
    remote = leakscan(capsys, "history", bare.as_uri(), *args)
    assert (remote.code, _where(remote)) == (local.code, _where(local)), remote.stderr
    everything = leakscan(capsys, "history", str(bare))
    if option != "since-date":  # the selection really selects: some findings are left out
        assert _where(local) < _where(everything)


def test_clone_is_private_while_scanned_and_removed_after_an_error(bare: Path, clone_tmp: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with cloned(parse_remote(bare.as_uri())) as repo:
            parent = Path(repo.git_dir).parent
            assert parent.parent == clone_tmp
            assert stat.S_IMODE(parent.stat().st_mode) == 0o700
            assert git(parent, "--git-dir", repo.git_dir, "config", "--bool", "remote.origin.mirror").strip() == "true"
            raise RuntimeError("boom")
    assert _clones(clone_tmp) == []


@pytest.mark.parametrize("setting", ["core.hooksPath", "init.templateDir"])
def test_user_hooks_do_not_run_during_the_clone(setting: str, bare: Path, clone_tmp: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))  # HOME is shared by the session
    where = tmp_path / "user-git"
    (where / "hooks").mkdir(parents=True)
    ran = tmp_path / "hook-ran"
    hook = where / "hooks" / "reference-transaction"  # git runs it while a clone writes its refs
    hook.write_text(f"#!/bin/sh\ntouch {ran}\n")
    hook.chmod(0o755)
    git(tmp_path, "config", "--global", setting, str(where / "hooks" if setting == "core.hooksPath" else where))
    git(tmp_path, "clone", "-q", "--mirror", bare.as_uri(), "probe.git")
    assert ran.exists()  # the hook does run for a plain clone...
    ran.unlink()
    with cloned(parse_remote(bare.as_uri())) as repo:
        assert not (Path(repo.git_dir) / "hooks").exists()  # nothing copied from a template
    assert not ran.exists()  # ...and not for ours


UNREACHABLE = {
    "missing-file-repo": "file:///nonexistent/repo.git",
    "refused-https-with-token": f"https://user:{TOKEN}@127.0.0.1:1/x.git",
    "refused-http-token-as-user": f"http://{TOKEN}@127.0.0.1:1/x.git",
}


@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE.keys())
def test_unreachable_url_exits_3_with_one_line_and_no_credential(url: str, clone_tmp: Path, capsys) -> None:
    run = leakscan(capsys, "history", url)
    assert run.code == 3
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot clone "), run.stderr
    assert TOKEN not in run.stderr
    assert _clones(clone_tmp) == []


REFUSED = {
    "scp-like-ssh-option": "-oProxyCommand=touch {marker}@host:repo.git",
    "git-option": "--upload-pack=touch {marker}",
    "ssh-host-option": "ssh://-oProxyCommand=touch%20{marker}/repo.git",
    "ssh-user-option": "ssh://-oProxyCommand=touch%20{marker}@host/repo.git",
    "ext-helper": "ext::sh -c touch% {marker}",
    "unknown-scheme": "s3://bucket/repo.git",
    "neither-path-nor-url": "no/such/dir",
}


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
def test_option_like_or_unsupported_value_exits_2_and_runs_nothing(value: str, tmp_path: Path, clone_tmp: Path,
                                                                    capsys) -> None:
    marker = tmp_path / "ran"
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["history", "--quiet", "--", value.format(marker=marker)])
    err = capsys.readouterr().err
    assert exited.value.code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert not marker.exists() and _clones(clone_tmp) == []


PARSED = {
    "https-token": (f"https://x-access-token:{TOKEN}@github.com/org/repo.git", "https://github.com/org/repo.git"),
    "https-token-as-user": (f"https://{TOKEN}@github.com/org/repo", "https://github.com/org/repo"),
    "https-query": (f"https://host/repo.git?private_token={TOKEN}", "https://host/repo.git"),
    "ssh-password": (f"ssh://git:{TOKEN}@host:2222/org/repo.git", "ssh://git@host:2222/org/repo.git"),
    "scp-like": ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
    "file": ("file:///srv/git/repo.git", "file:///srv/git/repo.git"),
}


@pytest.mark.parametrize(("url", "display"), PARSED.values(), ids=PARSED.keys())
def test_url_is_named_without_its_credentials(url: str, display: str) -> None:
    remote = parse_remote(url)
    assert is_remote(url)
    assert remote.display == display
    assert TOKEN not in repr(remote) and TOKEN not in remote.uri
    assert remote.scrub(f"fatal: unable to access '{url}': no") == f"fatal: unable to access '{display}': no"
    if TOKEN in url:  # and wherever git names the credential on its own
        assert remote.scrub(f"could not read Password for {TOKEN}") == "could not read Password for ***"


def test_scp_like_url_is_reported_as_an_ssh_uri() -> None:
    assert parse_remote("git@github.com:org/repo.git").uri == "ssh://git@github.com/org/repo.git"


NOT_URLS = {"relative-dir": "some/dir", "drive-letter": "C:/repo", "word": "repo"}


@pytest.mark.parametrize("text", NOT_URLS.values(), ids=NOT_URLS.keys())
def test_paths_are_not_urls(text: str) -> None:
    assert not is_remote(text)


def test_existing_path_that_looks_like_a_url_is_scanned_as_a_path(make_repo: MakeRepo, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    repo = make_repo("host:repo")  # git's scp-like shape, but a directory here: the path wins, as in git
    commit(repo, "add", {"a.txt": f"aws_access_key_id = {AWS}\n"})
    monkeypatch.chdir(tmp_path)
    assert not is_remote("host:repo")
    run = leakscan(capsys, "history", "host:repo")
    assert run.code == 1 and [f["path"] for f in run.findings] == ["a.txt"], run.stderr


def test_project_files_around_the_current_directory_do_not_apply_to_a_url(bare: Path, tmp_path: Path, clone_tmp: Path,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          capsys) -> None:
    first = leakscan(capsys, "history", bare.as_uri())
    aws = next(f for f in first.findings if f["rule_id"] == "aws-access-key-id")
    here = tmp_path / "project"  # a checkout the user runs leakscan from, whose ignore file names the finding
    here.mkdir()
    git(here, "init", "-q")
    (here / ".leakscanignore").write_text(f"{aws['fingerprint']}\n")
    (here / "sub").mkdir()
    monkeypatch.chdir(here / "sub")
    run = leakscan(capsys, "history", bare.as_uri())
    assert run.code == 1 and _where(run) == _where(first), run.stderr


# -- over HTTP, from a server on loopback ------------------------------------------------------------------


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class _BasicAuth(_Quiet):
    """Serves the files to user:TOKEN only, as a private repository's host does."""

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        if self.headers.get("Authorization") == "Basic " + base64.b64encode(f"user:{TOKEN}".encode()).decode():
            super().do_GET()
            return
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="repo"')
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextmanager
def _serve(handler: type[SimpleHTTPRequestHandler], directory: Path) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def http_port(bare: Path) -> Iterator[int]:
    """git's 'dumb' HTTP protocol: the bare repository's files, served as they are."""
    git(bare, "update-server-info")
    with _serve(_Quiet, bare.parent) as port:
        yield port


def test_url_with_credentials_never_shows_them(bare: Path, http_port: int, clone_tmp: Path, capsys) -> None:
    url = f"http://user:{TOKEN}@127.0.0.1:{http_port}/origin.git"
    local = leakscan(capsys, "history", str(bare))
    run = leakscan(capsys, "history", url)
    assert run.code == 1 and _where(run) == _where(local), run.stderr
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["history", url, "--format", "sarif", "--jobs", "1", "--verbose"])
    out = capsys.readouterr()
    sarif = json.loads(out.out)
    root = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == f"http://127.0.0.1:{http_port}/origin.git/"
    assert TOKEN not in out.out and TOKEN not in out.err and TOKEN not in run.stderr
    assert _clones(clone_tmp) == []


def test_credentials_in_the_url_reach_the_server_but_neither_git_command_line_nor_clone_config(
        bare: Path, clone_tmp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    store = tmp_path / "git-credentials"
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))  # HOME is shared by the session
    git(tmp_path, "config", "--global", "credential.helper", f"store --file={store}")
    git(bare, "update-server-info")
    with _serve(_BasicAuth, bare.parent) as port:
        url = f"http://user:{TOKEN}@127.0.0.1:{port}/origin.git"
        cmd, env = _clone_command(parse_remote(url), str(tmp_path / "x.git"), progress=False)
        assert not any(TOKEN in arg for arg in cmd)
        with cloned(parse_remote(url)) as repo:
            assert TOKEN not in (Path(repo.git_dir) / "config").read_text()
            assert git(Path(repo.git_dir), "rev-parse", "--verify", "v1").strip()
        run = leakscan(capsys, "history", url)
    assert run.code == 1 and {f["path"] for f in run.findings} == {"app.py", "side.cfg", "release.cfg"}, run.stderr
    assert not store.exists()  # the user's credential helper was not asked to keep the token


def test_clone_progress_lines_carry_no_credential(bare: Path, http_port: int, clone_tmp: Path) -> None:
    lines: list[str] = []
    with cloned(parse_remote(f"http://user:{TOKEN}@127.0.0.1:{http_port}/origin.git"), lines.append) as repo:
        assert git(Path(repo.git_dir), "rev-parse", "--verify", "v1").strip()
    assert lines and not any(TOKEN in line for line in lines)


@pytest.mark.parametrize("credentials", ["", "user@", f"user:wrong{TOKEN}@"], ids=["none", "no-password", "wrong"])
def test_repository_that_needs_a_password_fails_at_once_with_exit_3(credentials: str, bare: Path, clone_tmp: Path,
                                                                    capsys) -> None:
    git(bare, "update-server-info")
    with _serve(_BasicAuth, bare.parent) as port:
        started = time.monotonic()
        run = leakscan(capsys, "history", f"http://{credentials}127.0.0.1:{port}/origin.git")
        assert time.monotonic() - started < 30  # no prompt waited for
    assert run.code == 3
    assert run.stderr.startswith("error: cannot clone http://127.0.0.1:") and "authentication" in run.stderr
    assert len(run.stderr.splitlines()) == 1 and TOKEN not in run.stderr
    assert _clones(clone_tmp) == []


def test_source_error_names_the_url_without_credentials(clone_tmp: Path) -> None:
    with pytest.raises(SourceError) as info:
        with cloned(parse_remote(f"https://user:{TOKEN}@127.0.0.1:1/x.git")):
            pass
    assert str(info.value).startswith("cannot clone https://127.0.0.1:1/x.git: ") and TOKEN not in str(info.value)


def test_option_like_url_is_refused_before_git_runs(clone_tmp: Path) -> None:
    with pytest.raises(UsageError):
        parse_remote("-oProxyCommand=x@host:repo")


# -- interrupted: Ctrl-C and a CI runner's SIGTERM ---------------------------------------------------------


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # exited, not yet reaped by its new parent


def _hanging_clone(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """A `leakscan history` subprocess whose clone waits on an ssh that never answers; the file of that ssh's PID."""
    ssh = tmp_path / "fake-ssh"
    started = tmp_path / "ssh-pid"
    ssh.write_text(f"#!/bin/sh\necho $$ > {started}.tmp && mv {started}.tmp {started}\nexec sleep 60\n")
    ssh.chmod(0o755)
    env = {**os.environ, "GIT_SSH_COMMAND": str(ssh), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "history", "ssh://git@example.invalid/repo.git"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), proc.communicate()
    return proc, started


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_clone_is_stopped_and_removed(signum: int, tmp_path: Path, clone_tmp: Path) -> None:
    proc, started = _hanging_clone(tmp_path)
    assert len(_clones(clone_tmp)) == 1  # the clone is under way
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted"
    assert _clones(clone_tmp) == []
    pid = int(started.read_text())
    deadline = time.monotonic() + 5
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)  # the ssh git started was stopped with the clone


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("terminal", "quiet", "shown"), [(True, False, True), (True, True, False),
                                                         (False, False, False)], ids=["terminal", "quiet", "pipe"])
def test_clone_progress_is_shown_on_a_terminal_unless_quiet(terminal: bool, quiet: bool, shown: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with clone_progress(not quiet) as progress:
        if progress is not None:
            progress("Receiving objects:  50% (3/6)")
            time.sleep(0.1)  # one refresh of the live line
    assert (progress is not None) == shown
    assert ("clone: Receiving objects:  50% (3/6)" in stream.getvalue()) == shown


class _Stalled(_Quiet):
    """Accepts the request and then sends nothing, as a hung server does."""

    release = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        self.release.wait(timeout=60)


def test_server_that_stops_answering_fails_the_clone_instead_of_hanging(
        bare: Path, clone_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr("scanner.sources.git_remote.STALL_SECONDS", 2)
    try:
        with _serve(_Stalled, bare.parent) as port:
            started = time.monotonic()
            run = leakscan(capsys, "history", f"http://127.0.0.1:{port}/origin.git")
            elapsed = time.monotonic() - started
            _Stalled.release.set()
    finally:
        _Stalled.release.set()
    assert run.code == 3 and elapsed < 30, (elapsed, run.stderr)
    assert run.stderr.strip().startswith(f"error: cannot clone http://127.0.0.1:{port}/origin.git: ")
    assert len(run.stderr.strip().splitlines()) == 1
    assert _clones(clone_tmp) == []


# -- clones left behind by a killed run (SIGKILL, power loss): removed by the next URL scan ----------------


def _dead_owner() -> Owner:
    """The marker identity of a process that has exited (and was reaped)."""
    child = subprocess.Popen(["sleep", "30"])
    owner = process(child.pid)
    child.kill()
    child.wait()
    return owner


def _left_clone(where: Path, name: str, owner: Owner | None, marker: str | None = None) -> Path:
    """A clone directory as a killed run leaves it: a partial mirror, and its marker (``marker`` as written)."""
    path = where / f"leakscan-clone-{name}"
    (path / "repo.git" / "objects" / "pack").mkdir(parents=True)
    (path / "repo.git" / "objects" / "pack" / "tmp_pack_1").write_bytes(b"PACK")
    (path / "repo.git" / "HEAD").symlink_to("/etc/hostname")  # removed as a link, never followed
    if owner is not None or marker is not None:
        (path / MARKER).write_text(owner.line() if owner is not None else str(marker))
    return path


def test_clone_left_by_a_dead_run_is_removed_by_the_next_url_scan(bare: Path, clone_tmp: Path, capsys) -> None:
    left = _left_clone(clone_tmp, "dead", _dead_owner())
    run = leakscan(capsys, "history", bare.as_uri())
    assert run.code == 1, run.stderr
    assert not left.exists() and _clones(clone_tmp) == []
    assert run.stderr == ""  # nothing to say about a removal that worked
    assert Path("/etc/hostname").exists()


def test_clone_whose_pid_now_names_another_process_is_removed(bare: Path, clone_tmp: Path, capsys) -> None:
    me = process(os.getpid())  # a live process with the marker's PID, started at another time: a recycled PID
    left = _left_clone(clone_tmp, "recycled", Owner(me.pid, str(int(me.start) + 1), me.boot, me.pidns))
    run = leakscan(capsys, "history", bare.as_uri())
    assert run.code == 1, run.stderr
    assert not left.exists()


def _kept_cases(where: Path, outside: Path) -> dict[str, Path]:
    dead, me = _dead_owner(), process(os.getpid())
    outside.mkdir()
    (outside / MARKER).write_text(dead.line())
    link = where / "leakscan-clone-link"
    link.symlink_to(outside, target_is_directory=True)
    file = where / "leakscan-clone-file"
    file.write_text(dead.line())
    return {
        "live-owner": _left_clone(where, "live", me),
        "no-marker": _left_clone(where, "unmarked", None),
        "garbled-marker": _left_clone(where, "garbled", None, marker="not a marker\n"),
        "half-written-marker": _left_clone(where, "half", None, marker=dead.line()[:-3]),
        "other-pid-namespace": _left_clone(where, "container", Owner(dead.pid, dead.start, dead.boot, "pid:[1]")),
        "symlink": link,
        "file": file,
        "other-name": _left_clone(where, "x", dead).rename(where / "other-clone-x"),
    }


@pytest.mark.parametrize("case", ["live-owner", "no-marker", "garbled-marker", "half-written-marker",
                                  "other-pid-namespace", "symlink", "file", "other-name"])
def test_directories_not_provably_abandoned_clones_are_kept(case: str, bare: Path, clone_tmp: Path, tmp_path: Path,
                                                            capsys) -> None:
    kept = _kept_cases(clone_tmp, tmp_path / "elsewhere")[case]
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if "origin.git" not in p.parts)
    run = leakscan(capsys, "history", bare.as_uri())
    assert run.code == 1, run.stderr
    assert os.path.lexists(kept)
    after = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if "origin.git" not in p.parts)
    assert after == before  # nothing anywhere was removed: not through the link either
    assert run.stderr == ""


def test_clone_of_another_user_is_kept(bare: Path, clone_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    left = _left_clone(clone_tmp, "theirs", _dead_owner())
    uid = os.getuid()
    monkeypatch.setattr(clone_dirs.os, "getuid", lambda: uid + 1)  # every directory is now another user's
    run = leakscan(capsys, "history", bare.as_uri())
    assert run.code == 1, run.stderr
    assert (left / MARKER).exists()


def test_stale_clone_that_cannot_be_removed_is_one_warning_and_the_scan_goes_on(
        bare: Path, clone_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    left = _left_clone(clone_tmp, "stuck", _dead_owner())

    rmtree = shutil.rmtree

    def refuse(path: str) -> None:  # the leftover only: this run's own clone is removed as usual
        if Path(path) == left:
            raise PermissionError(13, "Permission denied", path)
        rmtree(path)

    monkeypatch.setattr(clone_dirs.shutil, "rmtree", refuse)
    run = leakscan(capsys, "history", bare.as_uri())
    assert run.code == 1  # the findings, as without the leftover
    assert {f["path"] for f in run.findings} == {"app.py", "side.cfg", "release.cfg"}
    assert run.stderr.splitlines() == [
        f"warning: cannot remove 1 stale temporary clone(s) under {clone_tmp}: Permission denied"]
    assert left.exists()


def test_clone_of_a_run_killed_with_sigkill_is_kept_while_it_runs_and_removed_by_the_next_run(
        bare: Path, tmp_path: Path, clone_tmp: Path, capsys) -> None:
    proc, started = _hanging_clone(tmp_path)
    [theirs] = _clones(clone_tmp)
    ssh = int(started.read_text())
    clone = int(Path(f"/proc/{ssh}/stat").read_text().rsplit(")", 1)[1].split()[1])  # git, the ssh's parent
    try:
        concurrent = leakscan(capsys, "history", bare.as_uri())
        assert concurrent.code == 1, concurrent.stderr
        assert _clones(clone_tmp) == [theirs]  # a scan running alongside leaves the live run's clone alone
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
        os.kill(ssh, signal.SIGKILL)  # git is in its own session: SIGKILL of leakscan does not reach it
    deadline = time.monotonic() + 10
    while not _gone(clone) and time.monotonic() < deadline:  # git, orphaned, fails and exits
        time.sleep(0.05)
    assert _clones(clone_tmp) == [theirs] and (theirs / MARKER).exists()  # SIGKILL leaves it behind
    run = leakscan(capsys, "history", bare.as_uri())
    assert run.code == 1, run.stderr
    assert _clones(clone_tmp) == []
