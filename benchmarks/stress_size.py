"""Stress cases for size and shape: time and peak memory of `leakscan scan` on huge and odd inputs.

    python benchmarks/stress_size.py [--only NAME] [--dir DIR]

Each case builds its input under DIR (default: a temporary directory, removed afterwards), runs
`python -m scanner scan` once, and prints wall time, peak RSS (os.wait4: the process and the
workers it reaped) and whether the planted secrets were all found exactly once.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

AKIA = "AKIAZ5GMHYJKLOPQRS7T"
MB = 1 << 20


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, float, float, bytes, bytes]:
    """(exit code, seconds, peak RSS in MB, stdout, stderr) of one leakscan run."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "scanner", *args], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return proc.returncode, seconds, usage.ru_maxrss / 1024, out.read(), err.read()


def write_single_line(path: Path, size: int, plants: list[int]) -> None:
    """One line of `size` bytes with the secret at each offset in `plants` (some straddle chunk ends)."""
    block = b"q" * (8 * MB)
    with open(path, "wb") as fh:
        for start in range(0, size, len(block)):
            fh.write(block[: min(len(block), size - start)])
        for off in plants:
            fh.seek(off)
            fh.write(f" {AKIA} ".encode())


def write_lines(path: Path, size: int, line: bytes, every: int) -> int:
    """Lines up to `size` bytes; every `every`-th line carries the secret. Returns the plant count."""
    block = line * (8 * MB // len(line))
    secret_line = f"aws = {AKIA}\n".encode()
    planted = written = 0
    with open(path, "wb") as fh:
        while written < size:
            fh.write(block)
            written += len(block)
            if (written // len(block)) % every == 0:
                fh.write(secret_line)
                planted += 1
    return planted


def case_single_line_200mb(root: Path) -> dict[str, object]:
    path = root / "one-line.min.js"
    size = 200 * MB
    plants = [0, 8 * MB - 7, 8 * MB + 64 * 1024 - 30, 100 * MB + 3, size - 40]
    write_single_line(path, size, plants)
    code, secs, rss, out, err = run("scan", str(path), "-f", "json", "--max-file-size", "1GB", "-j", "1")
    got = sorted(r["column"] for r in json.loads(out))
    over = run("scan", str(path), "-f", "json", "-v")
    return {"case": "200 MB single line, under --max-file-size", "exit": code, "seconds": secs, "peak_mb": rss,
            "ok": got == [p + 2 for p in plants],
            "over": {"case": "200 MB single line, over --max-file-size (default 50MB)", "exit": over[0],
                     "seconds": over[1], "peak_mb": over[2], "ok": b"larger than --max-file-size" in over[4]}}


def case_1gb(root: Path) -> dict[str, object]:
    path = root / "big.log"
    planted = write_lines(path, 1024 * MB, b"2026-11-28T04:00:00Z INFO request handled in 3ms path=/api/v1/items\n", 8)
    code, secs, rss, out, err = run("scan", str(path), "-f", "json", "--max-file-size", "2GB")
    rows = json.loads(out)
    over = run("scan", str(path), "-f", "json", "-v", "--max-file-size", "512MB")
    return {"case": "1 GB log file, under --max-file-size", "exit": code, "seconds": secs, "peak_mb": rss,
            "ok": len(rows) == planted and len({r["line"] for r in rows}) == planted,
            "over": {"case": "1 GB log file, over --max-file-size", "exit": over[0], "seconds": over[1],
                     "peak_mb": over[2], "ok": b"larger than --max-file-size" in over[4]}}


def case_million_lines(root: Path) -> dict[str, object]:
    path = root / "lines.txt"
    path.write_bytes(b"a=1\n" * 999_999 + f"k={AKIA}\n".encode())
    code, secs, rss, out, err = run("scan", str(path), "-f", "json")
    rows = json.loads(out)
    return {"case": "1,000,000 short lines", "exit": code, "seconds": secs, "peak_mb": rss,
            "ok": [(r["line"], r["column"]) for r in rows] == [(1_000_000, 3)]}


def case_100k_files(root: Path) -> dict[str, object]:
    tree = root / "tree"
    for d in range(100):
        sub = tree / f"d{d:02}"
        sub.mkdir(parents=True)
        for i in range(1000):
            (sub / f"f{i:03}.txt").write_bytes(f"k={AKIA}\n".encode() if i == d else b"x = 1\n")
    code, secs, rss, out, err = run("scan", str(tree), "-f", "json")
    return {"case": "100,000 tiny files", "exit": code, "seconds": secs, "peak_mb": rss,
            "ok": len(json.loads(out)) == 100}


def case_baseline(root: Path) -> dict[str, object]:
    (root / "empty").mkdir()
    code, secs, rss, _out, _err = run("scan", str(root / "empty"), "-f", "json")
    return {"case": "baseline: empty directory", "exit": code, "seconds": secs, "peak_mb": rss, "ok": code == 0}


CASES: dict[str, Callable[[Path], dict[str, object]]] = {
    "baseline": case_baseline, "single-line-200mb": case_single_line_200mb, "file-1gb": case_1gb,
    "million-lines": case_million_lines, "files-100k": case_100k_files,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CASES), action="append")
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="leakscan-stress-"))
    try:
        for name in args.only or list(CASES):
            root = base / name
            root.mkdir(parents=True, exist_ok=True)
            result = CASES[name](root)
            for row in (result, result.get("over")):
                if isinstance(row, dict):
                    print(f"{row['case']:<55} exit {row['exit']}  {row['seconds']:7.2f} s  "
                          f"{row['peak_mb']:7.1f} MB peak  {'ok' if row['ok'] else 'WRONG'}", flush=True)
            shutil.rmtree(root, ignore_errors=True)
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
