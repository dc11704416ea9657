#!/usr/bin/env python3
"""Engine throughput (MB/s, one core and all cores) and start-up time of `leakscan scan` on one file.

    python benchmarks/throughput.py [--runs 5] [--corpus DIR] [--json OUT]

Corpus: the Python standard library's own .py sources on this machine (site-packages excluded), plus a
generated 8 MB file with planted secrets. Every figure is the median of --runs runs, and each mode runs
right next to the others so the ratios hold on a noisy, shared machine. In-process engine figures are
MB per CPU-second of this process (per-core throughput); pipeline and start-up figures are wall time.
"""
from __future__ import annotations

import argparse
import compileall
import json
import random
import statistics
import string
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from corpus import stdlib_chunks
from scanner import pipeline
from scanner.engine import Engine
from scanner.model import Chunk
from scanner.ruleset import build_spec, default_rules
from scanner.sources.filesystem import FileItem

PLANTS = [
    "AWS_ACCESS_KEY_ID=AKIAZ5GMHYJKLOPQRS7T",
    "token = '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'",
    "SLACK=xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd",
    "stripe.api_key = 'sk_live_51Hx3k2LqM8nV7bR4tY6wZ9pQ0sD'",
]


def generated_file(size: int, seed: int = 42) -> tuple[bytes, int]:
    """Source-like text with a planted secret every ~2,000 lines; returns (data, planted count)."""
    rng = random.Random(seed)
    words = ["def", "return", "self", "value", "config", "token_count", "password_hash", "api", "client",
             "key_id", "secret_name", "import", "os", "json", "data", "result", "for", "in", "if", "else"]
    lines, total, planted = [], 0, 0
    while total < size:
        if rng.random() < 0.0005:
            line = rng.choice(PLANTS)
            planted += 1
        else:
            n = rng.randint(2, 12)
            line = "    " * rng.randint(0, 3) + " ".join(rng.choice(words) for _ in range(n))
            if rng.random() < 0.1:
                line += " = '" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24)) + "'"
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode(), planted


def median_time(fn, runs: int, clock=time.perf_counter) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        t0 = clock()
        result = fn()
        times.append(clock() - t0)
    return statistics.median(times), result


def median_cpu(fn, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """CPU seconds of this process: per-core throughput that other load on a shared machine barely moves."""
    return median_time(fn, runs, clock=time.process_time)


def engine_pass(engine: Engine, chunks: list[Chunk]) -> int:
    return sum(len(engine.scan(c).findings) for c in chunks)


def hyperscan_only(engine: Engine, chunks: list[Chunk]) -> int:
    hs = engine._hs  # noqa: SLF001 - the benchmark measures the prefilter alone on purpose
    return sum(len(hs.scan(c.data)[0]) for c in chunks) if hs else 0


def startup(runs: int, leakscan: list[str]) -> tuple[float, float]:
    # Byte-compiled as an installed package is (PYTHONDONTWRITEBYTECODE would recompile every module).
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "scanner"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.py"
        small.write_text("import os\nPASSWORD = os.environ['PASSWORD']\nprint('hello')\n")
        subprocess.run([*leakscan, "scan", str(small)], capture_output=True)  # warm the rule cache
        python = [sys.executable, "-c", "pass"]
        base, _ = median_time(lambda: subprocess.run(python, capture_output=True), runs)
        full, _ = median_time(lambda: subprocess.run([*leakscan, "scan", str(small), "-q"], capture_output=True), runs)
    return base, full


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    ap.add_argument("--generated-mb", type=int, default=8)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    chunks = stdlib_chunks(args.corpus)
    src_bytes = sum(len(c.data) for c in chunks)
    gen, planted = generated_file(args.generated_mb << 20)
    gen_chunks = [Chunk(data=gen, path="generated.py")]

    rules = default_rules()
    t0 = time.perf_counter()
    spec = build_spec(rules)
    spec_time = time.perf_counter() - t0
    engine = Engine(spec)
    gate_engine = Engine(build_spec(rules, use_hyperscan=False))
    engine_pass(engine, chunks[:50])  # compile the rules that fire, outside the timing
    engine_pass(gate_engine, chunks[:50])

    mb = src_bytes / 1e6
    t_engine, n_src = median_cpu(lambda: engine_pass(engine, chunks), args.runs)
    t_hs, _ = median_cpu(lambda: hyperscan_only(engine, chunks), args.runs)
    t_gate, n_gate = median_cpu(lambda: engine_pass(gate_engine, chunks), args.runs)
    t_gen, n_gen = median_cpu(lambda: engine_pass(engine, gen_chunks), args.runs)

    items = [FileItem(path=c.path, display=c.path, size=len(c.data)) for c in chunks]
    jobs = pipeline.default_jobs()
    t_par, rep = median_time(lambda: pipeline.run(spec, items, jobs=jobs), args.runs)
    t_one, _ = median_time(lambda: pipeline.run(spec, items, jobs=1), args.runs)

    leakscan = [sys.executable, "-m", "scanner"]
    base, full = startup(max(args.runs, 10), leakscan)

    figures = {
        "rules": len(rules),
        "corpus_files": len(chunks),
        "corpus_mb": round(mb, 2),
        "engine_mb_s_one_core": round(mb / t_engine, 1),
        "hyperscan_pass_alone_mb_s": round(mb / t_hs, 1),
        "keyword_gate_no_hyperscan_mb_s": round(mb / t_gate, 1),
        "findings_on_stdlib": n_src,
        "findings_on_stdlib_keyword_gate": n_gate,
        "generated_mb": round(len(gen) / 1e6, 2),
        "generated_mb_s_one_core": round(len(gen) / 1e6 / t_gen, 1),
        "generated_planted": planted,
        "generated_findings": n_gen,
        "pipeline_files_mb_s_1_job": round(mb / t_one, 1),
        f"pipeline_files_mb_s_{jobs}_jobs": round(mb / t_par, 1),
        "parallel_speedup": round(t_one / t_par, 2),
        "spec_build_s_cached": round(spec_time, 3),
        "python_startup_ms": round(base * 1000, 1),
        "leakscan_scan_one_small_file_ms": round(full * 1000, 1),
        "runs": args.runs,
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
