"""History scans: what each commit of a selection adds, each leak attributed to the commit that
introduced it, once per path.

Why not patches: on ipython (30k commits) ``git log -p -U0`` spends 4.7 s of CPU in git's diff,
while listing changes (``git diff-tree -r -c --raw``) takes 0.5 s and reading every version once
1.0 s (1.2 GB, through libgit2 in the worker: git_blobs.PackReader). So the parent lists the changes
(while rev-list still walks: git_range.CommitStream), workers read each path's versions in commit order
and scan only the lines each version changed (sources/git_changes.py), and the parent attributes what
was found. A leak is introduced at (commit, path) when the commit's version holds it and its parents'
versions do not, nor does a file the commit deleted (a move or rename).
The earliest such commit per (path, rule, secret) is reported, with lines from its version.
"""
from __future__ import annotations

import dataclasses
import gc
import queue
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from .. import pipeline
from ..engine import Engine, EngineSpec
from ..errors import SourceError
from ..model import Chunk, CommitInfo, Finding
from . import Notes
from .archives import holds
from .git_blobs import MessageScan, TaskResult, close_readers, pack_reader
from .git_changes import ChangeBatch, ChangeResult, PairKey
from .git_common import NULL_SHA, GitRepo, first_line, git_env
from .git_range import CHUNK_COMMITS, CommitStream, Resolved
from .text import to_utf8

GITLINK = "160000"  # a submodule: a commit id in the tree, not a blob
_GITLINK = GITLINK.encode("ascii")
_ONE_PARENT = len(":100644 100644 " + NULL_SHA + " " + NULL_SHA + " M")  # a non-merge entry's columns
BATCH_CHANGES = 1500
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


def parse_diff_tree(out: bytes) -> Iterator[tuple[str, list[Change]]]:
    """Parse ``git diff-tree --stdin -z -r -c --raw`` output into the changes of each commit."""
    fields = out.split(b"\x00")
    sha = ""
    changes: list[Change] = []
    i, n = 0, len(fields)
    while i < n:
        meta = fields[i]
        if meta[:1] != b":":
            meta = meta.lstrip(b"\n")
            if meta and not meta.startswith(b":"):  # a commit id: the start of the next commit's entries
                if sha:
                    yield sha, changes
                sha, changes = meta.decode("ascii").strip(), []
                i += 1
                continue
            if not meta:
                i += 1
                continue
        path = fields[i + 1].decode("utf-8", "surrogateescape") if i + 1 < n else ""
        i += 2
        old: tuple[str, ...]
        if len(meta) == _ONE_PARENT and meta[1] != 58:  # ":mode mode old new S": fixed columns, no split
            old_mode, new_mode, old_id, new_id = meta[1:7], meta[8:14], meta[15:55], meta[56:96]
            old = (NULL_SHA if old_mode == _GITLINK else old_id.decode("ascii"),)
            new_blob = new_id.decode("ascii")
        else:
            colons = len(meta) - len(meta.lstrip(b":"))
            parts = meta[colons:].decode("ascii").split()
            # (colons + 1) modes, then (colons + 1) object ids (parents' first, the result last), status
            modes, ids = parts[: colons + 1], parts[colons + 1 : 2 * colons + 2]
            # A parent's submodule (gitlink) holds a commit id, not content: treat it as absent.
            old = tuple(NULL_SHA if m == GITLINK else o for m, o in zip(modes[:-1], ids[:-1]))
            new_mode, new_blob = modes[-1].encode("ascii"), ids[-1]
        if new_blob == NULL_SHA:
            if old and old[0] != NULL_SHA:
                changes.append(Change(sha, path, old[0], (), deleted=True))
        elif new_mode == _GITLINK:
            changes.append(Change(sha, path, f"submodule:{new_blob}", old))
        else:
            changes.append(Change(sha, path, new_blob, old))
    if sha:
        yield sha, changes


class _Shares:
    """``git diff-tree --stdin`` over chunks of commits as they come, ``parallel`` processes at a time
    (they hold no lock, so they run side by side); each output as it finishes, with its chunk's index,
    so the parent parses while the rest still run.

    Fork-safe: worker processes fork from the main thread while these run, and a fork copies every
    open file. So each git starts from the main thread (never in the middle of a fork) and reads its
    commits from a file, not a pipe: a worker holding a copy of a pipe's write end would keep git (or
    our reader) from ever seeing its end. Threads only wait for output.
    """

    def __init__(self, git_dir: str, args: list[str], parallel: int) -> None:
        self._cmd = ["git", "--git-dir", git_dir, *args]
        self._parallel = max(1, parallel)
        self._waiting: list[tuple[int, Sequence[str]]] = []
        self._running = 0
        self._done: queue.Queue[tuple[int, bytes | None, str]] = queue.Queue()
        self._finished: list[tuple[int, bytes | None, str]] = []
        self._count = 0

    def add(self, commits: Sequence[str]) -> None:
        self._waiting.append((self._count, commits))
        self._count += 1
        self._collect(block=False)

    def outputs(self) -> Iterator[tuple[int, bytes]]:
        for _ in range(self._count):
            if not self._finished:
                self._collect(block=True)
            index, out, error = self._finished.pop(0)
            if out is None:
                raise SourceError(error)
            yield index, out

    def _collect(self, *, block: bool) -> None:
        """Take what finished (waiting for one with ``block``) and start what may run now."""
        while True:
            try:
                item = self._done.get(block=block and not self._finished)
            except queue.Empty:
                break
            self._finished.append(item)
            self._running -= 1
        while self._waiting and self._running < self._parallel:
            self._start(*self._waiting.pop(0))

    def _start(self, index: int, commits: Sequence[str]) -> None:
        # Output goes to a file too: git writes it in small pieces, and through a pipe each one woke our
        # reader (tens of thousands of context switches on ipython).
        listed, out = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        with listed:
            listed.write("".join(f"{c}\n" for c in commits).encode("ascii"))
            listed.seek(0)
            try:
                proc = subprocess.Popen(self._cmd, stdin=listed, stdout=out, stderr=subprocess.PIPE, env=git_env())
            except OSError as exc:
                out.close()
                self._done.put((index, None, f"cannot run git: {exc.strerror or exc}"))
                self._running += 1
                return
        self._running += 1
        threading.Thread(target=self._wait, args=(index, proc, out), daemon=True).start()

    def _wait(self, index: int, proc: subprocess.Popen[bytes], out: BinaryIO) -> None:
        with out:
            _stdout, err = proc.communicate()
            if proc.returncode != 0:
                self._done.put((index, None, f"git diff-tree failed: {first_line(err)}"))
                return
            out.seek(0)
            self._done.put((index, out.read(), ""))


class HistoryScan:
    """One history scan: list changes, scan them in workers by path lineage, attribute what was found."""

    def __init__(self, repo: GitRepo, commits: Resolved | CommitStream, spec: EngineSpec, *, jobs: int = 0,
                 max_file_size: int | None = None, scan_binaries: bool = False,
                 progress: ProgressFn | None = None, tags: bool = True) -> None:
        """``commits``: a CommitStream lets the listing of changes start while rev-list still walks."""
        self.repo = repo
        self._commits = commits
        self.resolved = commits if isinstance(commits, Resolved) else Resolved(args=commits.args, commits=())
        self.spec = spec
        self.jobs = jobs
        self.max_file_size = max_file_size
        self.scan_binaries = scan_binaries
        self.progress = progress
        self.tags = tags  # annotated tag messages (a scan of all refs)
        self.result = HistoryResult()
        self._changes: list[tuple[str, list[Change]]] = []  # per commit, newest first
        self._engine: Engine | None = None
        self._metadata = Metadata(repo)
        self._infos: dict[str, tuple[CommitInfo, int]] = {}
        self._contents: dict[str, bytes] = {}

    def run(self) -> HistoryResult:
        with _gc_paused():  # the listing's ~100k objects stay till the end: collections would only walk them
            return self._run()

    def _run(self) -> HistoryResult:
        shares = self._start_listing()
        if not self.resolved.commits:
            if self.tags:
                self.result.findings = self._scan_tags()
            return self.result
        jobs = self.jobs or pipeline.default_jobs()
        if len(self.resolved.commits) < SERIAL_COMMITS:
            jobs = 1
        engine = self._parent_engine() if jobs == 1 else None
        by_change: dict[PairKey, list[Finding]] = {}
        messages: list[Finding] = []
        done_blobs = done_bytes = 0
        total = 0
        try:
            for res in pipeline.map_tasks(self.spec, _run_task, self._tasks(shares), jobs=jobs, engine=engine):
                if isinstance(res, ChangeResult):
                    by_change.update(res.by_change)
                else:
                    messages.extend(res.messages)
                self.result.notes.merge(res.notes)
                done_blobs += res.blobs
                done_bytes += res.bytes
                total = max(total, self.result.blobs)
                if self.progress:
                    self.progress(len(self.resolved.commits), done_blobs, max(total, done_blobs), done_bytes)
            self.result.findings = self._attribute(by_change) + self._fill_messages(messages)
        finally:
            close_readers()
        self.result.commits = len(self.resolved.commits)
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
    def _start_listing(self) -> _Shares:
        """Start listing each chunk of commits' changes as it comes (rev-list may still be walking),
        then wait for the whole selection: self.resolved."""
        # git's own tree diffs, split across processes: a chunk of commits each.
        args = ["-c", "core.quotePath=false", "diff-tree", "--stdin", "-z", "-r", "-c", "--raw", "--no-renames",
                "--no-abbrev", "--root", "--no-ext-diff", "--no-textconv"]
        shares = _Shares(self.repo.git_dir, args, self.jobs or pipeline.default_jobs())
        source = self._commits
        if isinstance(source, CommitStream):
            for chunk in source.chunks():
                shares.add(chunk)
            self.resolved = source.resolved()  # fails here at a shallow boundary, before anything is scanned
        else:
            commits = source.commits
            for i in range(0, len(commits), CHUNK_COMMITS):
                shares.add(commits[i : i + CHUNK_COMMITS])
        return shares

    def _tasks(self, shares: _Shares) -> Iterator[ChangeBatch | MessageScan]:
        yield MessageScan(*self._messages())  # runs while the parent lists changes
        # Each share's part of every path's lineage is built as the share comes in, while the others still
        # run; the parts are joined oldest share first (shares hold newest-first runs of commits).
        parts: dict[int, tuple[list[tuple[str, list[Change]]], dict[str, dict[tuple[str, str], None]]]] = {}
        submodules: set[str] = set()
        for index, out in shares.outputs():
            listed = list(parse_diff_tree(out))
            parts[index] = listed, _lineages(listed, submodules)
        lineages: dict[str, dict[tuple[str, str], None]] = {}
        for index in sorted(parts, reverse=True):
            for path, pairs in parts[index][1].items():
                lineages.setdefault(path, {}).update(pairs)
        for index in sorted(parts):
            self._changes.extend(parts.pop(index)[0])
        for path in sorted(submodules):
            self.result.notes.warnings.append(f"{path}: a submodule; its own history is not scanned")
        self.result.blobs = sum(len(p) for p in lineages.values())
        batch: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        size = 0
        for path, pairs in lineages.items():
            batch.append((path, tuple(pairs)))
            size += len(pairs)
            if size >= BATCH_CHANGES:
                yield ChangeBatch(self.repo.git_dir, tuple(batch), self.max_file_size, self.scan_binaries)
                batch, size = [], 0
        if batch:
            yield ChangeBatch(self.repo.git_dir, tuple(batch), self.max_file_size, self.scan_binaries)

    def _messages(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        resolved = self.resolved
        if len(resolved.messages) == len(resolved.commits):
            return resolved.commits, resolved.messages
        if not resolved.args:
            return (), ()
        again = CommitStream(self.repo, resolved.args).resolved()  # a Resolved built without them
        return again.commits, again.messages

    def _parent_engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(self.spec)
        return self._engine

    # -- attribution -------------------------------------------------------------------------------
    def _attribute(self, by_change: dict[PairKey, list[Finding]]) -> list[Finding]:
        if not by_change:
            return []
        intro: dict[tuple[str, str, str], tuple[int, str, list[Finding]]] = {}
        for sha, changes in self._changes:
            gone = [c.blob for c in changes if c.deleted]
            for ch in changes:
                if ch.deleted or ch.blob.startswith("submodule:"):
                    continue
                first = ch.old[0] if ch.old and not ch.old[0].startswith("submodule:") else NULL_SHA
                found = by_change.get((ch.path, ch.blob, first))
                if not found:
                    continue
                # Other parents of a merge, and files this commit deleted (moves), may hold it already.
                others = [o for o in ch.old[1:] + tuple(gone) if o != NULL_SHA and not o.startswith("submodule:")]
                if others:
                    found = [f for f in found if not self._held_by(f, others, ch.blob)]
                if not found:
                    continue
                info, when = self._commit_info(sha)
                for f in found:
                    key = (ch.path, f.rule_id, f.secret)
                    placed = dataclasses.replace(f, commit=info)
                    prior = intro.get(key)
                    if prior is None or (when, sha) < (prior[0], prior[1]):
                        intro[key] = (when, sha, [placed])
                    elif (when, sha) == (prior[0], prior[1]):
                        prior[2].append(placed)
        return [f for _w, _s, found in intro.values() for f in found]

    def _held_by(self, finding: Finding, blobs: list[str], new: str) -> bool:
        """Whether one of ``blobs`` (another parent's version, a file the commit deleted) holds the secret,
        or, for a secret found decoded, the encoded text it was found in (in the version ``new``)."""
        needles = [finding.secret.encode("utf-8", "surrogatepass")]
        if finding.decoded and "!" not in finding.path:  # an archive member's lines are not the blob's
            span = _span(self._content(new), finding)
            if span:
                needles.append(span)
        return any(holds(self._content(b), needle, self.spec.archive_depth) for b in blobs for needle in needles)

    def _content(self, sha: str) -> bytes:
        if sha not in self._contents:
            self._contents[sha] = pack_reader(self.repo.git_dir).read(sha) or b""
        return self._contents[sha]

    def _commit_info(self, sha: str) -> tuple[CommitInfo, int]:
        """The commit's metadata and its commit time (what "earliest" means), cached."""
        cached = self._infos.get(sha)
        if cached is None:
            cached = self._infos[sha] = self._metadata.commit(sha)
        return cached

    def _fill_messages(self, findings: list[Finding]) -> list[Finding]:
        return [dataclasses.replace(f, commit=self._commit_info(f.commit.sha)[0]) if f.commit else f
                for f in findings]


def _span(data: bytes, finding: Finding) -> bytes:
    """The text at the finding's lines and columns (columns count characters, as the engine's do)."""
    lines = data.split(b"\n")[finding.line - 1 : finding.end_line]
    if not lines or finding.end_line < finding.line:
        return b""
    text = [line.decode("utf-8", "replace") for line in lines]
    text[-1] = text[-1][: finding.end_column - 1]
    text[0] = text[0][finding.column - 1 :]
    return "\n".join(text).encode("utf-8")


def _lineages(listed: list[tuple[str, list[Change]]], submodules: set[str]) -> dict[str, dict[tuple[str, str], None]]:
    """Each path's changes in commit order (each version is "new", then "old"), as (new, old) pairs, from
    newest-first listed commits; the paths of submodules go to ``submodules``."""
    lineages: dict[str, dict[tuple[str, str], None]] = {}
    for _sha, changes in reversed(listed):
        gone = {ch.blob for ch in changes if ch.deleted}
        for ch in changes:
            if ch.deleted:
                continue
            if ch.blob.startswith("submodule:"):
                submodules.add(ch.path)
                continue
            old = ch.old[0] if ch.old and not ch.old[0].startswith("submodule:") else NULL_SHA
            if old == NULL_SHA and ch.blob in gone:
                old = ch.blob  # moved here unchanged: the file it left holds all of it (see _attribute)
            lineages.setdefault(ch.path, {})[(ch.blob, old)] = None
    return lineages


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a scan holds its listing (~100k small objects, none in a cycle):
    the collections its building triggered, each walking everything listed so far, took a third of the
    listing's CPU time, and later ones (while batches are handed out) walked it all again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_task(engine: Engine, task: ChangeBatch | MessageScan) -> ChangeResult | TaskResult:
    """The worker entry point (module level, so it pickles by reference)."""
    return task.run(engine)


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
            obj = self._repo.get(sha)
            commit = None if obj is None else obj.peel(self._pygit2.Commit)
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
