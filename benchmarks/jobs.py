#!/usr/bin/env python3
"""`leakscan scan --jobs N` on a large tree: wall and CPU time per job count, interleaved.

    python benchmarks/jobs.py [PATH ...] [--jobs 1 2] [--runs 5] [--source CHECKOUT ...]

PATH defaults to this interpreter's standard library directory (with its site-packages). Each round
runs every job count once, back to back, so load from other users of a shared machine falls on all
of them alike; the table shows medians over the rounds. Wall is the whole command (interpreter
start-up included); CPU is user + system time of the command and its worker processes. The speed-up
is the wall time of the first job count over each one's; CPU per job count shows what the workers
cost beyond the work itself (start-up, pickling, queues). Every run must report the same findings.
``--source`` runs leakscan from each given source checkout (through PYTHONPATH) in the same rounds,
to compare two versions.

Read the wall figures with the load average printed next to them: with the kernel's autogroup
scheduling (/proc/sys/kernel/sched_autogroup_enabled), all processes of one session share one fair
share of the CPUs, so on a machine that other sessions keep busy a second worker adds no CPU to the
scan, and only the CPU column means anything.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path


def timed_scan(paths: list[str], jobs: int, out: Path, source: str) -> tuple[float, float, int]:
    """(wall s, CPU s, findings) of one ``leakscan scan`` run, from ``source`` ("" = as installed)."""
    cmd = [sys.executable, "-m", "scanner", "scan", *paths, "--jobs", str(jobs), "-q", "--format", "json",
           "--output", str(out)]
    env = {**os.environ, "PYTHONPATH": source} if source else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # From a neutral directory: ``-m`` puts the working directory first on sys.path, ahead of PYTHONPATH.
    code = subprocess.call(cmd, stdout=subprocess.DEVNULL, env=env, cwd=out.parent)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code not in (0, 1):
        sys.exit(f"leakscan exited {code}: {' '.join(cmd)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(json.loads(out.read_text(encoding="utf-8")))


def autogroup() -> str:
    try:
        return "on" if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1" else "off"
    except OSError:
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", default=[sysconfig.get_paths()["stdlib"]])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--source", nargs="+", default=[""], help="source checkouts to compare (default: installed)")
    args = ap.parse_args()
    args.paths = [os.path.abspath(p) for p in args.paths]
    args.source = [os.path.abspath(p) if p else p for p in args.source]
    modes = [(src, j) for src in args.source for j in args.jobs]
    walls: dict[tuple[str, int], list[float]] = {m: [] for m in modes}
    cpus: dict[tuple[str, int], list[float]] = {m: [] for m in modes}
    counts: set[int] = set()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "findings.json"
        for src in args.source:  # warm-up: page cache and the rule cache
            timed_scan(args.paths, args.jobs[-1], out, src)
        for _ in range(args.runs):
            for src, jobs in modes:
                wall, cpu, found = timed_scan(args.paths, jobs, out, src)
                walls[src, jobs].append(wall)
                cpus[src, jobs].append(cpu)
                counts.add(found)
    if len(counts) != 1:
        sys.exit(f"job counts disagree on the findings: {sorted(counts)}")
    print(f"{' '.join(args.paths)}: {counts.pop()} findings, {os.cpu_count()} cores, load average "
          f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after, autogroup {autogroup()}, "
          f"medians of {args.runs} interleaved rounds\n")
    print("| source | --jobs | median wall (s) | min wall (s) | median CPU (s) | wall speed-up | CPU / first CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base, base_cpu = statistics.median(walls[modes[0]]), statistics.median(cpus[modes[0]])
    for src, jobs in modes:
        wall, cpu = statistics.median(walls[src, jobs]), statistics.median(cpus[src, jobs])
        print(f"| {src or 'installed'} | {jobs} | {wall:.2f} | {min(walls[src, jobs]):.2f} | {cpu:.2f} | "
              f"{base / wall:.2f} | {cpu / base_cpu:.2f} |")


if __name__ == "__main__":
    main()
