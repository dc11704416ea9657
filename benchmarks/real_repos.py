#!/usr/bin/env python3
"""Findings of leakscan, betterleaks and Kingfisher on real repositories' working trees, with hand labels.

    python benchmarks/real_repos.py NAME=DIR [NAME=DIR ...] [--peers /work/peers/bin] [--keep OUTDIR]

Each DIR should be a working tree without `.git` (e.g. `git archive HEAD | tar -x -C DIR`), so that no
tool falls back to scanning history (Kingfisher does when it sees a repository). NAME is the key used
in `real_repos_labels.json` (e.g. `psf/requests`). The labels are manual judgements, one per finding,
keyed by (repo, tool, path, line, rule): `tp` (a real credential), `test` (a test / example
credential in fixtures or docs) or `fp` (not a credential). Findings with no label are counted as
`unlabelled`, so a rule change shows up as new, unjudged findings instead of silently shifting counts.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "real_repos_labels.json"
TOOLS = ("leakscan", "betterleaks", "kingfisher")
CLASSES = ("tp", "test", "fp", "unlabelled")


@dataclass(frozen=True)
class Finding:
    """One reported finding, normalised across tools (path relative to the scanned tree)."""

    tool: str
    path: str
    line: int
    rule: str


def command(tool: str, target: Path, out: Path, peers: Path) -> list[str]:
    if tool == "leakscan":
        return [str(Path(sys.executable).parent / "leakscan"), "scan", str(target), "-f", "json",
                "-o", str(out), "-q", "--exit-code", "0"]
    if tool == "betterleaks":
        return [str(peers / "betterleaks"), "fs", str(target), "-o", str(out), "-s", "--no-banner",
                "--no-color", "--exit-code", "0", "-l", "error"]
    return [str(peers / "kingfisher"), "scan", str(target), "--format", "json", "-o", str(out),
            "--no-validate", "--no-update-check", "-q"]


def relative(path: str, target: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        # Every tool runs with cwd=target.parent, so relative report paths start there.
        p = target.parent / p
    try:
        return p.resolve().relative_to(target.resolve()).as_posix()
    except ValueError:
        return path


def parse(tool: str, report: Path, target: Path) -> list[Finding]:
    data = json.loads(report.read_text(encoding="utf-8"))
    rows = data["findings"] if isinstance(data, dict) else data
    found = []
    for r in rows:
        if tool == "leakscan":
            path, line, rule = r["path"], r["line"], r["rule_id"]
        elif tool == "betterleaks":
            path, line, rule = r["location"]["path"], r["location"]["start_line"], r["rule_id"]
        else:
            path, line, rule = r["finding"]["path"], r["finding"]["line"], r["rule"]["id"]
        found.append(Finding(tool, relative(path, target), int(line), rule))
    return found


def scan(tool: str, target: Path, workdir: Path, peers: Path, name: str) -> list[Finding]:
    out = workdir / f"{name.replace('/', '+')}.{tool}.json"
    # Kingfisher exits 200 when it reports findings; the report file is what counts.
    proc = subprocess.run(command(tool, target, out, peers), capture_output=True, text=True,
                          cwd=target.parent)
    if not out.exists():
        raise SystemExit(f"error: {tool} wrote no report for {name} (exit {proc.returncode})")
    return parse(tool, out, target)


def load_labels() -> dict[tuple[str, str, str, int, str], str]:
    rows = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]
    return {(r["repo"], r["tool"], r["path"], r["line"], r["rule"]): r["label"] for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="+", metavar="NAME=DIR")
    ap.add_argument("--peers", type=Path, default=Path("/work/peers/bin"))
    ap.add_argument("--keep", type=Path, help="keep the tools' JSON reports in this directory")
    ap.add_argument("--list-unlabelled", action="store_true", help="print each unlabelled finding")
    args = ap.parse_args()
    labels = load_labels()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="real-repos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'repo':<16} {'tool':<12} {'findings':>8} " + " ".join(f"{c:>10}" for c in CLASSES))
    totals: dict[str, Counter[str]] = {t: Counter() for t in TOOLS}
    for spec in args.targets:
        name, _, directory = spec.partition("=")
        target = Path(directory)
        for tool in TOOLS:
            found = scan(tool, target, workdir, args.peers, name)
            counts = Counter(labels.get((name, f.tool, f.path, f.line, f.rule), "unlabelled")
                             for f in found)
            totals[tool].update(counts)
            totals[tool]["findings"] += len(found)
            print(f"{name:<16} {tool:<12} {len(found):>8} "
                  + " ".join(f"{counts[c]:>10}" for c in CLASSES))
            if args.list_unlabelled:
                for f in found:
                    if (name, f.tool, f.path, f.line, f.rule) not in labels:
                        print(f"    unlabelled: {f.path}:{f.line} {f.rule}")
    for tool in TOOLS:
        c = totals[tool]
        print(f"{'total':<16} {tool:<12} {c['findings']:>8} "
              + " ".join(f"{c[k]:>10}" for k in CLASSES))


if __name__ == "__main__":
    main()
