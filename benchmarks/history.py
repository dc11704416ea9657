#!/usr/bin/env python3
"""Full-history scan: leakscan against betterleaks and Kingfisher on one repository, side by side.

    python benchmarks/history.py REPO [--runs 3] [--peers /work/peers/bin] [--json OUT] [--baseline SRC]

REPO is a local clone (bare is fine), e.g. ipython/ipython: ``git clone --bare <url> ipython.git``.
Each round runs every tool once, one right after the other, so the ratios hold on a shared machine;
the table shows medians over the rounds of wall time and CPU time (user + system of every process the
tool started, orphans included) and the largest peak RSS of any single process of the run (``ru_maxrss``
of the waited children, measured in a fresh wrapper process per run, so one tool's peak never leaks into
another's).
Validation and update checks are off for the peers; every tool uses its default rules.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# Runs one command and reports its wall time, CPU time and peak RSS as JSON on the fd in argv[1].
# The wrapper is a child subreaper (Linux): processes the tool leaves behind (a worker's git, say) are
# reparented to it and reaped here, so their CPU time counts too, for every tool alike.
_WRAPPER = r"""
import ctypes, json, os, resource, subprocess, sys, time
try:
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
except (OSError, AttributeError):
    pass
t = time.perf_counter()
code = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - t
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
os.write(int(sys.argv[1]), json.dumps({"code": code, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime,
                        "rss_mb": ru.ru_maxrss / 1024}).encode())
"""


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, float]:
    read, write = os.pipe()
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, str(write), *cmd], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **env} if env else None, cwd=cwd)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    proc.wait()
    return json.loads(data)


def count_findings(path: Path) -> int:
    try:
        data = json.loads(path.read_text() or "[]")
    except (OSError, ValueError):
        return -1
    if isinstance(data, dict):
        data = data.get("findings", [])
    return len(data)


def commands(repo: str, peers: Path, out: Path) -> dict[str, tuple[list[str], Path]]:
    leakscan = shutil.which("leakscan") or str(Path(sys.executable).with_name("leakscan"))
    tools = {
        "leakscan": ([leakscan, "history", repo, "--quiet", "--format", "json", "--output",
                      str(out / "leakscan.json"), "--exit-code", "0"], out / "leakscan.json"),
        "betterleaks": ([str(peers / "betterleaks"), "git", repo, "--no-banner", "--output",
                         str(out / "betterleaks.json"), "--exit-code", "0"],
                        out / "betterleaks.json"),
        "kingfisher": ([str(peers / "kingfisher"), "scan", repo, "--git-history", "full", "--no-validate",
                        "--no-update-check", "--format", "json", "--output", str(out / "kingfisher.json")],
                       out / "kingfisher.json"),
    }
    return {name: spec for name, spec in tools.items() if Path(spec[0][0]).exists()}


def baseline_command(repo: str, source: Path, out: Path) -> tuple[list[str], Path]:
    """leakscan from another source tree (e.g. ``git archive <commit> | tar -x -C DIR``), same interpreter."""
    report = out / "leakscan-baseline.json"
    return [sys.executable, "-m", "scanner", "history", repo, "--quiet", "--format", "json", "--output",
            str(report), "--exit-code", "0"], report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers", type=Path, default=Path("/work/peers/bin"))
    parser.add_argument("--json", type=Path, help="Also write the raw figures here.")
    parser.add_argument("--baseline", type=Path, metavar="SRC",
                        help="Also run leakscan from this source tree (its scanner/ on PYTHONPATH), in the same rounds.")
    args = parser.parse_args()
    commits = subprocess.run(["git", "--git-dir", _git_dir(args.repo), "rev-list", "--all", "--count"],
                             capture_output=True, text=True, check=True).stdout.strip()
    raw: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        repo = str(Path(args.repo).resolve())  # the tools run from the temporary directory
        tools = commands(repo, args.peers, out)
        envs: dict[str, dict[str, str]] = {}
        if args.baseline:
            tools = {"leakscan-baseline": baseline_command(repo, args.baseline, out), **tools}
            envs["leakscan-baseline"] = {"PYTHONPATH": str(args.baseline.resolve())}
        # Every tool runs from the temporary directory: ``python -m`` puts the working directory ahead
        # of PYTHONPATH, so a run from a checkout would compare that checkout with itself.
        for name, (tool_cmd, _report) in tools.items():  # warm-up: page cache, rule caches
            measure(tool_cmd, envs.get(name), out)
        for round_no in range(args.runs):
            for name, (cmd, _report) in tools.items():
                figures = measure(cmd, envs.get(name), out)
                raw.setdefault(name, []).append(figures)
                print(f"round {round_no + 1} {name}: {figures['wall']:.2f} s wall, {figures['cpu']:.2f} s CPU, "
                      f"{figures['rss_mb']:.0f} MB", file=sys.stderr)
        found = {name: count_findings(report) for name, (_cmd, report) in tools.items()}
    rows = {name: {"wall": statistics.median(r["wall"] for r in runs),
                   "cpu": statistics.median(r["cpu"] for r in runs),
                   "rss_mb": max(r["rss_mb"] for r in runs),
                   "findings": found[name]} for name, runs in raw.items()}
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{args.repo}: {commits} commits, {os.cpu_count()} CPUs, median of {args.runs} rounds, "
          f"load average at the end {load}\n")
    print("| tool | wall (s) | CPU (s) | peak RSS (MB) | findings | leakscan wall / tool wall |")
    print("|---|---:|---:|---:|---:|---:|")
    base = rows.get("leakscan", {}).get("wall")
    for name, row in rows.items():
        ratio = f"{base / row['wall']:.2f}" if base else "-"
        print(f"| {name} | {row['wall']:.2f} | {row['cpu']:.2f} | {row['rss_mb']:.0f} | {row['findings']} | {ratio} |")
    if args.json:
        args.json.write_text(json.dumps({"repo": args.repo, "commits": int(commits), "rows": rows, "raw": raw},
                                        indent=2))


def _git_dir(repo: str) -> str:
    return subprocess.run(["git", "-C", repo, "rev-parse", "--absolute-git-dir"], capture_output=True, text=True,
                          check=True).stdout.strip()


if __name__ == "__main__":
    main()
