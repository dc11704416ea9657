"""Staged archives: an archive the index adds or changes has no added lines, so it is scanned whole."""
from __future__ import annotations

from collections.abc import Collection

from ..engine import Engine, EngineSpec
from ..model import Finding
from . import Notes
from .archives import ArchiveOptions, change_findings, sniff
from .git_common import GitRepo, run_git

NULL_SHA = "0" * 40


def staged_archives(repo: GitRepo, spec: EngineSpec, notes: Notes, max_file_size: int | None,
                    text_paths: Collection[str]) -> list[Finding]:
    """Findings in the staged files that are archives, less what HEAD's version of each already held.

    Only when the diff called a file binary (an archive always is to git): a commit without one pays
    nothing. ``text_paths``: the files the diff showed lines of. Their "binary" notes are dropped.
    """
    if not spec.archive_depth or not any(reason == "binary" for _path, reason in notes.skipped):
        return []
    engine: Engine | None = None
    options = ArchiveOptions(spec.archive_depth, max_file_size=max_file_size)
    found: list[Finding] = []
    scanned: set[str] = set()
    for path, old, new in _changes(repo):
        if path in text_paths:
            continue
        size = int(run_git(repo, ["cat-file", "-s", new]) or 0)
        if max_file_size is not None and size > max_file_size:  # a large binary is not read to be sniffed
            continue
        data = run_git(repo, ["cat-file", "blob", new])
        if not sniff(data):
            continue
        previous = run_git(repo, ["cat-file", "blob", old]) if old != NULL_SHA else b""
        engine = engine or Engine(spec)
        found.extend(change_findings(engine, data, previous, path, notes, options))
        scanned.add(path)
    notes.skipped[:] = [(p, r) for p, r in notes.skipped if not (r == "binary" and p in scanned)]
    return found


def _changes(repo: GitRepo) -> list[tuple[str, str, str]]:
    """(path, HEAD's blob or NULL_SHA, staged blob) of every file the index adds or changes."""
    out = run_git(repo, ["-c", "core.quotePath=false", "diff", "--cached", "--raw", "-z", "--no-abbrev", "-M",
                         "--diff-filter=ACMRT", "--no-ext-diff", "--no-textconv"])
    fields = out.split(b"\x00")
    changes: list[tuple[str, str, str]] = []
    i = 0
    while i < len(fields) and fields[i].startswith(b":"):
        meta = fields[i].decode("ascii").split()
        renamed = meta[4][:1] in ("R", "C")  # a rename or copy names its source, then its destination
        path = fields[i + (2 if renamed else 1)].decode("utf-8", "surrogateescape")
        changes.append((path, meta[2], meta[3]))
        i += 3 if renamed else 2
    return changes
