#!/usr/bin/env python3
"""Findings of leakscan, betterleaks, Kingfisher and detect-secrets on real repositories' working trees, with hand labels.

    python benchmarks/real_repos.py NAME=DIR [NAME=DIR ...] [--peers /work/peers/bin] [--keep OUTDIR]

Each DIR should be a working tree without `.git` (e.g. `git archive HEAD | tar -x -C DIR`), so that no
tool falls back to scanning history (Kingfisher does when it sees a repository). NAME is the key used
in `real_repos_labels.json` (e.g. `psf/requests`). The labels are manual judgements, one per finding,
keyed by (repo, tool, path, line, rule): `tp` (a real credential), `test` (a test / example
credential in fixtures or docs) or `fp` (not a credential). A label without `tool` and `rule` judges
the line itself, whichever tool reports it; its `fingerprint` (`line_fingerprint`: a short hash of the
stripped line, never the line) flags a label whose line has changed. Findings with no label are
counted as `unlabelled`, so a rule change shows up as new, unjudged findings instead of silently
shifting counts. Counts are of distinct lines (path, line) per tool: tools split one secret into
different numbers of findings (one per rule, per match or per line). leakscan's identifiers (kind
`identifier`: ARNs, bucket names, OAuth client ids) are not credentials and are not judged: they are
counted apart, in the `identifiers` column (distinct lines).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "real_repos_labels.json"
TOOLS = ("leakscan", "betterleaks", "kingfisher", "detect-secrets")
CLASSES = ("tp", "test", "fp", "unlabelled")


@dataclass(frozen=True)
class Finding:
    """One reported finding, normalised across tools (path relative to the scanned tree)."""

    tool: str
    path: str
    line: int
    rule: str
    kind: str = "secret"  # leakscan's "identifier" findings are counted apart, never labelled


def command(tool: str, target: Path, out: Path, peers: Path) -> list[str]:
    if tool == "leakscan":
        return [str(Path(sys.executable).parent / "leakscan"), "scan", str(target), "-f", "json",
                "-o", str(out), "-q", "--exit-code", "0"]
    if tool == "betterleaks":
        return [str(peers / "betterleaks"), "fs", str(target), "-o", str(out), "-s", "--no-banner",
                "--no-color", "--exit-code", "0", "-l", "error"]
    if tool == "kingfisher":
        return [str(peers / "kingfisher"), "scan", str(target), "--format", "json", "-o", str(out),
                "--no-validate", "--no-update-check", "-q"]
    # detect-secrets prints its baseline on stdout; --all-files because the tree has no .git.
    return [str(peers / "detect-secrets"), "scan", "--all-files", str(target)]


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
    found = []
    if tool == "detect-secrets":
        for path, results in data["results"].items():
            found.extend(Finding(tool, relative(path, target), int(r["line_number"]), r["type"])
                         for r in results)
        return found
    rows = data["findings"] if isinstance(data, dict) else data
    for r in rows:
        kind = "secret"
        if tool == "leakscan":
            path, line, rule, kind = r["path"], r["line"], r["rule_id"], r.get("kind", "secret")
        elif tool == "betterleaks":
            path, line, rule = r["location"]["path"], r["location"]["start_line"], r["rule_id"]
        else:
            path, line, rule = r["finding"]["path"], r["finding"]["line"], r["rule"]["id"]
        found.append(Finding(tool, relative(path, target), int(line), rule, kind))
    return found


def scan(tool: str, target: Path, workdir: Path, peers: Path, name: str, reuse: bool = False) -> list[Finding]:
    out = workdir / f"{name.replace('/', '+')}.{tool}.json"
    if reuse and out.exists():
        return parse(tool, out, target)
    # Kingfisher exits 200 when it reports findings; the report file is what counts.
    proc = subprocess.run(command(tool, target, out, peers), capture_output=True, text=True,
                          cwd=target.parent)
    if tool == "detect-secrets" and proc.returncode == 0:
        out.write_text(proc.stdout, encoding="utf-8")
    if not out.exists():
        raise SystemExit(f"error: {tool} wrote no report for {name} (exit {proc.returncode})")
    return parse(tool, out, target)


def line_fingerprint(target: Path, path: str, line: int) -> str:
    """A short hash of the stripped line: identifies what was judged without storing it."""
    try:
        with open(target / path, encoding="utf-8", errors="replace") as fh:
            for number, text in enumerate(fh, 1):
                if number == line:
                    return hashlib.sha256(text.strip().encode()).hexdigest()[:12]
    except OSError:
        pass
    return ""


@dataclass(frozen=True)
class Labels:
    """Per-finding labels (repo, tool, path, line, rule) and per-line labels (repo, path, line)."""

    findings: dict[tuple[str, str, str, int, str], str]
    lines: dict[tuple[str, str, int], tuple[str, str]]

    def judge(self, repo: str, f: Finding) -> str:
        label = self.findings.get((repo, f.tool, f.path, f.line, f.rule))
        if label is None:
            label = self.lines.get((repo, f.path, f.line), ("unlabelled", ""))[0]
        return label


def load_labels() -> Labels:
    rows = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]
    return Labels(
        {(r["repo"], r["tool"], r["path"], r["line"], r["rule"]): r["label"]
         for r in rows if "tool" in r},
        {(r["repo"], r["path"], r["line"]): (r["label"], r.get("fingerprint", ""))
         for r in rows if "tool" not in r})


def stale(labels: Labels, repo: str, target: Path) -> list[str]:
    """Line labels of this repo whose line no longer matches its fingerprint."""
    return [f"{path}:{line}" for (r, path, line), (_, fp) in sorted(labels.lines.items())
            if r == repo and fp and line_fingerprint(target, path, line) != fp]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="+", metavar="NAME=DIR")
    ap.add_argument("--peers", type=Path, default=Path("/work/peers/bin"))
    ap.add_argument("--keep", type=Path, help="keep the tools' JSON reports in this directory")
    ap.add_argument("--list-unlabelled", action="store_true", help="print each unlabelled finding")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS))
    ap.add_argument("--reuse", default="", help="tools whose reports already in --keep are read, not re-run "
                    "(peers are slow: detect-secrets takes minutes per large tree)")
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    labels = load_labels()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="real-repos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'repo':<28} {'tool':<14} {'findings':>8} {'lines':>6} "
          + " ".join(f"{c:>10}" for c in CLASSES) + f" {'identifiers':>11}")
    totals: dict[str, Counter[str]] = {t: Counter() for t in tools}
    for spec in args.targets:
        name, _, directory = spec.partition("=")
        target = Path(directory)
        for where in stale(labels, name, target):
            print(f"warning: {name} {where}: line changed since it was labelled", file=sys.stderr)
        for tool in tools:
            found = scan(tool, target, workdir, args.peers, name, reuse=tool in args.reuse.split(","))
            identifiers = {(f.path, f.line) for f in found if f.kind == "identifier"}
            found = [f for f in found if f.kind != "identifier"]
            lines: dict[tuple[str, int], str] = {}
            for f in found:
                label = labels.judge(name, f)
                # A line counts once, under the most serious label any of its findings got.
                if CLASSES.index(label) < CLASSES.index(lines.get((f.path, f.line), "unlabelled")):
                    lines[(f.path, f.line)] = label
                else:
                    lines.setdefault((f.path, f.line), label)
            counts = Counter(lines.values())
            totals[tool].update(counts)
            totals[tool]["findings"] += len(found)
            totals[tool]["lines"] += len(lines)
            totals[tool]["identifiers"] += len(identifiers)
            print(f"{name:<28} {tool:<14} {len(found):>8} {len(lines):>6} "
                  + " ".join(f"{counts[c]:>10}" for c in CLASSES) + f" {len(identifiers):>11}")
            if args.list_unlabelled:
                for (path, line), label in sorted(lines.items()):
                    if label == "unlabelled":
                        rules = sorted({f.rule for f in found if (f.path, f.line) == (path, line)})
                        print(f"    unlabelled: {path}:{line} {','.join(rules)}")
    for tool in tools:
        c = totals[tool]
        print(f"{'total':<28} {tool:<14} {c['findings']:>8} {c['lines']:>6} "
              + " ".join(f"{c[k]:>10}" for k in CLASSES) + f" {c['identifiers']:>11}")


if __name__ == "__main__":
    main()
