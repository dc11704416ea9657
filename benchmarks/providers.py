#!/usr/bin/env python3
"""What the chat, payment, AI, observability, email, SaaS and social provider rules cost: engine MB per
CPU-second with every built-in rule, against the same rule set without them.

    python benchmarks/providers.py [--runs 5] [--corpus DIR] [--limit-mb 20]

Corpus: the Python standard library's .py sources (site-packages excluded). Both configurations run
once per round, in turn, and CPU time (not wall time) is measured, so the medians and their ratio
hold on a noisy shared machine.
"""
from __future__ import annotations

import argparse
import sysconfig
from pathlib import Path

from corpus import compare, stdlib_chunks
from scanner.engine import Engine
from scanner.ruleset import build_spec, default_rules

# The provider rule files of this work; slack.yaml and stripe.yaml keep their first (core) rule.
PROVIDER_FILES = {"chat.yaml", "payments.yaml", "ai.yaml", "observability.yaml", "email.yaml", "saas.yaml", "social.yaml"}
CORE_IDS = {"slack-bot-token", "stripe-secret-key"}


def is_provider_rule(source: str, rule_id: str) -> bool:
    name = Path(source).name
    return name in PROVIDER_FILES or (name in {"slack.yaml", "stripe.yaml"} and rule_id not in CORE_IDS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    ap.add_argument("--limit-mb", type=float, default=20.0)
    args = ap.parse_args()
    chunks = stdlib_chunks(args.corpus, int(args.limit_mb * (1 << 20)))
    size = sum(len(c.data) for c in chunks)
    rules = default_rules()
    without = [r for r in rules if not is_provider_rule(r.source, r.id)]
    engines = {
        f"without provider rules ({len(without)} rules)": Engine(build_spec(without)),
        f"all rules ({len(rules)} rules)": Engine(build_spec(rules)),
    }
    lines = compare(engines, chunks, args.runs)
    print(f"corpus: {len(chunks)} files, {size / (1 << 20):.1f} MB; {args.runs} rounds; MB per CPU-second, median")
    print("\n".join(lines))

if __name__ == "__main__":
    main()
