#!/usr/bin/env python3
"""Engine throughput of several source trees (commits) measured back to back: interleaved rounds, medians.

    git -C /work/main archive edb6425 | tar -x -C /tmp/base     # a commit to compare with
    python benchmarks/engine_ab.py /tmp/base . [--rounds 5] [--runs 3]

Each round runs one fresh process per tree, in turn, with that tree's ``scanner`` package and rules
first on the path (an editable install of another checkout is taken out of the import machinery). The
trees share one fresh rule cache, so trees with the same rules also share the measured verdicts of
which patterns are too costly for the Hyperscan database (a probe whose outcome varies with load).
A process scans the Python standard library's .py sources (site-packages excluded) ``--runs`` times
with the engine alone, after one warm-up pass (throughput.py's median of 5 also leaves out the first,
slower pass), and reports MB (10^6 bytes) per CPU-second. The figure per tree is the median over
every run of every round; interleaving keeps the ratio honest on a shared machine whose load drifts.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

# Runs in the child with only the tree on sys.path: the API used here exists since the first engine.
_WORKER = r"""
import json, sys, time
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                    and "editable" not in getattr(f, "__name__", "").lower()]
tree, corpus, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, tree)
from pathlib import Path
import scanner
from scanner.engine import Engine
from scanner.model import Chunk
from scanner.ruleset import build_spec, default_rules
assert scanner.__file__.startswith(tree), scanner.__file__
chunks = []
for p in sorted(p for p in Path(corpus).rglob("*.py") if "site-packages" not in p.parts and p.is_file()):
    chunks.append(Chunk(data=p.read_bytes(), path=str(p)))
size = sum(len(c.data) for c in chunks)
rules = default_rules()
engine = Engine(build_spec(rules))
sum(len(engine.scan(c).findings) for c in chunks)  # lazy regex compiles outside the timing
speeds, found = [], 0
for _ in range(runs):
    t0 = time.process_time()
    found = sum(len(engine.scan(c).findings) for c in chunks)
    speeds.append(size / 1e6 / (time.process_time() - t0))
print(json.dumps({"rules": len(rules), "files": len(chunks), "mb": size / 1e6, "findings": found,
                  "speeds": speeds}))
"""


def run_tree(tree: Path, corpus: Path, runs: int, cache: Path) -> dict[str, object]:
    env = {**os.environ, "LEAKSCAN_CACHE_DIR": str(cache)}
    env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [sys.executable, "-c", _WORKER, str(tree), str(corpus), str(runs)],
        env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs="+", type=Path, help="source trees (a checkout or `git archive` of a commit)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3, help="engine passes per process")
    ap.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    args = ap.parse_args()
    trees = [t.resolve() for t in args.trees]
    speeds: dict[Path, list[float]] = {t: [] for t in trees}
    info: dict[Path, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as cache:
        for t in trees:  # build and cache each tree's database outside the timing
            run_tree(t, args.corpus, 1, Path(cache))
        for _ in range(args.rounds):
            for t in trees:
                info[t] = run_tree(t, args.corpus, args.runs, Path(cache))
                speeds[t].extend(info[t]["speeds"])  # type: ignore[arg-type]
    first = statistics.median(speeds[trees[0]])
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds x {args.runs} runs; MB per CPU-second")
    for t in trees:
        med = statistics.median(speeds[t])
        print(f"  {str(t):40s} rules {info[t]['rules']:4d}  findings {info[t]['findings']:5d}  "
              f"{med:7.1f} MB/s  ({med / first:5.2f}x)  runs: {' '.join(f'{s:.0f}' for s in speeds[t])}")


if __name__ == "__main__":
    main()
