"""What the engine benchmarks share: the standard library's sources as chunks, and CPU-time throughput."""
from __future__ import annotations

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
