"""Reading blobs in bulk through one long-lived ``git cat-file --batch``, and scanning commit messages."""
from __future__ import annotations

import subprocess
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field

from ..engine import Engine
from ..errors import SourceError
from ..model import Chunk, CommitInfo, Finding
from . import Notes
from .git_common import git_env
from .text import to_utf8

MESSAGE_PATH = "(commit message)"
# git maps whole packs and caches 96 MB of delta bases by default: on ipython a reader peaked at 216 MB.
# Smaller windows and cache bound it (78 MB there) at no measured cost in time.
_BOUNDED_MEMORY = ("-c", "core.deltaBaseCacheLimit=16m", "-c", "core.packedGitWindowSize=32m",
                   "-c", "core.packedGitLimit=96m")


@dataclass
class TaskResult:
    """What the commit-message task found."""

    messages: list[Finding] = field(default_factory=list)
    notes: Notes = field(default_factory=Notes)
    blobs: int = 0
    bytes: int = 0


class CatFile:
    """One long-lived ``git cat-file --batch``: its delta-base cache stays warm across batches."""

    def __init__(self, git_dir: str) -> None:
        cmd = ["git", "--git-dir", git_dir, *_BOUNDED_MEMORY, "cat-file", "--batch"]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, env=git_env())
        except OSError as exc:
            raise SourceError(f"cannot run git cat-file: {exc.strerror or exc}") from None

    def read(self, shas: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """(id, content) of each blob, in order. Without --buffer git answers each request at once."""
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        request = "".join(f"{s}\n" for s in shas).encode("ascii")
        stdin = proc.stdin
        failed: list[OSError] = []

        def feed() -> None:  # a thread, so a full output pipe cannot deadlock against our input
            try:
                stdin.write(request)
                stdin.flush()
            except OSError as exc:
                failed.append(exc)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        out = proc.stdout
        try:
            for _ in shas:
                header = out.readline().split()
                if len(header) == 2 and header[1] == b"missing":
                    continue  # a partial clone: the blob is not here, so there is nothing to scan
                if len(header) != 3:
                    raise SourceError("git cat-file stopped or returned an unexpected header")
                data = out.read(int(header[2]))
                out.read(1)
                if header[1] == b"blob":
                    yield header[0].decode("ascii"), data
        finally:
            writer.join()
        if failed:
            raise SourceError(f"cannot talk to git cat-file: {failed[0].strerror or failed[0]}")

    def close(self) -> None:
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()
        self._proc.wait()


_CAT_FILES: dict[str, CatFile] = {}  # per process: workers keep theirs for the life of the pool


def close_readers() -> None:
    """Stop this process's ``git cat-file`` readers (the parent, at the end of a scan)."""
    while _CAT_FILES:
        _CAT_FILES.popitem()[1].close()


def read_blobs(git_dir: str, shas: Sequence[str]) -> Generator[tuple[str, bytes], None, None]:
    """(id, content) for each blob, in order, from this process's ``git cat-file`` for the repository."""
    if not shas:
        return
    cat = _CAT_FILES.get(git_dir)
    if cat is None:
        cat = _CAT_FILES[git_dir] = CatFile(git_dir)
    try:
        yield from cat.read(shas)
    except BaseException:
        _CAT_FILES.pop(git_dir, None)  # its stream position is unknown now: never reuse it
        cat.close()
        raise


class PackReader:
    """Blobs read in this process through libgit2, one at a time: no pipe, no second process.

    On ipython (1.29 GB of versions) ``cat-file`` itself took 1.0 s of CPU, but moving its output
    through a pipe cost as much again in system time on both sides (a copy each, and a wake-up per
    object); read here, the same versions take 1.0 s in all. libgit2 checks every object's hash on
    read unless told not to, which tripled that (SHA-1DC); ``cat-file`` does not check either.
    """

    def __init__(self, git_dir: str) -> None:
        import pygit2

        settings = pygit2.settings
        settings.enable_strict_hash_verification(False)
        # Map packs in windows, as _BOUNDED_MEMORY does for cat-file: on ipython a worker's peak RSS
        # falls from 152 to about 110 MB, for 0.04 s more system time.
        settings.mwindow_size = 32 << 20
        settings.mwindow_mapped_limit = 96 << 20
        self._errors: tuple[type[Exception], ...] = (pygit2.GitError, ValueError)
        self._git_dir = git_dir
        try:
            self._read = pygit2.Repository(git_dir).odb.read
        except pygit2.GitError as exc:
            raise SourceError(f"cannot open {git_dir}: {exc}") from None

    def read(self, sha: str) -> bytes | None:
        """The blob's content, or None when it is missing, corrupt or not a blob."""
        try:
            kind, data = self._read(sha)
        except KeyError:
            return self._from_git(sha)
        except self._errors:
            return None
        return data if kind == _BLOB else None

    def _from_git(self, sha: str) -> bytes | None:
        """A blob libgit2 does not have: a partial clone's, which git fetches from its promisor remote."""
        try:
            return dict(read_blobs(self._git_dir, [sha])).get(sha)  # read to the end: the reader stays usable
        except SourceError:
            return None


_BLOB = 3  # GIT_OBJECT_BLOB
_PACK_READERS: dict[str, PackReader] = {}  # per process, like _CAT_FILES


def pack_reader(git_dir: str) -> PackReader:
    """This process's reader for the repository."""
    reader = _PACK_READERS.get(git_dir)
    if reader is None:
        reader = _PACK_READERS[git_dir] = PackReader(git_dir)
    return reader


@dataclass(frozen=True)
class MessageScan:
    """Every commit message of a selection, scanned in one pass."""

    shas: tuple[str, ...]
    messages: tuple[bytes, ...] = field(repr=False)  # raw, as rev-list gave them (git_range.Resolved)

    def run(self, engine: Engine) -> TaskResult:
        result = TaskResult()
        # Most messages are plain ASCII, which needs no decoding check (NUL would mean UTF-16).
        texts = [m if m.isascii() and b"\x00" not in m else to_utf8(m) for m in self.messages]
        result.messages = scan_messages(engine, self.shas, texts)
        return result


def scan_messages(engine: Engine, shas: Sequence[str], texts: Sequence[bytes]) -> list[Finding]:
    """Scan all messages as one buffer, then rescan only the messages that held something, alone."""
    if not texts:
        return []
    starts: list[int] = []  # first line (0-based) of each message in the joined buffer
    line = 0
    for text in texts:
        starts.append(line)
        line += text.count(b"\n") + 2  # a blank line between messages
    joined = b"\n\n".join(texts)
    hits = engine.scan(Chunk(data=joined, path=MESSAGE_PATH, kind="commit-message")).findings
    flagged: set[int] = set()
    from bisect import bisect_right

    for f in hits:
        flagged.add(bisect_right(starts, f.line - 1) - 1)
    out: list[Finding] = []
    for i in sorted(flagged):
        chunk = Chunk(data=texts[i], path=MESSAGE_PATH, kind="commit-message", commit=CommitInfo(sha=shas[i]))
        out.extend(engine.scan(chunk).findings)
    return out
