"""Temporary clone directories: marking each with its owning process, and removing those whose owner is gone."""
from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass

PREFIX = "leakscan-clone-"
MARKER = ".leakscan-owner"
_UNKNOWN = "-"
_MAX_MARKER = 512  # a marker is one short line; anything longer was not written by us


@dataclass(frozen=True)
class Owner:
    """A process named so that a recycled PID is not taken for it: PID, start time, boot and PID namespace."""

    pid: int
    start: str  # /proc/<pid>/stat field 22 (clock ticks since boot), or "-" without /proc
    boot: str  # /proc/sys/kernel/random/boot_id: start times restart at every boot
    pidns: str  # the PID namespace: a PID means nothing to a container that shares /tmp but not PIDs

    def line(self) -> str:
        return f"{self.pid} {self.start} {self.boot} {self.pidns}\n"


def process(pid: int) -> Owner:
    """The process ``pid`` as this one would write it into a marker (its start time "-" when unreadable)."""
    return Owner(pid, _start_time(pid) or _UNKNOWN, _read("/proc/sys/kernel/random/boot_id"), _pid_namespace())


def mark(directory: str) -> None:
    """Write this process's marker into ``directory`` (just created by mkdtemp): it is ours while we live.

    Without a marker (a full disk) the directory is still removed at exit; only the sweep leaves it alone.
    """
    try:
        fd = os.open(os.path.join(directory, MARKER), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(process(os.getpid()).line())
    except OSError:
        pass


def remove_stale(root: str) -> None:
    """Remove the clone directories under ``root`` of this user whose owning leakscan process is gone.

    Anything not provably ours and abandoned is left alone: another user's, a symlink, a file, no or an
    unreadable marker, an owner still alive or in another PID namespace. Failures are one warning line.
    """
    if not hasattr(os, "getuid"):  # pragma: no cover - Windows: no owner uid to check
        return
    try:
        names = os.listdir(root)
    except OSError:
        return
    me = process(os.getpid())
    failed: list[str] = []
    for name in names:
        if not name.startswith(PREFIX):
            continue
        path = os.path.join(root, name)
        owner = _owner(path)
        if owner is None or not _gone(owner, me):
            continue
        error = remove_tree(path)
        if error is not None:
            failed.append(error.strerror or str(error))
    if failed:
        print(f"warning: cannot remove {len(failed)} stale temporary clone(s) under {root}: {failed[0]}",
              file=sys.stderr)


def remove_tree(path: str) -> OSError | None:
    """Remove ``path`` and everything in it (symlinks inside removed, not followed); the error if it stays.

    A killed clone's git may still be exiting and write one more file: try again briefly.
    """
    error: OSError | None = None
    for _attempt in range(20):
        try:
            shutil.rmtree(path)  # fd-based where the platform has it: a link swapped in is not followed either
            return None
        except FileNotFoundError:  # already gone: a concurrent run removed it first
            return None
        except OSError as exc:
            error = exc
            time.sleep(0.05)
    return error


def _owner(path: str) -> Owner | None:
    """The owner named in ``path``'s marker; None unless ``path`` is a real directory of this user with one."""
    try:
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return None
        fd = os.open(os.path.join(path, MARKER), os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        try:
            marker = os.fstat(fd)
            if not stat.S_ISREG(marker.st_mode) or marker.st_uid != os.getuid():
                return None
            text = os.read(fd, _MAX_MARKER + 1).decode("ascii")
        finally:
            os.close(fd)
    except (OSError, UnicodeDecodeError):
        return None
    fields = text.split()
    if len(text) > _MAX_MARKER or not text.endswith("\n") or len(fields) != 4 or not fields[0].isdigit():
        return None
    pid = int(fields[0])
    return Owner(pid, *fields[1:]) if pid > 0 else None


def _gone(owner: Owner, me: Owner) -> bool:
    """True only when ``owner`` has certainly exited; any doubt keeps its directory."""
    if _UNKNOWN not in (owner.boot, me.boot) and owner.boot != me.boot:
        return True  # the machine restarted since: no process of that boot is left
    if owner.pidns != me.pidns:
        return False  # its PID cannot be looked up from here
    if owner.start != _UNKNOWN and me.start != _UNKNOWN:
        return _start_time(owner.pid) != owner.start  # exited, a zombie, or the PID now names another process
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, another user's: a recycled PID, or ours under another uid; keep it
    return False


def _start_time(pid: int) -> str | None:
    """``pid``'s start time while it runs; None when it has exited (a zombie counts as exited) or is unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            text = stat_file.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()  # the command name before ')' may hold spaces and parentheses
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid").replace(" ", "")
    except OSError:
        return _UNKNOWN


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as file:
            return "".join(file.read().split()) or _UNKNOWN
    except (OSError, UnicodeDecodeError):
        return _UNKNOWN
