#!/usr/bin/env python3
"""`leakscan staged` on a one-file change in a large repository: the pre-commit budget is 150 ms.

    python benchmarks/staged.py REPO [--runs 11]

REPO is any clone (bare is fine): it is cloned with ``--shared`` into a temporary work tree, one line
with a planted key is appended to one file and staged, and the whole command (interpreter start-up
included, as a hook runs it) is timed. Reports the median and the spread of wall time, and the median
CPU time (what wall time is on an idle core), next to ``git diff --cached`` alone and
``leakscan --version`` (start-up only) run in the same rounds.
"""
from __future__ import annotations

import argparse
import compileall
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLANT = "aws_access_key_id = AKIAZ5GMHYJKLOPQRS7T\n"  # the AWS documentation's example shape


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system of the command and its children) and exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    code = subprocess.call(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    leakscan = shutil.which("leakscan") or str(Path(sys.executable).with_name("leakscan"))
    # Byte-compiled as an installed package is: with PYTHONDONTWRITEBYTECODE set (as in some shells and
    # CI images) an editable checkout would otherwise recompile every module on every run, ~30 ms.
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "scanner"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "wt"
        subprocess.run(["git", "clone", "-q", "--shared", args.repo, str(work)], check=True)
        files = subprocess.run(["git", "ls-files"], cwd=work, capture_output=True, text=True, check=True).stdout
        tracked = files.split()
        target = next(p for p in tracked if p.endswith(".py"))
        with open(work / target, "a", encoding="utf-8") as fh:
            fh.write(PLANT)
        subprocess.run(["git", "add", target], cwd=work, check=True)
        cmds = {
            "leakscan staged": [leakscan, "staged", "--quiet", "--format", "json"],
            "git diff --cached (alone)": ["git", "diff", "--cached", "-U0", "--no-color"],
            "leakscan --version (start-up)": [leakscan, "--version"],
        }
        for cmd in cmds.values():  # warm-up: page cache and the rule cache
            timed(cmd, work)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        cpus: dict[str, list[float]] = {name: [] for name in cmds}
        codes: dict[str, int] = {}
        for _ in range(args.runs):
            for name, cmd in cmds.items():
                seconds, cpu, codes[name] = timed(cmd, work)
                times[name].append(seconds)
                cpus[name].append(cpu)
    print(f"\n{args.repo}: {len(tracked)} tracked files, one staged change to {target}, {args.runs} runs\n")
    print("| command | median wall (ms) | min wall (ms) | max wall (ms) | median CPU (ms) | exit |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values) * 1000:.0f} | {min(values) * 1000:.0f} | "
              f"{max(values) * 1000:.0f} | {statistics.median(cpus[name]) * 1000:.0f} | {codes[name]} |")


if __name__ == "__main__":
    main()
