"""Staged archives: an archive the index adds or changes has no added lines, so it is scanned whole."""
from __future__ import annotations

from collections.abc import Collection

from ..engine import Engine, EngineSpec
from ..model import Finding
from . import Notes
from .archives import ArchiveOptions, change_findings, sniff
from .git_blobs import close_readers, read_blobs
from .git_common import NULL_SHA, GitRepo, run_git


def staged_archives(repo: GitRepo, spec: EngineSpec, notes: Notes, max_file_size: int | None,
                    text_paths: Collection[str]) -> list[Finding]:
    """Findings in the staged files that are archives, less what HEAD's version of each already held.

    Only when the diff called a file binary (an archive always is to git): a commit without one pays
    nothing. ``text_paths``: the files the diff showed lines of. Their "binary" notes are dropped.
    """
    if not spec.archive_depth or not any(reason == "binary" for _path, reason in notes.skipped):
        return []
    changes = [c for c in _changes(repo) if c[0] not in text_paths]
    sizes = _sizes(repo, [new for _path, _old, new in changes])
    # A large binary is not read to be sniffed.
    changes = [c for c in changes if max_file_size is None or sizes.get(c[2], 0) <= max_file_size]
    try:
        # One git cat-file for every version (one process per file cost three): the staged ones, kept
        # only when they are archives, then HEAD's versions of those.
        staged = {sha: data for sha, data in read_blobs(repo.git_dir, [new for _p, _o, new in changes]) if sniff(data)}
        archives = [c for c in changes if c[2] in staged]
        previous = dict(read_blobs(repo.git_dir, [old for _p, old, _n in archives if old != NULL_SHA]))
    finally:
        close_readers()
    if not archives:
        return []
    engine = Engine(spec)
    options = ArchiveOptions(spec.archive_depth, max_file_size=max_file_size)
    found: list[Finding] = []
    for path, old, new in archives:
        found.extend(change_findings(engine, staged[new], previous.get(old, b""), path, notes, options))
    scanned = {path for path, _old, _new in archives}
    notes.skipped[:] = [(p, r) for p, r in notes.skipped if not (r == "binary" and p in scanned)]
    return found


def _sizes(repo: GitRepo, shas: list[str]) -> dict[str, int]:
    """Each object's size, from one ``git cat-file --batch-check``."""
    if not shas:
        return {}
    out = run_git(repo, ["cat-file", "--batch-check=%(objectname) %(objectsize)"],
                  input="".join(f"{sha}\n" for sha in shas).encode("ascii"))
    sizes: dict[str, int] = {}
    for line in out.decode("ascii", "replace").splitlines():
        sha, _sep, size = line.partition(" ")
        if size.isdigit():
            sizes[sha] = int(size)
    return sizes


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
