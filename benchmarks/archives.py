#!/usr/bin/env python3
"""Archive throughput: the same files scanned as plain files and packed in zip and tar.gz archives.

    python benchmarks/archives.py [--runs 5] [--corpus DIR] [--limit-mb 24]

The corpus (the standard library's .py sources by default, up to --limit-mb) is written three ways
into a temporary directory: as plain files, as 8 zip (deflate) archives and as 8 tar.gz archives.
Each tree is scanned in this process (``pipeline.run``, one job) in interleaved rounds; the figures are
medians: MB of member text scanned per CPU-second and per wall second, the ratio to the plain files,
and the findings (the same in every form). The plain tree is also scanned with archives off
(``archive_depth 0``): the cost of looking at each file's first bytes, on a tree with no archive.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from scanner import pipeline
from scanner.ruleset import build_spec, default_rules
from scanner.sources import Notes
from scanner.sources.filesystem import walk

SHARDS = 8


def corpus(root: Path, limit: int) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    size = 0
    for p in sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts and p.is_file()):
        data = p.read_bytes()
        files.append((str(p.relative_to(root)), data))
        size += len(data)
        if size >= limit:
            break
    return files


def write_trees(files: list[tuple[str, bytes]], out: Path) -> dict[str, Path]:
    plain, zips, tgzs = out / "plain", out / "zip", out / "tgz"
    for d in (plain, zips, tgzs):
        d.mkdir()
    for rel, data in files:
        path = plain / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for i in range(SHARDS):
        shard = files[i::SHARDS]
        with zipfile.ZipFile(zips / f"part{i}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, data in shard:
                zf.writestr(rel, data)
        with tarfile.open(tgzs / f"part{i}.tar.gz", "w:gz") as tf:
            for rel, data in shard:
                info = tarfile.TarInfo(rel)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return {"plain": plain, "zip": zips, "tar.gz": tgzs}


def scan(spec: object, root: Path, depth: int) -> tuple[float, float, int, int]:
    notes = Notes()
    t0, c0 = time.perf_counter(), time.process_time()
    report = pipeline.run(spec, walk([str(root)], notes, max_file_size=None, archive_depth=depth),  # type: ignore[arg-type]
                          jobs=1)
    return time.perf_counter() - t0, time.process_time() - c0, report.notes.bytes_scanned, len(report.findings)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    ap.add_argument("--limit-mb", type=int, default=24)
    args = ap.parse_args()

    spec = build_spec(default_rules())
    files = corpus(args.corpus, args.limit_mb << 20)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = write_trees(files, Path(tmp))
        modes = {"plain, archives off": (trees["plain"], 0), "plain": (trees["plain"], 2),
                 "zip": (trees["zip"], 2), "tar.gz": (trees["tar.gz"], 2)}
        for root, depth in modes.values():  # warm-up: page cache, lazy regex compiles
            scan(spec, root, depth)
        rows: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in modes}
        for _ in range(args.runs):
            for name, (root, depth) in modes.items():
                rows[name].append(scan(spec, root, depth))
    base_cpu = statistics.median(r[1] for r in rows["plain, archives off"])
    print(f"{len(files)} files, {sum(len(d) for _, d in files) / 1e6:.1f} MB, {SHARDS} archives of each kind, "
          f"{args.runs} interleaved rounds, one job; medians")
    print(f"{'tree':22s} {'wall s':>8s} {'CPU s':>8s} {'MB/CPU-s':>9s} {'MB/s':>8s} {'CPU vs plain':>13s} findings")
    for name, runs in rows.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        mb = runs[0][2] / 1e6
        print(f"{name:22s} {wall:8.2f} {cpu:8.2f} {mb / cpu:9.1f} {mb / wall:8.1f} {cpu / base_cpu:12.2f}x "
              f"{runs[0][3]}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
