"""A remote repository cloned with the git CLI as a bare mirror into a private temporary directory, removed afterwards."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import SourceError, UsageError
from .clone_dirs import PREFIX, mark, remove_stale, remove_tree
from .git_common import GitRepo, git_env
from .remote_url import SCHEMES, RemoteUrl

CloneProgress = Callable[[str], None]  # one line of git's progress, credentials removed

_KEPT_LINES = 200  # of git's stderr, for the error message: a clone's output is mostly progress
# An HTTP(S) transfer that moves less than a byte a second for this long is given up (curl's low-speed
# limit): a server that stops answering must not hold a CI job until its own timeout. A healthy clone
# sends progress or data well within it, even while the server counts and compresses objects.
STALL_SECONDS = 120
_AUTH = ("could not read username", "could not read password", "authentication failed", "terminal prompts disabled",
         "permission denied (publickey")
_LINE_END = re.compile(rb"[\r\n]")
# A credential helper (git-credential(1)) answering 'get' with the URL's user name and password, when given.
_HELPER = ("!f() { test \"$1\" = get || return 0; printf 'username=%s\\n' \"$LEAKSCAN_GIT_USERNAME\"; "
           "if [ -n \"${LEAKSCAN_GIT_PASSWORD+set}\" ]; "
           "then printf 'password=%s\\n' \"$LEAKSCAN_GIT_PASSWORD\"; fi; }; f")


@contextmanager
def cloned(remote: RemoteUrl, progress: CloneProgress | None = None) -> Iterator[GitRepo]:
    """The mirror clone of ``remote``, for the duration of the block; always removed afterwards.

    The clone lives in a directory only this user can read (mkdtemp: mode 0700), under $TMPDIR, marked
    with this process; the clones of earlier runs killed before their cleanup (SIGKILL) are removed first.
    """
    import tempfile

    if remote.url.startswith("-"):  # parse_remote refuses these; git must never see one as an option
        raise UsageError("not a repository URL (it starts with '-')")
    try:
        parent = tempfile.mkdtemp(prefix=PREFIX)
    except OSError as exc:
        raise SourceError(f"cannot create a temporary directory for the clone: {exc.strerror or exc}") from None
    try:
        mark(parent)
        remove_stale(os.path.dirname(parent))  # after the marking: a concurrent sweep keeps this one too
        target = os.path.join(parent, "repo.git")
        _clone(remote, target, progress)
        yield GitRepo(git_dir=target, work_tree=None)
    finally:
        _remove(parent)


def _clone(remote: RemoteUrl, target: str, progress: CloneProgress | None) -> None:
    cmd, env = _clone_command(remote, target, progress=progress is not None)
    try:
        # A session of its own has no terminal: ssh cannot ask for a passphrase or a host key either
        # (GIT_TERMINAL_PROMPT only stops git's own prompts), so a private repository fails, never hangs.
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
    except FileNotFoundError:
        raise SourceError("git is not installed (no 'git' on PATH)") from None
    except OSError as exc:
        raise SourceError(f"cannot run git: {exc.strerror or exc}") from None
    try:
        lines = _read_lines(proc, remote, progress)
        code = proc.wait()
    except BaseException:  # Ctrl-C, SIGTERM: git is in another session, so it is stopped here
        _kill(proc)
        raise
    if code != 0:
        raise SourceError(f"cannot clone {remote.display}: {_reason(lines, code)}")


def _clone_command(remote: RemoteUrl, target: str, *, progress: bool) -> tuple[list[str], dict[str, str]]:
    # Every ref the remote has (--mirror), every object: not --filter=blob:none, as a history scan reads
    # every blob, which a partial clone would then fetch one lazy request at a time, mid-scan.
    # No hooks: none copied from a template (--template=), none from the user's core.hooksPath
    # (reference-transaction hooks run during a clone). The remote can set no config in a clone.
    cmd = ["git", "-c", "core.hooksPath=/dev/null"]
    env = {**git_env(), "GCM_INTERACTIVE": "never"}  # Git Credential Manager: no dialog either
    env.setdefault("GIT_ALLOW_PROTOCOL", ":".join(s for s in SCHEMES if "+" not in s))
    if remote.login is not None:
        # The URL's credentials reach git through the environment, not its command line (other users
        # can read that) nor the clone's config; and only this helper sees them: the user's own
        # helpers would otherwise be asked to store them (~/.git-credentials, a keychain).
        user, password = remote.login
        env["LEAKSCAN_GIT_USERNAME"] = user
        if password is not None:
            env["LEAKSCAN_GIT_PASSWORD"] = password
        cmd += ["-c", "credential.helper=", "-c", f"credential.helper={_HELPER}"]
    cmd += ["-c", "http.lowSpeedLimit=1", "-c", f"http.lowSpeedTime={STALL_SECONDS}"]
    cmd += ["clone", "--mirror", "--template=", "--progress" if progress else "--quiet", "--", remote.fetch_url,
            target]
    return cmd, env


def _read_lines(proc: subprocess.Popen[bytes], remote: RemoteUrl, progress: CloneProgress | None) -> list[str]:
    """git's stderr as lines (progress ends its lines with CR), credentials removed; the last few kept."""
    assert proc.stderr is not None
    kept: list[str] = []
    pending = b""
    with proc.stderr:
        while chunk := os.read(proc.stderr.fileno(), 1 << 16):  # what is there: progress comes in pieces
            *done, pending = _LINE_END.split(pending + chunk)
            for raw in done:
                _take(raw, remote, progress, kept)
        _take(pending, remote, progress, kept)
    return kept


def _take(raw: bytes, remote: RemoteUrl, progress: CloneProgress | None, kept: list[str]) -> None:
    line = remote.scrub(raw.decode("utf-8", "replace").strip())
    if not line:
        return
    if progress is not None:
        progress(line)
    kept.append(line)
    del kept[:-_KEPT_LINES]


def _reason(lines: list[str], code: int) -> str:
    """git's first fatal line, without its prefix; named as an authentication failure when it is one."""
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    text = (fatal or [line for line in lines if not line.startswith("hint:")] or [f"git exited with status {code}"])[0]
    text = text.removeprefix("fatal: ").removeprefix("error: ")
    if any(marker in text.lower() for marker in _AUTH):
        return f"authentication required ({text})"
    return text


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Stop git and everything it started (ssh, index-pack, a remote helper): its whole process group."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows: no process groups, no session of its own
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _remove(path: str) -> None:
    error = remove_tree(path)
    if error is not None:  # the scan's outcome stands; say what was left behind (a temporary path, no URL)
        print(f"warning: cannot remove the temporary clone {path}: {error.strerror or error}", file=sys.stderr)
