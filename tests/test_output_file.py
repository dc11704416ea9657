"""--output and baseline files: atomic for regular files, written in place for devices and FIFOs, through symlinks."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from scanner import baseline
from scanner.errors import LeakscanError
from scanner.outfile import write_text

KEY = "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"


def _leakscan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], capture_output=True, text=True, timeout=120)


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "settings.py").write_text(f"GITHUB = '{KEY}'\n")
    return root


def test_report_to_a_fifo_is_written_into_it_and_the_fifo_stays(tmp_path: Path) -> None:
    # /dev/stdout in CI is a pipe, /dev/null a device: renaming a file over them replaced /dev/null itself.
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = _leakscan("scan", str(_tree(tmp_path)), "--format", "json", "--output", str(fifo))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file"
    reader.join(timeout=30)
    assert done.returncode == 1, done.stderr
    assert [row["rule_id"] for row in json.loads(got[0])] == ["github-pat"]


def test_report_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "leakscan.json"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    done = _leakscan("scan", str(_tree(tmp_path)), "--format", "json", "--output", str(link))
    assert done.returncode == 1, done.stderr
    assert link.is_symlink()
    assert json.loads(real.read_text())[0]["rule_id"] == "github-pat"


def test_rewritten_report_keeps_the_files_permissions(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old\n")
    out.chmod(0o644)
    done = _leakscan("scan", str(_tree(tmp_path)), "--format", "json", "--output", str(out))
    assert done.returncode == 1, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert json.loads(out.read_text())[0]["rule_id"] == "github-pat"


def test_new_report_is_private_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    done = _leakscan("scan", str(_tree(tmp_path)), "--format", "json", "--output", str(out))
    assert done.returncode == 1, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it may hold secrets
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.json"]


def test_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old\n")

    def explode(fh: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(LeakscanError, match=r"^cannot write .*report.json: No space left on device$"):
        write_text(out, explode)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_report_into_a_missing_directory_is_a_one_line_error(tmp_path: Path) -> None:
    done = _leakscan("scan", str(_tree(tmp_path)), "--output", str(tmp_path / "no" / "such" / "r.json"))
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [f"error: cannot write {tmp_path / 'no' / 'such' / 'r.json'}: "
                                               "No such file or directory"]


def test_baseline_written_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    link = tmp_path / ".leakscan-baseline.json"
    link.symlink_to(real)
    baseline.write(baseline.Baseline(str(link), frozenset()), link)
    assert link.is_symlink()
    assert json.loads(real.read_text())["findings"] == []
