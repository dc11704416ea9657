"""What the engine benchmarks share: the standard library's sources as chunks, and CPU-time throughput."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from scanner.engine import Engine
from scanner.model import Chunk


def stdlib_chunks(root: Path, limit: int | None = None) -> list[Chunk]:
    """Every .py file under ``root`` (site-packages excluded), in a stable order, up to ``limit`` bytes."""
    chunks: list[Chunk] = []
    size = 0
    for p in sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts and p.is_file()):
        data = p.read_bytes()
        chunks.append(Chunk(data=data, path=str(p)))
        size += len(data)
        if limit is not None and size >= limit:
            break
    return chunks


def cpu_mb_per_s(engine: Engine, chunks: list[Chunk], size: int) -> tuple[float, int]:
    """MB per CPU-second of this process scanning ``chunks`` (``size`` bytes), and the findings count."""
    start = time.process_time()
    found = sum(len(engine.scan(c).findings) for c in chunks)
    return size / (1 << 20) / (time.process_time() - start), found


def compare(engines: dict[str, Engine], chunks: list[Chunk], runs: int) -> list[str]:
    """Interleaved runs of each engine over ``chunks`` (after a warm-up: lazy regex compiles, page
    cache); one line per engine: median MB per CPU-second, ratio to the first engine, findings."""
    size = sum(len(c.data) for c in chunks)
    for engine in engines.values():
        cpu_mb_per_s(engine, chunks[:50], sum(len(c.data) for c in chunks[:50]))
    speeds: dict[str, list[float]] = {name: [] for name in engines}
    found: dict[str, int] = {}
    for _ in range(runs):
        for name, engine in engines.items():
            speed, found[name] = cpu_mb_per_s(engine, chunks, size)
            speeds[name].append(speed)
    first = statistics.median(next(iter(speeds.values())))
    return [f"  {name:40s} {statistics.median(v):8.1f} MB/s  ({statistics.median(v) / first:5.2f}x)  findings: {found[name]}"
            for name, v in speeds.items()]
