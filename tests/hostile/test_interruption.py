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
