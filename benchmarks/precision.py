#!/usr/bin/env python3
"""What the precision work costs: engine MB per CPU-second without and with the generic / structure
rules, and with decoding at depth 0, 1 and 2.

    python benchmarks/precision.py [--runs 5] [--corpus DIR]

Corpus: the Python standard library's .py sources (site-packages excluded). Every configuration
runs once per round, in turn, so the medians are comparable on a noisy shared machine.
"""
from __future__ import annotations

import argparse
import dataclasses
import sysconfig
from pathlib import Path

from corpus import compare, stdlib_chunks
from scanner.engine import Engine
from scanner.ruleset import build_spec, default_rules

# The rule files of the precision work (generic secrets and structures); the rest are provider rules.
PRECISION_FILES = {"generic.yaml", "jwt.yaml", "uri.yaml", "config-files.yaml"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    args = ap.parse_args()
    chunks = stdlib_chunks(args.corpus)
    size = sum(len(c.data) for c in chunks)
    rules = default_rules()
    providers = tuple(r for r in rules if Path(r.source).name not in PRECISION_FILES)
    base = build_spec(rules)
    configs = {
        "provider rules only, no decoding": Engine(build_spec(providers)),
        "all rules, no decoding": Engine(base),
        "all rules, decode depth 1": Engine(dataclasses.replace(base, decode_depth=1)),
        "all rules, decode depth 2": Engine(dataclasses.replace(base, decode_depth=2)),
    }
    lines = compare(configs, chunks, args.runs)
    print(f"corpus: {len(chunks)} files, {size / (1 << 20):.1f} MB; {len(rules)} rules "
          f"({len(rules) - len(providers)} generic/structure); median of {args.runs} runs, MB per CPU-second")
    print("\n".join(lines))

if __name__ == "__main__":
    main()
