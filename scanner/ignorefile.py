"""`.leakscanignore`: value fingerprints of findings to ignore, optionally tied to a path glob, with a reason.

One entry per line: ``FINGERPRINT [PATH] [# reason]``. A fingerprint is a hash of the rule id and the
secret (``Finding.fingerprint``), never a line number and never the secret itself, so an entry
survives edits and renames and can never hide a different secret.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, LeakscanError
from .model import Finding
from .pathglob import glob_matches, with_archives

IGNORE_NAME = ".leakscanignore"
FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class IgnoreEntry:
    fingerprint: str
    path: str = ""  # glob; "" matches any path
    reason: str = ""
    line: int = 0  # where it is in the file, for --report-unused-ignores

    def matches(self, finding: Finding) -> bool:
        # An entry naming an archive covers the secret inside it (``x.zip`` for ``x.zip!dir/a.env``).
        return finding.fingerprint == self.fingerprint and (
            not self.path or any(glob_matches(self.path, p) for p in with_archives(finding.path)))

    def render(self) -> str:
        text = self.fingerprint + (f" {self.path}" if self.path else "")
        return text + (f"  # {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class IgnoreFile:
    source: str
    entries: tuple[IgnoreEntry, ...] = ()


def parse_ignore(text: str, source: str) -> IgnoreFile:
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        body, _, reason = raw.partition("#")
        fields = body.split()
        if not fields:
            continue
        fingerprint = fields[0].lower()
        if not FINGERPRINT.match(fingerprint):
            raise ConfigError(f"{source}:{number}: not a leakscan fingerprint (32 hex digits, as in the "
                              "report's fingerprint field)")
        if len(fields) > 2:
            raise ConfigError(f"{source}:{number}: expected FINGERPRINT [PATH] [# reason]; quote nothing, "
                              "and start the reason with '#'")
        entries.append(IgnoreEntry(fingerprint, fields[1] if len(fields) > 1 else "", reason.strip(), number))
    return IgnoreFile(source, tuple(entries))


def load_ignore(path: str | os.PathLike[str]) -> IgnoreFile | None:
    """The ignore file at ``path``, or None when there is none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ignore file: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_ignore(text, str(path))


def split(findings: Iterable[Finding], ignores: IgnoreFile) -> tuple[list[Finding], list[Finding], set[int]]:
    """(kept, ignored, indexes of entries that matched something)."""
    by_fp: dict[str, list[tuple[int, IgnoreEntry]]] = {}
    for i, entry in enumerate(ignores.entries):
        by_fp.setdefault(entry.fingerprint, []).append((i, entry))
    kept, ignored, used = [], [], set()
    for finding in findings:
        hits = [i for i, e in by_fp.get(finding.fingerprint, ()) if e.matches(finding)]
        if hits:
            ignored.append(finding)
            used.update(hits)
        else:
            kept.append(finding)
    return kept, ignored, used


def append_entries(path: str | os.PathLike[str], entries: Sequence[IgnoreEntry]) -> None:
    """Append entries, creating the file if needed and keeping one entry per line."""
    target = Path(path)
    try:
        existing = target.read_bytes() if target.exists() else b""
        with target.open("ab") as fh:
            if existing and not existing.endswith(b"\n"):
                fh.write(b"\n")
            for entry in entries:
                fh.write((entry.render() + "\n").encode("utf-8"))
    except OSError as exc:
        raise LeakscanError(f"cannot write {path}: {exc.strerror or exc}") from None
