#!/usr/bin/env python3
"""CPU cost of the encoded-string check (``decoding.may_hold_encoded``) and of ``decoding.candidates``
on what a history scan feeds them.

    git -C /work/main archive main scanner/decoding.py | tar -x -C /tmp/base    # the version to compare
    python benchmarks/encoded_check.py REPO --baseline /tmp/base/scanner/decoding.py [--rounds 5]

First a serial ``leakscan history REPO`` runs in this process with ``Engine.may_decode`` and
``decoding.candidates`` wrapped, to record every buffer the scan hands them: for the check, the
windows of changed lines and the selected lines of files worth decoding, grouped as the scan groups
them (the ``rejected`` memory lives as long as one path's run of versions); for ``candidates``, the
chunks the engine decodes. Then each round times the current ``scanner.decoding`` and the baseline
module (loaded from the file given) over those buffers, in turn, with ``time.process_time`` per file
type; the table shows the median over the rounds of each. Both modules must give the same answer for
every buffer and the same candidates (span, encoding, decoded text) for every chunk, or the script says
where they differ and fails.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from scanner import decoding
from scanner.cli import main as leakscan
from scanner.engine import Engine

Calls = list[tuple[str, int, bytes]]  # (file type, group, buffer)


def record(repo: str) -> tuple[Calls, list[bytes]]:
    """The buffers a serial history scan of ``repo`` checks, in order, and those it decodes."""
    calls: Calls = []
    decoded: list[bytes] = []
    group: dict[int, int] = {}
    original, candidates = Engine.may_decode, decoding.candidates

    def spy(self: Engine, data: bytes, path: str, rejected: set[bytes] | None = None) -> bool:
        if self.spec.decode_depth and decoding.worth_decoding(path):
            key = group.setdefault(id(rejected), len(group))  # one rejected set per path's versions
            calls.append((_kind(path), key, data))
        return original(self, data, path, rejected)

    def spy_candidates(data: bytes) -> Iterator[decoding.Candidate]:
        decoded.append(data)
        return candidates(data)

    Engine.may_decode = spy  # type: ignore[method-assign]
    decoding.candidates = spy_candidates
    try:
        leakscan(["history", repo, "--quiet", "--jobs", "1", "--format", "json", "--output", os.devnull,
                  "--exit-code", "0"])
    except SystemExit as exc:  # the CLI ends with its exit code
        if exc.code:
            raise
    finally:
        Engine.may_decode = original  # type: ignore[method-assign]
        decoding.candidates = candidates
    return calls, decoded


def _kind(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name.lstrip(".") else "(none)"


def load(path: str) -> ModuleType:
    """A decoding module from another tree, as a sibling of ``scanner.decoding`` (same imports)."""
    spec = importlib.util.spec_from_file_location("scanner._baseline_decoding", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run(check: Callable[[bytes, set[bytes] | None], bool], calls: Calls) -> tuple[dict[str, float], list[bool]]:
    seconds: dict[str, float] = defaultdict(float)
    answers: list[bool] = []
    sets: dict[int, set[bytes]] = {}
    clock = time.process_time
    for kind, key, data in calls:
        rejected = sets.setdefault(key, set())
        t = clock()
        answers.append(check(data, rejected))
        seconds[kind] += clock() - t
    return seconds, answers


def run_candidates(module: Any, chunks: list[bytes]) -> tuple[float, list[list[tuple[int, int, str, bytes]]]]:
    t = time.process_time()
    found = [[(c.start, c.end, c.encoding, c.text) for c in module.candidates(data)] for data in chunks]
    return time.process_time() - t, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo")
    parser.add_argument("--baseline", required=True, help="another tree's scanner/decoding.py")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    calls, chunks = record(args.repo)
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, _key, data in calls:
        kinds[kind][0] += 1
        kinds[kind][1] += len(data)
    modules = {"baseline": load(args.baseline), "current": decoding}
    times: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in modules}
    answers: dict[str, list[bool]] = {}
    found: dict[str, list[list[tuple[int, int, str, bytes]]]] = {}
    for _ in range(args.rounds):
        for name, module in modules.items():
            seconds, answers[name] = run(module.may_hold_encoded, calls)
            for kind in kinds:
                times[name][kind].append(seconds.get(kind, 0.0))
            times[name]["(all)"].append(sum(seconds.values()))
            seconds_candidates, found[name] = run_candidates(module, chunks)
            times[name]["(candidates)"].append(seconds_candidates)
    print(f"{len(calls)} buffers, {sum(len(d) for _k, _g, d in calls) / 1e6:.1f} MB; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; median CPU s of {args.rounds} rounds")
    print(f"{'type':<14}{'buffers':>8}{'MB':>8}{'baseline':>10}{'current':>10}{'ratio':>7}")
    rows = sorted(kinds, key=lambda k: -statistics.median(times["baseline"][k]))
    totals = {"(all)": (len(calls), sum(len(d) for _k, _g, d in calls)),
              "(candidates)": (len(chunks), sum(map(len, chunks)))}
    for kind in rows[:12] + ["(all)", "(candidates)"]:
        count, size = kinds.get(kind) or totals[kind]
        base, cur = (statistics.median(times[name][kind]) for name in ("baseline", "current"))
        ratio = f"{cur / base:.2f}" if base else "-"
        print(f"{kind:<14}{count:>8}{size / 1e6:>8.1f}{base:>10.3f}{cur:>10.3f}{ratio:>7}")
    differ = [i for i, (a, b) in enumerate(zip(answers["baseline"], answers["current"])) if a != b]
    print(f"answers: {sum(answers['current'])} of {len(calls)} buffers may hold encoded text; "
          f"{len(differ)} differ from the baseline")
    for i in differ[:10]:
        kind, key, data = calls[i]
        print(f"  buffer {i} ({kind}, {len(data)} bytes): baseline {answers['baseline'][i]}, "
              f"current {answers['current'][i]}")
    unlike = [i for i, (a, b) in enumerate(zip(found["baseline"], found["current"])) if a != b]
    print(f"candidates: {sum(map(len, found['current']))} in {len(chunks)} chunks "
          f"(baseline {sum(map(len, found['baseline']))}); {len(unlike)} chunks differ from the baseline")
    for i in unlike[:10]:
        print(f"  chunk {i} ({len(chunks[i])} bytes): baseline {len(found['baseline'][i])} candidates, "
              f"current {len(found['current'][i])}")
    return 1 if differ or unlike else 0


if __name__ == "__main__":
    sys.exit(main())
