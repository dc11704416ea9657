#!/usr/bin/env python3
"""Secret findings of `leakscan history` on real repositories' full histories, for triage by hand.

    python benchmarks/history_precision.py NAME=GITDIR [NAME=GITDIR ...] [--baseline SRC] [--labels FILE]

GITDIR is a clone (bare is fine: every ref is scanned, pull-request refs of a mirror included). NAME is
the key used in the labels file (e.g. `psf/requests`). For each repository the script prints its HEAD
commit and commit count, then one line per secret finding: rule, introducing commit, path, line and the
secret masked (two characters and its length: never the secret), followed by its label where the labels
file has one. Identifiers (kind `identifier`) are not credentials and are only counted.

Labels (`history_precision_labels.json` beside this script) are manual judgements keyed by (repo, rule,
path, line): `tp` (a credential someone really used), `test` (a test, documentation or example value) or
`fp` (not a credential even as an example); findings without one are counted as `unlabelled`, so a rule
or filter change shows up as new, unjudged lines.

`--baseline SRC` also runs leakscan from another source tree (``git archive <commit> scanner rules | tar
-x -C SRC``) and lists the findings it reports that this tree does not (`gone`) and the reverse (`new`).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "history_precision_labels.json"
CLASSES = ("tp", "test", "fp", "unlabelled")
Key = tuple[str, str, int]  # rule, path, line


def scan(repo: Path, out: Path, source: Path | None) -> list[dict[str, object]]:
    """Secret findings of one history scan: this tree's leakscan, or the one in `source`."""
    cmd = [sys.executable, "-m", "scanner", "history", str(repo), "--quiet", "--format", "json", "--output",
           str(out), "--exit-code", "0"]
    # Run from the temporary directory: `python -m` puts the working directory ahead of PYTHONPATH.
    env = {**os.environ, "PYTHONPATH": str(source.resolve())} if source else None
    subprocess.run(cmd, check=True, cwd=out.parent, env=env, stderr=subprocess.DEVNULL)
    return [f for f in json.loads(out.read_text() or "[]") if f.get("kind", "secret") == "secret"]


def describe(repo: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True).stdout.strip()

    return f"HEAD {git('rev-parse', 'HEAD')[:12]}, {git('rev-list', '--all', '--count')} commits"


def key(finding: dict[str, object]) -> Key:
    return str(finding["rule_id"]), str(finding["path"]), int(str(finding["line"]))


def masked(secret: str) -> str:
    return f"{secret[:2]}…({len(secret)})"


def verdict(judged: dict[Key, tuple[str, str]], k: Key) -> str:
    label, reason = judged.get(k, ("unlabelled", ""))
    return f"[{label}: {reason}]" if reason else f"[{label}]"


def load_labels(path: Path) -> dict[str, dict[Key, tuple[str, str]]]:
    if not path.exists():
        return {}
    labels: dict[str, dict[Key, tuple[str, str]]] = {}
    for entry in json.loads(path.read_text())["labels"]:
        labels.setdefault(entry["repo"], {})[(entry["rule"], entry["path"], entry["line"])] = (
            entry["label"], entry.get("reason", ""))
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos", nargs="+", metavar="NAME=GITDIR")
    parser.add_argument("--baseline", type=Path, metavar="SRC", help="Also run leakscan from this source tree.")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--quiet-lines", action="store_true", help="Print only the summary table.")
    args = parser.parse_args()
    labels = load_labels(args.labels)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.repos:
            name, _, where = spec.partition("=")
            repo = Path(where).resolve()
            found = scan(repo, Path(tmp) / "now.json", None)
            before = scan(repo, Path(tmp) / "baseline.json", args.baseline) if args.baseline else None
            judged = labels.get(name, {})
            counts = Counter(judged.get(key(f), ("unlabelled", ""))[0] for f in found)
            was_counts = Counter(judged.get(key(f), ("unlabelled", ""))[0] for f in before or [])
            rows.append((name, describe(repo), was_counts if before is not None else None, counts))
            if args.quiet_lines:
                continue
            print(f"== {name} ({rows[-1][1]}): {len(found)} secret findings")
            for f in sorted(found, key=key):
                print(f"  {f['rule_id']:<28} {str(f['commit'])[:10]} {f['path']}:{f['line']} "
                      f"{masked(str(f['secret']))}  {verdict(judged, key(f))}")
            if before is not None:
                now_keys = {key(f) for f in found}
                was_keys = {key(f) for f in before}
                for tag, keys in (("gone", was_keys - now_keys), ("new", now_keys - was_keys)):
                    for rule, path, line in sorted(keys):
                        print(f"  {tag}: {rule} {path}:{line}  {verdict(judged, (rule, path, line))}")
    print(f"\n{'repo':<31} {'scanned':<36} {'findings':>8}  " + " / ".join(CLASSES))
    for name, scanned, was, counts in rows:
        for tag, c in (("baseline", was), ("now", counts)):
            if c is not None:
                print(f"{name:<31} {scanned:<36} {sum(c.values()):>8}  "
                      + " / ".join(str(c[k]) for k in CLASSES) + (f"  ({tag})" if was is not None else ""))


if __name__ == "__main__":
    main()
