"""Archives (zip and its kin, tar, gzip, bzip2, xz): their members scanned in memory as ordinary files,
within bounds that a hostile archive cannot break.

An archive is recognised by its first bytes, whatever its name. Each member becomes chunks of its own,
with the path ``outer.zip!dir/file.env`` (nested: ``a.zip!b.tar.gz!c.txt``) and lines counted in the
member, so every rule, filter, suppression and reporter works on it unchanged. A compressed stream is
no level of its own: ``x.tar.gz`` holds the tar's members, ``config.json.gz`` holds ``config.json``.
Nothing is ever written to disk; member names are only labels. Every failure is one warning naming
the archive (never its content) and the scan goes on with what was already found.
"""
from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from ..model import Chunk, Finding
from . import Notes, chunking

if TYPE_CHECKING:
    from ..engine import Engine

DEFAULT_DEPTH = 2  # an archive and the archives it holds, as TruffleHog opens them by default
MAX_BYTES = 64 << 20  # decompressed bytes per scanned archive, the archives nested in it included
MAX_MEMBERS = 10_000  # entries per scanned archive, nested ones included
TAR_BLOCK = 512
_MAX_DIRECTORY = 10 * MAX_MEMBERS  # zip entries parsed at once: ~300 bytes of memory each
_EOCD_SIZE = 22
_ZIP_METHODS = frozenset({0, 8, 12, 14})  # stored, deflate, bzip2, lzma: what zipfile decompresses
# What a compressed single file's name loses: ``config.json.gz`` holds ``config.json``.
_SUFFIXES = {".gz": "", ".bz2": "", ".xz": "", ".z": "", ".tgz": ".tar", ".tbz2": ".tar", ".txz": ".tar"}
_SNIFF_PIECE = 64 << 10  # a member's first read: enough to tell text, binary and archive apart
_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"\xfd7zXZ\x00", b"BZh")
_BZIP2_LEVELS = frozenset(bytes([c]) for c in b"123456789")
_EMPTY_BZIP2 = b"\x17rE8P\x90"  # after "BZh9": the end-of-stream marker of an empty stream


def max_bytes() -> int:
    """Decompressed bytes per archive: ``LEAKSCAN_ARCHIVE_MAX_BYTES`` when set (tests, tuning), else 64 MB."""
    raw = os.environ.get("LEAKSCAN_ARCHIVE_MAX_BYTES", "")
    return max(TAR_BLOCK, int(raw)) if raw.isdigit() else MAX_BYTES


def sniff(head: bytes) -> str | None:
    """The kind of archive ``head`` (a file's first bytes, 512 or more for tar) starts, or None."""
    if head.startswith(_MAGIC):  # one call for the common answer: history sniffs every version it reads
        if head.startswith(b"PK\x03\x04"):
            return "zip"
        if head.startswith(b"\x1f\x8b"):
            return "gzip"
        if head.startswith(b"\xfd7zXZ\x00"):
            return "xz"
        if head[3:4] in _BZIP2_LEVELS and head[4:10] in (b"1AY&SY", _EMPTY_BZIP2):
            return "bzip2"
        return None
    return "tar" if head.startswith(b"ustar", 257) and is_tar(head) else None


def is_tar(head: bytes) -> bool:
    """A ustar header block whose checksum holds: the magic alone could be text that happens to say it."""
    if len(head) < TAR_BLOCK or head[257:262] != b"ustar":
        return False
    field_ = head[148:156].split(b"\x00", 1)[0].strip()
    try:
        stored = int(field_, 8)
    except ValueError:
        return False
    block = head[:TAR_BLOCK]
    unsigned = sum(block) - sum(block[148:156]) + 8 * 32  # the checksum field counts as spaces
    return stored == unsigned


@dataclass(frozen=True)
class ArchiveOptions:
    """How deep to open archives, and the file options members follow like any file."""

    max_depth: int = DEFAULT_DEPTH
    scan_binaries: bool = False
    max_file_size: int | None = None


class _Budget:
    """What one scanned archive may still cost, shared with the archives nested in it. A plain class: a
    dataclass here costs a third of a millisecond of every scan's start-up."""

    def __init__(self, notes: Notes, options: ArchiveOptions, bytes_left: int, members_left: int,
                 unchanged: frozenset[tuple[str, int, int]] = frozenset()) -> None:
        self.notes = notes
        self.options = options
        self.bytes_left = bytes_left
        self.members_left = members_left
        self.stopped = False
        self.damaged: set[str] = set()  # archives whose damage a member's warning named
        self.unchanged = unchanged  # top-level zip entries (name, CRC, size) to skip

    def allowance(self, want: int, where: str) -> int:
        """How much of ``want`` may still be decompressed; at the cap, one warning and nothing more."""
        if self.bytes_left <= 0:
            self.stop(where, f"more than {_mb(max_bytes())} decompressed")
            return 0
        return min(want, self.bytes_left)

    def member(self, where: str) -> bool:
        if self.members_left <= 0:
            self.stop(where, f"more than {MAX_MEMBERS} members")
            return False
        self.members_left -= 1
        return True

    def stop(self, where: str, why: str) -> None:
        if not self.stopped:
            self.stopped = True
            self.notes.errors.append(f"{where}: archive with {why}: scanning stopped at the cap, the rest was "
                                     "not scanned")

    def warn(self, text: str) -> None:
        """A part not scanned: an error note, shown as a warning, that makes --strict fail."""
        self.notes.errors.append(text)


def archive_chunks(fh: IO[bytes], display: str, kind: str, notes: Notes, options: ArchiveOptions,
                   unchanged: frozenset[tuple[str, int, int]] = frozenset()) -> Iterator[Chunk]:
    """Chunks of every member of the archive in ``fh`` (read from its start), nested ones to the depth.

    ``unchanged``: zip entries (name, CRC-32, size) an earlier version held the same, not read again.
    """
    budget = _Budget(notes, options, max_bytes(), MAX_MEMBERS, unchanged)
    yield from _open(fh, display, kind, budget, 1)


def data_chunks(data: bytes, display: str, notes: Notes, options: ArchiveOptions,
                unchanged: frozenset[tuple[str, int, int]] = frozenset()) -> Iterator[Chunk] | None:
    """Chunks of the members of an in-memory archive (standard input, a git blob); None if it is none."""
    kind = sniff(data[: chunking.MIN_CHUNK_SIZE]) if options.max_depth > 0 else None
    if kind is None:
        return None
    return archive_chunks(io.BytesIO(data), display, kind, notes, options, unchanged)


def change_findings(engine: Engine, new: bytes, old: bytes, path: str, notes: Notes,
                    options: ArchiveOptions) -> list[Finding]:
    """Findings in an archive version (history, staged) that the previous version ``old`` did not hold.

    An archive has no added lines: it is scanned whole, and a secret any member of ``old`` already held
    was not introduced here, wherever it sits now (history keeps the earliest introduction per path).
    """
    found: list[Finding] = []
    if engine.path_allowed(path):
        return found
    # A jar rebuilt on every commit mostly holds the same entries: those are not decompressed again.
    for chunk in data_chunks(new, path, notes, options, _zip_entries(old)) or ():
        if not engine.path_allowed(chunk.path):
            found.extend(engine.scan(chunk).findings)
    if not found or not old:
        return found
    held = [c.data for c in data_chunks(old, path, Notes(), options) or ()] or [old]  # its warnings were given
    return [f for f in found if not any(f.secret.encode("utf-8", "surrogatepass") in d for d in held)]


def holds(data: bytes, secret: bytes, depth: int) -> bool:
    """Whether a file's content holds ``secret``: in its bytes, or in an archive's members."""
    if secret in data:
        return True
    chunks = data_chunks(data, "", Notes(), ArchiveOptions(depth)) if depth else None
    return chunks is not None and any(secret in c.data for c in chunks)


def _zip_entries(data: bytes) -> frozenset[tuple[str, int, int]]:
    """(name, CRC-32, size) of each entry of a zip, or nothing if ``data`` is no readable zip."""
    if not data.startswith(b"PK\x03\x04"):
        return frozenset()
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return frozenset((i.filename, i.CRC, i.file_size) for i in zf.infolist())
    except _errors():
        return frozenset()


def _errors() -> tuple[type[BaseException], ...]:
    """Everything the standard library's readers raise on a damaged archive (imported only then)."""
    import lzma
    import struct
    import tarfile
    import zipfile
    import zlib

    return (EOFError, OSError, ValueError, struct.error, zlib.error, NotImplementedError, RuntimeError, KeyError,
            IndexError, OverflowError, UnicodeError, zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError,
            lzma.LZMAError)


def _open(fh: IO[bytes], display: str, kind: str, budget: _Budget, level: int) -> Iterator[Chunk]:
    errors = _errors()
    try:
        if kind == "zip":
            yield from _zip(fh, display, budget, level)
        elif kind == "tar":
            yield from _tar(fh, display, budget, level)
        else:
            yield from _compressed(fh, display, kind, budget, level)
    except errors as exc:
        if not budget.stopped and display not in budget.damaged:
            budget.warn(f"{display}: corrupt or truncated {kind} archive ({_reason(exc)}); the rest of it "
                                 "was not scanned")


def _zip(fh: IO[bytes], display: str, budget: _Budget, level: int) -> Iterator[Chunk]:
    import zipfile

    errors = _errors()
    if _declared_entries(fh) > _MAX_DIRECTORY:  # zipfile would hold every entry of the directory at once
        budget.stop(display, f"more than {_MAX_DIRECTORY} entries in its directory")
        return
    with zipfile.ZipFile(fh) as zf:
        for info in zf.infolist():
            if budget.stopped or not budget.member(display):
                return
            if info.is_dir() or (level == 1 and (info.filename, info.CRC, info.file_size) in budget.unchanged):
                continue
            name = f"{display}!{info.filename}"
            if info.flag_bits & 0x1:
                budget.warn(f"{name}: encrypted zip member, not scanned")
                continue
            if info.compress_type not in _ZIP_METHODS:
                budget.warn(f"{name}: zip compression method {info.compress_type} is not supported, not scanned")
                continue
            if _too_large(name, info.file_size, budget):
                continue
            try:
                member = zf.open(info)
            except errors as exc:  # one damaged entry: the others may be fine
                budget.warn(f"{name}: unreadable zip member ({_reason(exc)}), not scanned")
                continue
            with member:
                yield from _member(name, _pieces(member, name, display, budget, charge=True), budget, level)


def _declared_entries(fh: IO[bytes]) -> int:
    """The entry count a zip's end-of-central-directory record declares (0 when none is found)."""
    size = fh.seek(0, os.SEEK_END)
    tail_size = min(size, _EOCD_SIZE + 0xFFFF)  # the record, and a comment of up to 64 KB after it
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    fh.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    return int.from_bytes(tail[at + 10 : at + 12], "little") if 0 <= at <= len(tail) - _EOCD_SIZE else 0


def _tar(fh: IO[bytes], display: str, budget: _Budget, level: int) -> Iterator[Chunk]:
    import tarfile

    # Stream mode: members in order, nothing kept but their headers, and it reads any file object.
    with tarfile.open(fileobj=fh, mode="r|") as tf:
        for info in tf:
            if budget.stopped or not budget.member(display):
                return
            if not info.isreg():  # links, devices, FIFOs and directories hold nothing to scan
                continue
            name = f"{display}!{info.name}"
            if _too_large(name, info.size, budget):
                continue
            member = tf.extractfile(info)
            if member is not None:
                yield from _member(name, _pieces(member, name, display, budget, charge=False), budget, level)


def _compressed(fh: IO[bytes], display: str, kind: str, budget: _Budget, level: int) -> Iterator[Chunk]:
    import bz2
    import lzma

    opened: Callable[[IO[bytes]], io.BufferedIOBase] = {
        "gzip": lambda f: io.BufferedReader(_Gunzip(f)),
        "bzip2": lambda f: bz2.BZ2File(f),
        "xz": lambda f: lzma.LZMAFile(f),
    }[kind]
    with opened(fh) as raw:
        stream = io.BufferedReader(_Charged(raw, display, budget), buffer_size=1 << 16)
        head = _read_up_to(stream, chunking.MIN_CHUNK_SIZE)
        if is_tar(head):  # x.tar.gz: the tar's members, at this level
            yield from _tar(io.BufferedReader(_Prefixed(head, stream)), display, budget, level)
            return
        if not budget.member(display):
            return
        name = f"{display}!{_inner_name(display)}"
        pieces = _pieces(stream, name, display, budget, charge=False)
        yield from _member(name, itertools.chain((head,), pieces), budget, level)


def _member(name: str, pieces: Iterator[bytes], budget: _Budget, level: int) -> Iterator[Chunk]:
    """One member: an archive opened one level deeper (or skipped past the depth), anything else a file."""
    from .filesystem import stream_chunks  # filesystem imports this module

    head = next(pieces, b"")
    kind = sniff(head)
    if kind is None:
        yield from stream_chunks(itertools.chain((head,), pieces), name, budget.notes,
                                 scan_binaries=budget.options.scan_binaries, size=chunking.chunk_size())
        return
    if level >= budget.options.max_depth:
        budget.notes.skipped.append((name, f"archive nested deeper than --max-archive-depth "
                                           f"{budget.options.max_depth}"))
        return
    data = head + b"".join(pieces)  # zip needs to seek; bounded by the member cap
    yield from _open(io.BytesIO(data), name, kind, budget, level + 1)


def _pieces(member: IO[bytes], name: str, archive: str, budget: _Budget, *, charge: bool) -> Iterator[bytes]:
    """A member's bytes in pieces, up to the member cap (and, for ``charge``, the archive's budget).

    A damaged member ends in a warning: what was read before the damage is scanned.
    """
    size = _SNIFF_PIECE
    cap = _member_cap(budget)
    read = 0
    try:
        while True:
            want = min(size, cap - read)
            if want <= 0:
                if member.read(1):
                    budget.warn(f"{name}: member larger than {_mb(cap)} decompressed; only its first {_mb(cap)} "
                                "were scanned")
                return
            if charge:
                want = budget.allowance(want, archive)
                if not want:
                    return
            piece = member.read(want)
            if not piece:
                return
            if charge:
                budget.bytes_left -= len(piece)
            read += len(piece)
            size = chunking.chunk_size()
            yield piece
    except _errors() as exc:
        if not budget.stopped:
            budget.damaged.add(archive)
            budget.warn(f"{name}: corrupt archive member ({_reason(exc)}); scanned up to the damage")


def _member_cap(budget: _Budget) -> int:
    cap = max_bytes() // 2  # one huge member must leave room for the rest
    limit = budget.options.max_file_size
    return cap if limit is None else min(cap, limit)


def _too_large(name: str, size: int, budget: _Budget) -> bool:
    limit = budget.options.max_file_size
    if limit is not None and size > limit:
        budget.notes.skipped.append((name, f"larger than --max-file-size ({size} bytes)"))
        return True
    return False


def _mb(n: int) -> str:
    return f"{n / (1 << 20):g} MB"


def _inner_name(display: str) -> str:
    """What a compressed single file holds: its own name without the compression suffix."""
    base = display.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    lower = base.lower()
    for suffix, replacement in _SUFFIXES.items():
        if lower.endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)] + replacement
    return base


def _read_up_to(stream: IO[bytes], n: int) -> bytes:
    parts: list[bytes] = []
    left = n
    while left > 0:
        piece = stream.read(left)
        if not piece:
            break
        parts.append(piece)
        left -= len(piece)
    return b"".join(parts)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


class _Charged(io.RawIOBase):
    """A decompressed stream whose bytes are charged to the archive's budget; at the cap it ends, as if
    the archive ended there (the budget has said why)."""

    def __init__(self, inner: io.BufferedIOBase, archive: str, budget: _Budget) -> None:
        self._inner = inner
        self._archive = archive
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        want = self._budget.allowance(len(b), self._archive)
        data = self._inner.read(want) if want else b""
        self._budget.bytes_left -= len(data)
        b[: len(data)] = data
        return len(data)


class _Gunzip(io.RawIOBase):
    """gzip members decompressed by zlib, header included: the gzip module parses a header's name a
    byte at a time in Python (8 s for a 20 MB name without its NUL); zlib does it in C."""

    def __init__(self, raw: IO[bytes]) -> None:
        import zlib

        self._zlib = zlib
        self._raw = raw
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._started = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        want = len(b)
        while True:
            if self._d.unconsumed_tail:
                data = self._d.decompress(self._d.unconsumed_tail, want)
            elif self._d.eof:  # the next member, if any (padding of NULs after the last one is allowed)
                rest = self._d.unused_data.lstrip(b"\x00") or self._raw.read(1 << 16).lstrip(b"\x00")
                if not rest:
                    return 0
                self._d = self._zlib.decompressobj(16 + self._zlib.MAX_WBITS)
                data = self._d.decompress(rest, want)
            else:
                raw = self._raw.read(1 << 16)
                if not raw:
                    raise EOFError("compressed file ended before the end-of-stream marker was reached")
                data = self._d.decompress(raw, want)
            if data:
                b[: len(data)] = data
                return len(data)


class _Prefixed(io.RawIOBase):
    """Bytes already read (to sniff them), then the rest of the stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:n], self._head[n:]
            return data
        return self._rest.read(n)

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)
