"""History scans: every blob a selection of commits introduced, scanned once, each leak attributed to
the commit that introduced it at each path.

Why blobs and not patches: on ipython (30k commits) ``git log -p -U0`` spends 5 s of CPU in git
diffing, while reading every reachable blob once with ``git cat-file --batch`` takes 0.9 s and the
Hyperscan pass over them is cheap (benchmarks/history.py). So the parent lists what each commit
changed (``git log --raw``: 0.5 s), workers read and scan each new blob once, and only blobs that
hold findings are attributed. A leak is introduced at (commit, path) when the commit's version of
the path holds it and no parent's version does, nor a file the commit deleted (a move or rename).
The earliest such commit per (path, rule, secret) is reported, with lines from its version.
"""
from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .. import pipeline
from ..engine import Engine, EngineSpec
from ..errors import SourceError
from ..model import Chunk, CommitInfo, Finding
from . import Notes
from .git_blobs import BlobBatch, MessageScan, close_readers, read_blobs, run_task, scan_blob
from .git_common import GitRepo, first_line, git_env
from .git_range import Resolved
from .text import to_utf8

NULL_SHA = "0" * 40
GITLINK = "160000"  # a submodule: a commit id in the tree, not a blob
BATCH_BLOBS = 1500
SERIAL_COMMITS = 64  # below this, forking workers costs more than it saves

ProgressFn = Callable[[int, int, int, int], None]  # commits listed, blobs done, blobs listed, bytes done


@dataclass(frozen=True)
class Change:
    """One path a commit set to a blob, with the blob(s) its parents had there."""

    commit: str
    path: str
    blob: str
    old: tuple[str, ...]  # one per parent; NULL_SHA where the path did not exist
    deleted: bool = False


@dataclass
class HistoryResult:
    findings: list[Finding] = field(default_factory=list)
    notes: Notes = field(default_factory=Notes)
    commits: int = 0
    blobs: int = 0


def parse_raw(records: Iterable[bytes]) -> Iterator[tuple[str, list[Change]]]:
    """Parse ``git log -z --raw -c --format=%x01%H`` records (split on \\x01) into changes per commit."""
    for record in records:
        header, _, body = record.partition(b"\x00")
        sha = header.strip().decode("ascii")
        if not sha:
            continue
        fields = body.split(b"\x00")
        changes: list[Change] = []
        i = 0
        while i + 1 < len(fields):
            meta = fields[i].lstrip(b"\n")
            if not meta.startswith(b":"):  # separators: git puts an extra NUL or newline between parts
                i += 1
                continue
            path_b = fields[i + 1]
            i += 2
            colons = len(meta) - len(meta.lstrip(b":"))
            parts = meta[colons:].decode("ascii").split()
            # parts: (colons+1) modes, (colons+1) object ids, status
            modes, ids = parts[: colons + 1], parts[colons + 1 : 2 * colons + 2]
            new_mode, new_blob, old = modes[-1], ids[-1], tuple(ids[:-1])
            path = path_b.decode("utf-8", "surrogateescape")
            if new_blob == NULL_SHA:
                changes.append(Change(sha, path, old[0], (), deleted=True))
            else:
                changes.append(Change(sha, path, new_blob if new_mode != GITLINK else "", old))
                if new_mode == GITLINK:
                    changes[-1] = dataclasses.replace(changes[-1], blob=f"submodule:{new_blob}")
        yield sha, changes


def _split_records(stream: Iterable[bytes]) -> Iterator[bytes]:
    rest = b""
    for block in stream:
        parts = (rest + block).split(b"\x01")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _log_blocks(proc: subprocess.Popen[bytes], keep: list[bytes]) -> Iterator[bytes]:
    assert proc.stdout is not None
    while True:
        block = proc.stdout.read1(1 << 20)
        if not block:
            return
        keep.append(block)
        yield block


class HistoryScan:
    """One history scan: list changes, scan new blobs in workers, attribute what was found."""

    def __init__(self, repo: GitRepo, resolved: Resolved, spec: EngineSpec, *, jobs: int = 0,
                 max_file_size: int | None = None, scan_binaries: bool = False,
                 progress: ProgressFn | None = None, tags: bool = True) -> None:
        self.repo = repo
        self.resolved = resolved
        self.spec = spec
        self.jobs = jobs
        self.max_file_size = max_file_size
        self.scan_binaries = scan_binaries
        self.progress = progress
        self.tags = tags  # annotated tag messages (a scan of all refs)
        self.result = HistoryResult()
        self._first_path: dict[str, str] = {}  # every new blob id -> a path it appears at
        self._log: list[bytes] = []  # raw log output, re-read only when there is something to attribute
        self._commits = 0
        self._engine: Engine | None = None
        self._metadata = Metadata(repo)
        self._infos: dict[str, tuple[CommitInfo, int]] = {}

    def run(self) -> HistoryResult:
        if not self.resolved.commits:
            if self.tags:
                self.result.findings = self._scan_tags()
            return self.result
        jobs = self.jobs or pipeline.default_jobs()
        if len(self.resolved.commits) < SERIAL_COMMITS:
            jobs = 1
        engine = self._parent_engine() if jobs == 1 else None
        by_blob: dict[str, list[Finding]] = {}
        messages: list[Finding] = []
        done_blobs = done_bytes = 0
        try:
            for res in pipeline.map_tasks(self.spec, run_task, self._tasks(), jobs=jobs, engine=engine):
                by_blob.update(res.by_blob)
                messages.extend(res.messages)
                self.result.notes.merge(res.notes)
                done_blobs += res.blobs
                done_bytes += res.bytes
                if self.progress:
                    self.progress(self._commits, done_blobs, len(self._first_path), done_bytes)
            self.result.findings = self._attribute(by_blob) + self._fill_messages(messages)
        finally:
            close_readers()
        self.result.commits = self._commits
        self.result.blobs = len(self._first_path)
        if self.tags:
            self.result.findings += self._scan_tags()
        return self.result

    def _scan_tags(self) -> list[Finding]:
        engine = self._parent_engine()
        out: list[Finding] = []
        for name, info, message in self._metadata.annotated_tags():
            data = to_utf8(message.encode("utf-8", "surrogateescape"))
            chunk = Chunk(data=data, path=f"(tag {name} message)", kind="tag-message", commit=info)
            out.extend(engine.scan(chunk).findings)
        return out

    # -- listing -----------------------------------------------------------------------------------
    def _tasks(self) -> Iterator[BlobBatch | MessageScan]:
        yield MessageScan(self.repo.git_dir, self.resolved.args)
        cmd = ["git", "--git-dir", self.repo.git_dir, "-c", "log.showRoot=true", "-c", "core.quotePath=false",
               "log", "-z", "--raw", "-c", "--no-renames", "--no-abbrev", "--no-ext-diff", "--no-textconv",
               "--format=%x01%H", *self.resolved.args, "--"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env())
        batch: list[tuple[str, str]] = []
        submodules: set[str] = set()
        try:
            for _sha, changes in parse_raw(_split_records(_log_blocks(proc, self._log))):
                self._commits += 1
                for ch in changes:
                    if ch.deleted:
                        continue
                    if ch.blob.startswith("submodule:"):
                        submodules.add(ch.path)
                        continue
                    if ch.blob not in self._first_path:
                        self._first_path[ch.blob] = ch.path
                        batch.append((ch.blob, ch.path))
                        if len(batch) >= BATCH_BLOBS:
                            yield self._batch(batch)
                            batch = []
            if batch:
                yield self._batch(batch)
        finally:
            stderr = proc.stderr.read() if proc.stderr else b""
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
            code = proc.wait()
        if code != 0:
            raise SourceError(f"git log failed: {first_line(stderr)}")
        for path in sorted(submodules):
            self.result.notes.warnings.append(f"{path}: a submodule; its own history is not scanned")

    def _batch(self, blobs: list[tuple[str, str]]) -> BlobBatch:
        return BlobBatch(self.repo.git_dir, tuple(blobs), self.max_file_size, self.scan_binaries)

    def _parent_engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(self.spec)
        return self._engine

    # -- attribution -------------------------------------------------------------------------------
    def _attribute(self, by_blob: dict[str, list[Finding]]) -> list[Finding]:
        if not by_blob:
            return []
        intro: dict[tuple[str, str, str], tuple[int, str, list[Finding]]] = {}
        extra: dict[str, list[Finding]] = {}  # blobs outside the selection that we had to scan here
        for sha, changes in parse_raw(_split_records(self._log)):
            hits = [c for c in changes if not c.deleted and c.blob in by_blob]
            if not hits:
                continue
            gone = [c.blob for c in changes if c.deleted]
            for ch in hits:
                before = {key for old in ch.old + tuple(gone) for key in self._keys(old, ch.path, by_blob, extra)}
                found = [f for f in by_blob[ch.blob] if (f.rule_id, f.secret) not in before]
                if not found:
                    continue
                if self._parent_engine().path_allowed(ch.path):
                    continue
                info, when = self._commit_info(sha)
                for f in found:
                    key = (ch.path, f.rule_id, f.secret)
                    placed = dataclasses.replace(f, path=ch.path, commit=info)
                    prior = intro.get(key)
                    if prior is None or (when, sha) < (prior[0], prior[1]):
                        intro[key] = (when, sha, [placed])
                    elif (when, sha) == (prior[0], prior[1]):
                        prior[2].append(placed)
        return [f for _w, _s, found in intro.values() for f in found]

    def _keys(self, blob: str, path: str, by_blob: dict[str, list[Finding]],
              extra: dict[str, list[Finding]]) -> set[tuple[str, str]]:
        if blob == NULL_SHA or blob.startswith("submodule:"):
            return set()
        if blob in by_blob:
            return {(f.rule_id, f.secret) for f in by_blob[blob]}
        if blob in self._first_path:
            return set()  # scanned in this run: nothing in it
        if blob not in extra:  # introduced before the selection: scan it now to compare
            notes = Notes()
            extra[blob] = []
            for _sha, data in read_blobs(self.repo.git_dir, [blob]):
                extra[blob] = scan_blob(self._parent_engine(), data, path, notes, self.max_file_size,
                                        self.scan_binaries)
        return {(f.rule_id, f.secret) for f in extra[blob]}

    def _commit_info(self, sha: str) -> tuple[CommitInfo, int]:
        """The commit's metadata and its commit time (what "earliest" means), cached."""
        cached = self._infos.get(sha)
        if cached is None:
            cached = self._infos[sha] = self._metadata.commit(sha)
        return cached

    def _fill_messages(self, findings: list[Finding]) -> list[Finding]:
        return [dataclasses.replace(f, commit=self._commit_info(f.commit.sha)[0]) if f.commit else f
                for f in findings]


class Metadata:
    """Commit and tag metadata through pygit2, opened once per scan."""

    def __init__(self, repo: GitRepo) -> None:
        import pygit2

        self._pygit2 = pygit2
        try:
            self._repo = pygit2.Repository(repo.git_dir)
        except pygit2.GitError as exc:
            raise SourceError(f"cannot open {repo.git_dir}: {exc}") from None

    def commit(self, sha: str) -> tuple[CommitInfo, int]:
        try:
            commit = self._repo.get(sha)
        except (self._pygit2.GitError, ValueError) as exc:
            raise SourceError(f"cannot read commit {sha[:12]}: {exc}") from None
        if commit is None:
            raise SourceError(f"commit {sha[:12]} is missing from the repository")
        return signature_info(sha, commit.author, commit.message), commit.commit_time

    def annotated_tags(self) -> Iterator[tuple[str, CommitInfo, str]]:
        """(ref name, tag metadata, full message) for every annotated tag."""
        pygit2 = self._pygit2
        for name in self._repo.references:
            if not name.startswith("refs/tags/"):
                continue
            try:
                obj = self._repo.get(self._repo.references[name].target)
            except (pygit2.GitError, ValueError, KeyError):
                continue
            if not isinstance(obj, pygit2.Tag):
                continue
            tagger = obj.tagger
            info = signature_info(str(obj.id), tagger, obj.message or "") if tagger else CommitInfo(sha=str(obj.id))
            yield name.removeprefix("refs/tags/"), info, obj.message or ""


def signature_info(sha: str, sig: object, message: str) -> CommitInfo:
    from datetime import datetime, timedelta, timezone

    tz = timezone(timedelta(minutes=getattr(sig, "offset", 0)))
    date = datetime.fromtimestamp(getattr(sig, "time", 0), tz).isoformat()
    summary = message.strip().splitlines()[0] if message.strip() else ""
    return CommitInfo(sha=sha, author=getattr(sig, "name", ""), email=getattr(sig, "email", ""), date=date,
                      message=summary)
