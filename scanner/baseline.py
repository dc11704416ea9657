"""Baselines: the findings a project has accepted, so a scan reports only what is new.

A baseline is JSON, sorted, without timestamps or line numbers and without any secret: each entry
is a value fingerprint (hash of rule id and secret), the rule id and the path relative to the scan
root. Two runs over the same content write byte-identical files.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import ConfigError
from .ignorefile import FINGERPRINT
from .jsonfile import read_json
from .model import Finding
from .outfile import write_text
from .pathglob import normalize, relative_to

VERSION = 1


@dataclass(frozen=True, order=True)
class BaselineEntry:
    path: str
    rule_id: str
    fingerprint: str


@dataclass(frozen=True)
class Baseline:
    source: str
    entries: frozenset[BaselineEntry]

    def contains(self, finding: Finding, root: str) -> bool:
        return self.key(finding, root) in self.entries

    @staticmethod
    def key(finding: Finding, root: str) -> BaselineEntry:
        return BaselineEntry(relative_to(finding.path, root), finding.rule_id, finding.fingerprint)


def from_findings(findings: Iterable[Finding], root: str, source: str = "") -> Baseline:
    return Baseline(source, frozenset(Baseline.key(f, root) for f in findings))


def render(baseline: Baseline) -> str:
    doc = {
        "tool": "leakscan",
        "version": VERSION,
        "findings": [
            {"fingerprint": e.fingerprint, "path": e.path, "rule_id": e.rule_id} for e in sorted(baseline.entries)
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(baseline: Baseline, path: str | os.PathLike[str]) -> None:
    write_text(path, lambda fh: fh.write(render(baseline)))


def load(path: str | os.PathLike[str]) -> Baseline:
    source = str(path)
    if not os.path.exists(path):
        raise ConfigError(f"{source}: baseline not found (create one with `leakscan baseline create`)")
    doc = read_json(path, "baseline")
    if not isinstance(doc, dict) or doc.get("tool") != "leakscan" or not isinstance(doc.get("findings"), list):
        raise ConfigError(f"{source}: not a leakscan baseline (expected an object with tool and findings)")
    if doc.get("version") != VERSION:
        raise ConfigError(f"{source}: unsupported baseline version {doc.get('version')!r}")
    entries = set()
    for i, row in enumerate(doc["findings"]):
        if (not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("fingerprint", "path", "rule_id"))
                or not FINGERPRINT.match(row["fingerprint"])):
            raise ConfigError(f"{source}: findings[{i}]: expected fingerprint, path and rule_id strings")
        entries.add(BaselineEntry(normalize(row["path"]), row["rule_id"], row["fingerprint"]))
    return Baseline(source, frozenset(entries))


def split(findings: Sequence[Finding], baseline: Baseline, root: str) -> tuple[list[Finding], list[Finding]]:
    """(new, known)."""
    new: list[Finding] = []
    known: list[Finding] = []
    for f in findings:
        (known if baseline.contains(f, root) else new).append(f)
    return new, known


def prune(baseline: Baseline, findings: Iterable[Finding], root: str) -> Baseline:
    """The baseline without entries that no current finding matches."""
    current = {Baseline.key(f, root) for f in findings}
    return Baseline(baseline.source, frozenset(baseline.entries & current))
