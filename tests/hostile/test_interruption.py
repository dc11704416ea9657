"""Interruption: Ctrl-C during a long multi-process scan exits 130 promptly, leaves no workers, no partial report."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import AKIA

# The backtracking fallback without Hyperscan scans a few MB/s: slow enough to interrupt mid-scan.
SLOW_ENV = {"LEAKSCAN_DISABLE_HYPERSCAN": "1", "LEAKSCAN_DISABLE_RE2": "1", "LEAKSCAN_CHUNK_SIZE": str(256 << 10)}


def _session_processes(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        state, session = fields[0], int(fields[3])
        if session == sid and state != b"Z":
            pids.append(int(entry))
    return pids


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big")
    line = ("password_hint = 'not-a-secret' token=" + "x" * 60 + "\n").encode()
    for i in range(24):
        (root / f"f{i:02}.txt").write_bytes(line * (1_000_000 // len(line)) + f"k={AKIA}\n".encode())
    return root


@pytest.mark.slow
@pytest.mark.parametrize("target", ["group", "process", "sigterm"],
                         ids=["ctrl-c-to-group", "sigint-to-process", "sigterm-like-a-ci-cancel"])
def test_ctrl_c_exits_130_promptly_without_strays_or_partial_report(big_tree: Path, tmp_path: Path,
                                                                      target: str) -> None:
    report = tmp_path / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "scan", str(big_tree), "-j", "2", "-f", "json", "-o", str(report)],
        env={**os.environ, **SLOW_ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert len(_children(proc.pid)) >= 2, "the scan never started its workers"
        time.sleep(0.5)  # workers busy scanning
        assert proc.poll() is None, "the scan finished before it could be interrupted; make it larger"
        sent = time.monotonic()
        if target == "group":
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
        else:
            os.kill(proc.pid, signal.SIGTERM if target == "sigterm" else signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert elapsed < 5, elapsed
    assert b"Traceback" not in err and err.strip().endswith(b"interrupted")
    deadline = time.monotonic() + 5
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session_processes(proc.pid) == []  # no stray worker
    assert not report.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary report left behind
    assert out == b""


def test_interrupt_while_writing_the_report_leaves_no_partial_file(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.cli import common
    from scanner.model import Confidence

    out = common.OutputOptions(format="json", output=str(tmp_path / "r.json"), redact=False, show_secrets=False,
                               exit_code=1, min_confidence=Confidence.LOW, quiet=True, verbose=0)
    (tmp_path / "r.json").write_text("previous report\n")

    def render_then_interrupt(findings: object, info: object, options: object, stream: object) -> None:
        stream.write("[\n  {")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "render", render_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        common.write_report([], common.RunInfo(), out)
    assert (tmp_path / "r.json").read_text() == "previous report\n"  # the old report, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


# A signal handled between two of concurrent.futures.wait's lock acquires leaves a future's lock held
# by the main thread; the pool's thread then blocks on it and shutdown (or interpreter exit) waits forever.
_INTERRUPT_INSIDE_WAIT = """
import sys
from concurrent.futures import _base

def enter(self):
    for future in self.futures:
        future._condition.acquire()
    raise KeyboardInterrupt  # where a Ctrl-C lands when it arrives between the acquires and the try

_base._AcquireFutures.__enter__ = enter
from scanner.cli import main
main(sys.argv[1:])
"""


def test_interrupt_inside_the_executors_wait_helper_cannot_hang_the_scan(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(12):
        (tree / f"f{i:02}.txt").write_bytes(b"x = 1\n" * ((256 << 10) // 6) + f"k={AKIA}\n".encode())
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPT_INSIDE_WAIT, "scan", str(tree), "-j", "2", "-q"],
                            env={**os.environ, **SLOW_ENV}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode in (1, 130), err  # findings, or stopped: either way it ends, without a traceback
    assert b"Traceback" not in err
    assert _session_processes(proc.pid) == []


def _first_worker(pid: int, cmd: list[str], timeout: float = 20) -> bool:
    """Wait until the scan has forked its first worker (a child running the parent's own command line)."""
    own = b"".join(os.fsencode(part) + b"\0" for part in cmd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in _children(pid):
            try:
                with open(f"/proc/{child}/cmdline", "rb") as fh:
                    if fh.read() == own:
                        return True
            except OSError:
                continue
        time.sleep(0.0002)
    return False


@pytest.fixture(scope="module")
def long_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough commits that history scans them in worker processes."""
    repo = tmp_path_factory.mktemp("history")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    stream = "".join(
        f"commit refs/heads/main\ncommitter A <a@example.com> {1_600_000_000 + i} +0000\ndata 2\nc\n"
        f"M 100644 inline f{i % 7}.txt\ndata 12\nvalue={i:06}\n\n"
        for i in range(120)
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream.encode(), check=True)
    return repo


@pytest.mark.slow
@pytest.mark.parametrize("command", ["scan", "history"])
def test_ctrl_c_as_workers_start_exits_130_without_traceback_or_hang(big_tree: Path, long_history: Path,
                                                                     command: str) -> None:
    # Between a worker's fork and its initializer the worker still has the parent's signal handlers. A
    # Ctrl-C to the group landing there once gave tracebacks, exit code 3 or 0, and a parent that never
    # exited. Several tries, each interrupting right as the first worker appears.
    target = str(big_tree) if command == "scan" else str(long_history)
    for delay in (0.0, 0.0, 0.0005, 0.001, 0.002, 0.0, 0.001, 0.004):
        cmd = [sys.executable, "-m", "scanner", command, target, "-j", "2", "-q"]
        proc = subprocess.Popen(cmd, env={**os.environ, **SLOW_ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            assert _first_worker(proc.pid, cmd), "the scan never started a worker"
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGINT)
            _out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        assert proc.returncode == 130, (delay, err[-600:])
        assert b"Traceback" not in err and err.strip().endswith(b"interrupted"), (delay, err[-600:])
        deadline = time.monotonic() + 5
        while _session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _session_processes(proc.pid) == []
