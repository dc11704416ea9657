#!/usr/bin/env python3
"""What a user waits for on every commit: whole `leakscan` commands on tiny inputs, A/B against a baseline.

    python benchmarks/startup.py REPO [--runs 11] [--baseline SRC]

REPO is any clone (bare is fine); it is cloned twice with ``--shared`` into temporary work trees, one
with a planted key staged, one with a clean one-line change staged. Each command runs whole (interpreter
start-up included, as a hook runs it), from this checkout and, with ``--baseline``, from SRC (a source
tree such as ``git -C /work/main archive main scanner rules | tar -x -C /tmp/base``), each with
``PYTHONPATH`` set to its own tree, the same interpreter and its own warm cache folder. SRC gets a
``scanner/rules`` link to its ``rules/`` when it has none: a tree older than 70b0436 finds its rules
through importlib, which an editable install of this checkout would answer with this checkout's rules.
Rounds interleave the two, so both see the same load. Both trees' modules are byte-compiled first, as
an installed package's are (a session with PYTHONDONTWRITEBYTECODE set otherwise recompiles every
module on every run, about 30 ms).
Reports medians of wall and CPU time (user + system of the command and its children) and the ratio.
"""
from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
PLANT = "aws_access_key_id = AKIAZ5GMHYJKLOPQRS7T\n"  # the AWS documentation's example shape
CLEAN = "retries = 3\n"


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system of the command and its children) and exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    code = subprocess.call(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), code


def staged_tree(repo: str, root: Path, name: str, line: str) -> Path:
    work = root / name
    subprocess.run(["git", "clone", "-q", "--shared", repo, str(work)], check=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=work, capture_output=True, text=True, check=True).stdout.split()
    target = next(p for p in tracked if p.endswith(".py"))
    with open(work / target, "a", encoding="utf-8") as fh:
        fh.write(line)
    subprocess.run(["git", "add", target], cwd=work, check=True)
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--baseline", type=Path, metavar="SRC", help="A source tree to compare with, run the same way.")
    args = parser.parse_args()
    trees = {"candidate": HERE}
    if args.baseline:
        trees = {"baseline": args.baseline.resolve(), **trees}
        link = trees["baseline"] / "scanner" / "rules"
        if not link.exists() and (trees["baseline"] / "rules").is_dir():
            link.symlink_to(trees["baseline"] / "rules", target_is_directory=True)
    for tree in trees.values():
        compileall.compile_dir(str(tree / "scanner"), quiet=1)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        leak_tree = staged_tree(args.repo, root, "staged-leak", PLANT)
        clean_tree = staged_tree(args.repo, root, "staged-clean", CLEAN)
        (root / "clean.py").write_text("import os\nPASSWORD = os.environ['PASSWORD']\nprint('hello')\n")
        (root / "leak.py").write_text("import os\n" + PLANT)
        scan = [sys.executable, "-m", "scanner"]
        cmds: dict[str, tuple[list[str], Path]] = {
            "scan, one clean file (console)": ([*scan, "scan", str(root / "clean.py"), "--quiet"], root),
            "scan, one file with a key (json)": ([*scan, "scan", str(root / "leak.py"), "--quiet", "--format", "json"],
                                                 root),
            "staged, one clean line (console)": ([*scan, "staged", "--quiet"], clean_tree),
            "staged, one line with a key (json)": ([*scan, "staged", "--quiet", "--format", "json"], leak_tree),
            "--version (start-up only)": ([*scan, "--version"], root),
        }
        envs = {}
        for side, tree in trees.items():
            cache = root / f"cache-{side}"
            envs[side] = {**os.environ, "PYTHONPATH": str(tree), "LEAKSCAN_CACHE_DIR": str(cache)}
            envs[side].pop("PYTHONDONTWRITEBYTECODE", None)
        for cmd, cwd in cmds.values():  # warm-up: page cache and each side's rule and database caches
            for side in trees:
                timed(cmd, cwd, envs[side])
        wall: dict[tuple[str, str], list[float]] = {(n, s): [] for n in cmds for s in trees}
        cpu: dict[tuple[str, str], list[float]] = {(n, s): [] for n in cmds for s in trees}
        codes: dict[tuple[str, str], int] = {}
        order = list(trees)
        for _ in range(args.runs):
            for name, (cmd, cwd) in cmds.items():
                for side in order:
                    w, c, codes[name, side] = timed(cmd, cwd, envs[side])
                    wall[name, side].append(w)
                    cpu[name, side].append(c)
            order.reverse()  # neither side always goes first
    load_after = os.getloadavg()
    print(f"\n{args.repo}; {args.runs} interleaved rounds; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after\n")
    sides = list(trees)
    head = " | ".join(f"{s} median wall (ms) | {s} median CPU (ms)" for s in sides)
    print(f"| command | {head} |" + (" candidate / baseline (wall) | exit (baseline/candidate) |" if len(sides) > 1
                                     else " exit |"))
    print("|---|" + "---:|" * (2 * len(sides) + (2 if len(sides) > 1 else 1)))
    for name in cmds:
        cells = " | ".join(f"{statistics.median(wall[name, s]) * 1000:.0f} | {statistics.median(cpu[name, s]) * 1000:.0f}"
                           for s in sides)
        ratio = ""
        if len(sides) > 1:
            ratio = f" {statistics.median(wall[name, 'candidate']) / statistics.median(wall[name, 'baseline']):.2f}x |"
        exits = "/".join(str(codes[name, s]) for s in sides)  # a side that fails (exit 2) is not comparable
        print(f"| {name} | {cells} |{ratio} {exits} |")


if __name__ == "__main__":
    main()
