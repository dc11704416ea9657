"""`.gitleaksignore` and detect-secrets' `.secrets.baseline` as leakscan ignore entries.

Neither file's identity can be used as is: gitleaks fingerprints are ``[commit:]file:rule:line`` and
detect-secrets stores a SHA-1 of the secret per file and line. Both are mapped by scanning the file
they name with leakscan's rules and picking the finding at that line (gitleaks) or with that
secret hash (detect-secrets). The result is a value fingerprint tied to the file's path, which then
survives edits; anything that cannot be mapped is reported, never guessed.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from ..engine import Engine
from ..errors import ConfigError
from ..ignorefile import IgnoreEntry
from ..jsonfile import read_json
from ..model import Chunk, Finding
from ..sources.text import is_binary, to_utf8
from . import MigrationReport

_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
Reader = Callable[[str, str | None], bytes | None]  # (path, commit) -> content


def read_content(root: Path) -> Reader:
    """Reads a file from the working tree, or from a commit with `git show`."""

    def read(path: str, commit: str | None) -> bytes | None:
        if commit is None:
            try:
                return (root / path).read_bytes()
            except OSError:
                return None
        try:
            done = subprocess.run(["git", "-C", str(root), "show", f"{commit}:{path}"], capture_output=True,
                                  check=False, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    return read


def _findings(engine: Engine, read: Reader, path: str, commit: str | None) -> list[Finding] | None:
    data = read(path, commit)
    if data is None:
        return None
    if is_binary(data):
        return []
    return engine.scan(Chunk(data=to_utf8(data), path=path)).findings


def file_findings(engine: Engine, path: Path) -> list[Finding] | None:
    """Findings in one working-tree file, or None when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return [] if is_binary(data) else engine.scan(Chunk(data=to_utf8(data), path=str(path))).findings


def from_gitleaksignore(source: Path, engine: Engine, read: Reader) -> tuple[list[IgnoreEntry], MigrationReport]:
    report = MigrationReport()
    entries: list[IgnoreEntry] = []
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source.name}:{number}"
        parts = line.rsplit(":", 2)
        if len(parts) != 3 or not parts[2].isdigit():
            report.not_carried.append(f"{where}: not a gitleaks fingerprint ([commit:]file:rule:line)")
            continue
        left, rule_id, line_no = parts
        commit = None
        head, sep, rest = left.partition(":")
        if sep and _COMMIT.match(head):
            commit, left = head, rest
        found = _findings(engine, read, left, commit)
        if found is None:
            at = f" at commit {commit[:12]}" if commit else ""
            report.not_carried.append(f"{where}: {left}{at} cannot be read; not carried over")
            continue
        hits = [f for f in found if f.line <= int(line_no) <= f.end_line]
        if not hits:
            report.not_carried.append(f"{where}: no leakscan finding at {left}:{line_no} (gitleaks rule {rule_id}); "
                                      "not carried over")
            continue
        for f in hits:
            entries.append(IgnoreEntry(f.fingerprint, left, f"from .gitleaksignore ({rule_id}, {f.rule_id})"))
        report.carried.append(f"{where}: {left}:{line_no} -> {len(hits)} entr{'y' if len(hits) == 1 else 'ies'}")
    return _unique(entries), report


def from_detect_secrets(source: Path, engine: Engine, read: Reader) -> tuple[list[IgnoreEntry], MigrationReport]:
    report = MigrationReport()
    doc = read_json(source, "detect-secrets baseline")
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, dict):
        raise ConfigError(f"{source}: not a detect-secrets baseline (no results object)")
    entries: list[IgnoreEntry] = []
    for filename, items in sorted(results.items()):
        if not isinstance(items, list):
            raise ConfigError(f"{source}: results[{filename!r}] must be a list")
        found = _findings(engine, read, filename, None)
        by_hash: dict[str, list[Finding]] = {}
        for f in found or []:
            by_hash.setdefault(hashlib.sha1(f.secret.encode("utf-8", "surrogatepass")).hexdigest(), []).append(f)
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("hashed_secret"), str):
                raise ConfigError(f"{source}: results[{filename!r}]: entries need a hashed_secret")
            kind = item.get("type", "secret")
            where = f"{filename}:{item.get('line_number', '?')} ({kind})"
            if found is None:
                report.not_carried.append(f"{where}: file cannot be read; not carried over")
                continue
            hits = by_hash.get(item["hashed_secret"].lower(), [])
            if not hits:
                report.not_carried.append(f"{where}: no leakscan finding with that secret (leakscan may have no "
                                          "rule for it); not carried over")
                continue
            verdict = item.get("is_secret")
            audit = "unaudited" if not isinstance(verdict, bool) else (
                "audited: real secret" if verdict else "audited: false positive")
            for f in hits:
                entries.append(IgnoreEntry(f.fingerprint, filename, f"from detect-secrets baseline ({kind}, {audit})"))
            report.carried.append(f"{where} -> {f.rule_id}")
    return _unique(entries), report


def _unique(entries: list[IgnoreEntry]) -> list[IgnoreEntry]:
    seen: set[tuple[str, str]] = set()
    out = []
    for e in entries:
        if (e.fingerprint, e.path) not in seen:
            seen.add((e.fingerprint, e.path))
            out.append(e)
    return out
